"""Money (R-MO-*): contracts credited at signing (R-MO-3, R-OW-2a halves), payments and refunds
as revenue (R-MO-2), targets, and the live contract that R-OW-1 returns a customer by."""
from __future__ import annotations

from ledger import events as E

from ..calendar import month_of
from ..facts import ContractFacts, Credit, Movement, Target
from ..sentences import N_
from ..state import HALF, ONE, ZERO, ContractState, Customer, TeamState, lead_customer
from .timeline import add_entry

_CREDITED = N_("contract {contract} ({amount}) credited to {credits} (R-MO-3)")
_MOVED = N_("{type} {contract} {amount}")


def live_contract(state: TeamState, cust: Customer) -> str | None:
    """R-OW-1: the latest contract neither cancelled nor fully refunded."""
    for kid in reversed(cust.contracts):
        k = state.contracts[kid]
        facts = state.money.contracts[kid]
        if not k.cancelled and k.refunded < facts.amount and k.owner is not None:
            return kid
    return None


def on_contract(state: TeamState, rec) -> None:
    """R-MO-3: credit the customer's owner at signing, or the halves of R-OW-2a."""
    ev = rec.event
    lead, cust = lead_customer(state, ev.lead)
    if cust is None or ev.contract in state.money.contracts:
        return
    owner = cust.owner
    if owner is None:
        credits: tuple = ()
    elif cust.split_with and cust.split_with != owner:
        credits = (Credit(owner, HALF, "R-OW-2a"), Credit(cust.split_with, HALF, "R-OW-2a"))
    else:
        credits = (Credit(owner, ONE, cust.rule or "R-RT-2"),)
    facts = state.money.contracts[ev.contract] = ContractFacts(
        contract=ev.contract, lead=ev.lead, customer=cust.id, amount=ev.amount, signed_at=ev.at, seq=rec.seq,
        kind=ev.kind.value if ev.kind else None, deposit=bool(ev.deposit), credits=credits,
    )
    state.money.index.add_contract(facts)
    state.contracts[ev.contract] = ContractState(owner)
    cust.contracts.append(ev.contract)
    key = state.cal.window_key(state.cal.local(ev.at))
    for metric in ("contracts", "deals"):
        bucket = state.metrics.setdefault((key, metric), {})
        for credit in credits:
            bucket[credit.consultant] = bucket.get(credit.consultant, 0) + 1
    for lid in cust.leads:
        other = state.leads[lid]
        if other.channel == "marketing" and other.at <= ev.at:
            other.converted = True
    add_entry(state, cust, ev.at, rec.seq, "ContractSigned",
              (_credited_phrases, (ev.contract, ev.amount, credits)),
              "R-MO-3", lead=ev.lead, rests=(rec.seq,))


def on_movement(state: TeamState, rec) -> None:
    """R-MO-2: revenue = payments - refunds, by time, following the contract's credit."""
    ev = rec.event
    facts = state.money.contracts.get(ev.contract)
    if facts is None:
        return
    amount = getattr(ev, "amount", ZERO)
    movement = Movement(ev.type, ev.at, rec.seq, amount)
    facts.movements.append(movement)
    state.money.index.add_movement(movement, facts.contract)
    k = state.contracts[ev.contract]
    sign = 0
    if isinstance(ev, E.PaymentReceived):
        sign = 1
    elif isinstance(ev, E.ContractRefunded):
        sign = -1
        k.refunded += amount
    elif isinstance(ev, E.ContractCancelled):
        k.cancelled = True
    if sign:
        local = state.cal.local(ev.at)
        wkey = state.cal.window_key(local)
        mkey = month_of(local.date())
        wb = state.rev_window.setdefault(wkey, {})
        mb = state.rev_month.setdefault(mkey, {})
        ms = state.rev_month_seqs.setdefault(mkey, {})
        for credit in facts.credits:
            value = amount * credit.share * sign
            wb[credit.consultant] = wb.get(credit.consultant, ZERO) + value
            mb[credit.consultant] = mb.get(credit.consultant, ZERO) + value
            ms.setdefault(credit.consultant, []).append(rec.seq)
    cust = state.customers.get(facts.customer)
    if cust is not None:
        add_entry(state, cust, ev.at, rec.seq, ev.type,
                  (_moved_phrases, (ev.type, ev.contract, amount)), "R-MO-2",
                  lead=facts.lead, rests=(rec.seq, facts.seq))


def _credited_phrases(contract: str, amount, credits: tuple) -> tuple:
    return ((_CREDITED, {"contract": contract, "amount": amount,
                         "credits": ", ".join(f"{c.consultant}×{c.share}" for c in credits)}),)


def _moved_phrases(kind: str, contract: str, amount) -> tuple:
    return ((_MOVED, {"type": kind, "contract": contract, "amount": amount}),)


def on_target(state: TeamState, rec) -> None:
    ev = rec.event
    state.money.targets[(ev.consultant, ev.month)] = Target(ev.consultant, ev.month, ev.red, ev.green, ev.at, rec.seq)
