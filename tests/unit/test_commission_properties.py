"""Invariants of the commission statements (R-MO-1, R-CM-2, R-CM-6) over generated money facts."""
from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.policy import build_policy
from projections.commission import statements
from projections.facts import ContractFacts, Credit, MoneyFacts, Movement, Target

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 1, 1, tzinfo=TZ)
# every event generated falls before 2027-05 (signing by March, at most 240 days of movements, mirrored
# refunds at most 5 × 31 days later), so these months see each contract's whole life
MONTHS = [f"{2026 + i // 12}-{i % 12 + 1:02d}" for i in range(16)]
CONSULTANTS = ["s1", "s2", "s3"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

fen = st.integers(min_value=1, max_value=300_000_000).map(lambda c: Decimal(c) / 100)


@st.composite
def histories(draw, preset: str) -> tuple[MoneyFacts, list]:
    """Contracts signed Jan–Mar 2026 with payments, disbursements, refunds and cancellations after."""
    money = MoneyFacts()
    seq = 0

    def next_seq() -> int:
        nonlocal seq
        seq += 1
        return seq

    def moment(hours: int) -> dt.datetime:
        return START + dt.timedelta(hours=hours)

    for consultant in CONSULTANTS:
        for month in MONTHS[:3]:
            if draw(st.booleans()):
                red, green = draw(fen), draw(fen)
                money.targets[(consultant, month)] = Target(consultant, month, red, green, START, next_seq())
    for number in range(draw(st.integers(min_value=1, max_value=6))):
        signed = draw(st.integers(min_value=0, max_value=89 * 24))
        amount = draw(fen)
        if draw(st.booleans()):
            credits = (Credit(draw(st.sampled_from(CONSULTANTS)), Decimal(1), "R-RT-2"),)
        else:
            pair = draw(st.permutations(CONSULTANTS))[:2]
            credits = tuple(Credit(c, Decimal("0.5"), "R-OW-2a") for c in pair)
        contract = ContractFacts(
            contract=f"K{number}", lead=f"L{number}", customer=f"c{number}", amount=amount,
            signed_at=moment(signed), seq=next_seq(), kind=draw(st.sampled_from([None, "new", "renewal"])),
            deposit=draw(st.booleans()), credits=credits,
        )
        hours = signed
        paid = refunded = Decimal(0)
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            hours += draw(st.integers(min_value=0, max_value=40 * 24))
            kind = draw(st.sampled_from(["PaymentReceived", "LoanDisbursed", "ContractRefunded"]))
            # campus refunds give back money received; realty refunds a part of the contract
            ceiling = (paid - refunded if preset == "campus" else amount) if kind == "ContractRefunded" else amount
            if ceiling <= 0:
                continue
            value = Decimal(draw(st.integers(min_value=1, max_value=int(ceiling * 100)))) / 100
            paid += value if kind == "PaymentReceived" else 0
            refunded += value if kind == "ContractRefunded" else 0
            contract.movements.append(Movement(kind, moment(hours), next_seq(), value))
        ending = draw(st.sampled_from(["none", "cancel", "refund_all"]))
        hours += draw(st.integers(min_value=0, max_value=40 * 24))
        if ending == "cancel":
            contract.movements.append(Movement("ContractCancelled", moment(hours), next_seq(), Decimal(0)))
        elif ending == "refund_all":
            # realty: the whole contract amount; campus: everything received
            rest = (amount if preset == "realty" else paid) - refunded
            if rest > 0:
                contract.movements.append(Movement("ContractRefunded", moment(hours), next_seq(), rest))
        money.contracts[contract.contract] = contract
    policies = [(START, build_policy(preset))]
    if draw(st.booleans()):
        when = START + dt.timedelta(days=draw(st.integers(min_value=1, max_value=150)))
        policies.append((when, build_policy(preset, {"commission_rate": "0.05", "tier_rates": {
            "neither": "0.003", "one": "0.004", "both_within_red": "0.005", "both_above_red": "0.006"}})))
    return money, policies


def by_contract(money: MoneyFacts, policies: list) -> dict[tuple[str, str], dict[str, list[Decimal]]]:
    """(contract, consultant) -> rule -> amounts over every month."""
    out: dict[tuple[str, str], dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for month in MONTHS:
        for statement in statements(money, policies, TZ, month)["statements"]:
            for line in statement["lines"]:
                if line["contract"] is not None:
                    out[(line["contract"], statement["consultant"])][line["rule"]].append(Decimal(line["amount"]))
    return out


def ended(contract: ContractFacts, whole: Decimal) -> bool:
    if any(m.kind == "ContractCancelled" for m in contract.movements):
        return True
    refunded = sum((m.amount for m in contract.movements if m.kind == "ContractRefunded"), Decimal(0))
    return refunded >= whole


@SETTINGS
@given(histories("realty"))
def test_R_CM_2_a_contracts_clawbacks_never_exceed_what_it_earned(history):
    money, policies = history
    for (contract, consultant), rules in by_contract(money, policies).items():
        earned = sum(rules["R-CM-1"], Decimal(0))
        assert all(amount <= 0 for amount in rules["R-CM-2"])
        assert -sum(rules["R-CM-2"], Decimal(0)) <= earned


@SETTINGS
@given(histories("realty"))
def test_R_CM_2_a_contract_fully_refunded_or_cancelled_nets_to_zero_across_all_months(history):
    money, policies = history
    for (contract, consultant), rules in by_contract(money, policies).items():
        facts = money.contracts[contract]
        if ended(facts, facts.amount):
            assert sum(rules["R-CM-1"], Decimal(0)) + sum(rules["R-CM-2"], Decimal(0)) == 0


@SETTINGS
@given(histories("campus"))
def test_R_CM_3_a_campus_contract_refunded_of_everything_received_or_cancelled_nets_to_zero(history):
    """Its revenue nets to zero exactly; its rounded lines to within half a fen each (R-MO-1)."""
    money, policies = history
    for month_lines in [by_contract_lines(money, policies)]:
        for (contract, consultant), found in month_lines.items():
            facts = money.contracts[contract]
            paid = sum((m.amount for m in facts.movements if m.kind == "PaymentReceived"), Decimal(0))
            refunded = sum((m.amount for m in facts.movements if m.kind == "ContractRefunded"), Decimal(0))
            if any(m.kind == "ContractCancelled" for m in facts.movements) or refunded == paid:
                assert {line["rule"] for line in found} == {"R-CM-3"}
                assert sum(Decimal(line["basis"]) for line in found) == 0
                if one_rate(policies, facts.movements):  # R-CM-3: each movement at its own time's rate
                    assert abs(sum(Decimal(line["amount"]) for line in found)) <= Decimal("0.005") * len(found)


def one_rate(policies: list, movements) -> bool:
    """Whether every movement falls under the same `commission_rate` (a refund after a rate
    change reverses at the new rate, so money at two rates need not net to zero)."""
    def rate(at):
        return [p.commission_rate for since, p in policies if since <= at][-1]
    return len({rate(m.at) for m in movements}) <= 1


def by_contract_lines(money: MoneyFacts, policies: list) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for month in MONTHS:
        for statement in statements(money, policies, TZ, month)["statements"]:
            for line in statement["lines"]:
                if line["contract"] is not None:
                    out[(line["contract"], statement["consultant"])].append(line)
    return out


@SETTINGS
@given(histories("campus"))
def test_R_CM_3_refunds_mirroring_a_months_payments_reverse_their_commission_exactly(history):
    money, policies = history
    for contract in money.contracts.values():
        paid_by_month: dict[str, Decimal] = defaultdict(Decimal)
        for m in contract.movements:
            if m.kind == "PaymentReceived":
                paid_by_month[m.at.strftime("%Y-%m")] += m.amount
        contract.movements = [m for m in contract.movements if m.kind not in ("ContractRefunded", "ContractCancelled")]
        last = max([contract.signed_at] + [m.at for m in contract.movements])
        for offset, month in enumerate(sorted(paid_by_month)):
            when = last + dt.timedelta(days=31 * (offset + 1))
            contract.movements.append(Movement("ContractRefunded", when, 10_000 + offset, paid_by_month[month]))
    for (contract, _), found in by_contract_lines(money, policies).items():
        if one_rate(policies, money.contracts[contract].movements):
            assert sum(Decimal(line["amount"]) for line in found) == 0


@SETTINGS
@given(st.sampled_from(["realty", "campus", "fitness"]).flatmap(histories))
def test_R_MO_1_totals_equal_the_sum_of_the_rounded_lines(history):
    money, policies = history
    for month in MONTHS:
        result = statements(money, policies, TZ, month)
        assert [s["consultant"] for s in result["statements"]] == sorted(s["consultant"] for s in result["statements"])
        for statement in result["statements"] + result["customer_rewards"]:
            amounts = [Decimal(line["amount"]) for line in statement["lines"]]
            assert statement["lines"]
            assert all(amount == amount.quantize(Decimal("0.01")) and "." in line["amount"] and len(line["amount"].split(".")[1]) == 2
                       for amount, line in zip(amounts, statement["lines"]))
            assert Decimal(statement["total"]) == sum(amounts, Decimal(0))


@SETTINGS
@given(st.sampled_from(["realty", "campus", "fitness"]).flatmap(histories), st.randoms(use_true_random=False))
def test_R_CM_6_statements_are_deterministic_whatever_order_the_facts_were_collected_in(history, rng: random.Random):
    money, policies = history
    first = [statements(money, policies, TZ, month) for month in MONTHS]
    assert first == [statements(money, policies, TZ, month) for month in MONTHS]
    shuffled = MoneyFacts(targets=dict(rng.sample(list(money.targets.items()), len(money.targets))))
    for name in rng.sample(list(money.contracts), len(money.contracts)):
        original = money.contracts[name]
        copy = ContractFacts(**{**original.__dict__, "movements": rng.sample(original.movements, len(original.movements))})
        shuffled.contracts[name] = copy
    assert first == [statements(shuffled, policies, TZ, month) for month in MONTHS]


@SETTINGS
@given(st.sampled_from(["realty", "campus", "fitness"]).flatmap(histories), st.sampled_from(MONTHS))
def test_R_CM_6_a_months_statement_rests_only_on_events_before_its_end(history, month):
    money, policies = history
    whole = statements(money, policies, TZ, month)
    year, number = map(int, month.split("-"))
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=TZ)
    cut = MoneyFacts(targets={k: t for k, t in money.targets.items() if t.at < end})
    for name, contract in money.contracts.items():
        if contract.signed_at < end:
            cut.contracts[name] = ContractFacts(**{
                **contract.__dict__, "movements": [m for m in contract.movements if m.at < end]})
    assert statements(cut, [p for p in policies if p[0] < end], TZ, month) == whole
