"""Money facts the rules engine derives and the commission statements read (R-MO-*, R-CM-*).

The engine fills these while it replays; `projections.commission` turns them into statements.
Plain picklable dataclasses so that engine checkpoints can hold them; `MoneyIndex` is what the
statements of one month look up (the fold keeps it, so a month reads only its own contracts).
"""
from __future__ import annotations

import bisect
import datetime as dt
from array import array
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Credit:
    """Who a contract credits and for which share (R-MO-3; R-OW-2a splits 1/2 + 1/2)."""

    consultant: str
    share: Decimal  # Decimal("1") or Decimal("0.5")
    rule: str  # the ownership rule that gave the credit, e.g. "R-RT-2" or "R-OW-2a"


@dataclass(frozen=True)
class Movement:
    """A payment, loan disbursement, refund or cancellation of one contract."""

    kind: str  # "PaymentReceived" | "LoanDisbursed" | "ContractRefunded" | "ContractCancelled"
    at: dt.datetime
    seq: int  # the event's recording order in the team stream
    amount: Decimal  # 0 for a cancellation


@dataclass
class ContractFacts:
    contract: str
    lead: str
    customer: str  # the engine's customer id of the lead at signing
    amount: Decimal
    signed_at: dt.datetime
    seq: int
    kind: str | None  # "new" | "renewal" | "referral" | None
    deposit: bool
    credits: tuple[Credit, ...]
    movements: list[Movement] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    consultant: str
    month: str  # YYYY-MM
    red: Decimal
    green: Decimal
    at: dt.datetime
    seq: int


@dataclass(frozen=True)
class ProviderReward:
    """R-OW-3d / R-CM-5: a conference duplicate recorded by `consultant`."""

    consultant: str
    lead: str
    at: dt.datetime
    seq: int


@dataclass(frozen=True)
class ReferralSource:
    """R-CM-4: a customer_referral lead and the masked phone key of its referrer."""

    lead: str
    referrer: str  # phone key / identity of the referring customer (never a clear number)
    at: dt.datetime
    seq: int
    customer: str | None = None  # the engine's customer id of the referral lead, when known (R-CM-4)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


def instant(at: dt.datetime) -> int:
    """An aware time as integer microseconds since the epoch: exact, and compact in a checkpoint."""
    return (at - _EPOCH) // _MICROSECOND


@dataclass
class MoneyIndex:
    """The contracts, movements and R-CM-4 referral chain in time order: what
    `projections.commission` cuts by month instead of sorting and scanning every contract.
    Times are `instant`s.

    The fold adds each contract, movement and referral source as it applies it, and it applies
    events in (at, seq) order (an earlier one re-folds from an empty state), so appending keeps
    the lists sorted. `of` indexes facts built by hand the same way.

    The referral chain (R-CM-4 双双有礼): each referred customer's earliest referral source is
    paired with the first non-deposit contract on its lead (or by its customer, when the source
    names one) signed at or after it and not paired with an earlier source, sources taken in
    (at, seq) order. Kept as the fold goes: a new contract is the latest in signing order, so it
    can only go to the earliest source still waiting for one; a new source can only take a
    contract signed at its very instant (the earlier ones are signed before it)."""

    signed_at: array = field(default_factory=lambda: array("q"))  # contracts in (signed_at, seq) order
    signed: list[str] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)  # contract -> its place in `signed`
    moved_at: array = field(default_factory=lambda: array("q"))  # movements in (at, seq) order
    moved: array = field(default_factory=lambda: array("i"))  # the place of each one's contract
    # the chain: (the contract's signed_at, its seq, contract, source lead), in signing order
    referrals: list[tuple[int, int, str, str]] = field(default_factory=list)
    sources: int = 0  # referral sources indexed
    referred: set[str] = field(default_factory=set)  # customers (or "lead:" leads) with a source
    waiting: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)  # source lead -> (at, seq, customer)
    waiting_by_customer: dict[str, list[str]] = field(default_factory=dict)  # customer -> waiting source leads
    paired: set[str] = field(default_factory=set)  # contracts in the chain
    # the contracts signed at the latest signing instant: (contract, seq, lead, customer, deposit)
    instant: list[tuple[str, int, str, str, bool]] = field(default_factory=list)

    def add_contract(self, facts: ContractFacts) -> None:
        at = instant(facts.signed_at)
        if self.signed_at and self.signed_at[-1] != at:
            self.instant = []
        self.position[facts.contract] = len(self.signed)
        self.signed_at.append(at)
        self.signed.append(facts.contract)
        self.instant.append((facts.contract, facts.seq, facts.lead, facts.customer, facts.deposit))
        if facts.deposit:
            return
        waiting = [lead for lead in (facts.lead,) if lead in self.waiting]
        waiting += [lead for lead in self.waiting_by_customer.get(facts.customer, ()) if lead != facts.lead]
        if waiting:
            self._pair(min(waiting, key=lambda lead: self.waiting[lead][:2]), facts.contract, at, facts.seq)

    def add_movement(self, movement: Movement, contract: str) -> None:
        self.moved_at.append(instant(movement.at))
        self.moved.append(self.position[contract])

    def add_source(self, source: ReferralSource) -> None:
        self.sources += 1
        referred = source.customer if source.customer is not None else f"lead:{source.lead}"
        if referred in self.referred:
            return  # not the customer's earliest referral
        self.referred.add(referred)
        at = instant(source.at)
        self.waiting[source.lead] = (at, source.seq, source.customer)
        if source.customer is not None:
            self.waiting_by_customer.setdefault(source.customer, []).append(source.lead)
        if self.signed_at and self.signed_at[-1] == at:
            for contract, seq, lead, customer, deposit in self.instant:
                eligible = lead == source.lead or (source.customer is not None and customer == source.customer)
                if eligible and not deposit and contract not in self.paired:
                    self._pair(source.lead, contract, at, seq)
                    break

    def _pair(self, source_lead: str, contract: str, signed_at: int, seq: int) -> None:
        _, _, customer = self.waiting.pop(source_lead)
        if customer is not None:
            self.waiting_by_customer[customer].remove(source_lead)
            if not self.waiting_by_customer[customer]:
                del self.waiting_by_customer[customer]
        self.paired.add(contract)
        bisect.insort(self.referrals, (signed_at, seq, contract, source_lead))

    # -- reading

    def signed_between(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        """The contracts signed in [start, end), in signing order."""
        at = self.signed_at
        return self.signed[bisect.bisect_left(at, instant(start)):bisect.bisect_left(at, instant(end))]

    def moved_between(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        """The contracts with a movement in [start, end), in signing order."""
        at = self.moved_at
        places = set(self.moved[bisect.bisect_left(at, instant(start)):bisect.bisect_left(at, instant(end))])
        return [self.signed[place] for place in sorted(places)]

    def referrals_signed_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[int, int, str, str]]:
        """The chain's pairs whose contract was signed in [start, end), in signing order."""
        low = bisect.bisect_left(self.referrals, (instant(start),))
        return self.referrals[low:bisect.bisect_left(self.referrals, (instant(end),))]

    def covers(self, money: "MoneyFacts") -> bool:
        """Whether this index was kept with `money` (facts built by hand have none, or another)."""
        return len(self.signed) == len(money.contracts) and self.sources == len(money.referral_sources)

    @classmethod
    def of(cls, money: "MoneyFacts") -> "MoneyIndex":
        """The index the fold would have kept for these facts (added in time order)."""
        index = cls()
        contracts = sorted(money.contracts.values(), key=lambda c: (c.signed_at, c.seq))
        added: list[tuple[dt.datetime, int, int, object]] = [(c.signed_at, c.seq, 0, c) for c in contracts]
        added += [(s.at, s.seq, 1, s) for s in money.referral_sources.values()]
        for _, _, kind, item in sorted(added, key=lambda entry: entry[:3]):
            if kind == 0:
                index.add_contract(item)  # type: ignore[arg-type]
            else:
                index.add_source(item)  # type: ignore[arg-type]
        moves = sorted(((m, c.contract) for c in contracts for m in c.movements), key=lambda mc: (mc[0].at, mc[0].seq))
        for movement, contract in moves:
            index.add_movement(movement, contract)
        return index


@dataclass
class MoneyFacts:
    contracts: dict[str, ContractFacts] = field(default_factory=dict)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)  # (consultant, month)
    provider_rewards: list[ProviderReward] = field(default_factory=list)
    referral_sources: dict[str, ReferralSource] = field(default_factory=dict)  # by lead
    index: MoneyIndex | None = None  # kept by the fold; None for facts built by hand (see MoneyIndex)
