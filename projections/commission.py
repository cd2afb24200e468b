"""Monthly commission statements from money facts (RULEBOOK §9: R-MO-1, R-CM-1 … R-CM-6).

Pure: no clock, no I/O. `statements(money, policies, tz, month)` reads the facts the engine
folded (`projections.facts.MoneyFacts`) and the policy timeline, and returns the `commission
--json` answer of INTERCHANGE.md plus keys for auditors. `statement_rows(result)` flattens it for
the CSV payroll export.

Only events with `at` before the end of the month count (R-CM-6), so calling this with facts
folded further than the month's end gives the same answer. A month's bounds are local to the
zone in force (§10: a later adoption's `timezone` from its own time on, read off the policy
timeline; `projections.calendar.month_start`). A month reads only the contracts it needs, found
by the index the fold keeps (`projections.facts.MoneyIndex`), in one batch.

Shape of the answer::

    {"month": "2026-11",
     "statements": [{"consultant", "total", "lines": [LINE, ...], "tier"?: TIER}, ...],
     "customer_rewards": [{"customer", "total", "lines": [LINE, ...]}, ...]}

    LINE = {"rule", "amount", "contract", "lead", "reason", "basis", "rate", "share", "rests_on",
            and per rule: "parts" (R-CM-1), "deposit" (R-CM-1), "earned", "earned_month",
            "earned_rate", "reversed", "refunded" (R-CM-2), "bonus", "deciding_contract",
            "new_contracts", "tied_with" (R-CM-4 bonuses), "referred_contract", "due" (R-CM-4
            customer reward)}

- `amount`, `total`, `basis`: decimal strings (amounts with two decimals; a basis keeps the
  exact half of an odd fen). `rate`: the rate applied, or null when the line applied two rates
  (a contract straddling the red line; R-CM-3 money of one month at two rates): `parts` then
  lists `{"basis", "rate"}` per rate.
  `share`: the credited share as a fraction ("1", "1/2"; "1/3" for a three-way tie).
  `rests_on`: the seqs of the events the line rests on (for R-CM-1: the contract, the target
  and every signing and disbursement that decided the consultant's tier).
- R-CM-2 lines: `basis` is what the credit earned at signing (`earned`), `rate` the fraction of
  it reversed by this line (`reversed`).
- Bonus and reward lines: `basis` is the whole bonus, `rate` null, `share` the part paid.
- `tier` (realty): the targets, the credited signed amount S (`signed`), the credited disbursed
  amount (`disbursed`), whether each line was met and the margin (amount − target; negative
  is a shortfall), and the events they rest on.
- `customer_rewards` (fitness R-CM-4 双双有礼): one entry per referring customer, shown masked
  (`ledger.phone.mask`), never as a full number; lines have `contract` null and name the
  referral `lead` and the `referred_contract`.

Order: statements by consultant id; customer rewards by masked number (then identity). Lines
in the order of the event that decided them: the signing (R-CM-1), the first payment / refund /
cancellation of the month (R-CM-3, R-CM-2), the duplicate's arrival (R-CM-5), the end of the
referral period (R-CM-4 reward); the month-end bonuses last, first deal before top enrolment.

Decisions (where the rulebook leaves room):

- Which policy governs: a contract's R-CM-1 earning, the policy in force at its signing (its
  rates, and whether the team was on tiered commission at all); its R-CM-2 clawback, what it
  earned then, whatever policy is in force at the refund or cancellation; R-CM-3, whether the
  team was on revenue commission at the contract's signing (so each contract earns under one
  scheme only, never both R-CM-1 and R-CM-3 across a preset change), and for each payment,
  refund or cancellation the `commission_rate` in force at its own time (RULEBOOK R-CM-3, §10:
  a refund after a rate change reverses at the new rate); R-CM-5, the policy
  at the duplicate's arrival; R-CM-4 consultant bonuses, the policy in force at the month's end; the
  R-CM-4 customer reward, the policy in force when the referred contract was signed (the
  promise made to the customer then). A policy adopted at the same instant as an event governs
  it.
- R-CM-1: deposits (大定) are contracts and count toward S and the red line (seed 003:
  红线以大定或签约为准). S counts every credited contract signed in the month, but only
  contracts signed under a tiered policy earn R-CM-1 lines. A contract cancelled or refunded
  in its own signing month still counts in S; its own commission is reversed by R-CM-2.
  Contracts fill the red line in signing order (at, then recording order).
- R-CM-2: one clawback line per credited contract half and month, rounded on its own (R-MO-1:
  per statement line): round(earned × the fraction of the contract amount refunded that
  month). A line never takes back more than is left of what was earned, and the line that
  cancels the contract or completes a full refund takes back exactly what is left, so a
  contract nets to zero to the fen once wholly reversed. R-CM-2 lines exist only for
  contracts that earned R-CM-1 commission; campus refunds are negative revenue (R-CM-3)
  instead, and fitness bonuses are not clawed back.
- R-CM-3: a cancellation is a refund of all the net revenue received so far (R-MO-2: a
  cancellation refunds all of it), negative revenue in its month. Lines with payments and
  refunds that cancel out in the month show 0.00. Each line is exactly round(basis × rate), as
  the rulebook says, so a contract whose revenue nets to zero nets its commission to zero up to
  the rounding of its lines (at most half a fen per line; exactly zero when a refund mirrors a
  payment, since rounding is symmetric).
- R-CM-4: a "new contract" is a non-deposit contract of kind "new" or no kind (首单 is a
  完整单; a deposit is not an enrolment) that still stands at the month's end (not cancelled,
  not fully refunded by then). Later cancellations do not take a paid bonus back. A split
  credit counts its share toward enrolments and takes its share of a first-deal bonus. A tie
  shares the bonus equally: each line is round(bonus / winners) (R-MO-1: rounded per line, so
  three winners of 500.00 get 166.67 each). The referral reward: one per referred customer
  (its earliest referral lead), earned by the first non-deposit contract signed on that lead
  (or by that customer, when the engine names it) at or after the referral; the period is
  `referral_reward_months` calendar months in the zone in force at the signing (a day
  past the target month's end is clamped to it); any refund or cancellation before the period
  ends loses the reward; otherwise it is due in the month the period ends.
- R-MO-1: every line is rounded half up to the fen (a negative line away from zero, so a refund
  mirrors its payment); totals are sums of rounded lines.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

from ledger.errors import InputError
from ledger.events import shared_zone
from ledger.phone import identity, mask
from ledger.policy import Policy, TierRates

from .calendar import month_containing, month_start, next_month, zone_at, zones_of
from .facts import ContractFacts, MoneyFacts, MoneyIndex, Movement

FEN = Decimal("0.01")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_LAST = sys.maxsize  # sorts month-end bonuses after every recorded event

PAYMENT = "PaymentReceived"
DISBURSEMENT = "LoanDisbursed"
REFUND = "ContractRefunded"
CANCELLATION = "ContractCancelled"

HEADER = ["consultant", "rule", "contract/lead", "basis", "rate", "amount"]


# ---------------------------------------------------------------------------- public API


def statements(money: MoneyFacts, policies: list[tuple[dt.datetime, Policy]], tz: dt.tzinfo, month: str) -> dict[str, Any]:
    """The commission statements of `month` (YYYY-MM, local to the zone in force, §10: each
    policy's `timezone` from its adoption on; `tz` only without policies); see the module docstring."""
    return _statements(_Calculator(money, policies, tz), month)


def statements_of_months(money: MoneyFacts, policies: list[tuple[dt.datetime, Policy]], tz: dt.tzinfo,
                         months: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`statements` of each month, sharing the work the months have in common (each month's
    R-CM-1 tiers that later R-CM-2 clawbacks read)."""
    calc = _Calculator(money, policies, tz)
    return {month: _statements(calc, month) for month in months}


def _statements(calc: "_Calculator", month: str) -> dict[str, Any]:
    lines = calc.lines(month)
    by_consultant: dict[str, list[_Line]] = {}
    by_customer: dict[str, list[_Line]] = {}
    for line in lines:
        target = by_customer if line.customer is not None else by_consultant
        target.setdefault(line.customer if line.customer is not None else line.payee, []).append(line)

    tiers = calc.tiered(month).tiers
    month_end_policy = calc.policy_at(calc.bounds(month)[1], strict=True)
    show_tiers = month_end_policy is not None and month_end_policy.commission == "tiered"
    out_statements = []
    for consultant in sorted(by_consultant):
        own = sorted(by_consultant[consultant], key=lambda line: line.key)
        statement: dict[str, Any] = {
            "consultant": consultant,
            "total": _money(sum((line.amount for line in own), Decimal("0"))),
            "lines": [line.render() for line in own],
        }
        if consultant in tiers and (show_tiers or any(line.rule == "R-CM-1" for line in own)):
            statement["tier"] = tiers[consultant].render()
        out_statements.append(statement)

    rewards = []
    for key in sorted(by_customer, key=lambda k: (mask(by_customer[k][0].customer_display), k)):
        own = sorted(by_customer[key], key=lambda line: line.key)
        rewards.append({
            "customer": mask(own[0].customer_display),
            "total": _money(sum((line.amount for line in own), Decimal("0"))),
            "lines": [line.render() for line in own],
        })
    return {"month": month, "statements": out_statements, "customer_rewards": rewards}


def statement_rows(result: dict[str, Any]) -> list[list[str]]:
    """CSV payroll rows: a header, one row per line, one total row per payee.

    Columns: consultant, rule, contract/lead, basis, rate, amount. Customer rewards follow the
    consultants, their payee shown as `customer:` and the masked number. Text cells that a
    spreadsheet would read as a formula are prefixed with an apostrophe.
    """
    rows = [list(HEADER)]
    payees = [(s["consultant"], s) for s in result.get("statements", [])]
    payees += [(f"customer:{c['customer']}", c) for c in result.get("customer_rewards", [])]
    for payee, statement in payees:
        for line in statement["lines"]:
            rows.append([
                _cell(payee),
                line["rule"],
                _cell(line["contract"] or (f"lead:{line['lead']}" if line.get("lead") else line.get("reason", ""))),
                line.get("basis") or "",
                _rate_cell(line),
                line["amount"],
            ])
        rows.append([_cell(payee), "total", "", "", "", statement["total"]])
    return rows


# ---------------------------------------------------------------------------- lines


@dataclass
class _Line:
    payee: str  # consultant id ("" for a customer reward)
    rule: str
    amount: Decimal  # rounded to the fen
    key: tuple[dt.datetime, int, int]  # (at, seq, tiebreak) of the deciding event
    contract: str | None
    lead: str | None
    reason: str
    basis: Fraction | None
    rate: Fraction | None
    share: Fraction
    rests_on: set[int]
    parts: list[tuple[Fraction, Fraction]] | None = None  # (basis, rate)
    extra: dict[str, Any] = field(default_factory=dict)
    customer: str | None = None  # identity of the rewarded customer (R-CM-4 reward)
    customer_display: str | None = None  # the stored phone key, masked when shown

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "amount": _money(self.amount),
            "contract": self.contract,
            "lead": self.lead,
            "reason": self.reason,
            "basis": None if self.basis is None else _money_exact(self.basis),
            "rate": None if self.rate is None else _decimal(self.rate),
            "share": _ratio(self.share),
            "rests_on": sorted(self.rests_on),
        }
        if self.parts is not None and len(self.parts) > 1:
            out["parts"] = [{"basis": _money_exact(b), "rate": _decimal(r)} for b, r in self.parts]
        out.update(self.extra)
        return out


@dataclass
class _Tier:
    consultant: str
    red: Fraction | None = None
    green: Fraction | None = None
    target_seq: int | None = None
    signed: Fraction = Fraction(0)
    disbursed: Fraction = Fraction(0)
    rests_on: set[int] = field(default_factory=set)

    @property
    def red_met(self) -> bool:  # R-CM-1: a line with no target set is not met
        return self.red is not None and self.signed >= self.red

    @property
    def green_met(self) -> bool:
        return self.green is not None and self.disbursed >= self.green

    def render(self) -> dict[str, Any]:
        return {
            "red": None if self.red is None else _money_exact(self.red),
            "green": None if self.green is None else _money_exact(self.green),
            "signed": _money_exact(self.signed),
            "disbursed": _money_exact(self.disbursed),
            "red_met": self.red_met,
            "green_met": self.green_met,
            "red_margin": None if self.red is None else _money_exact(self.signed - self.red),
            "green_margin": None if self.green is None else _money_exact(self.disbursed - self.green),
            "lines_met": int(self.red_met) + int(self.green_met),
            "rests_on": sorted(self.rests_on),
        }


@dataclass
class _TieredMonth:
    lines: list[_Line]
    tiers: dict[str, _Tier]
    earned: dict[tuple[str, int], _Line]  # (contract, credit index) -> its R-CM-1 line


class _Calculator:
    def __init__(self, money: MoneyFacts, policies: list[tuple[dt.datetime, Policy]], tz: dt.tzinfo):
        self.money = money
        self.policies = sorted(policies, key=lambda item: item[0])  # stable: recording order on ties
        self.tz = tz
        # §10: months are local to the zone in force (a later adoption's zone from its time on)
        self.zones = zones_of(self.policies)
        self._tiered: dict[str, _TieredMonth] = {}
        # the contracts and movements in time order and the referral chain, kept by the fold:
        # a month reads only the contracts it needs (facts built by hand are indexed here)
        index = money.index
        self.index = index if index is not None and index.covers(money) else MoneyIndex.of(money)
        self._movements: dict[str, list[Movement]] = {}
        self._moved: dict[tuple[dt.datetime, dt.datetime], list[ContractFacts]] = {}

    # -- indexes (the same answers as scanning every contract, in the same order)

    def _open(self, keys: Iterable[str], values: dict | None = None) -> dict:
        """{key: value} of the contracts (or `values`) named, read in one batch without changing
        the state (`LazyDict.peek_many`: a restored checkpoint's values come in one fetch)."""
        values = self.money.contracts if values is None else values
        peek = getattr(values, "peek_many", None)
        return peek(keys) if peek is not None else {key: values[key] for key in keys}

    def _contracts(self, keys: list[str]) -> list[ContractFacts]:
        found = self._open(keys)
        return [found[key] for key in keys]

    def signed_between(self, start: dt.datetime, end: dt.datetime) -> list[ContractFacts]:
        """The contracts signed in [start, end), in signing order."""
        return self._contracts(self.index.signed_between(start, end))

    def moved_between(self, start: dt.datetime, end: dt.datetime) -> list[ContractFacts]:
        """The contracts with a movement in [start, end), in signing order (kept for the month's rules)."""
        found = self._moved.get((start, end))
        if found is None:
            found = self._moved[(start, end)] = self._contracts(self.index.moved_between(start, end))
        return found

    def ordered(self, contract: ContractFacts) -> list[Movement]:
        """The contract's movements in (at, seq) order (computed once per contract)."""
        found = self._movements.get(contract.contract)
        if found is None:
            found = self._movements[contract.contract] = _ordered(contract.movements)
        return found

    # -- time and policy

    def bounds(self, month: str) -> tuple[dt.datetime, dt.datetime]:
        match = _MONTH.match(month) if isinstance(month, str) else None
        if not match:
            raise InputError(f"month: expected YYYY-MM, got {month!r}")
        year, number = int(match[1]), int(match[2])
        # in the events' shared zone object: compared with every movement's time (ledger.events.shared_zone)
        start = shared_zone(month_start(self.zones, year, number, self.tz))
        end = shared_zone(month_start(self.zones, *next_month(year, number), self.tz))
        return start, end

    def month_of(self, at: dt.datetime) -> str:
        year, number = month_containing(self.zones, at, self.tz)
        return f"{year:04d}-{number:02d}"

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(zone_at(self.zones, at, self.tz))

    def policy_at(self, at: dt.datetime, strict: bool = False) -> Policy | None:
        """The policy in force at `at` (strict: adopted before `at`, as at a month's end)."""
        found = None
        for start, policy in self.policies:
            if start < at or (not strict and start == at):
                found = policy
            else:
                break
        return found

    # -- all lines of a month

    def lines(self, month: str) -> list[_Line]:
        start, end = self.bounds(month)
        out = list(self.tiered(month).lines)
        out += self._clawbacks(month, start, end)
        out += self._revenue(start, end)
        out += self._provider_rewards(start, end)
        out += self._bonuses(month, start, end)
        out += self._referral_rewards(start, end)
        return out

    # -- R-CM-1

    def tiered(self, month: str) -> _TieredMonth:
        if month not in self._tiered:
            self._tiered[month] = self._compute_tiered(month)
        return self._tiered[month]

    def _compute_tiered(self, month: str) -> _TieredMonth:
        start, end = self.bounds(month)
        signed = self.signed_between(start, end)
        tiers = self._tiers(month, start, end, signed)
        lines, earned = self._tiered_lines(signed, tiers)
        return _TieredMonth(lines, tiers, earned)

    def _tiers(self, month: str, start: dt.datetime, end: dt.datetime,
               signed: list[ContractFacts]) -> dict[str, _Tier]:
        """Each credited consultant's tier of the month: the credited signed amount S, the
        credited disbursed amount, the targets, and the events they rest on."""
        tiers: dict[str, _Tier] = {}

        def tier(consultant: str) -> _Tier:
            if consultant not in tiers:
                tiers[consultant] = _Tier(consultant)
            return tiers[consultant]

        signed_sums: dict[str, Decimal] = {}  # exact: amounts have two places, shares one
        for contract in signed:
            for credit in contract.credits:
                t = tier(credit.consultant)
                signed_sums[credit.consultant] = signed_sums.get(credit.consultant, Decimal(0)) + contract.amount * credit.share
                t.rests_on.add(contract.seq)
        for consultant, total in signed_sums.items():
            tiers[consultant].signed = _exact(total)
        for contract in self.moved_between(start, end):
            if contract.signed_at >= end:
                continue
            for movement in contract.movements:
                if movement.kind == DISBURSEMENT and start <= movement.at < end:
                    for credit in contract.credits:
                        t = tier(credit.consultant)
                        t.disbursed += _exact(movement.amount) * _exact(credit.share)
                        t.rests_on.add(movement.seq)
        for (consultant, target_month), target in self.money.targets.items():
            if target_month == month and target.at < end:
                t = tier(consultant)
                t.red, t.green, t.target_seq = _exact(target.red), _exact(target.green), target.seq
                t.rests_on.add(target.seq)
        return tiers

    def _tiered_lines(self, signed: list[ContractFacts],
                      tiers: dict[str, _Tier]) -> tuple[list[_Line], dict[tuple[str, int], _Line]]:
        """The R-CM-1 line of each credit of the contracts signed in the month (on tiered
        commission at the signing), in signing order, and the same lines by (contract, credit)."""
        lines: list[_Line] = []
        earned: dict[tuple[str, int], _Line] = {}
        filled: dict[str, Fraction] = {}
        policies = [self.policy_at(contract.signed_at) for contract in signed]
        if not any(policy is not None and policy.commission == "tiered" for policy in policies):
            return lines, earned
        for contract, policy in zip(signed, policies):
            for index, credit in enumerate(contract.credits):
                t = tiers[credit.consultant]
                share = _exact(credit.share)
                basis = _exact(contract.amount) * share
                before = filled.get(credit.consultant, Fraction(0))
                filled[credit.consultant] = before + basis
                if policy is None or policy.commission != "tiered":
                    continue
                parts, reason = _tier_parts(t, basis, before, policy.tier_rates)
                line = _Line(
                    payee=credit.consultant, rule="R-CM-1",
                    amount=_fen(sum((b * r for b, r in parts), Fraction(0))),
                    key=(contract.signed_at, contract.seq, index),
                    contract=contract.contract, lead=contract.lead, reason=reason,
                    basis=basis, rate=parts[0][1] if len(parts) == 1 else None, share=share,
                    rests_on={contract.seq} | t.rests_on, parts=parts,
                    extra={"deposit": True} if contract.deposit else {},
                )
                lines.append(line)
                earned[(contract.contract, index)] = line
        return lines, earned

    # -- R-CM-2

    def _clawbacks(self, month: str, start: dt.datetime, end: dt.datetime) -> list[_Line]:
        out: list[_Line] = []
        for contract in self.moved_between(start, end):  # a line needs a refund or cancellation in the month
            if contract.signed_at >= end:
                continue
            reversing = [m for m in self.ordered(contract) if m.kind in (REFUND, CANCELLATION) and m.at < end]
            in_month = [m for m in reversing if m.at >= start]
            if not in_month:
                continue
            policy = self.policy_at(contract.signed_at)
            if policy is None or policy.commission != "tiered":
                continue  # R-CM-2 reverses R-CM-1 earnings only, made under a tiered policy at signing
            signing = self.tiered(self.month_of(contract.signed_at))
            before = _reversed_fraction(contract, [m for m in reversing if m.at < start])
            after = _reversed_fraction(contract, reversing)
            by_month: dict[str, list[Movement]] = {}
            for m in reversing:
                by_month.setdefault(self.month_of(m.at), []).append(m)
            for index, credit in enumerate(contract.credits):
                earned_line = signing.earned.get((contract.contract, index))
                if earned_line is None:
                    continue
                earned = _exact(earned_line.amount)
                amount = -_clawed_back(contract, earned, list(by_month.values()))[-1]
                cancelled = any(m.kind == CANCELLATION for m in in_month)
                refunded = sum((_exact(m.amount) for m in in_month if m.kind == REFUND), Fraction(0))
                out.append(_Line(
                    payee=credit.consultant, rule="R-CM-2", amount=amount,
                    key=(in_month[0].at, in_month[0].seq, index),
                    contract=contract.contract, lead=contract.lead,
                    reason="cancelled: reverses what it earned" if cancelled else "refunded: reverses the refunded fraction of what it earned",
                    basis=earned, rate=after - before, share=_exact(credit.share),
                    rests_on={contract.seq} | {m.seq for m in reversing} | earned_line.rests_on,
                    extra={
                        "earned": _money(earned_line.amount),
                        "earned_month": self.month_of(contract.signed_at),
                        "earned_rate": earned_line.render()["rate"],
                        "reversed": _ratio(after - before),
                        "refunded": _money_exact(refunded * _exact(credit.share)),
                    },
                ))
        return out

    # -- R-CM-3

    def _revenue(self, start: dt.datetime, end: dt.datetime) -> list[_Line]:
        out: list[_Line] = []
        for contract in self.moved_between(start, end):  # a line needs a movement in the month
            if contract.signed_at >= end or not contract.credits:
                continue
            signing = self.policy_at(contract.signed_at)
            if signing is None or signing.commission != "revenue_percent":
                continue  # one scheme per contract: the one in force at its signing
            # sums of amounts (two places, below 10^15) are exact in Decimal; lines are exact Fractions
            revenue = Decimal(0)
            by_rate: dict[Decimal, Decimal] = {}  # rate -> the month's revenue at it, first met first
            seqs: set[int] = set()
            first: Movement | None = None
            net = Decimal(0)  # revenue received so far, for a cancellation to give back
            for movement in self.ordered(contract):
                if movement.at >= end:
                    break
                if movement.kind == PAYMENT:
                    value = movement.amount
                elif movement.kind == REFUND:
                    value = -movement.amount
                elif movement.kind == CANCELLATION:
                    value = -max(net, Decimal(0))
                else:
                    continue
                net += value
                if movement.at >= start and (value or movement.kind != CANCELLATION):
                    revenue += value
                    # R-CM-3: each payment or refund at the rate in force at its own time (§10)
                    rate = (self.policy_at(movement.at) or signing).commission_rate
                    by_rate[rate] = by_rate.get(rate, Decimal(0)) + value
                    seqs.add(movement.seq)
                    first = first or movement
            if first is None:
                continue
            at_rates = [(_exact(basis), _exact(rate)) for rate, basis in by_rate.items()]
            whole = _exact(revenue)
            for index, credit in enumerate(contract.credits):
                share = _exact(credit.share)
                parts = at_rates if share == 1 else [(basis * share, rate) for basis, rate in at_rates]
                out.append(_Line(
                    payee=credit.consultant, rule="R-CM-3", amount=_fen(_sum_of_products(parts)),
                    key=(first.at, first.seq, index), contract=contract.contract, lead=contract.lead,
                    reason="revenue in the month (payments − refunds)",
                    basis=whole if share == 1 else whole * share, rate=parts[0][1] if len(parts) == 1 else None,
                    share=share, rests_on={contract.seq} | seqs, parts=parts,
                ))
        return out

    # -- R-CM-5

    def _provider_rewards(self, start: dt.datetime, end: dt.datetime) -> list[_Line]:
        out: list[_Line] = []
        for reward in self.money.provider_rewards:
            if not start <= reward.at < end:
                continue
            policy = self.policy_at(reward.at)
            if policy is None:
                continue
            amount = _exact(policy.provider_reward)
            out.append(_Line(
                payee=reward.consultant, rule="R-CM-5", amount=_fen(amount),
                key=(reward.at, reward.seq, 0), contract=None, lead=reward.lead,
                reason="conference provider reward (R-OW-3d duplicate)",
                basis=amount, rate=None, share=Fraction(1), rests_on={reward.seq},
            ))
        return out

    # -- R-CM-4 consultant bonuses

    def _bonuses(self, month: str, start: dt.datetime, end: dt.datetime) -> list[_Line]:
        policy = self.policy_at(end, strict=True)
        if policy is None or policy.commission != "bonuses":
            return []
        new = [c for c in self.signed_between(start, end) if _is_new(c) and c.credits and _stands(c, end)]
        out: list[_Line] = []
        if new and policy.first_deal_bonus > 0:
            first = new[0]
            bonus = _exact(policy.first_deal_bonus)
            for index, credit in enumerate(first.credits):
                amount = _fen(bonus * _exact(credit.share))  # R-MO-1: each line rounded
                out.append(_Line(
                    payee=credit.consultant, rule="R-CM-4", amount=amount,
                    key=(end, _LAST, index), contract=None, lead=first.lead,
                    reason=f"first deal bonus (首单奖): first new contract of the month, {first.contract}",
                    basis=bonus, rate=None, share=_exact(credit.share), rests_on={first.seq},
                    extra={"bonus": "first_deal", "deciding_contract": first.contract},
                ))
        counts: dict[str, Fraction] = {}
        for contract in new:
            for credit in contract.credits:
                counts[credit.consultant] = counts.get(credit.consultant, Fraction(0)) + _exact(credit.share)
        if counts and policy.top_enrolment_bonus > 0:
            top = max(counts.values())
            winners = sorted(c for c, n in counts.items() if n == top)
            bonus = _exact(policy.top_enrolment_bonus)
            amount = _fen(bonus / len(winners))  # shared equally (R-CM-4), each line rounded (R-MO-1)
            reason = f"top enrolment bonus (招生人数奖): {_ratio(top)} new contracts"
            if len(winners) > 1:
                reason += f", shared by {len(winners)}"
            for index, consultant in enumerate(winners):
                out.append(_Line(
                    payee=consultant, rule="R-CM-4", amount=amount,
                    key=(end, _LAST, 100 + index), contract=None, lead=None, reason=reason,
                    basis=bonus, rate=None, share=Fraction(1, len(winners)),
                    rests_on={c.seq for c in new},
                    extra={"bonus": "top_enrolment", "new_contracts": _ratio(top), "tied_with": [w for w in winners if w != consultant]},
                ))
        return out

    # -- R-CM-4 customer reward (双双有礼)

    def _referral_rewards(self, start: dt.datetime, end: dt.datetime) -> list[_Line]:
        # the chain's pairs (MoneyIndex) that can fall due in the month: signed before its end and
        # at most the longest referral period (and two days for zones and clamping) before its start
        longest = max((policy.referral_reward_months for _, policy in self.policies), default=0)
        pairs = self.index.referrals_signed_between(start - dt.timedelta(days=31 * longest + 2), end)
        contracts = self._open(contract for _, _, contract, _ in pairs)
        sources = self._open((lead for _, _, _, lead in pairs), self.money.referral_sources)
        chain = sorted(((sources[lead], contracts[contract]) for _, _, contract, lead in pairs),
                       key=lambda pair: (pair[0].at, pair[0].seq))  # lines in source order
        out: list[_Line] = []
        for source, contract in chain:
            policy = self.policy_at(contract.signed_at)
            if policy is None or policy.commission != "bonuses":
                continue  # the promise is the policy's at the signing
            due = _add_months(self.local(contract.signed_at), policy.referral_reward_months)
            if not start <= due < end:
                continue
            if any(m.kind in (REFUND, CANCELLATION) and m.at < due for m in contract.movements):
                continue  # lost: refunded or cancelled within the period
            reward = _exact(policy.referral_reward)
            out.append(_Line(
                payee="", rule="R-CM-4", amount=_fen(reward),
                key=(due, _LAST - 1, 0), contract=None, lead=source.lead,
                reason=(f"customer referral reward (双双有礼): {contract.contract} ran "
                        f"{policy.referral_reward_months} months without refund or cancellation"),
                basis=reward, rate=None, share=Fraction(1), rests_on={source.seq, contract.seq},
                extra={"referred_contract": contract.contract, "due": due.isoformat(timespec="seconds")},
                customer=identity(source.referrer) or source.referrer, customer_display=source.referrer,
            ))
        return out


def _tier_parts(t: _Tier, basis: Fraction, before: Fraction,
                rates: TierRates) -> tuple[list[tuple[Fraction, Fraction]], str]:
    """R-CM-1: a credit's (basis, rate) parts and their reason, by the lines its tier met;
    `before`: the consultant's credited amount signed earlier in the month (the red line is
    filled in signing order, so a contract may straddle it)."""
    if t.red_met and t.green_met:
        assert t.red is not None
        within = min(basis, max(Fraction(0), t.red - before))
        parts = [(within, _exact(rates.both_within_red)), (basis - within, _exact(rates.both_above_red))]
        parts = [p for p in parts if p[0] != 0] or [(basis, _exact(rates.both_within_red))]
        reason = "both lines met" + (
            ", straddles the red line" if len(parts) > 1 else
            (", within the red line" if within else ", above the red line")
        )
    elif t.red_met or t.green_met:
        parts = [(basis, _exact(rates.one))]
        reason = ("red" if t.red_met else "green") + " line met"
    else:
        parts = [(basis, _exact(rates.neither))]
        reason = "neither line met"
    return parts, reason


# ---------------------------------------------------------------------------- helpers


def _ordered(movements: Iterable[Movement]) -> list[Movement]:
    return sorted(movements, key=lambda m: (m.at, m.seq))


def _sum_of_products(parts: list[tuple[Fraction, Fraction]]) -> Fraction:
    total = parts[0][0] * parts[0][1]
    for basis, rate in parts[1:]:
        total += basis * rate
    return total


def _is_new(contract: ContractFacts) -> bool:
    return not contract.deposit and contract.kind in (None, "new")


def _stands(contract: ContractFacts, end: dt.datetime) -> bool:
    """Not cancelled and not fully refunded before `end`."""
    refunded = Decimal(0)
    for movement in contract.movements:
        if movement.at >= end:
            continue
        if movement.kind == CANCELLATION:
            return False
        if movement.kind == REFUND:
            refunded += movement.amount
    return not (contract.amount > 0 and refunded >= contract.amount)


def _clawed_back(contract: ContractFacts, earned: Fraction, months: list[list[Movement]]) -> list[Decimal]:
    """R-CM-2 with R-MO-1: the clawback line of each month (its refunds and cancellations, in
    order), each rounded half up on its own: round(earned × the fraction refunded that month).
    No line takes back more than is left of what was earned, and the line that cancels the
    contract or completes its full refund takes back exactly what is left."""
    lines: list[Decimal] = []
    done, left = [], _fen(earned)
    for movements in months:
        before = _reversed_fraction(contract, done)
        done = done + movements
        after = _reversed_fraction(contract, done)
        line = left if after == 1 else min(_fen(earned * (after - before)), left)
        lines.append(line)
        left -= line
    return lines


def _reversed_fraction(contract: ContractFacts, movements: list[Movement]) -> Fraction:
    """R-CM-2: the fraction of the contract reversed by these refunds and cancellations (≤ 1)."""
    if any(m.kind == CANCELLATION for m in movements):
        return Fraction(1)
    refunded = sum((_exact(m.amount) for m in movements if m.kind == REFUND), Fraction(0))
    if contract.amount <= 0:
        return Fraction(1) if refunded > 0 else Fraction(0)
    return min(Fraction(1), refunded / _exact(contract.amount))


def _add_months(local: dt.datetime, months: int) -> dt.datetime:
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _exact(value: Fraction | Decimal | int) -> Fraction:
    """`Fraction(value)`, a month's amounts, rates and shares repeating (Fraction of a Decimal is slow)."""
    return value if type(value) is Fraction else _exact_of(value)


@functools.lru_cache(maxsize=8192)
def _exact_of(value: Decimal | int) -> Fraction:
    return Fraction(value)


def _fen(value: Fraction | Decimal) -> Decimal:
    """R-MO-1: round half up (away from zero) to the fen, exactly."""
    value = _exact(value)
    cents, denominator = value.numerator * 100, value.denominator  # value × 100, unreduced
    sign = -1 if cents < 0 else 1
    whole, rest = divmod(abs(cents), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return (Decimal(sign * whole) / 100).quantize(FEN)


def _money(value: Decimal | Fraction) -> str:
    if type(value) is not Decimal or value.as_tuple().exponent != -2:  # else already to the fen
        value = _fen(value)
    return "0.00" if value == 0 else f"{value:.2f}"


def _money_exact(value: Fraction) -> str:
    """Two decimals when exact to the fen, otherwise every digit (half of an odd fen)."""
    value = _exact(value)
    if 100 % value.denominator:  # not a whole number of fen
        return _decimal(value)
    rounded = _fen(value)
    return "0.00" if rounded == 0 else f"{rounded:.2f}"


@functools.lru_cache(maxsize=1024)  # a month's lines share a handful of rates
def _decimal(value: Fraction) -> str:
    """An exact decimal string of a terminating fraction (no exponent, no trailing zeros), else p/q."""
    value = _exact(value)
    den, digits = value.denominator, 0
    while den % 10 == 0 or den % 2 == 0 or den % 5 == 0:
        den //= 10 if den % 10 == 0 else (2 if den % 2 == 0 else 5)
        digits += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    scaled = value * 10**digits
    text = format(Decimal(scaled.numerator).scaleb(-digits), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ratio(value: Fraction) -> str:
    value = _exact(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rate_cell(line: dict[str, Any]) -> str:
    if line.get("rate") is not None:
        return line["rate"]
    parts = line.get("parts")
    if parts:
        return "; ".join(f"{p['rate']} on {p['basis']}" for p in parts)
    return ""
