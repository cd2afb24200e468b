"""The record behind the answers (R-CO-2, R-CO-4, R-ID-1): `explain` with the entries a later
recording changed and the voided ones, `find --phone`, `event REF`.

The fold (`commands.history`) never sees a voided event or a void; these answers add them back
from the store, marked, as INTERCHANGE.md's `changed_by` and `voided` say.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ledger.errors import InputError, UnknownLead
from ledger.events import EntryVoided, Event, LeadArrived
from ledger.phone import identity, is_key, mask
from ledger.store import Store
from projections import engine, queries, sentences

from . import history, voiding

ONE_US = dt.timedelta(microseconds=1)


def _time(state: Any, moment: dt.datetime | None) -> str | None:
    """A time in the team's zone to the second; `state` is a folded state or a zone."""
    zone = state.tz if isinstance(state, engine.TeamState) else state
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def void_info(store: Store, team: str, zone: Any, void_seq: int) -> dict:
    """INTERCHANGE's `voided`: {"by", "recorded", "reason", "seq"} of the void `void_seq`."""
    void, recorded = store.stored(team, void_seq)
    assert isinstance(void, EntryVoided)
    return {"by": void.by, "recorded": _time(zone, recorded), "reason": void.reason, "seq": void_seq}


def explain(store: Store, team: str, lead: str, at: dt.datetime, as_recorded: dt.datetime | None,
            state: engine.TeamState | None = None, say=sentences.english) -> tuple[engine.TeamState, dict]:
    """`explain --json` (R-OW-6, R-CO-2, R-CO-4): the customer's timeline, each decision that an
    event recorded after it changed marked `changed_by`, and the customer's voided entries.
    `state`: the team's state at `at` when the caller holds it (the web desk's live state);
    `say`: how the entries' summaries are told (`projections.sentences`; English for --json)."""
    if state is None:
        state = history.state_at(store, team, at, as_recorded)
    voided = store.voided_records(team, as_recorded)
    voids = {rec.seq: void for rec, void in voided}
    try:
        answer = queries.explain(state, lead, say)
    except UnknownLead:
        if not any(isinstance(rec.event, LeadArrived) and rec.event.lead == lead for rec, _ in voided):
            raise
        answer = {"lead": lead, "owner": None, "rule": None, "disputed": False, "timeline": []}
    leads = _customer_leads(state, lead)
    times = store.recorded_at(team, {s for item in answer["timeline"] for s in item.get("changed_by_late", ())})
    for item in answer["timeline"]:
        late = item.pop("changed_by_late", ())
        changed = [{"seq": s, "at": _time(state, times[s][0]), "recorded": _time(state, times[s][1])}
                   for s in late if s in times]
        if changed:
            item["changed_by"] = changed
    _mark_changed_by_voids(store, team, state, answer, voids, at, as_recorded)
    extra = []
    for rec, void_seq in voided:
        seq, event = rec
        if not _about(event, leads):
            continue
        extra.append({
            "at": _time(state, event.at), "type": event.type,
            "summary": f"{event.type} {voiding.summary(event)} (voided)",
            "owner": None, "rule": None, "seq": seq, "lead": getattr(event, "lead", None),
            "rests_on": [], "candidates": [], "recorded_late": False,
            "voided": void_info(store, team, state, void_seq),
        })
    if extra:
        answer["timeline"] = sorted(answer["timeline"] + extra, key=lambda item: (item["at"] or "", item["seq"] or 0))
    return state, answer


def _customer_leads(state: engine.TeamState, lead: str) -> set[str]:
    found = state.leads.get(lead)
    if found is None:
        return {lead}
    return set(state.customers[found.customer].leads) | {lead}


def _about(event: Event, leads: set[str]) -> bool:
    return getattr(event, "lead", None) in leads or getattr(event, "other", None) in leads


def _mark_changed_by_voids(store: Store, team: str, state: engine.TeamState, answer: dict,
                           voids: dict[int, int], at: dt.datetime, as_recorded: dt.datetime | None) -> None:
    """R-CO-4: a decision recorded before a void whose result differs from what the ledger said
    just before that void was recorded is marked changed by the void (one fold per void)."""
    decisions = [item for item in answer["timeline"] if item.get("seq") is not None and "voided" not in item]
    if not decisions:
        return
    targets = store.recorded_at(team, list(voids))
    recorded = store.recorded_at(team, list(voids.values()))
    for seq, void_seq in sorted(voids.items(), key=lambda item: item[1]):
        target_at = targets[seq][0] if seq in targets else None
        concerned = [item for item in decisions if item["seq"] < void_seq and target_at is not None
                     and dt.datetime.fromisoformat(item["at"]) >= target_at]
        if not concerned:
            continue
        void_at, void_recorded = recorded[void_seq]
        before = history.state_at(store, team, at, void_recorded - ONE_US)
        old = {}
        found = before.leads.get(answer["lead"])
        if found is not None:
            old = {entry.seq: (entry.owner, entry.rule) for entry in before.customers[found.customer].timeline}
        void_event = store.stored(team, void_seq)[0]
        for item in concerned:
            if old.get(item["seq"]) != (item["owner"], item["rule"]):
                item.setdefault("changed_by", []).append(
                    {"seq": void_seq, "at": _time(state, void_event.at), "recorded": _time(state, void_recorded)})


def find(store: Store, team: str, phone: str, at: dt.datetime, as_recorded: dt.datetime | None,
         state: engine.TeamState | None = None) -> tuple[engine.TeamState, dict]:
    """`find --phone N --json` (R-ID-1): the customer with that number at `at` (`state`: the
    team's state at `at` when the caller holds it)."""
    from ledger.events import _phone

    try:
        number = _phone(phone)
    except ValueError as error:
        raise InputError(f"--phone: {error}") from None
    key = number if is_key(number) else store.phone_key(number)
    wanted = identity(key)
    if state is None:
        state = history.state_at(store, team, at, as_recorded)
    customer = None
    for lead in state.leads.values():
        if lead.phone is not None and identity(lead.phone) == wanted and (state.clock is None or lead.at <= state.clock):
            customer = state.customers[lead.customer]
            break
    if customer is None:
        return state, {"phone": mask(number), "leads": [], "owner": None, "rule": None, "disputed": False}
    leads = sorted((lid for lid in customer.leads if state.clock is None or state.leads[lid].at <= state.clock),
                   key=lambda lid: (state.leads[lid].at, state.leads[lid].seq))
    owner = queries.owner(state, leads[-1]) if leads else {"owner": customer.owner, "rule": customer.rule, "disputed": False}
    return state, {"phone": mask(number), "leads": leads, "owner": owner["owner"], "rule": owner["rule"],
                   "disputed": owner["disputed"]}


def event(store: Store, team: str, ref: str) -> dict:
    """`event REF --json`: one stored event by `#N` or id, phone numbers masked."""
    seq = store.seq_of(team, ref)
    if seq is None:
        raise InputError(f"unknown event {ref!r} in team {team!r}; expected #N (1 to {store.head(team)}) or an event id")
    found, recorded = store.stored(team, seq)
    state = history.zone_at(history.team_zones(store, team), recorded)
    data = found.to_json_dict()
    for name in ("phone", "referrer_phone"):
        if name in data:
            data[name] = mask(data[name])
    void_seq = store.voided(team).get(seq)
    return {"seq": seq, "id": found.id, "recorded": _time(state, recorded), "event": data,
            "voided": void_info(store, team, state, void_seq) if void_seq is not None else None}

