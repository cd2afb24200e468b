"""Reading an export in tests: its event lines, without the seal line that ends it
(commands.exporting: `# ledger-export sha256=... events=N`, a comment to INTERCHANGE)."""
from __future__ import annotations


def event_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
