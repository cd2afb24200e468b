"""Ownership (§7, R-OW-0..R-OW-8): who owns a customer when a lead arrives (`on_lead`, the R-OW
order), when a deferred lead is allocated (`on_defer`, R-SH-5), claims (R-OW-7), rulings
(R-OW-0), taken-by violations (R-OW-8, R-SA-5), and `set_owner`, the one place an owner changes."""
from __future__ import annotations

import datetime as dt

from ledger import phone

from ..calendar import ONE_DAY
from ..facts import ProviderReward, ReferralSource
from ..state import P_DEFER, Customer, Lead, Route, Sanction, TeamState, Violation, lead_customer, schedule
from . import followups, identity, money, presence_shifts, rotation, sanctions
from .timeline import add_entry, fmt

SHIFT_REFERRAL_CHANNELS = ("hotline", "hq_referral", "internal_referral")  # R-OW-3c


def on_lead(state: TeamState, rec) -> None:
    ev = rec.event
    if ev.lead in state.leads:
        return
    at = ev.at
    policy = state.policy
    cal = state.cal
    local = cal.local(at)
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
    route: Route | None = None
    owner, rule, take, via, split = None, None, False, channel, None
    as_pass = True
    named = ev.named or ev.prior_contact
    if named is not None and not state.active(named):
        named = None
    referrer = None
    if (channel == "customer_referral" and ev.referrer_phone and policy.referral_to_referrer_owner
            and not identity.tracked(state, cust, at)):  # R-OW-1b: only a customer nobody tracks (R-ID-3)
        rkey = phone.identity(ev.referrer_phone)
        rcust = state.customers.get(state.alias.get(rkey, rkey)) if rkey else None
        if rcust is not None and rcust.owner is not None and state.active(rcust.owner):
            referrer = rcust.owner
            if rcust.timeline:
                rests.append(rcust.timeline[-1].seq or rec.seq)
    if channel == "customer_referral" and ev.referrer_phone:
        state.money.referral_sources[ev.lead] = ReferralSource(ev.lead, ev.referrer_phone, at, rec.seq)
    live_contract = money.live_contract(state, cust) if cust.contracts else None

    if cust.ruling is not None:  # R-OW-0
        route = rotation.route_for(state, channel, at, ev.maker)
        owner, rule = cust.ruling, "R-OW-0"
    elif live_contract is not None and state.active(state.contracts[live_contract].owner):  # R-OW-1
        owner, rule = state.contracts[live_contract].owner, "R-OW-1"
        take = owner != cust.owner
        via = cust.via if not take else channel
    elif referrer is not None:  # R-OW-1b (a tracked customer's referral is a duplicate: R-OW-3)
        owner, rule, take = referrer, "R-OW-1b", True
        rotation.count(state, referrer, channel, local.date(), leads=1)
        lead.counted_lead = (referrer, channel, local.date())
    elif named is not None:  # R-OW-2
        route = rotation.route_for(state, channel, at, ev.maker)
        owner, take = named, True
        rule = "R-OW-2"
        if policy.named_absent == "split_half" and not presence_shifts.on_post(state, named) and ev.taken_by and ev.taken_by != named:
            rule, split = "R-OW-2a", ev.taken_by
        rotation.count(state, named, channel, local.date(), leads=1)
        lead.counted_lead = (named, channel, local.date())
    elif identity.tracked(state, cust, at):  # R-OW-3
        keeper = cust.owner
        rests.extend(e.seq for e in cust.timeline[-3:] if e.seq is not None)
        route = rotation.route_for(state, channel, at, ev.maker)
        if channel == "conference" and policy.conference_stays:  # R-OW-3d
            owner, rule = keeper, "R-OW-3d"
            provider = ev.taken_by or (ev.by if ev.by in state.consultants else None)
            if provider is not None:
                state.money.provider_rewards.append(ProviderReward(provider, ev.lead, at, rec.seq))
        elif (policy.weak_customer_referral and cust.via == "customer_referral"
              and channel in SHIFT_REFERRAL_CHANNELS and route.receiver is not None):  # R-OW-3c
            owner, rule, take, as_pass = route.receiver, "R-OW-3c", True, False
        elif channel == "hotline" and policy.hotline_after_tracking and route.receiver is not None:  # R-OW-3b
            evidence = cust.inbound.get(keeper)
            if evidence is not None and evidence <= at and cal.local(evidence).date() == local.date():
                owner, rule = keeper, "R-OW-3b"
            else:
                owner, rule, take, as_pass = route.receiver, "R-OW-3b", True, False
        elif policy.duplicate_default == "new_wins" and route.receiver is not None:
            owner, rule, take, as_pass = route.receiver, "R-OW-3", True, False
        else:
            owner, rule = keeper, "R-OW-3"
        via = cust.via if not take else channel
    else:  # R-OW-4 / R-OW-5: as new
        route = rotation.route_for(state, channel, at, ev.maker)
        as_pass = False
        if route.kind == "deferred":
            lead.deferred = True
            rule = "R-SH-5"
        else:
            owner, rule, take = route.receiver, route.rule, True
            if owner is None:
                take = cust.owner is not None
    if route is not None:
        rests.extend(s for s in route.rests if s is not None)
        if route.kind != "deferred" or not as_pass:
            rotation.commit(state, route, lead, as_pass)
        candidates = route.candidates
        if as_pass and route.receiver is not None and route.receiver != owner:
            why = (f"turn consumed, the lead goes to {owner} (R-RT-6)" if route.kind in ("rotation", "weighted")
                   else f"the lead goes to {owner} ({rule})")
            candidates = [(c, "passed normally", why) if c == route.receiver and o == "holder" else (c, o, w)
                          for c, o, w in candidates]
        lead.candidates = tuple(candidates)
    if cust.owner is None and owner is None and not take:
        cust.rule = rule
        state.tick += 1
        cust.tick = state.tick
    lead.rests_on = tuple(dict.fromkeys(rests))
    previous = cust.owner
    if rule == "R-OW-3b" and take:
        pending = (local.date(), previous, lead.id, owner)
    else:
        pending = None
    if take:
        set_owner(state, cust, owner, rule, at, via=via, split=split)
    else:
        touch(cust, owner, at)
    if pending is not None:
        cust.pending_3b = pending
    lead.owner, lead.rule = owner, rule
    lead.tick = state.tick
    if lead.deferred:
        schedule(state, cal.deferral_instant(local), P_DEFER, "defer", lead.id)
    if not lead.deferred and route is not None:
        check_taken(state, lead, cust, route, at, rule)
    elif route is None and ev.taken_by and ev.taken_by != owner:
        cust.violations.append(Violation(lead.id, ev.taken_by, at, rec.seq))
    if channel == "marketing" and owner is not None and owner in state.consultants:
        state.consultants[owner].mkt_pending[lead.id] = at  # R-FU-3
    summary = _lead_summary(state, ev, owner, rule, previous, route)
    add_entry(state, cust, at, rec.seq, "LeadArrived", summary, rule, lead=lead.id,
              rests=lead.rests_on, candidates=lead.candidates)
    if not lead.deferred:
        followups.schedule_deadline(state, lead, local.date())


def on_defer(state: TeamState, instant: dt.datetime, lead_id: str) -> None:
    """R-SH-5: a deferred lead is allocated by the channel's normal rotation at 09:01."""
    lead = state.leads[lead_id]
    if not lead.deferred:
        return
    lead.deferred = False
    cust = state.customers[lead.customer]
    local = state.cal.local(instant)
    state.tick += 1
    lead.tick = state.tick
    joined = None
    if cust.ruling is not None:
        joined = "R-OW-0"
    elif cust.owner is not None and cust.owner_since is not None and cust.owner_since >= lead.at \
            and identity.tracked(state, cust, instant):
        joined = "R-OW-3"  # another lead of the customer was allocated meanwhile: first keeps
    if joined is not None:
        lead.owner, lead.rule = cust.owner, joined
        touch(cust, cust.owner, instant)
        add_entry(state, cust, instant, None, "DeferredAllocated",
                  f"{lead.id}: the customer already belongs to {cust.owner} ({joined})", joined, lead=lead.id)
        followups.schedule_deadline(state, lead, local.date())
        return
    route = rotation.queue_route(state, rotation.path_channel(lead.channel), instant, local, "R-SH-5")
    rotation.commit(state, route, lead, as_pass=False)
    lead.candidates = tuple(route.candidates)
    if route.receiver is None:
        lead.owner, lead.rule = None, "R-RT-9"
        cust.rule = "R-RT-9" if cust.owner is None else cust.rule
        add_entry(state, cust, instant, None, "DeferredAllocated", f"{lead.id}: nobody eligible (R-RT-9)", "R-RT-9",
                  lead=lead.id, candidates=route.candidates)
        return
    lead.owner, lead.rule = route.receiver, "R-SH-5"
    set_owner(state, cust, route.receiver, "R-SH-5", instant, via=lead.channel)
    lead.tick = state.tick
    check_taken(state, lead, cust, route, instant, None)
    add_entry(state, cust, instant, None, "DeferredAllocated",
              f"{lead.id}: deferred lead allocated to {route.receiver} at {fmt(state, instant)} (R-SH-5)", "R-SH-5",
              lead=lead.id, rests=[lead.seq, *route.rests], candidates=route.candidates)
    followups.schedule_deadline(state, lead, local.date())


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


def _lead_summary(state, ev, owner, rule, previous, route) -> str:
    text = f"{ev.lead} arrived by {ev.channel.value}"
    if ev.named:
        text += f" naming {ev.named}"
    if ev.prior_contact:
        text += f" (prior contact {ev.prior_contact})"
    if ev.taken_by:
        text += f", taken by {ev.taken_by}"
    if rule == "R-SH-5" and owner is None:
        return text + "; off hours with nobody on duty: deferred (R-SH-5)"
    if owner is None:
        return text + f"; nobody eligible ({rule})"
    text += f"; owner {owner} ({rule})"
    if previous is not None and previous != owner:
        text += f", taken from {previous}"
    if route is not None and route.receiver is not None and route.receiver != owner and route.kind in ("rotation", "weighted"):
        text += f"; turn holder {route.receiver} passes normally (R-RT-6)"
    return text


def set_owner(state: TeamState, cust: Customer, owner: str | None, rule: str, at: dt.datetime,
               via: str | None = None, split: str | None = None) -> None:
    state.tick += 1
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
    agree = "agrees with" if ev.consultant == cust.owner else "disputes"
    add_entry(state, cust, ev.at, rec.seq, "ClaimMade", f"{ev.consultant} claims {ev.lead}: {ev.reason} ({agree} the derived owner, R-OW-7)",
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
    add_entry(state, cust, ev.at, rec.seq, "RulingMade", f"ruling: {ev.lead} belongs to {ev.owner}: {ev.reason} (R-OW-0)",
              "R-OW-0", lead=ev.lead, rests=(rec.seq,))
