"""Ownership (§7, R-OW-0..R-OW-8): who owns a customer when a lead arrives (`on_lead`), when a
deferred lead is allocated at 09:01 (`on_defer`, R-SH-5) and when a same-day inbound contact
gives a hotline takeover back (`on_inbound`, R-OW-3b); claims (R-OW-7), rulings (R-OW-0),
taken-by violations (R-OW-8, R-SA-5), and `set_owner`, the one place an owner changes.

The R-OW order is data: `ORDER`, a tuple of (rule id, function) in the rulebook's precedence.
`decide` walks it and the first function that returns a `Decision` wins. A function reads an
`Ask` (state, customer, lead, moment, the arrival's facts; `ask.route` and `ask.tracked` are
computed on first use) and returns a frozen `Decision` (owner, rule, whether the customer moves,
whether the route's turn holder passes, split, evidence, ...) or None; it changes no state.
The order is asked at three moments (`Ask.moment`): ARRIVAL, DEFERRAL (09:01, R-SH-5) and
INBOUND (an inbound contact after an R-OW-3b takeover); `on_lead`, `on_defer` and `on_inbound`
apply what it decides.

How to add an ownership rule:
1. Name its id beside the others (`R_OW_N = "R-OW-N"`) and write `def my_rule(ask) -> Decision
   | None`: None unless it applies at `ask.moment`; change nothing (an effect is a Decision field).
2. Put `(R_OW_N, my_rule)` in `ORDER` where the rulebook's precedence puts it, and its id in
   the expected order of `tests/unit/test_ownership_order.py`.
3. A new kind of effect: add a `Decision` field and apply it in `_apply_arrival` (`on_defer`,
   `on_inbound` for the other moments)."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ledger import phone

from .. import indexes
from .. import sentences as S
from ..calendar import ONE_DAY
from ..facts import ProviderReward, ReferralSource
from ..sentences import N_, phrase
from ..state import P_DEFER, Customer, Lead, Route, Sanction, TeamState, Violation, lead_customer, schedule
from . import followups, identity, money, presence_shifts, rotation, sanctions
from .timeline import add_entry, fmt

R_OW_0, R_OW_1, R_OW_1b, R_OW_2, R_OW_2a = "R-OW-0", "R-OW-1", "R-OW-1b", "R-OW-2", "R-OW-2a"
R_OW_3, R_OW_3b, R_OW_3c, R_OW_3d, R_OW_4 = "R-OW-3", "R-OW-3b", "R-OW-3c", "R-OW-3d", "R-OW-4"
R_SH_5, R_RT_9 = "R-SH-5", "R-RT-9"
ARRIVAL, DEFERRAL, INBOUND = "arrival", "deferral", "inbound"  # the moments the order is asked at


class Decision(NamedTuple):
    """What the first applying rule of `ORDER` decides (immutable; a NamedTuple, as one is made
    per lead and a frozen dataclass costs three times as much to build)."""

    owner: str | None
    rule: str
    take: bool = False  # the customer moves to `owner` (set_owner); otherwise its owner is only touched
    as_pass: bool = True  # the route's receiver, if not `owner`, passes normally (R-RT-6)
    route: Route | None = None  # the lead's route, committed; None: no turn consumed (R-OW-1, R-OW-1b)
    counted: bool = False  # the lead counts for `owner` outside any route (R-OW-1b, R-OW-2)
    split: str | None = None  # R-OW-2a: the receiver who shares the credit
    provider: str | None = None  # R-OW-3d: who earns the provider reward
    deferred: bool = False  # R-SH-5: allocated at 09:01
    revocable: bool = False  # R-OW-3b: same-day inbound evidence to the previous owner gives it back
    rests_on: tuple = ()  # the rule's own evidence (seqs)

    def candidates(self) -> tuple:
        """The route's candidates, its receiver marked as passing normally when someone else owns."""
        route = self.route
        if route is None:
            return ()
        candidates = route.candidates
        owner = self.owner
        if self.as_pass and route.receiver is not None and route.receiver != owner:
            why = (S.TURN_CONSUMED.format(owner=owner) if route.kind in ("rotation", "weighted")
                   else S.GOES_TO.format(owner=owner, rule=self.rule))
            candidates = [(c, "passed normally", why) if c == route.receiver and o == "holder" else (c, o, w)
                          for c, o, w in candidates]
        return tuple(candidates)


class Ask:
    """What the rules of `ORDER` read about one lead at one moment; `route` and `tracked` are
    computed on first use and kept."""

    __slots__ = ("state", "cust", "lead", "at", "local", "moment", "named", "referrer", "taken_by", "maker", "by",
                 "contact", "_route", "_tracked")

    def __init__(self, state: TeamState, cust: Customer, lead: Lead, at: dt.datetime, local: dt.datetime,
                 moment: str = ARRIVAL, named: str | None = None, referrer: str | None = None,
                 taken_by: str | None = None, maker: str | None = None, by: str | None = None,
                 contact: str | None = None):
        self.state, self.cust, self.lead, self.at, self.local, self.moment = state, cust, lead, at, local, moment
        self.named = named  # R-OW-2: the named or prior-contact consultant, if not left
        self.referrer = referrer  # R-OW-1b: the referring customer's owner
        self.taken_by, self.maker, self.by = taken_by, maker, by
        self.contact = contact  # INBOUND: the consultant the customer contacted
        self._route = self._tracked = None

    @property
    def route(self) -> Route:
        """Where the lead would go by its channel (R-OW-4); at 09:01 the channel's queue (R-SH-5)."""
        if self._route is None:
            state, lead = self.state, self.lead
            if self.moment == DEFERRAL:
                self._route = rotation.queue_route(state, rotation.path_channel(lead.channel), self.at, self.local, R_SH_5)
            else:
                self._route = rotation.route_for(state, lead.channel, self.at, self.maker)
        return self._route

    @property
    def tracked(self) -> bool:
        """R-ID-3 at the moment asked."""
        if self._tracked is None:
            self._tracked = identity.tracked(self.state, self.cust, self.at)
        return self._tracked


# -- the order: each rule returns a Decision or None, and changes no state

def ruled(ask: Ask) -> Decision | None:
    """R-OW-0: a ruling decides at every moment (no R-OW-3b give-back under a ruling)."""
    if ask.cust.ruling is None:
        return None
    return Decision(ask.cust.ruling, R_OW_0, route=ask.route if ask.moment == ARRIVAL else None)


def signed_customer(ask: Ask) -> Decision | None:
    """R-OW-1: a live contract's consultant, no turn consumed (at arrival only)."""
    cust, state = ask.cust, ask.state
    if ask.moment != ARRIVAL or not cust.contracts:
        return None
    kid = money.live_contract(state, cust)
    if kid is None or not state.active(state.contracts[kid].owner):
        return None
    owner = state.contracts[kid].owner
    return Decision(owner, R_OW_1, take=owner != cust.owner)


def referred(ask: Ask) -> Decision | None:
    """R-OW-1b: the referring customer's owner (`ask.referrer`, set at arrival for an untracked customer)."""
    if ask.referrer is None:
        return None
    return Decision(ask.referrer, R_OW_1b, take=True, counted=True)


def named_consultant(ask: Ask) -> Decision | None:
    """R-OW-2 (R-OW-2a: named but absent, split half with the receiver); the turn holder passes."""
    who = ask.named
    if who is None:
        return None
    state, taker = ask.state, ask.taken_by
    route = ask.route
    if state.policy.named_absent == "split_half" and not presence_shifts.on_post(state, who) and taker and taker != who:
        return Decision(who, R_OW_2a, take=True, route=route, counted=True, split=taker)
    return Decision(who, R_OW_2, take=True, route=route, counted=True)


def _duplicate(ask: Ask) -> tuple | None:
    """R-OW-3 applies (a lead of a tracked customer at its arrival): the evidence it rests on."""
    if ask.moment != ARRIVAL or not ask.tracked:
        return None
    return tuple(e.seq for e in ask.cust.timeline[-3:] if e.seq is not None)


def conference_stays(ask: Ask) -> Decision | None:
    """R-OW-3d: a conference duplicate stays with P; its recorder earns the provider reward."""
    if ask.lead.channel != "conference" or not ask.state.policy.conference_stays:
        return None
    rests = _duplicate(ask)
    if rests is None:
        return None
    state = ask.state
    provider = ask.taken_by or (ask.by if ask.by in state.consultants else None)
    return Decision(ask.cust.owner, R_OW_3d, route=ask.route, provider=provider, rests_on=rests)


def weak_referral(ask: Ask) -> Decision | None:
    """R-OW-3c: P holding through a customer referral loses to a referral channel's receiver."""
    if (not ask.state.policy.weak_customer_referral or ask.cust.via != "customer_referral"
            or ask.lead.channel not in ask.state.policy.weak_referral_channels):
        return None
    rests = _duplicate(ask)
    if rests is None or ask.route.receiver is None:
        return None
    return Decision(ask.route.receiver, R_OW_3c, take=True, as_pass=False, route=ask.route, rests_on=rests)


def _same_day_inbound(state: TeamState, cust: Customer, keeper: str | None, day: dt.date, upto: dt.datetime) -> bool:
    """R-OW-3b evidence: an inbound contact to `keeper` up to `upto`, on the local date `day`."""
    evidence = cust.inbound.get(keeper)
    return evidence is not None and evidence <= upto and state.cal.local(evidence).date() == day


def hotline_after_tracking(ask: Ask) -> Decision | None:
    """R-OW-3b: a hotline duplicate goes to its receiver unless P has same-day inbound evidence;
    evidence after the takeover gives the customer back (moment INBOUND)."""
    if ask.moment == INBOUND:
        return _give_back(ask)
    if ask.lead.channel != "hotline" or not ask.state.policy.hotline_after_tracking:
        return None
    rests = _duplicate(ask)
    if rests is None or ask.route.receiver is None:
        return None
    keeper = ask.cust.owner
    if _same_day_inbound(ask.state, ask.cust, keeper, ask.local.date(), ask.at):
        return Decision(keeper, R_OW_3b, route=ask.route, rests_on=rests)
    return Decision(ask.route.receiver, R_OW_3b, take=True, as_pass=False, route=ask.route, rests_on=rests,
                    revocable=True)


def _give_back(ask: Ask) -> Decision | None:
    """R-OW-3b, the second half: P's inbound contact on the takeover's day gives the customer back."""
    cust = ask.cust
    pending = cust.pending_3b  # (date, previous owner, lead, receiver), set by a revocable Decision
    if (pending is None or pending[2] != ask.lead.id or pending[1] != ask.contact or cust.owner != pending[3]
            or not _same_day_inbound(ask.state, cust, ask.contact, pending[0], ask.at)):
        return None
    return Decision(ask.contact, R_OW_3b, take=True, rests_on=(ask.lead.seq,))


def duplicate(ask: Ask) -> Decision | None:
    """R-OW-3: P keeps (first_keeps) or the receiver takes (new_wins, if anyone receives). At 09:01
    a deferred lead joins an owner its customer got after the lead arrived (no turn)."""
    cust = ask.cust
    if ask.moment == DEFERRAL:
        if (cust.owner is not None and cust.owner_since is not None and cust.owner_since >= ask.lead.at
                and ask.tracked):
            return Decision(cust.owner, R_OW_3)
        return None
    rests = _duplicate(ask)
    if rests is None:
        return None
    route = ask.route
    if ask.state.policy.duplicate_default == "new_wins" and route.receiver is not None:
        return Decision(route.receiver, R_OW_3, take=True, as_pass=False, route=route, rests_on=rests)
    return Decision(cust.owner, R_OW_3, route=route, rests_on=rests)


def by_channel(ask: Ask) -> Decision | None:
    """R-OW-4 / R-OW-5: allocated as new by the channel's route (deferred off hours, R-SH-5)."""
    if ask.moment == INBOUND:
        return None
    route = ask.route
    receiver = route.receiver
    if ask.moment == DEFERRAL:
        return Decision(receiver, R_SH_5 if receiver is not None else R_RT_9, take=receiver is not None,
                        as_pass=False, route=route)
    if route.kind == "deferred":
        return Decision(None, R_SH_5, as_pass=False, route=route, deferred=True)
    return Decision(receiver, route.rule, take=receiver is not None or ask.cust.owner is not None,
                    as_pass=False, route=route)


ORDER = (
    (R_OW_0, ruled),
    (R_OW_1, signed_customer),
    (R_OW_1b, referred),
    (R_OW_2, named_consultant),
    (R_OW_3d, conference_stays),
    (R_OW_3c, weak_referral),
    (R_OW_3b, hotline_after_tracking),
    (R_OW_3, duplicate),
    (R_OW_4, by_channel),
)


def decide(ask: Ask) -> Decision | None:
    """The first rule of `ORDER` that applies; None only at INBOUND when nothing gives back."""
    for _, rule in ORDER:
        decision = rule(ask)
        if decision is not None:
            return decision
    return None


# -- the moments

def on_lead(state: TeamState, rec) -> None:
    ev = rec.event
    if ev.lead in state.leads:
        return
    at = ev.at
    local = state.cal.local(at)
    channel = ev.channel.value
    cid = identity.customer_key(state, ev.lead, ev.phone)
    cust = state.customers.get(cid)
    if cust is None:
        cust = state.customers[cid] = Customer(cid)
    lead = Lead(ev.lead, channel, at, rec.seq, cid, local.date(), ev.phone, ev.taken_by, ev.callback_on)
    state.leads[ev.lead] = lead
    cust.leads.append(ev.lead)
    rests = [rec.seq]
    if state.policy_seq is not None:
        rests.append(state.policy_seq)
    named = ev.named or ev.prior_contact
    if named is not None and not state.active(named):
        named = None
    ask = Ask(state, cust, lead, at, local, ARRIVAL, named=named, taken_by=ev.taken_by, maker=ev.maker, by=ev.by)
    if channel == "customer_referral" and ev.referrer_phone:
        ask.referrer = _referrer(ask, ev.referrer_phone, rests)
        source = state.money.referral_sources[ev.lead] = ReferralSource(ev.lead, ev.referrer_phone, at, rec.seq)
        state.money.index.add_source(source)
    _apply_arrival(ask, decide(ask), rests, rec)


def _referrer(ask: Ask, referrer_phone: str, rests: list) -> str | None:
    """R-OW-1b: the owner (not left) of the referring customer, for a customer nobody tracks; the
    referring customer's latest entry joins the lead's evidence (whichever rule decides)."""
    state = ask.state
    if not state.policy.referral_to_referrer_owner or identity.tracked(state, ask.cust, ask.at):
        return None
    rkey = phone.identity(referrer_phone)
    rcust = state.customers.get(state.alias.get(rkey, rkey)) if rkey else None
    if rcust is None or rcust.owner is None or not state.active(rcust.owner):
        return None
    if rcust.timeline:
        rests.append(rcust.timeline[-1].seq or ask.lead.seq)
    return rcust.owner


def _apply_arrival(ask: Ask, decision: Decision, rests: list, rec) -> None:
    """The effects of an arrival's decision, in the order the rules rely on."""
    state, cust, lead, at = ask.state, ask.cust, ask.lead, ask.at
    owner, rule, route = decision.owner, decision.rule, decision.route
    rests.extend(decision.rests_on)
    if decision.counted:
        rotation.count(state, owner, lead.channel, lead.date, leads=1)
        lead.counted_lead = (owner, lead.channel, lead.date)
    if decision.provider is not None:
        state.money.provider_rewards.append(ProviderReward(decision.provider, lead.id, at, rec.seq))
    lead.deferred = decision.deferred
    if route is not None:
        rests.extend(s for s in route.rests if s is not None)
        if route.kind != "deferred" or not decision.as_pass:
            rotation.commit(state, route, lead, decision.as_pass)
        lead.candidates = decision.candidates()
    if cust.owner is None and owner is None and not decision.take:
        cust.rule = rule
        state.tick += 1
        cust.tick = state.tick
    lead.rests_on = tuple(dict.fromkeys(rests))
    previous = cust.owner
    if decision.take:
        set_owner(state, cust, owner, rule, at, via=lead.channel, split=decision.split)
    else:
        touch(cust, owner, at)
    if decision.revocable:
        cust.pending_3b = (lead.date, previous, lead.id, owner)
    lead.owner, lead.rule = owner, rule
    lead.tick = state.tick
    _after_arrival(ask, decision, previous, rec)


def _after_arrival(ask: Ask, decision: Decision, previous: str | None, rec) -> None:
    """An arrival's checks and records once its owner stands: R-SH-5 timer, R-OW-8, R-FU-3, the timeline, R-FU-1."""
    state, cust, lead, at, ev = ask.state, ask.cust, ask.lead, ask.at, rec.event
    owner, rule, route = decision.owner, decision.rule, decision.route
    if lead.deferred:
        schedule(state, state.cal.deferral_instant(ask.local), P_DEFER, "defer", lead.id)
    if not lead.deferred and route is not None:
        check_taken(state, lead, cust, route, at, rule)
    elif route is None and ev.taken_by and ev.taken_by != owner:
        cust.violations.append(Violation(lead.id, ev.taken_by, at, rec.seq))
    if lead.channel == "marketing" and owner is not None and owner in state.consultants:
        state.consultants[owner].mkt_pending[lead.id] = at  # R-FU-3
    summary = _lead_summary(state, ev, owner, rule, previous, route)
    add_entry(state, cust, at, rec.seq, "LeadArrived", summary, rule, lead=lead.id,
              rests=lead.rests_on, candidates=lead.candidates)
    if not lead.deferred:
        followups.schedule_deadline(state, lead, ask.local.date())


def on_defer(state: TeamState, instant: dt.datetime, lead_id: str) -> None:
    """R-SH-5: a deferred lead is allocated at 09:01 by the order at that moment: R-OW-0 or R-OW-3
    join the customer's owner (no turn), otherwise the channel's normal rotation."""
    lead = state.leads[lead_id]
    if not lead.deferred:
        return
    lead.deferred = False
    cust = state.customers[lead.customer]
    local = state.cal.local(instant)
    state.tick += 1
    lead.tick = state.tick
    decision = decide(Ask(state, cust, lead, instant, local, DEFERRAL))
    route, rule = decision.route, decision.rule
    lead.owner, lead.rule = decision.owner, rule
    if route is None:
        touch(cust, decision.owner, instant)
        add_entry(state, cust, instant, None, "DeferredAllocated",
                  phrase(N_("{lead}: the customer already belongs to {owner} ({rule})"), lead=lead.id,
                         owner=decision.owner, rule=rule), rule, lead=lead.id)
        followups.schedule_deadline(state, lead, local.date())
        return
    rotation.commit(state, route, lead, as_pass=False)
    lead.candidates = decision.candidates()
    if not decision.take:
        cust.rule = rule if cust.owner is None else cust.rule
        add_entry(state, cust, instant, None, "DeferredAllocated", phrase(N_("{lead}: nobody eligible ({rule})"), lead=lead.id, rule=rule), rule,
                  lead=lead.id, candidates=route.candidates)
        return
    set_owner(state, cust, decision.owner, rule, instant, via=lead.channel)
    lead.tick = state.tick
    check_taken(state, lead, cust, route, instant, None)
    add_entry(state, cust, instant, None, "DeferredAllocated",
              phrase(N_("{lead}: deferred lead allocated to {owner} at {at} ({rule})"), lead=lead.id,
                     owner=decision.owner, at=fmt(state, instant), rule=rule), rule,
              lead=lead.id, rests=[lead.seq, *route.rests], candidates=route.candidates)
    followups.schedule_deadline(state, lead, local.date())


def on_inbound(state: TeamState, cust: Customer, who: str, at: dt.datetime) -> Decision | None:
    """An inbound contact to `who` at `at` (already in `cust.inbound`): the order at that moment
    gives an R-OW-3b takeover back to `who` (the lead's count is withdrawn, the customer moves)."""
    pending = cust.pending_3b
    if pending is None:  # no takeover to give back
        return None
    taken = state.leads[pending[2]]
    decision = decide(Ask(state, cust, taken, at, state.cal.local(at), INBOUND, contact=who))
    if decision is None or not decision.take:
        return None
    if taken.counted_lead is not None:
        rotation.count(state, taken.counted_lead[0], taken.counted_lead[1], taken.counted_lead[2], leads=-1)
        taken.counted_lead = None
    set_owner(state, cust, who, decision.rule, at, via=cust.via)
    return decision


def check_taken(state: TeamState, lead: Lead, cust: Customer, route: Route, at: dt.datetime, rule: str | None) -> None:
    """R-OW-8 (and R-SA-5 for a shift window lead taken from its holder)."""
    taker = lead.taken_by
    owner = lead.owner
    if not taker or taker == owner or lead.rule in ("R-OW-2a", "R-OW-3d"):
        return
    cust.violations.append(Violation(lead.id, taker, at, lead.seq))
    sanction = state.policy.shift_violation_sanction
    if sanction is not None and route.kind == "shift" and route.rule == "R-SH-2" and taker != route.receiver:
        if lead.channel in state.policy.shift_channels:
            start = state.cal.at(lead.date + ONE_DAY)
            sanctions.add_sanction(state, Sanction(
                id=sanctions.derived_id(sanction.rule, lead.id), consultant=taker, kind="suspend",
                channels=tuple(ch.value for ch in sanction.channels), rule=sanction.rule, start=start,
                until=start + dt.timedelta(days=sanction.days), seq=lead.seq, derived=True,
                reason=f"took shift lead {lead.id} from {route.receiver}",
            ))


_ARRIVED = N_("{lead} arrived by {channel}")
_NAMING = N_(" naming {named}")
_PRIOR = N_(" (prior contact {prior})")
_TAKEN_BY = N_(", taken by {taker}")
_DEFERRED = N_("; off hours with nobody on duty: deferred (R-SH-5)")
_NOBODY = N_("; nobody eligible ({rule})")
_OWNER = N_("; owner {owner} ({rule})")
_TAKEN_FROM = N_(", taken from {previous}")
_PASSES = N_("; turn holder {holder} passes normally (R-RT-6)")


def _lead_summary(state, ev, owner, rule, previous, route) -> tuple:
    """(make, args) of the arrival's sentence (projections.sentences): made when it is read."""
    passes = route.receiver if (owner is not None and route is not None and route.receiver is not None
                                and route.receiver != owner and route.kind in ("rotation", "weighted")) else None
    return (_arrival_phrases, (ev.lead, ev.channel, ev.named, ev.prior_contact, ev.taken_by, owner, rule,
                               previous, passes))


def _arrival_phrases(lead, channel, named, prior, taker, owner, rule, previous, passes) -> tuple:
    said = [(_ARRIVED, {"lead": lead, "channel": channel.value})]
    if named:
        said.append((_NAMING, {"named": named}))
    if prior:
        said.append((_PRIOR, {"prior": prior}))
    if taker:
        said.append((_TAKEN_BY, {"taker": taker}))
    if rule == "R-SH-5" and owner is None:
        said.append((_DEFERRED, None))
    elif owner is None:
        said.append((_NOBODY, {"rule": rule}))
    else:
        said.append((_OWNER, {"owner": owner, "rule": rule}))
        if previous is not None and previous != owner:
            said.append((_TAKEN_FROM, {"previous": previous}))
        if passes is not None:
            said.append((_PASSES, {"holder": passes}))
    return tuple(said)


def set_owner(state: TeamState, cust: Customer, owner: str | None, rule: str, at: dt.datetime,
               via: str | None = None, split: str | None = None) -> None:
    state.tick += 1
    indexes.mark(state, cust.id)
    if owner != cust.owner:
        cust.owner_since = at
        if state.policy.marketing_followup_hold:
            followups.hand_over_marketing(state, cust, cust.owner, owner)
    cust.owner, cust.rule, cust.tick = owner, rule, state.tick
    cust.via = via
    cust.split_with = split
    cust.pending_3b = None
    if owner is not None:
        cust.last_touch = at


def touch(cust: Customer, cid: str | None, at: dt.datetime) -> None:
    if cid is not None and cid == cust.owner:
        cust.last_touch = at


def on_claim(state: TeamState, rec) -> None:
    """R-OW-7: a claim is shown, never an override."""
    ev = rec.event
    lead, cust = lead_customer(state, ev.lead)
    if cust is None:
        return
    cust.claims.append((ev.lead, ev.consultant, ev.at, ev.reason, rec.seq))
    if ev.consultant != cust.owner:
        cust.contested = True  # disputed until a ruling, even if the owner later agrees
    said = N_("{consultant} claims {lead}: {reason} (agrees with the derived owner, R-OW-7)") \
        if ev.consultant == cust.owner else N_("{consultant} claims {lead}: {reason} (disputes the derived owner, R-OW-7)")
    add_entry(state, cust, ev.at, rec.seq, "ClaimMade", phrase(said, consultant=ev.consultant, lead=ev.lead, reason=ev.reason),
              "R-OW-7", lead=ev.lead, rests=(rec.seq,))


def on_ruling(state: TeamState, rec) -> None:
    """R-OW-0."""
    ev = rec.event
    lead, cust = lead_customer(state, ev.lead)
    if cust is None:
        return
    set_owner(state, cust, ev.owner, "R-OW-0", ev.at, via=cust.via)
    cust.ruling = ev.owner
    cust.ruling_at = ev.at
    cust.claims = []
    cust.contested = False
    cust.violations = []
    add_entry(state, cust, ev.at, rec.seq, "RulingMade",
              phrase(N_("ruling: {lead} belongs to {owner}: {reason} (R-OW-0)"), lead=ev.lead, owner=ev.owner, reason=ev.reason),
              "R-OW-0", lead=ev.lead, rests=(rec.seq,))
