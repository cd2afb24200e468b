"""Checkpoints of a `TeamState`: how the state classes pickle, `dump_checkpoint` /
`load_checkpoint`, and the format tag.

A light checkpoint (`dump_checkpoint`) is the state without the records it folded (the store has
them) and with its leads, customers, contracts and referral sources kept apart by digest
(`projections.lazy.LazyDict`), each unpickled on first read. A whole-state pickle
(`pickle.dumps(state)`) keeps its records in JSON form. Both unpickle with the cyclic GC paused.

The pickling of `Lead`, `Customer` and `TeamState` is registered here with `copyreg` (importing
`projections.engine` or `projections.fold` imports this module), so the state classes carry no
pickling code: a lead goes as a tuple of its field values, a customer the same with its timeline
as a pickle of its own (opened by `Customer.__getattr__` when first read).
"""
from __future__ import annotations

import copyreg
import pickle
from dataclasses import fields, replace

from . import indexes
from .lazy import Fetch, lazy_dict, no_gc
from .state import Customer, Lead, TeamState

# Written at the head of every checkpoint; a blob of another format (an older release of the
# engine) is not trusted: the caller folds from the events instead. /10: the state classes moved
# from projections.engine to projections.state (and their pickling here). /11: Policy gained
# weak_referral_channels (R-OW-3c). /12: the state keeps the queries' indexes (projections.indexes).
# /13: the money facts keep the commission's index (projections.facts.MoneyIndex). /14: timeline
# summaries are phrases (projections.sentences), timers are in the events' shared zone objects.
CHECKPOINT_FORMAT = b"lead-ledger-checkpoint/14\n"


class StaleCheckpoint(Exception):
    """A checkpoint written by another version of the engine: fold from the events instead."""


def dump_checkpoint(state: TeamState) -> tuple[bytes, dict[bytes, bytes]]:
    """A light checkpoint: the state without the records it folded (the store has them), and
    with its leads, customers, contracts and referral sources as digests. Returns the blob and
    the values to keep apart, {digest: pickled value}: only those read since the state was
    restored or last dumped (the others are kept already). The values dumped stay parked in the
    state (`LazyDict.digests(park=True)`): the state answers as before, and its next checkpoint
    pickles only what is read meanwhile."""
    indexes.refresh(state)  # a restored state's indexes are current
    items: dict[bytes, bytes] = {}
    data = state.__dict__.copy()
    data["_packed"], data["_records"], data["records_dropped"] = [], [], True
    data.pop("touched", None)  # an observer's working set, not state
    with no_gc():
        data["leads"] = state.leads.digests(items, park=True)
        data["customers"] = state.customers.digests(items, park=True)
        data["money"] = replace(state.money, contracts=state.money.contracts.digests(items, park=True),
                                referral_sources=state.money.referral_sources.digests(items, park=True))
        return CHECKPOINT_FORMAT + pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), items


def load_checkpoint(blob: bytes, fetch: Fetch) -> TeamState:
    """The state `dump_checkpoint` kept; `fetch` reads the values it kept apart, on first use."""
    if not blob.startswith(CHECKPOINT_FORMAT):
        raise StaleCheckpoint("checkpoint written by another version of the engine")
    try:
        return _restore(memoryview(blob)[len(CHECKPOINT_FORMAT):], fetch)
    except Exception as error:  # unpicklable under this version's classes
        raise StaleCheckpoint(f"checkpoint unreadable by this version: {error}") from None


# ----------------------------------------------------------------------------- how the classes pickle

_LEAD_FIELDS = tuple(f.name for f in fields(Lead))
_CUSTOMER_FIELDS = tuple(f.name for f in fields(Customer) if f.name != "timeline")


def _reduce_lead(lead: Lead):
    # A tuple of the field values: the field names are not repeated in every checkpointed lead.
    return (_make_lead, tuple(lead.__dict__[name] for name in _LEAD_FIELDS))


def _make_lead(*values) -> Lead:
    lead = Lead.__new__(Lead)
    lead.__dict__.update(zip(_LEAD_FIELDS, values))
    return lead


def _reduce_customer(customer: Customer):
    # Each timeline goes as its own pickle, unpickled only when it is read: most customers of a
    # long history are never explained or touched again, so loading stays cheap. The other
    # fields go as a tuple of values (no field names repeated per customer).
    data = customer.__dict__
    timeline = data.get("_timeline_blob")
    if "timeline" in data:
        timeline = pickle.dumps(data["timeline"], protocol=pickle.HIGHEST_PROTOCOL)
    return (_make_customer, (timeline,) + tuple(data[name] for name in _CUSTOMER_FIELDS))


def _make_customer(timeline: bytes | None, *values) -> Customer:
    customer = Customer.__new__(Customer)
    customer.__dict__.update(zip(_CUSTOMER_FIELDS, values))
    if timeline is not None:
        customer.__dict__["_timeline_blob"] = timeline
    return customer


def _reduce_state(state: TeamState):
    data = state.__dict__.copy()
    # pydantic events pickle slowly; their JSON form is compact and re-parsed only on a re-fold
    data["_packed"] = state._packed + [
        (r.seq, r.event.model_dump_json(by_alias=True, exclude_none=True)) for r in state._records]
    data["_records"] = []
    with no_gc():
        blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    return (_unpickle, (blob,))


def _unpickle(blob: bytes) -> TeamState:
    """A state pickled whole (`_reduce_state`: every value in the blob)."""
    state = TeamState.__new__(TeamState)
    with no_gc():
        state.__dict__.update(pickle.loads(blob))
    return state


def _restore(blob, fetch: Fetch) -> TeamState:
    """Unpickle a checkpoint; the cyclic GC is paused while the many small objects are made."""
    state = TeamState.__new__(TeamState)
    with no_gc():
        data = pickle.loads(blob)
        data["leads"] = lazy_dict(data["leads"], fetch)
        data["customers"] = lazy_dict(data["customers"], fetch)
        money = data["money"]
        money.contracts = lazy_dict(money.contracts, fetch)
        money.referral_sources = lazy_dict(money.referral_sources, fetch)
        state.__dict__.update(data)
    return state


copyreg.pickle(Lead, _reduce_lead)
copyreg.pickle(Customer, _reduce_customer)
copyreg.pickle(TeamState, _reduce_state)
