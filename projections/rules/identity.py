"""Identity (R-ID-1, R-ID-3): which customer a lead belongs to.

Leads match by phone identity (`ledger.phone.identity`); `CustomersLinked` merges two leads'
customers and `CustomersUnlinked` removes a link or splits the later lead off. The link plan is
computed from the whole history before the fold (`build_identity`); a link fact not in the plan
re-folds (`fold.apply`). `tracked` is R-ID-3: the owner touched the customer within
`tracking_days` and has not left.
"""
from __future__ import annotations

import datetime as dt

from ledger import events as E
from ledger.phone import identity

from .. import indexes
from ..sentences import N_, phrase
from ..state import Customer, TeamState, lead_customer
from .timeline import add_entry


def link_fact(rec) -> tuple:
    ev = rec.event
    return (ev.type, ev.lead, ev.other, rec.seq)


def build_identity(state: TeamState, ordered: list) -> None:
    """Turn the link plan into identity aliases and split-off leads."""
    if not state.link_plan:
        return
    phones, arrival = {}, {}
    for rec in ordered:
        ev = rec.event
        if isinstance(ev, E.LeadArrived):
            phones[ev.lead] = ev.phone
            arrival[ev.lead] = rec.key
    edges: list[tuple[str, str]] = []
    split: set[str] = set()
    for kind, a, b, _ in state.link_plan:
        if kind == "CustomersLinked":
            edges.append((a, b))
        else:
            pair = {(a, b), (b, a)}
            kept = [e for e in edges if e not in pair]
            if len(kept) == len(edges):
                later = max((a, b), key=lambda x: arrival.get(x, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)))
                split.add(later)
            edges = kept

    def base(lead):
        if lead in split:
            return "lead:" + lead
        return identity(phones.get(lead)) or "lead:" + lead

    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(base(a)), find(base(b))
        if ra == rb:
            continue
        # the root is the identity of the earlier lead
        first = a if arrival.get(a, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)) <= arrival.get(b, (dt.datetime.max.replace(tzinfo=dt.timezone.utc), 0)) else b
        root = ra if first == a else rb
        other = rb if root == ra else ra
        parent[other] = root
    state.alias = {k: find(k) for k in parent}
    state.split_off = split


def customer_key(state: TeamState, lead: str, phone: str | None) -> str:
    if lead in state.split_off:
        key = "lead:" + lead
    else:
        key = identity(phone) or "lead:" + lead
    return state.alias.get(key, key)


def tracked(state: TeamState, cust: Customer, at: dt.datetime) -> bool:
    """R-ID-3."""
    if cust.owner is None or cust.last_touch is None or not state.active(cust.owner):
        return False
    return at - cust.last_touch <= dt.timedelta(days=state.policy.tracking_days)


def on_link(state: TeamState, rec) -> None:
    ev = rec.event
    state.link_facts.append(link_fact(rec))
    indexes.mark_all(state)
    lead, cust = lead_customer(state, ev.lead)
    if cust is not None:
        said = N_("{lead} linked to {other} (R-ID-1)") if isinstance(ev, E.CustomersLinked) \
            else N_("{lead} unlinked from {other} (R-ID-1)")
        add_entry(state, cust, ev.at, rec.seq, ev.type, phrase(said, lead=ev.lead, other=ev.other), "R-ID-1",
                  lead=ev.lead, rests=(rec.seq,))
