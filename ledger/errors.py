"""One error tree for the whole ledger; the CLI translates it once, at the edge."""
from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    exit_code = 1


class InputError(LedgerError):
    """The user gave something malformed or inconsistent (exit status 2)."""

    exit_code = 2


class LineError(InputError):
    """One or more bad lines of an event file; `problems` is [(line, key, message)]."""

    def __init__(self, problems: list[tuple[int, str, str]], source: str = "input"):
        self.problems = problems
        self.source = source
        shown = "\n".join(f"{source}:{line}: {key}: {message}" for line, key, message in problems[:SHOWN])
        if len(problems) == 1:  # one line, like every other error
            super().__init__(f"{shown} (nothing stored)")
            return
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{len(problems)} bad line(s), nothing stored:\n{shown}{more}")


SHOWN = 100  # problems of a bad file listed in the message (the first ones, by line)


class UnknownTeam(InputError):
    pass


class UnknownLead(InputError):
    pass


class UnknownConsultant(InputError):
    pass


class RuleViolation(InputError):
    """A command or event breaks a rule (the message starts with the rule id)."""


class PolicyError(InputError):
    pass


class ConcurrencyConflict(LedgerError):
    """Another writer appended to the same team stream first; retry."""


class StoreError(LedgerError):
    """The database could not be opened or written."""


class ChainBroken(LedgerError):
    """A team's hash chain no longer matches its stored events (issue #18): the record was
    changed outside the ledger."""


class ErasureIncomplete(LedgerError):
    """An erasure was recorded but old copies of the number could not be removed yet (exit 1)."""
