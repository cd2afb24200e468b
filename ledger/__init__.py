"""Lead Ledger: the vocabulary (events, policies, errors) and the event store."""
