"""Money facts the rules engine derives and the commission statements read (R-MO-*, R-CM-*).

The engine fills these while it replays; `projections.commission` turns them into statements.
Plain frozen/picklable dataclasses so that engine checkpoints can hold them.
"""
from __future__ import annotations

import datetime as dt
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


@dataclass
class MoneyFacts:
    contracts: dict[str, ContractFacts] = field(default_factory=dict)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)  # (consultant, month)
    provider_rewards: list[ProviderReward] = field(default_factory=list)
    referral_sources: dict[str, ReferralSource] = field(default_factory=dict)  # by lead
