"""One handler per user action: validate -> decide -> append."""
