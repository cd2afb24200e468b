"""Recording commands (issue #5): one handler per event a person records. Each builds its
event from what the person typed and hands it to `commands.recording.record` (validate ->
decide -> append, retried on conflicts; see that module).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Callable, Iterable

from ledger import events as E
from ledger.errors import (
    InputError,
    RuleViolation,
)
from ledger.phone import identity, mask, normalize
from ledger.store import Store
from projections import engine, queries

from .recording import (  # noqa: F401  (load_state: an entry point of the commands too)
    Answer,
    Context,
    Outcome,
    _catalog,
    _event_answer,
    _lead_answer,
    _problem_error,
    _suggest,
    build_event,
    load_state,
    record,
    resolve_time,
)

# --------------------------------------------------------------------------------------------
# Handlers, one per command


def arrive(store: Store, team: str, channel: str, *, at: dt.datetime | None, now: dt.datetime,
           lead: str | None = None, phone: str | None = None, named: str | None = None,
           prior_contact: str | None = None, taken_by: str | None = None, maker: str | None = None,
           referrer_phone: str | None = None, callback_on: dt.date | None = None,
           by: str | None = None, **kw: Any) -> Outcome:
    """LeadArrived: a lead arrives; the answer is its owner, the rule and who was passed why."""
    chosen: dict[str, str] = {}

    def decide(ctx: Context) -> list[dict]:
        if channel not in E.Channel.__members__:
            raise InputError(f"channel: expected one of {', '.join(E.Channel.__members__)}, got {channel!r}")
        if channel == "outbound" and maker is None:
            raise InputError("--maker: an outbound lead needs the consultant who made it (R-CH-3)")
        if maker is not None and channel != "outbound":
            raise InputError("--maker: only outbound leads have a maker (R-CH-3)")
        if referrer_phone is not None and channel != "customer_referral":
            raise InputError("--referrer-phone: only customer_referral leads have a referrer (R-OW-1b)")
        for key, value in (("--phone", phone), ("--referrer-phone", referrer_phone)):
            if value is not None and not normalize(value):
                raise InputError(f"{key}: expected a phone number with digits, got {value!r}")
        if callback_on is not None and callback_on < ctx.local(ctx.at).date():
            raise InputError(f"--callback-on: expected a day on or after the arrival's day "
                             f"{ctx.local(ctx.at).date()}, got {callback_on} (R-FU-1)")
        lead_id = lead
        if lead_id is None:
            lead_id = ctx.new_lead_id()
        elif lead_id in ctx.taken_lead_ids():
            raise InputError(f"--lead: lead {lead_id!r} has already arrived; expected a new lead id "
                             f"(e.g. {ctx.new_lead_id()})")
        chosen["lead"] = lead_id
        return [{
            "type": "LeadArrived", "lead": lead_id, "channel": channel, "phone": phone,
            "named": ctx.consultant(named, "--named") if named else None,
            "prior_contact": ctx.consultant(prior_contact, "--prior-contact") if prior_contact else None,
            "taken_by": ctx.consultant(taken_by, "--taken-by") if taken_by else None,
            "maker": ctx.consultant(maker, "--maker", current=True) if maker else None,
            "referrer_phone": referrer_phone,
            "callback_on": callback_on.isoformat() if callback_on else None,
            "by": by,
        }]

    def answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
        data = _lead_answer(ctx, state, chosen["lead"])
        before = _owner_before(state, chosen["lead"], "LeadArrived", stored[0].seq)
        if before is not None and data["owner"] is not None and before != data["owner"]:
            ctx.human.update(taken_from=before, names=_names(state, before))
        return data

    return record(store, team, decide, answer, at=at, now=now, **kw)


def _names(state: engine.TeamState, *cids: str) -> dict[str, str]:
    return {cid: state.consultants[cid].name for cid in cids if cid in state.consultants}


def _owner_before(state: engine.TeamState, lead_id: str, kind: str, seq: int) -> str | None:
    """Who owned the lead's customer just before the timeline entry of event #seq (of `kind`)."""
    lead = state.leads.get(lead_id)
    customer = state.customers.get(lead.customer) if lead is not None else None
    timeline = customer.timeline if customer is not None else []
    for index, entry in enumerate(timeline):
        if entry.seq == seq and entry.type == kind:
            return timeline[index - 1].owner if index else None
    return None


def _simple(store: Store, team: str, build: Callable[[Context], dict], *, at: dt.datetime | None,
            now: dt.datetime, answer: Answer | None = None, **kw: Any) -> Outcome:
    return record(store, team, lambda ctx: [build(ctx)], answer or _event_answer, at=at, now=now, **kw)


def void(store: Store, team: str, ref: str, reason: str, by: str | None = None, **kw: Any) -> Outcome:
    """EntryVoided (R-CO-2, R-CO-3): the event `ref` (#N or its id) was entered in error."""
    def build(ctx: Context) -> dict:
        return {"type": "EntryVoided", "event": ref, "reason": reason, "by": by}

    return _simple(store, team, build, **kw)


def followup(store: Store, team: str, lead: str, by: str, *, inbound: bool = False, note: str | None = None,
             recorder: str | None = None, **kw: Any) -> Outcome:
    """FollowUpLogged (R-FU-1; an inbound contact is R-OW-3b evidence). `by` is the consultant
    (the CLI's --by); `recorder`, when given, is who entered it (the event's `by`: the desk's user)."""
    def build(ctx: Context) -> dict:
        return {"type": "FollowUpLogged", "lead": ctx.lead(lead), "consultant": ctx.consultant(by, "--by"),
                "direction": "inbound" if inbound else "outbound", "note": note, "by": recorder}

    def answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
        data = _event_answer(ctx, state, stored)
        found = queries.owner(state, lead)
        data.update({"lead": lead, "owner": found["owner"], "rule": found["rule"], "disputed": found["disputed"]})
        before = _owner_before(state, lead, "FollowUpLogged", stored[0].seq)
        if inbound and found["owner"] == stored[0].event.consultant and before not in (None, found["owner"]):
            ctx.human.update(given_back={"to": found["owner"], "from": before, "rule": found["rule"]},  # R-OW-3b
                             names=_names(state, found["owner"], before))
        if found["owner"] != stored[0].event.consultant:
            ctx.notes.append(f"{ctx.label(stored[0].event.consultant)} is not the owner "
                             f"{ctx.label(found['owner'])}: this does not meet the owner's duty (R-FU-1)")
        return data

    return _simple(store, team, build, answer=answer, **kw)


def _owner_answer(lead: str) -> Answer:
    def answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
        data = _event_answer(ctx, state, stored)
        found = queries.owner(state, lead)
        data.update({"lead": lead, "owner": found["owner"], "rule": found["rule"], "disputed": found["disputed"]})
        return data
    return answer


def claim(store: Store, team: str, lead: str, by: str, reason: str, **kw: Any) -> Outcome:
    """ClaimMade (R-OW-7): shown next to the derived owner, never an override."""
    return _simple(store, team, lambda ctx: {
        "type": "ClaimMade", "lead": ctx.lead(lead), "consultant": ctx.consultant(by, "--by"), "reason": reason,
    }, answer=_owner_answer(lead), **kw)


def rule(store: Store, team: str, lead: str, owner: str, reason: str, by: str | None = None, **kw: Any) -> Outcome:
    """RulingMade (R-OW-0)."""
    return _simple(store, team, lambda ctx: {
        "type": "RulingMade", "lead": ctx.lead(lead), "owner": ctx.consultant(owner, "--owner", current=True),
        "reason": reason, "by": by,
    }, answer=_owner_answer(lead), **kw)


def penalize(store: Store, team: str, consultant: str, *, kind: str, channels: list[str], rule_id: str,
             reason: str, turns: int | None = None, take: int | None = None, of: int | None = None,
             start: dt.datetime | None = None, until: dt.datetime | None = None, penalty: str | None = None,
             by: str | None = None, **kw: Any) -> Outcome:
    """PenaltyImposed (R-SA-1 suspend, R-SA-2 skip, R-SA-3 throttle)."""
    def build(ctx: Context) -> dict:
        for name in channels:
            if name != "*" and name not in E.Channel.__members__:
                hint = _suggest(name, {c: c for c in E.Channel.__members__})
                raise InputError(f"--channels: unknown channel {name!r}"
                                 + (f"; did you mean {' or '.join(hint)}?" if hint else
                                    f"; expected some of {', '.join(E.Channel.__members__)} or *"))
        pid = penalty or ctx.new_penalty_id()
        return {"type": "PenaltyImposed", "penalty": pid, "consultant": ctx.consultant(consultant),
                "kind": kind, "channels": channels,
                "from": resolve_time(start, ctx.tz, ctx.at).isoformat() if start else None,
                "until": resolve_time(until, ctx.tz, ctx.at).isoformat() if until else None,
                "turns": turns, "take": take, "of": of, "rule": rule_id, "reason": reason, "by": by}

    def answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
        data = _event_answer(ctx, state, stored)
        data["penalty"] = stored[0].event.penalty
        return data

    return _simple(store, team, build, answer=answer, **kw)


def lift(store: Store, team: str, penalty: str, by: str | None = None, **kw: Any) -> Outcome:
    """PenaltyLifted (R-SA-9)."""
    def build(ctx: Context) -> dict:
        found = ctx.state.sanctions.get(penalty)
        if found is None:
            for event in ctx.later_of(E.PenaltyImposed):
                if event.penalty == penalty:
                    raise InputError(f"penalty {penalty!r} is imposed at {ctx.show(event.at)}, after this "
                                     f"event's time {ctx.show(ctx.at)}")
            live = {s.id: f"{s.id} ({s.consultant}, {s.rule})" for s in ctx.state.sanctions.values()
                    if s.live(ctx.at)}
            hint = _suggest(penalty, live)
            shown = ", ".join(live.values()) or "none"
            raise InputError(f"unknown penalty {penalty!r}; " + (f"did you mean {' or '.join(hint)}?" if hint
                                                                 else f"penalties in force: {shown}"))
        if found.lifted_at is not None and found.lifted_at <= ctx.at:
            raise RuleViolation(f"R-SA-9: penalty {penalty} was already lifted at {ctx.show(found.lifted_at)}")
        if found.until is not None and found.until <= ctx.at:
            raise RuleViolation(f"R-SA-9: penalty {penalty} already ended at {ctx.show(found.until)}; nothing to lift")
        if found.kind == "skip" and found.turns_left <= 0:
            raise RuleViolation(f"R-SA-9: penalty {penalty} (a skip) is used up; nothing to lift")
        return {"type": "PenaltyLifted", "penalty": penalty, "by": by}

    return _simple(store, team, build, **kw)


def presence(store: Store, team: str, consultant: str, state_name: str, by: str | None = None, **kw: Any) -> Outcome:
    """PresenceChanged (R-PR-1)."""
    return _simple(store, team, lambda ctx: {
        "type": "PresenceChanged", "consultant": ctx.consultant(consultant, current=True), "presence": state_name,
        "by": by,
    }, **kw)


def parse_day(text: str, today: dt.date) -> dt.date:
    """YYYY-MM-DD, or today / tomorrow / yesterday (local to the team)."""
    words = {"today": 0, "tomorrow": 1, "yesterday": -1, "今天": 0, "明天": 1, "昨天": -1}
    if text.strip().lower() in words:
        return today + dt.timedelta(days=words[text.strip().lower()])
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD (or today/tomorrow), got {text!r}") from None


def shift(store: Store, team: str, consultant: str, day: str, shift_name: str, **kw: Any) -> Outcome:
    """ShiftAssigned (R-SH-1): early and late have one holder a day; overtime several."""
    def build(ctx: Context) -> dict:
        date = parse_day(day, ctx.local(ctx.at).date())
        cid = ctx.consultant(consultant, current=True)
        if shift_name in ("early", "late"):
            held = ctx.state.shifts.get(date, {}).get(shift_name)
            if held and held != cid:
                ctx.notes.append(f"{ctx.label(cid)} replaces {ctx.label(held)} as the {shift_name} holder "
                                 f"on {date} (R-SH-1)")
        return {"type": "ShiftAssigned", "consultant": cid, "date": date.isoformat(), "shift": shift_name}

    return _simple(store, team, build, **kw)


def join(store: Store, team: str, consultant: str, name: str, seat: int | None = None, **kw: Any) -> Outcome:
    """ConsultantJoined (R-RO-1); the seat defaults to the one after the highest taken."""
    def build(ctx: Context) -> dict:
        chosen = seat
        if chosen is None:
            seats = [c.seat for c in ctx.catalog.team(ctx.team).consultants.values() if not c.left]
            chosen = max(seats, default=0) + 1
        return {"type": "ConsultantJoined", "consultant": consultant, "name": name, "seat": chosen}

    return _simple(store, team, build, **kw)


def leave(store: Store, team: str, consultant: str, **kw: Any) -> Outcome:
    """ConsultantLeft (R-RO-3)."""
    return _simple(store, team, lambda ctx: {"type": "ConsultantLeft", "consultant": ctx.consultant(consultant)},
                   **kw)


def swap(store: Store, team: str, a: str, b: str, **kw: Any) -> Outcome:
    """SeatsSwapped (R-RO-2): only two consultants adjacent in the current seat order."""
    def build(ctx: Context) -> dict:
        first, second = ctx.consultant(a, "A"), ctx.consultant(b, "B")
        problems = ctx.catalog.check(build_event({"type": "SeatsSwapped", "team": ctx.team,
                                                  "at": ctx.at.isoformat(), "a": first, "b": second}))
        if problems:
            raise _problem_error(problems)
        ctx.catalog = _catalog(ctx.team, ctx.state, ctx.later)  # the check applied it; start clean
        engine.check_swap(ctx.state, first, second)
        return {"type": "SeatsSwapped", "a": first, "b": second}

    return _simple(store, team, build, **kw)


def link(store: Store, team: str, lead: str, other: str, *, unlink: bool = False, **kw: Any) -> Outcome:
    """CustomersLinked / CustomersUnlinked (R-ID-1)."""
    def build(ctx: Context) -> dict:
        first, second = ctx.lead(lead), ctx.lead(other, "OTHER")
        if first == second:
            raise InputError(f"OTHER: expected a lead other than {first!r}")
        same = ctx.state.leads[first].customer == ctx.state.leads[second].customer
        if same and not unlink:
            ctx.notes.append(f"{first} and {second} were already one customer")
        if not same and unlink:
            raise InputError(f"{first} and {second} are not one customer; nothing to unlink (R-ID-1)")
        return {"type": "CustomersUnlinked" if unlink else "CustomersLinked", "lead": first, "other": second}

    return _simple(store, team, build, answer=_owner_answer(lead), **kw)


def grade(store: Store, team: str, lead: str, grade_name: str, *, confirm: bool = False, by: str | None = None,
          **kw: Any) -> Outcome:
    """GradeProposed / GradeConfirmed (R-FU-5): a proposal shows; a confirmation takes effect."""
    def build(ctx: Context) -> dict:
        lid = ctx.lead(lead)
        who = ctx.consultant(by, "--by") if by else None
        if who is None and not confirm:
            who = ctx.state.customer_of(lid).owner
        return {"type": "GradeConfirmed" if confirm else "GradeProposed", "lead": lid, "grade": grade_name,
                "consultant": who}

    return _simple(store, team, build, **kw)


def _amount(text: str | Decimal, key: str) -> Decimal:
    try:
        return E._amount(text)
    except ValueError as error:
        raise InputError(f"{key}: {error}") from None


def sign(store: Store, team: str, contract: str, lead: str, amount: str, *, kind: str | None = None,
         deposit: bool = False, **kw: Any) -> Outcome:
    """ContractSigned (R-MO-2, R-MO-3: credited to the customer's owner at signing)."""
    def build(ctx: Context) -> dict:
        lid = ctx.lead(lead, "--lead")
        value = _amount(amount, "--amount")
        cust = ctx.state.customer_of(lid)
        if cust.owner is None:
            raise RuleViolation(f"R-MO-3: the customer of {lid} has no owner at {ctx.show(ctx.at)} "
                                f"({cust.rule or 'unowned'}); record a ruling (ledger rule) first, "
                                "or the contract credits nobody")
        return {"type": "ContractSigned", "contract": contract, "lead": lid, "amount": f"{value:.2f}",
                "kind": kind, "deposit": True if deposit else None}

    def answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
        data = _event_answer(ctx, state, stored)
        facts = state.money.contracts.get(contract)
        if facts is not None:
            data["credits"] = [{"consultant": c.consultant, "share": str(c.share), "rule": c.rule} for c in facts.credits]
        return data

    return _simple(store, team, build, answer=answer, **kw)


def money(store: Store, team: str, contract: str, amount: str | None, *, kind: str, **kw: Any) -> Outcome:
    """PaymentReceived / LoanDisbursed / ContractRefunded / ContractCancelled (R-MO-2)."""
    def build(ctx: Context) -> dict:
        kid = ctx.contract(contract, "CONTRACT")
        facts = ctx.state.money.contracts[kid]
        held = ctx.state.contracts[kid]
        if held.cancelled:
            raise RuleViolation(f"R-MO-2: contract {kid} is cancelled; no {_MONEY_NOUN[kind]} can follow")
        data: dict[str, Any] = {"type": kind, "contract": kid}
        if kind != "ContractCancelled":
            value = _amount(amount or "", "AMOUNT")
            if value <= 0:
                raise InputError(f"AMOUNT: expected an amount above 0.00, got {value:.2f}")
            if kind == "ContractRefunded" and held.refunded + value > facts.amount:
                raise RuleViolation(f"R-MO-2: a refund of {value:.2f} would exceed contract {kid}'s amount "
                                    f"{facts.amount:.2f} (already refunded {held.refunded:.2f})")
            data["amount"] = f"{value:.2f}"
        return data

    return _simple(store, team, build, **kw)


_MONEY_NOUN = {"PaymentReceived": "payment", "LoanDisbursed": "disbursement", "ContractRefunded": "refund",
               "ContractCancelled": "cancellation"}


def target(store: Store, team: str, consultant: str, month: str, red: str, green: str, **kw: Any) -> Outcome:
    """TargetSet (R-CM-1)."""
    return _simple(store, team, lambda ctx: {
        "type": "TargetSet", "consultant": ctx.consultant(consultant), "month": month,
        "red": f"{_amount(red, '--red'):.2f}", "green": f"{_amount(green, '--green'):.2f}",
    }, **kw)


def activity(store: Store, team: str, lead: str, by: str, *, kind: str, **kw: Any) -> Outcome:
    """InvitationRecorded / VisitRecorded (R-SA-7, R-SA-8 metrics)."""
    return _simple(store, team, lambda ctx: {
        "type": kind, "lead": ctx.lead(lead), "consultant": ctx.consultant(by, "--by"),
    }, **kw)


def complaint(store: Store, team: str, consultant: str, reason: str, by: str | None = None, **kw: Any) -> Outcome:
    """ComplaintVerified (R-SA-8: a skip on the policy's channels)."""
    return _simple(store, team, lambda ctx: {
        "type": "ComplaintVerified", "consultant": ctx.consultant(consultant), "reason": reason, "by": by,
    }, **kw)


def erase_phone(store: Store, team: str, phone: str, **kw: Any) -> Outcome:
    """CustomerErased (R-ID-2): the clear number leaves the store; answers stay unchanged."""
    def build(ctx: Context) -> dict:
        if not normalize(phone):
            raise InputError(f"PHONE: expected a phone number with digits, got {phone!r}")
        wanted = identity(ctx.store.phone_key(phone))
        phones = [lead.phone for lead in ctx.state.leads.values()]
        phones += [e.phone for e in ctx.later_of(E.LeadArrived)]
        if not any(p and identity(p) == wanted for p in phones):
            raise InputError(f"PHONE: no lead of team {ctx.team} has the number {mask(phone)}; nothing to erase")
        return {"type": "CustomerErased", "phone": phone}

    return _simple(store, team, build, **kw)


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value`; the value is read as JSON when it is JSON (decimals as strings), else as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--override: expected key=value (e.g. day_end=17:00), got {text!r}")
    try:
        value = json.loads(raw, parse_float=str)
    except ValueError:
        value = raw
    return key.strip(), value


def adopt(store: Store, team: str, preset: str, *, overrides: Iterable[str] = (), timezone: str | None = None,
          **kw: Any) -> Outcome:
    """PolicyAdopted (RULEBOOK §10): a team's first event; a later one replaces the whole policy."""
    parsed = dict(parse_override(item) for item in overrides)

    def build(ctx: Context) -> dict:
        return {"type": "PolicyAdopted", "preset": preset, "overrides": parsed or None, "timezone": timezone}

    return _simple(store, team, build, new_team=True, **kw)
