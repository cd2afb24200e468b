"""How every recording command records (issue #5): validate -> decide -> append, retried.

The handlers, one per command, are in `commands.record`; each is validate -> decide -> append:

1. read the team's head, then its state at the event's time `at` (the nearest checkpoint plus
   the events after it, as `commands.history` does);
2. resolve the ids the person typed (consultants by id or by exact name; close matches are
   suggested for a typo), build the event and check it with the import checks of
   `projections.catalog` and the engine's own checks (e.g. `engine.check_swap`, R-RO-2);
3. append it with the head read in step 1 as the expected head. When another writer appended
   first (`ConcurrencyConflict`), wait a short jittered moment and start again from step 1, so
   two receptionists recording at the same instant never hand out the same turn and never lose
   an arrival;
4. fold the stored event into the state and answer from that state, so what is printed is what
   the stored history says.

The core has no clock: the CLI passes `now` in; `at` (a back-dated time) defaults to it. A time
without a UTC offset is read in the team's time zone. When `at` is left to default and another
writer has just recorded an event a little ahead of `now` (a clock slightly ahead, or the race for
the same second), the event is recorded at that event's time, after it: recording it earlier would
make it a late event (R-T-5) that re-decides what the other receptionist was already told.

Checkpoints: after folding a number of events, the state is left behind as a checkpoint under
the key `(at, head)`, meaning "every event with `at' < at`, and those with `at' == at` recorded up
to `head`". An event recorded later at the same instant sorts after such a key, so it is never
hidden by it; `Store.put_checkpoint(head=...)` drops it when a racing writer back-dated an event
before it. The next arrival then folds only the events recorded since.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ledger import events as E
from ledger.errors import (
    ConcurrencyConflict,
    InputError,
    RuleViolation,
    UnknownConsultant,
    UnknownLead,
    UnknownTeam,
)
from ledger.phone import ERASED, mask
from ledger.store import Store
from projections import catalog as C
from projections import engine, queries, sentences
from projections.models import can_follow

from . import history, voiding
from .history import Loaded

MAX_ATTEMPTS = 40
BACKOFF_FIRST = 0.004  # seconds; doubles per attempt, with full jitter
BACKOFF_CAP = 0.25
CLOCK_SKEW = dt.timedelta(minutes=10)  # "now" never records before events this close ahead of it
_rng = random.Random(int.from_bytes(os.urandom(8), "big"))


# --------------------------------------------------------------------------------------------
# Reading the state


def load_state(store: Store, team: str, at: dt.datetime, *, head: int | None = None,
               as_recorded: dt.datetime | None = None) -> Loaded:
    """The team's state at `at`: see `commands.history.load`."""
    return history.load(store, team, at, head=head, as_recorded=as_recorded)


def fold_stored(store: Store, team: str, state: engine.TeamState, stored: list[E.Recorded],
                at: dt.datetime) -> engine.TeamState:
    """`state` with the just stored events folded in (from the start if one needs a re-fold)."""
    try:
        for rec in stored:
            state = engine.apply(state, rec)
        return state
    except engine.NeedsFullReplay:  # a link on a state restored without its records (R-ID-1)
        return engine.replay(store.read_by_time(team, after_key=None, until=at), until=at)


def save_checkpoint(store: Store, team: str, state: engine.TeamState, at: dt.datetime, head: int) -> bool:
    """Leave `state` (all events with at' <= at recorded up to `head`) as a checkpoint."""
    return history.save(store, team, state, (at, head), head)


def later_events(store: Store, team: str, at: dt.datetime) -> list[E.Recorded]:
    """Events with `at' > at` (recorded back-dated history or future-dated events)."""
    return store.read_by_time(team, after_key=(at, history.CHECKPOINT_SEQ))


def resolve_time(value: dt.datetime | None, tz: Any, default: dt.datetime) -> dt.datetime:
    """An aware time; a naive one is read in the team's zone; None -> `default`."""
    if value is None:
        return default
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value


# --------------------------------------------------------------------------------------------
# Resolving what a person typed


def _suggest(typed: str, choices: dict[str, str]) -> list[str]:
    """Close matches of `typed` among choices {text: shown}."""
    found = difflib.get_close_matches(typed, list(choices), n=3, cutoff=0.5)
    if not found:
        lowered = typed.lower()
        found = [text for text in choices if lowered and (lowered in text.lower() or text.lower() in lowered)][:3]
    return list(dict.fromkeys(choices[text] for text in found))


@dataclass
class Context:
    """What a handler may look at: the state at `at`, the events after it, and the catalog."""

    store: Store
    team: str
    at: dt.datetime
    now: dt.datetime
    state: engine.TeamState
    head: int
    later: list[E.Recorded]
    catalog: C.Catalog
    notes: list[str] = field(default_factory=list)
    human: dict = field(default_factory=dict)  # what the answer adds for a person only (Outcome.human)

    @property
    def tz(self):
        return self.state.tz

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def show(self, moment: dt.datetime | None) -> str | None:
        return None if moment is None else self.local(moment).isoformat(timespec="seconds")

    def later_of(self, kind: type) -> list[E.Event]:
        return [r.event for r in self.later if isinstance(r.event, kind)]

    # -- consultants

    def consultant(self, ref: str, key: str = "consultant", *, current: bool = False) -> str:
        """A consultant id from an id or an exact name; `UnknownConsultant` with suggestions."""
        team = self.catalog.team(self.team)
        if ref in team.consultants:
            cid = ref
        else:
            names = self._names()
            matches = [cid for cid, name in names.items() if name == ref]
            if len(matches) == 1:
                cid = matches[0]
            elif len(matches) > 1:
                raise UnknownConsultant(f"{key}: {ref!r} is the name of {', '.join(matches)}; give the id")
            else:
                choices = {cid: self._label(cid) for cid in team.consultants}
                choices.update({name: self._label(cid) for cid, name in names.items()})
                hint = _suggest(ref, choices)
                roster = ", ".join(self._label(cid) for cid in team.seat_order()) or "nobody has joined yet"
                if hint:
                    raise UnknownConsultant(f"{key}: unknown consultant {ref!r}; did you mean "
                                            f"{' or '.join(hint)}? (current: {roster})")
                raise UnknownConsultant(f"{key}: unknown consultant {ref!r}; expected one of: {roster}")
        if current and getattr(team.roster_at(self.at).get(cid), "left", False):  # left by `at`
            raise RuleViolation(f"R-RO-3: {self._label(cid)} has left the team; expected a current consultant")
        return cid

    def _names(self) -> dict[str, str]:
        names = {cid: c.name for cid, c in self.state.consultants.items()}
        for event in self.later_of(E.ConsultantJoined):
            names.setdefault(event.consultant, event.name)
        return names

    def _label(self, cid: str) -> str:
        name = self._names().get(cid)
        return f"{cid} ({name})" if name else cid

    def label(self, cid: str | None) -> str | None:
        return None if cid is None else self._label(cid)

    # -- leads, contracts, penalties

    def lead(self, ref: str, key: str = "lead") -> str:
        """A lead that had arrived by `at`; `UnknownLead` with suggestions otherwise."""
        if ref in self.state.leads:
            return ref
        for event in self.later_of(E.LeadArrived):
            if event.lead == ref:
                raise UnknownLead(f"{key}: lead {ref!r} arrives at {self.show(event.at)}, after this event's "
                                  f"time {self.show(self.at)}; expected a lead that had arrived by then")
        hint = _suggest(ref, {lid: lid for lid in self.state.leads})
        tail = f"; did you mean {' or '.join(hint)}?" if hint else "; expected a lead that has arrived in the team"
        raise UnknownLead(f"{key}: unknown lead {ref!r}{tail}")

    def contract(self, ref: str, key: str = "contract") -> str:
        if ref in self.state.money.contracts:
            return ref
        for event in self.later_of(E.ContractSigned):
            if event.contract == ref:
                raise InputError(f"{key}: contract {ref!r} is signed at {self.show(event.at)}, after this "
                                 f"event's time {self.show(self.at)}; expected a contract signed by then")
        hint = _suggest(ref, {k: k for k in self.state.money.contracts})
        tail = f"; did you mean {' or '.join(hint)}?" if hint else "; expected the id of a signed contract"
        raise InputError(f"{key}: unknown contract {ref!r}{tail}")

    # -- ids generated from the state (deterministic: a racing writer makes a retry pick again)

    def taken_lead_ids(self) -> set[str]:
        return set(self.state.leads) | {e.lead for e in self.later_of(E.LeadArrived)}

    def new_lead_id(self) -> str:
        """`L<local date>-<n>`: n = 1 + the ids of that form given so far, skipping used ids.

        Reads lead ids only: the leads themselves stay packed in a restored state."""
        date = self.local(self.at).date()
        taken = self.taken_lead_ids()
        prefix = f"L{date:%Y%m%d}-"
        n = 1 + sum(1 for lead in taken if lead.startswith(prefix))
        while True:
            candidate = f"L{date:%Y%m%d}-{n:03d}"
            if candidate not in taken:
                return candidate
            n += 1

    def new_penalty_id(self) -> str:
        date = self.local(self.at).date()
        taken = set(self.state.sanctions) | {e.penalty for e in self.later_of(E.PenaltyImposed)}
        n = 1 + sum(1 for s in self.state.sanctions.values()
                    if not s.derived and self.local(s.start).date() == date)
        while True:
            candidate = f"P{date:%Y%m%d}-{n}"
            if candidate not in taken:
                return candidate
            n += 1


# --------------------------------------------------------------------------------------------
# The loop: validate -> decide -> append, retried on conflicts


Decide = Callable[[Context], list[dict]]
Answer = Callable[[Context, engine.TeamState, list[E.Recorded]], dict]


@dataclass
class Outcome:
    team: str
    at: dt.datetime
    records: list[E.Recorded]  # as stored (phone numbers as keys)
    tz: Any  # the team's zone at `at`, after them
    attempts: int
    answer: dict
    notes: list[str] = field(default_factory=list)
    # `say(tr, word)`: the answer's one line (`describe`) in the reader's language; not in --json
    say: Callable[..., str] | None = field(default=None, repr=False)
    # facts a person reads beside the answer and --json leaves out (INTERCHANGE keeps its bytes):
    # `taken_from` (an arrival that took the customer from its owner), `given_back` ({to, from})
    human: dict = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict:
        data = {"team": self.team, "at": self.answer.get("at") or self.at.astimezone(self.tz).isoformat(timespec="seconds"),
                "events": [{"seq": r.seq, "type": r.event.type} for r in self.records],
                "attempts": self.attempts}
        data.update(self.answer)
        if self.notes:
            data["notes"] = self.notes
        return data


def _iso(state: engine.TeamState, moment: dt.datetime) -> str:
    return moment.astimezone(state.tz).isoformat(timespec="seconds")


AMEND_REASON = "amended: replaced by the entry recorded with this void"


def _voided_leads(store: Store, team: str, catalog: C.Catalog) -> None:
    """R-CO-2: a voided arrival's lead id stays taken (the folded state no longer knows it)."""
    leads = [rec.event.lead for rec, _ in store.voided_records(team) if isinstance(rec.event, E.LeadArrived)]
    if leads:
        catalog.team(team).voided_leads = frozenset(leads)


def _catalog(team: str, state: engine.TeamState, later: list[E.Recorded]) -> C.Catalog:
    """The import checks' view of the team, built from the folded state (no full re-read)."""
    catalog = C.Catalog()
    known = catalog.team(team)
    known.policy_at = state.policies[0][0] if state.policies else None
    known.base = {cid: C.Consultant(c.seat, c.left) for cid, c in state.consultants.items()}
    known.consultants = C.copy_roster(known.base)
    known.leads = set(state.leads)
    known.contracts = set(state.money.contracts)
    known.penalties = {s.id for s in state.sanctions.values() if not s.derived}
    catalog.load(r.event for r in sorted(later, key=lambda r: r.seq))
    return catalog


def _problem_error(problems: list[tuple[str, str]]) -> InputError:
    key, message = problems[0]
    text = "; ".join(m if m.startswith("R-") else f"{k}: {m}" for k, m in problems)
    if message.startswith("R-"):
        return RuleViolation(text)
    if "unknown consultant" in message:
        return UnknownConsultant(text)
    if "unknown lead" in message:
        return UnknownLead(text)
    return InputError(text)


def build_event(data: dict) -> E.Event:
    try:
        return E.parse_event({k: v for k, v in data.items() if v is not None})
    except E.EventProblems as error:
        raise InputError("; ".join(f"{key}: {message}" for key, message in error.problems)) from None


def record(store: Store, team: str, decide: Decide, answer: Answer | None = None, *,
           at: dt.datetime | None, now: dt.datetime, new_team: bool = False,
           allow_future: bool = False, amend: str | None = None, amend_reason: str | None = None,
           max_attempts: int = MAX_ATTEMPTS, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Validate, decide and append the events `decide` returns at `at` (default `now`).

    `decide(ctx)` returns event dicts without `type`-independent keys `team` and `at` (filled in).
    `amend` (`#N` or an event id) voids that event in the same append (R-CO-2), as the
    correction the new event is. An `at` more than 5 minutes after `now` is refused unless
    `allow_future` (R-CO-5).
    Raises an `InputError` (exit 2, nothing stored) for a mistake, `ConcurrencyConflict` when
    other writers kept winning for `max_attempts` attempts (nothing stored either)."""
    for attempt in range(1, max_attempts + 1):
        head = store.head(team)
        if head == 0 and not new_team:
            raise UnknownTeam(f"unknown team {team!r}: no events recorded for it; start it with `ledger adopt`")
        when, later = _moment(store, team, at, now, allow_future)
        loaded = load_state(store, team, when, head=head)
        state = loaded.state
        when = when.astimezone(state.tz)
        if later is None:
            later = later_events(store, team, when)
        ctx = Context(store, team, when, now, state, head, later, _catalog(team, state, later))
        _voided_leads(store, team, ctx.catalog)
        events = _checked_events(ctx, decide, amend, amend_reason)
        # The read models can follow from this very state (no second load) when nothing was
        # recorded after `when` (commands.read_models.maintain_after).
        follow = not later and can_follow(events)
        state.touched = set() if follow else None
        try:
            stored = store.append({team: (head, events)}).get(team, [])
        except ConcurrencyConflict:
            if attempt == max_attempts:
                raise ConcurrencyConflict(
                    f"other writers kept appending to team {team!r}; gave up after {max_attempts} "
                    "attempts, nothing stored") from None
            sleep(_rng.uniform(0, min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1))))
            continue
        return _recorded(ctx, loaded, stored, answer, attempt, follow)
    raise AssertionError("unreachable")


def _moment(store: Store, team: str, at: dt.datetime | None, now: dt.datetime,
            allow_future: bool) -> tuple[dt.datetime, list[E.Recorded] | None]:
    """The time to record at, and the events after it when finding that time read them (else
    None). `at` None: `now`, or the time of an event another writer has just recorded a little
    ahead of it; a naive `at` is read in the team's zone; R-CO-5 refuses one in the future."""
    if at is None:
        when = now.replace(microsecond=0)
        later = later_events(store, team, when)
        latest = max((r.event.at for r in later), default=None)
        if latest is not None and latest - when <= CLOCK_SKEW:
            # Another writer recorded a moment ago with a clock a little ahead (or won the race
            # for this second): record at its time, after it, so that its printed answer stays
            # true (an earlier `at` would be a late event that re-decides it, R-T-5).
            when, later = latest, []
    elif at.tzinfo is None or at.utcoffset() is None:
        when = resolve_time(at, history.zone_now(store, team, now), now)
        later = None
    else:
        when, later = at, None
    if at is not None and not allow_future and when > now + E.FUTURE:
        raise InputError(f"R-CO-5: --at {when.isoformat()} is more than 5 minutes after now "
                         f"({now.astimezone(when.tzinfo).isoformat(timespec='seconds')}); expected a time "
                         "that has happened (--allow-future records it anyway: simulations, tests)")
    return when, later


def _checked_events(ctx: Context, decide: Decide, amend: str | None, amend_reason: str | None) -> list[E.Event]:
    """The events `decide` returns (after the void of `amend`, if any), each passed by the import
    checks (a void by R-CO-3's); the first problem raises."""
    team = ctx.team
    events = [build_event({"team": team, "at": ctx.at.isoformat(), **data}) for data in decide(ctx)]
    if amend is not None:
        void = build_event({"type": "EntryVoided", "team": team, "at": ctx.now.astimezone(ctx.state.tz).isoformat(),
                            "event": amend, "reason": amend_reason or AMEND_REASON})
        events.insert(0, void)
    for event in events:
        problems = voiding.problems(ctx.store, team, event) if isinstance(event, E.EntryVoided) \
            else ctx.catalog.check(event)
        if problems:
            raise _problem_error(problems)
    return events


def _recorded(ctx: Context, loaded: Loaded, stored: list[E.Recorded], answer: Answer | None, attempt: int,
              follow: bool) -> Outcome:
    """After the append: the stored events folded into the state decided on (a checkpoint left
    now and then), the answer from that state, and the read models brought along."""
    store, team, when, head, state = ctx.store, ctx.team, ctx.at, ctx.head, ctx.state
    if any(isinstance(r.event, E.EntryVoided) for r in stored):  # replay re-decides without it
        after = load_state(store, team, when).state
    else:
        after = fold_stored(store, team, state, stored, when)
    last = stored[-1].seq if stored else head
    if stored and loaded.folded + len(stored) >= history.SAVE_AFTER:
        save_checkpoint(store, team, after, when, last)
    result = answer(ctx, after, stored) if answer is not None else {}
    outcome = Outcome(team, when, stored, after.tz, attempt, result, ctx.notes, human=ctx.human)
    if stored and "summary" in result:
        outcome.say = lambda tr, word: describe(ctx, stored[0].event, tr, word)
    if stored:  # the read models (issue 6); this may advance `after` past `when`
        from .read_models import maintain_after, maintain_quietly

        if not (follow and after is state and maintain_after(store, team, after, stored, head)):
            maintain_quietly(store, [team])
    return outcome


# --------------------------------------------------------------------------------------------
# Answers


def _lead_answer(ctx: Context, state: engine.TeamState, lead_id: str) -> dict:
    """Who owns the lead now, by which rule, and who was passed and why (R-OW-6)."""
    owner = queries.owner(state, lead_id)
    lead = state.leads[lead_id]
    names = {cid: c.name for cid, c in state.consultants.items()}
    candidates = [{"consultant": c, "name": names.get(c), "outcome": o, "why": w} for c, o, w in lead.candidates]
    summary = None
    for entry in reversed(state.customers[lead.customer].timeline):
        if entry.lead == lead_id and entry.type == "LeadArrived":
            summary = sentences.english(entry.summary)
            break
    data = {
        "lead": lead_id,
        "channel": lead.channel,
        "at": _iso(state, lead.at),
        "owner": owner["owner"],
        "name": names.get(owner["owner"]) if owner["owner"] else None,
        "rule": owner["rule"],
        "disputed": owner["disputed"],
        "phone": mask(lead.phone) if lead.phone else None,
        "candidates": candidates,
        "summary": summary,
    }
    if lead.deferred:
        data["deferred_until"] = _iso(state, state.cal.deferral_instant(state.cal.local(lead.at)))
    holder = next((c for c, o, _ in lead.candidates if o in ("holder", "passed normally")), None)
    if holder is not None and holder != owner["owner"]:
        data["turn_holder"] = holder
    return data


def _event_answer(ctx: Context, state: engine.TeamState, stored: list[E.Recorded]) -> dict:
    event = stored[0].event if stored else None
    return {"summary": describe(ctx, event) if event is not None else "nothing to record"}


def _english(message: str, **values: Any) -> str:
    return message.format(**values) if values else message


def _as_code(code: str) -> str:
    return code


def describe(ctx: Context, event: E.Event, tr: Callable[..., str] = _english,
             word: Callable[[str], str] = _as_code) -> str:
    """One line a person reads back after recording an event. `tr` says a message (an English
    message id with named placeholders) and `word` a code (a presence, a channel) in the reader's
    language; by default in English, as `--json` gives it (the CLI passes its own, `cli.app`)."""
    return (_describe_team(ctx, event, tr, word) or _describe_lead(ctx, event, tr, word)
            or _describe_penalty(ctx, event, tr, word) or _describe_money(ctx, event, tr) or word(event.type))


def _describe_team(ctx: Context, event: E.Event, tr, word) -> str | None:
    """The policy, the roster, shifts and presence."""
    label = ctx.label
    if isinstance(event, E.PolicyAdopted):
        if event.overrides:
            return tr("team {team} adopts the {preset} policy with {overrides} (RULEBOOK §10)", team=event.team,
                      preset=event.preset.value, overrides=json.dumps(event.overrides, ensure_ascii=False))
        return tr("team {team} adopts the {preset} policy (RULEBOOK §10)", team=event.team, preset=event.preset.value)
    if isinstance(event, E.ConsultantJoined):
        return tr("{consultant} ({name}) joins at seat {seat} (R-RO-1)", consultant=event.consultant,
                  name=event.name, seat=event.seat)
    if isinstance(event, E.ConsultantLeft):
        return tr("{who} leaves; customers stay theirs until a rule or ruling moves them (R-RO-3)",
                  who=label(event.consultant))
    if isinstance(event, E.SeatsSwapped):
        return tr("{a} and {b} swap seats (R-RO-2)", a=label(event.a), b=label(event.b))
    if isinstance(event, E.ShiftAssigned):
        return tr("{who} holds the {shift} shift on {date} (R-SH-1)", who=label(event.consultant),
                  shift=word(event.shift.value), date=event.date)
    if isinstance(event, E.PresenceChanged):
        return tr("{who} is now {presence} (R-PR-1)", who=label(event.consultant), presence=word(event.presence.value))
    return None


def _describe_lead(ctx: Context, event: E.Event, tr, word) -> str | None:
    """What happens to a lead or a customer: follow-ups, claims, rulings, links, grades, voids."""
    label = ctx.label
    if isinstance(event, E.FollowUpLogged):
        return tr("{who} followed up {lead} ({direction}) (R-FU-1)", who=label(event.consultant), lead=event.lead,
                  direction=word(event.direction.value))
    if isinstance(event, E.ClaimMade):
        return tr("{who} claims {lead}: {reason} (R-OW-7)", who=label(event.consultant), lead=event.lead,
                  reason=event.reason)
    if isinstance(event, E.RulingMade):
        return tr("ruling: {lead} belongs to {who}: {reason} (R-OW-0)", lead=event.lead, who=label(event.owner),
                  reason=event.reason)
    if isinstance(event, E.EntryVoided):
        return tr("entry {entry} is voided: {reason}; replay treats it as never recorded (R-CO-2)",
                  entry=event.event, reason=event.reason)
    if isinstance(event, E.CustomersLinked):
        return tr("{lead} and {other} are one customer (R-ID-1)", lead=event.lead, other=event.other)
    if isinstance(event, E.CustomersUnlinked):
        return tr("{lead} and {other} are not one customer (R-ID-1)", lead=event.lead, other=event.other)
    if isinstance(event, E.InvitationRecorded):
        return tr("invitation of {lead} by {who}", lead=event.lead, who=label(event.consultant))
    if isinstance(event, E.VisitRecorded):
        return tr("visit of {lead} by {who}", lead=event.lead, who=label(event.consultant))
    if isinstance(event, E.ComplaintVerified):
        return tr("verified complaint against {who}: {reason}", who=label(event.consultant), reason=event.reason)
    if isinstance(event, (E.GradeProposed, E.GradeConfirmed)):
        by = label(event.consultant) if event.consultant else None
        if isinstance(event, E.GradeConfirmed):
            return (tr("grade {grade} confirmed for {lead} by {who} (R-FU-5)", grade=event.grade.value,
                       lead=event.lead, who=by) if by else
                    tr("grade {grade} confirmed for {lead} (R-FU-5)", grade=event.grade.value, lead=event.lead))
        return (tr("grade {grade} proposed for {lead} by {who} (R-FU-5)", grade=event.grade.value, lead=event.lead,
                   who=by) if by else
                tr("grade {grade} proposed for {lead} (R-FU-5)", grade=event.grade.value, lead=event.lead))
    if isinstance(event, E.CustomerErased):
        shown = mask(event.phone)  # the stored key: its digits are gone once erased
        return tr("phone number {phone} erased (R-ID-2)", phone="*******" if shown == ERASED else shown)
    return None


def _describe_penalty(ctx: Context, event: E.Event, tr, word) -> str | None:
    if isinstance(event, E.PenaltyImposed):
        what = {"suspend": tr("suspended"), "skip": tr("skips {turns} turn(s)", turns=event.turns),
                "throttle": tr("takes {take} of {of}", take=event.take, of=event.of)}[event.kind.value]
        span = ""
        if event.from_ or event.until:
            span = " " + tr("from {start}", start=ctx.show(event.from_ or event.at))
            if event.until:
                span += " " + tr("until {end}", end=ctx.show(event.until))
        return tr("penalty {penalty}: {who} {what} in {channels}{span} ({rule}: {reason})", penalty=event.penalty,
                  who=ctx.label(event.consultant), what=what,
                  channels=",".join(word(c) for c in event.channels), span=span, rule=event.rule, reason=event.reason)
    if isinstance(event, E.PenaltyLifted):
        return tr("penalty {penalty} lifted (R-SA-9)", penalty=event.penalty)
    return None


def _describe_money(ctx: Context, event: E.Event, tr) -> str | None:
    """Contracts, their movements, and targets."""
    if isinstance(event, E.ContractSigned):
        kind = f" {event.kind.value}" if event.kind else ""
        values = {"contract": event.contract, "kind": kind, "amount": f"{event.amount:.2f}", "lead": event.lead}
        if event.deposit:
            return tr("contract {contract}{kind} deposit of {amount} signed for {lead} (R-MO-2)", **values)
        return tr("contract {contract}{kind} of {amount} signed for {lead} (R-MO-2)", **values)
    if isinstance(event, E.PaymentReceived):
        return tr("payment of {amount} on contract {contract} (R-MO-2)", amount=f"{event.amount:.2f}",
                  contract=event.contract)
    if isinstance(event, E.LoanDisbursed):
        return tr("loan disbursement of {amount} on contract {contract} (R-MO-2)", amount=f"{event.amount:.2f}",
                  contract=event.contract)
    if isinstance(event, E.ContractRefunded):
        return tr("refund of {amount} on contract {contract} (R-MO-2)", amount=f"{event.amount:.2f}",
                  contract=event.contract)
    if isinstance(event, E.ContractCancelled):
        return tr("contract {contract} cancelled (R-MO-2)", contract=event.contract)
    if isinstance(event, E.TargetSet):
        return tr("targets of {who} for {month}: red {red}, green {green} (R-CM-1)", who=ctx.label(event.consultant),
                  month=event.month, red=f"{event.red:.2f}", green=f"{event.green:.2f}")
    return None


