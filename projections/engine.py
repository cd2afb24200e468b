"""The rules engine: a pure fold of one team's ordered history into `TeamState` (RULEBOOK §3-9).

    state = replay(records, until=at)      # sort by (at, seq), fold, fire timers <= at
    state = apply(state, rec)              # one more event (a late one re-folds)
    state = advance(state, until)          # fire timers <= until

This module is the public face the rest of the code base imports; the engine itself lives in:

    projections/fold.py          apply, advance, replay, the timers, the handler tables
    projections/state.py         TeamState, Consultant, Sanction, Queue, Lead, Customer, Entry,
                                 Violation, ContractState, Route, NeedsFullReplay, schedule
    projections/checkpoint.py    dump_checkpoint, load_checkpoint, StaleCheckpoint,
                                 CHECKPOINT_FORMAT, how the state classes pickle (copyreg)
    projections/lazy.py          LazyDict, Fetch, no_gc
    projections/rules/*.py       one module per rule family (see projections/rules/__init__.py,
                                 which also lists the decisions taken where the rulebook is
                                 silent); route_for is rules/rotation.py, INELIGIBLE
                                 rules/eligibility.py, check_swap rules/roster.py, derived_id
                                 rules/sanctions.py

`apply` may return a new state object (a late event or a new link re-folds from the records kept
in the state); always use the returned one.
"""
from .checkpoint import CHECKPOINT_FORMAT, StaleCheckpoint, dump_checkpoint, load_checkpoint
from .fold import advance, apply, replay
from .lazy import Fetch, LazyDict
from .rules.eligibility import INELIGIBLE
from .rules.roster import check_swap
from .rules.rotation import route_for
from .rules.sanctions import derived_id
from .state import (
    Consultant,
    ContractState,
    Customer,
    Entry,
    Lead,
    NeedsFullReplay,
    Queue,
    Route,
    Sanction,
    TeamState,
    Violation,
)

__all__ = [
    "CHECKPOINT_FORMAT", "INELIGIBLE", "ContractState", "Consultant", "Customer", "Entry", "Fetch", "LazyDict",
    "Lead", "NeedsFullReplay", "Queue", "Route", "Sanction", "StaleCheckpoint", "TeamState", "Violation",
    "advance", "apply", "check_swap", "derived_id", "dump_checkpoint", "load_checkpoint", "replay", "route_for",
]
