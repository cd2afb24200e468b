"""Commission statements (RULEBOOK §9, R-MO-1, R-CM-1 … R-CM-6) built from money facts directly."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledger.errors import InputError
from ledger.policy import build_policy
from projections.commission import statement_rows, statements
from projections.facts import (
    ContractFacts,
    Credit,
    MoneyFacts,
    Movement,
    ProviderReward,
    ReferralSource,
    Target,
)

TZ = ZoneInfo("Asia/Shanghai")


def at(local: str) -> dt.datetime:
    """A local Shanghai time, e.g. "2026-11-05T10:00"."""
    return dt.datetime.fromisoformat(local).replace(tzinfo=TZ)


class Book:
    """A small builder of MoneyFacts and a policy timeline, numbering events like a team stream."""

    def __init__(self, preset: str = "realty", since: str = "2026-01-01T00:00", **overrides):
        self.money = MoneyFacts()
        self.policies = [(at(since), build_policy(preset, overrides))]
        self.seq = 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def adopt(self, when: str, preset: str, **overrides) -> Book:
        self._next()
        self.policies.append((at(when), build_policy(preset, overrides)))
        return self

    def target(self, consultant: str, month: str, red: str, green: str, when: str | None = None) -> Book:
        when = when or f"{month}-01T00:00"
        self.money.targets[(consultant, month)] = Target(consultant, month, Decimal(red), Decimal(green), at(when), self._next())
        return self

    def sign(self, contract: str, when: str, amount: str, *credits: str | tuple[str, str], lead: str | None = None,
             kind: str | None = None, deposit: bool = False, customer: str | None = None) -> Book:
        made = tuple(
            Credit(c, Decimal(1), "R-RT-2") if isinstance(c, str) else Credit(c[0], Decimal(c[1]), "R-OW-2a")
            for c in credits
        )
        lead = lead or f"L-{contract}"
        self.money.contracts[contract] = ContractFacts(
            contract=contract, lead=lead, customer=customer or f"c-{lead}", amount=Decimal(amount),
            signed_at=at(when), seq=self._next(), kind=kind, deposit=deposit, credits=made,
        )
        return self

    def split(self, contract: str, when: str, amount: str, named: str, receiver: str, **kw) -> Book:
        return self.sign(contract, when, amount, (named, "0.5"), (receiver, "0.5"), **kw)

    def _move(self, kind: str, contract: str, when: str, amount: str) -> Book:
        self.money.contracts[contract].movements.append(Movement(kind, at(when), self._next(), Decimal(amount)))
        return self

    def pay(self, contract: str, when: str, amount: str) -> Book:
        return self._move("PaymentReceived", contract, when, amount)

    def disburse(self, contract: str, when: str, amount: str) -> Book:
        return self._move("LoanDisbursed", contract, when, amount)

    def refund(self, contract: str, when: str, amount: str) -> Book:
        return self._move("ContractRefunded", contract, when, amount)

    def cancel(self, contract: str, when: str) -> Book:
        return self._move("ContractCancelled", contract, when, "0")

    def provider(self, consultant: str, lead: str, when: str) -> Book:
        self.money.provider_rewards.append(ProviderReward(consultant, lead, at(when), self._next()))
        return self

    def referral(self, lead: str, referrer: str, when: str, customer: str | None = None) -> Book:
        self.money.referral_sources[lead] = ReferralSource(lead, referrer, at(when), self._next(), customer)
        return self

    def month(self, month: str) -> dict:
        return statements(self.money, self.policies, TZ, month)


def totals(result: dict) -> dict[str, str]:
    return {s["consultant"]: s["total"] for s in result["statements"]}


def lines(result: dict, consultant: str) -> list[tuple[str, str | None, str]]:
    statement = next(s for s in result["statements"] if s["consultant"] == consultant)
    return [(line["rule"], line["contract"], line["amount"]) for line in statement["lines"]]


def line(result: dict, consultant: str, contract: str, rule: str | None = None) -> dict:
    statement = next(s for s in result["statements"] if s["consultant"] == consultant)
    return next(l for l in statement["lines"] if l["contract"] == contract and (rule is None or l["rule"] == rule))


def acceptance_book() -> Book:
    """../shared/acceptance/realty_commission.json as money facts."""
    book = Book("realty", since="2026-10-30T09:00")
    book.target("s1", "2026-11", "1000000.00", "500000.00", when="2026-10-31T09:00")
    book.target("s2", "2026-11", "1000000.00", "500000.00", when="2026-10-31T09:00")
    book.sign("KA", "2026-11-05T10:00", "1200000.00", "s1", lead="W1")
    book.sign("KB", "2026-11-05T11:00", "800000.00", "s2", lead="W2")
    book.sign("KC", "2026-11-06T09:30", "300000.00", "s1", lead="W3")
    book.split("KD", "2026-11-07T10:00", "400000.00", "s2", "s1", lead="W4")
    book.disburse("KA", "2026-11-20T10:00", "600000.00")
    book.disburse("KB", "2026-11-20T10:00", "200000.00")
    book.cancel("KC", "2026-12-03T10:00")
    book.refund("KB", "2026-12-10T10:00", "80000.00")
    return book


# ------------------------------------------------------------------ R-CM-1 realty tiers


def test_R_CM_1_acceptance_november_pays_both_lines_to_s1_and_one_line_to_s2():
    result = acceptance_book().month("2026-11")
    assert result["month"] == "2026-11"
    assert [s["consultant"] for s in result["statements"]] == ["s1", "s2"]
    assert totals(result) == {"s1": "4050.00", "s2": "2000.00"}
    assert lines(result, "s1") == [("R-CM-1", "KA", "2800.00"), ("R-CM-1", "KC", "750.00"), ("R-CM-1", "KD", "500.00")]
    assert lines(result, "s2") == [("R-CM-1", "KB", "1600.00"), ("R-CM-1", "KD", "400.00")]


def test_R_CM_1_acceptance_december_claws_back_the_cancellation_and_the_refund():
    result = acceptance_book().month("2026-12")
    assert totals(result) == {"s1": "-750.00", "s2": "-160.00"}
    assert lines(result, "s1") == [("R-CM-2", "KC", "-750.00")]
    assert lines(result, "s2") == [("R-CM-2", "KB", "-160.00")]


def test_R_CM_1_tier_info_shows_targets_amounts_and_margins():
    result = acceptance_book().month("2026-11")
    s1, s2 = result["statements"]
    assert s1["tier"] == {
        "red": "1000000.00", "green": "500000.00", "signed": "1700000.00", "disbursed": "600000.00",
        "red_met": True, "green_met": True, "red_margin": "700000.00", "green_margin": "100000.00",
        "lines_met": 2, "rests_on": s1["tier"]["rests_on"],
    }
    assert s2["tier"]["lines_met"] == 1 and s2["tier"]["red_margin"] == "0.00"
    assert s2["tier"]["green_margin"] == "-300000.00"
    assert s1["tier"]["rests_on"] == [1, 3, 5, 6, 7]  # target, KA, KC, KD, KA's disbursement


def test_R_CM_1_a_split_contract_credits_each_half_to_its_own_side():
    result = acceptance_book().month("2026-11")
    assert line(result, "s1", "KD")["share"] == "1/2"
    assert line(result, "s1", "KD")["basis"] == "200000.00"
    assert line(result, "s2", "KD")["rate"] == "0.002"


def test_R_CM_1_neither_line_met_earns_1_8_per_mille():
    book = Book().target("s1", "2026-03", "1000000", "500000").sign("K1", "2026-03-02T10:00", "300000.00", "s1")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-1", "K1", "540.00")]
    assert book.month("2026-03")["statements"][0]["tier"]["lines_met"] == 0


def test_R_CM_1_only_the_green_line_met_earns_2_per_mille():
    book = Book().target("s1", "2026-03", "1000000", "100000").sign("K1", "2026-03-02T10:00", "300000.00", "s1")
    book.disburse("K1", "2026-03-20T10:00", "100000.00")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-1", "K1", "600.00")]


def test_R_CM_1_a_line_with_no_target_set_is_not_met():
    book = Book().sign("K1", "2026-03-02T10:00", "5000000.00", "s1").disburse("K1", "2026-03-03T10:00", "5000000.00")
    result = book.month("2026-03")
    assert lines(result, "s1") == [("R-CM-1", "K1", "9000.00")]
    assert result["statements"][0]["tier"]["red"] is None


def test_R_CM_1_a_target_set_after_the_month_ends_does_not_count():
    book = Book().sign("K1", "2026-03-02T10:00", "300000.00", "s1").disburse("K1", "2026-03-03T10:00", "300000.00")
    book.target("s1", "2026-03", "100000", "100000", when="2026-04-02T10:00")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-1", "K1", "540.00")]


def test_R_CM_1_a_contract_exactly_on_the_red_line_meets_it_and_earns_entirely_within_it():
    book = Book().target("s1", "2026-03", "1000000.00", "500000.00")
    book.sign("K1", "2026-03-02T10:00", "1000000.00", "s1").disburse("K1", "2026-03-10T10:00", "500000.00")
    result = book.month("2026-03")
    assert result["statements"][0]["tier"]["red_met"] is True
    only = line(result, "s1", "K1")
    assert (only["amount"], only["rate"], "parts" in only) == ("2300.00", "0.0023", False)


def test_R_CM_1_one_fen_short_of_the_red_line_does_not_meet_it():
    book = Book().target("s1", "2026-03", "1000000.00", "500000.00")
    book.sign("K1", "2026-03-02T10:00", "999999.99", "s1").disburse("K1", "2026-03-10T10:00", "500000.00")
    assert line(book.month("2026-03"), "s1", "K1")["rate"] == "0.002"


def test_R_CM_1_contract_crossing_the_red_line_earns_at_two_rates():
    book = Book().target("s1", "2026-03", "1000000.00", "500000.00")
    book.sign("K1", "2026-03-02T10:00", "600000.00", "s1").sign("K2", "2026-03-05T10:00", "800000.00", "s1")
    book.disburse("K1", "2026-03-10T10:00", "500000.00")
    result = book.month("2026-03")
    crossing = line(result, "s1", "K2")
    # 400000 × 2.3‰ + 400000 × 2.5‰
    assert crossing["amount"] == "1920.00"
    assert crossing["rate"] is None
    assert crossing["parts"] == [{"basis": "400000.00", "rate": "0.0023"}, {"basis": "400000.00", "rate": "0.0025"}]
    assert line(result, "s1", "K1")["amount"] == "1380.00"
    assert totals(result) == {"s1": "3300.00"}


def test_R_CM_1_contracts_fill_the_red_line_in_signing_order_not_recording_order():
    book = Book().target("s1", "2026-03", "1000000.00", "0")
    # recorded first, but signed later: it is the one above the red line
    book.sign("LATE", "2026-03-20T10:00", "500000.00", "s1")
    book.sign("EARLY", "2026-03-02T10:00", "1000000.00", "s1")
    result = book.month("2026-03")
    assert [l[1] for l in lines(result, "s1")] == ["EARLY", "LATE"]
    assert line(result, "s1", "EARLY")["rate"] == "0.0023"
    assert line(result, "s1", "LATE")["rate"] == "0.0025"


def test_R_CM_1_a_split_contracts_halves_fall_on_both_sides_of_a_red_line():
    book = Book()
    book.target("s1", "2026-03", "1000000.00", "0").target("s2", "2026-03", "1000000.00", "0")
    book.sign("K1", "2026-03-02T10:00", "1000000.00", "s1")  # s1 exactly on the red line already
    book.split("KS", "2026-03-05T10:00", "400000.00", "s2", "s1")
    book.sign("K2", "2026-03-06T10:00", "800000.00", "s2")  # s2's half is within s2's red line
    result = book.month("2026-03")
    assert line(result, "s1", "KS")["amount"] == "500.00"  # 200000 × 2.5‰, above s1's red line
    assert line(result, "s1", "KS")["rate"] == "0.0025"
    assert line(result, "s2", "KS")["amount"] == "460.00"  # 200000 × 2.3‰, within s2's red line
    assert line(result, "s2", "KS")["rate"] == "0.0023"


def test_R_CM_1_a_deposit_is_a_contract_and_counts_toward_the_red_line():
    book = Book().target("s1", "2026-03", "1000000.00", "500000.00")
    book.sign("DEP", "2026-03-02T10:00", "200000.00", "s1", deposit=True)
    book.sign("K1", "2026-03-05T10:00", "800000.00", "s1")
    result = book.month("2026-03")
    assert result["statements"][0]["tier"]["signed"] == "1000000.00"
    assert line(result, "s1", "DEP")["amount"] == "400.00"  # red met: 2.0‰
    assert line(result, "s1", "DEP")["deposit"] is True
    assert line(result, "s1", "K1")["amount"] == "1600.00"


def test_R_MO_1_each_line_is_rounded_half_up_to_the_fen_and_the_total_is_their_sum():
    book = Book()
    book.sign("K1", "2026-03-02T10:00", "1250.00", "s1")  # 2.25 × … : 1250 × 0.0018 = 2.25
    book.sign("K2", "2026-03-02T11:00", "2502.50", "s1")  # 4.5045 -> 4.50
    book.sign("K3", "2026-03-02T12:00", "2505.00", "s1")  # 4.509 -> 4.51
    book.split("K4", "2026-03-02T13:00", "2502.79", "s1", "s2")  # half 1251.395 × 0.0018 = 2.252511 -> 2.25
    result = book.month("2026-03")
    assert lines(result, "s1") == [
        ("R-CM-1", "K1", "2.25"), ("R-CM-1", "K2", "4.50"), ("R-CM-1", "K3", "4.51"), ("R-CM-1", "K4", "2.25"),
    ]
    assert totals(result)["s1"] == "13.51"
    assert line(result, "s1", "K4")["basis"] == "1251.395"


def test_R_MO_1_half_a_fen_rounds_up_and_a_negative_half_away_from_zero():
    book = Book("campus", commission_rate="0.05").sign("K1", "2026-03-02T10:00", "1.00", "s1")
    book.pay("K1", "2026-03-02T11:00", "0.50").refund("K1", "2026-04-02T11:00", "0.50")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-3", "K1", "0.03")]
    assert lines(book.month("2026-04"), "s1") == [("R-CM-3", "K1", "-0.03")]


def test_R_CM_1_events_after_the_month_end_do_not_change_its_statement():
    before = acceptance_book().month("2026-11")
    book = acceptance_book()
    book.sign("KX", "2026-12-01T00:00", "900000.00", "s2").disburse("KB", "2026-12-01T00:00", "900000.00")
    assert book.month("2026-11") == before


def test_R_CM_1_month_boundaries_are_local_to_the_team():
    book = Book().sign("K1", "2026-03-31T23:30", "100000.00", "s1").sign("K2", "2026-04-01T00:00", "100000.00", "s1")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-1", "K1", "180.00")]
    assert lines(book.month("2026-04"), "s1") == [("R-CM-1", "K2", "180.00")]


# ------------------------------------------------------------------ R-CM-2 clawback


def test_R_CM_2_a_partial_refund_of_a_contract_that_earned_at_two_rates_reverses_that_fraction():
    book = acceptance_book()
    book.refund("KA", "2027-01-15T10:00", "300000.00")  # a quarter of 1.2M; KA earned 2300 + 500
    result = book.month("2027-01")
    claw = line(result, "s1", "KA")
    assert (claw["rule"], claw["amount"], claw["earned"], claw["reversed"]) == ("R-CM-2", "-700.00", "2800.00", "1/4")
    assert claw["earned_month"] == "2026-11"


def test_R_CM_2_a_cancelled_split_contract_claws_back_each_half_from_its_own_side():
    book = acceptance_book().cancel("KD", "2027-02-01T10:00")
    result = book.month("2027-02")
    assert lines(result, "s1") == [("R-CM-2", "KD", "-500.00")]
    assert lines(result, "s2") == [("R-CM-2", "KD", "-400.00")]


def test_R_CM_2_a_cancellation_in_a_later_month_after_a_rule_change_claws_back_at_the_rate_earned():
    book = Book("realty", since="2026-01-01T00:00")
    book.sign("K1", "2026-05-10T10:00", "1000000.00", "s1")  # neither line: 1.8‰ = 1800
    book.adopt("2026-06-01T00:00", "realty", tier_rates={
        "neither": "0.0030", "one": "0.0020", "both_within_red": "0.0023", "both_above_red": "0.0025"})
    book.sign("K2", "2026-07-02T10:00", "1000000.00", "s1")  # the new rate: 3‰
    book.cancel("K1", "2026-07-15T10:00")
    assert lines(book.month("2026-05"), "s1") == [("R-CM-1", "K1", "1800.00")]
    july = book.month("2026-07")
    assert lines(july, "s1") == [("R-CM-1", "K2", "3000.00"), ("R-CM-2", "K1", "-1800.00")]
    assert line(july, "s1", "K1")["earned_rate"] == "0.0018"


def test_R_CM_2_a_clawback_uses_the_tiers_of_the_signing_month_not_of_the_refund_month():
    book = Book().target("s1", "2026-03", "100000", "100000")
    book.sign("K1", "2026-03-02T10:00", "200000.00", "s1").disburse("K1", "2026-03-03T10:00", "200000.00")
    # both met in March: 100000 × 2.3‰ + 100000 × 2.5‰ = 480.00; April meets nothing
    book.refund("K1", "2026-04-10T10:00", "100000.00")
    assert lines(book.month("2026-04"), "s1") == [("R-CM-2", "K1", "-240.00")]


def test_R_CM_2_clawbacks_never_exceed_what_the_contract_earned():
    book = Book().sign("K1", "2026-03-02T10:00", "100000.00", "s1")  # earns 180.00
    book.refund("K1", "2026-04-02T10:00", "60000.00").refund("K1", "2026-05-02T10:00", "60000.00")
    book.cancel("K1", "2026-06-02T10:00")
    assert lines(book.month("2026-04"), "s1") == [("R-CM-2", "K1", "-108.00")]
    assert lines(book.month("2026-05"), "s1") == [("R-CM-2", "K1", "-72.00")]
    assert lines(book.month("2026-06"), "s1") == [("R-CM-2", "K1", "0.00")]


def test_R_CM_2_each_months_clawback_line_is_rounded_on_its_own_R_MO_1():
    book = Book().sign("K1", "2026-03-02T10:00", "500000.00", "s1")  # earns 900.00 (1.8‰)
    book.refund("K1", "2026-04-02T10:00", "625.00").refund("K1", "2026-05-02T10:00", "625.00")
    # 625 / 500000 × 900 = 1.125 each month: half up per statement line, not 2.25 spread over two
    assert lines(book.month("2026-04"), "s1") == [("R-CM-2", "K1", "-1.13")]
    assert lines(book.month("2026-05"), "s1") == [("R-CM-2", "K1", "-1.13")]


def test_R_CM_2_refunds_in_thirds_net_to_zero_to_the_fen():
    book = Book().sign("K1", "2026-03-02T10:00", "55555.56", "s1")  # earns 100.00
    for month in ("04", "05", "06"):
        book.refund("K1", f"2026-{month}-02T10:00", "18518.52")
    amounts = [Decimal(line(book.month(f"2026-{m}"), "s1", "K1")["amount"]) for m in ("03", "04", "05", "06")]
    assert amounts[0] == Decimal("100.00")
    assert sum(amounts) == 0


def test_R_CM_2_a_refund_in_the_signing_month_is_a_negative_line_in_that_month():
    book = Book().sign("K1", "2026-03-02T10:00", "100000.00", "s1").refund("K1", "2026-03-20T10:00", "50000.00")
    assert lines(book.month("2026-03"), "s1") == [("R-CM-1", "K1", "180.00"), ("R-CM-2", "K1", "-90.00")]


def test_R_CM_2_a_contract_that_earned_no_tiered_commission_has_nothing_to_claw_back():
    book = Book("campus").sign("K1", "2026-03-02T10:00", "100000.00", "s1")
    book.adopt("2026-04-01T00:00", "realty")
    book.cancel("K1", "2026-04-10T10:00")
    assert book.month("2026-04")["statements"] == []


# ------------------------------------------------------------------ R-CM-3 campus


def test_R_CM_3_campus_pays_3_percent_of_payments_minus_refunds_per_contract():
    book = Book("campus")
    book.sign("K1", "2026-03-02T10:00", "12000.00", "s1").pay("K1", "2026-03-02T10:05", "6000.00")
    book.pay("K1", "2026-03-20T10:00", "2000.00").refund("K1", "2026-03-25T10:00", "1000.00")
    book.sign("K2", "2026-03-03T10:00", "9999.00", "s1").pay("K2", "2026-03-03T10:05", "333.33")
    result = book.month("2026-03")
    assert lines(result, "s1") == [("R-CM-3", "K1", "210.00"), ("R-CM-3", "K2", "10.00")]
    assert line(result, "s1", "K1")["basis"] == "7000.00"
    assert line(result, "s1", "K1")["rate"] == "0.03"
    assert totals(result) == {"s1": "220.00"}


def test_R_CM_3_a_refund_in_a_later_month_is_negative_revenue_and_no_clawback_line():
    book = Book("campus").sign("K1", "2026-03-02T10:00", "12000.00", "s1").pay("K1", "2026-03-02T10:05", "12000.00")
    book.refund("K1", "2026-04-02T10:00", "4000.00")
    assert lines(book.month("2026-04"), "s1") == [("R-CM-3", "K1", "-120.00")]


def test_R_CM_3_a_cancellation_gives_back_all_revenue_received():
    book = Book("campus").sign("K1", "2026-03-02T10:00", "12000.00", "s1").pay("K1", "2026-03-02T10:05", "5000.00")
    book.pay("K1", "2026-04-02T10:00", "3000.00").refund("K1", "2026-04-03T10:00", "1000.00")
    book.cancel("K1", "2026-05-02T10:00")
    months = [book.month(m) for m in ("2026-03", "2026-04", "2026-05")]
    assert [lines(r, "s1") for r in months] == [
        [("R-CM-3", "K1", "150.00")], [("R-CM-3", "K1", "60.00")], [("R-CM-3", "K1", "-210.00")],
    ]


def test_R_CM_3_a_split_credit_earns_its_share_of_the_revenue():
    book = Book("campus").split("K1", "2026-03-02T10:00", "10000.00", "s1", "s2").pay("K1", "2026-03-02T11:00", "333.33")
    result = book.month("2026-03")
    assert lines(result, "s1") == [("R-CM-3", "K1", "5.00")]  # 166.665 × 3% = 4.99995
    assert line(result, "s1", "K1")["basis"] == "166.665"
    assert line(result, "s2", "K1")["share"] == "1/2"


def test_R_CM_3_each_payment_or_refund_earns_at_the_commission_rate_in_force_at_its_own_time():
    """RULEBOOK R-CM-3 / §10 (settled reading; it used to be the rate at the contract's signing)."""
    book = Book("campus").sign("K1", "2026-03-02T10:00", "20000.00", "s1").pay("K1", "2026-03-02T11:00", "10000.00")
    book.adopt("2026-03-15T00:00", "campus", commission_rate="0.05")
    book.pay("K1", "2026-03-20T10:00", "10000.00")
    book.sign("K2", "2026-03-21T10:00", "20000.00", "s1").pay("K2", "2026-03-21T11:00", "10000.00")
    book.refund("K1", "2026-04-02T10:00", "10000.00")
    march = book.month("2026-03")
    assert lines(march, "s1") == [("R-CM-3", "K1", "800.00"), ("R-CM-3", "K2", "500.00")]
    k1 = line(march, "s1", "K1")
    assert k1["rate"] is None and k1["parts"] == [{"basis": "10000.00", "rate": "0.03"}, {"basis": "10000.00", "rate": "0.05"}]
    assert lines(book.month("2026-04"), "s1") == [("R-CM-3", "K1", "-500.00")]  # the refund's own rate


def test_R_CM_3_a_contract_signed_under_tiered_commission_earns_no_revenue_commission_later():
    book = Book("realty").sign("K1", "2026-03-02T10:00", "100000.00", "s1")
    book.adopt("2026-04-01T00:00", "campus")
    book.pay("K1", "2026-04-02T10:00", "100000.00")
    assert book.month("2026-04")["statements"] == []


def test_R_CM_3_a_contract_without_money_in_the_month_has_no_line():
    book = Book("campus").sign("K1", "2026-03-02T10:00", "20000.00", "s1").pay("K1", "2026-03-02T11:00", "100.00")
    assert book.month("2026-04")["statements"] == []


# ------------------------------------------------------------------ R-CM-4 fitness


def test_R_CM_4_the_first_new_contract_of_the_month_earns_the_first_deal_bonus():
    book = Book("fitness")
    book.sign("R1", "2026-03-01T09:00", "5000.00", "s3", kind="renewal")
    book.sign("D1", "2026-03-01T10:00", "500.00", "s3", deposit=True)
    book.sign("N1", "2026-03-02T10:00", "8000.00", "s2", kind="new")
    book.sign("N2", "2026-03-03T10:00", "8000.00", "s1")
    book.sign("N3", "2026-03-04T10:00", "8000.00", "s1")
    result = book.month("2026-03")
    first = [l for l in next(s for s in result["statements"] if s["consultant"] == "s2")["lines"]]
    assert [(l["rule"], l["amount"], l["contract"], l["lead"], l["bonus"]) for l in first] == [
        ("R-CM-4", "200.00", None, "L-N1", "first_deal")
    ]
    assert totals(result) == {"s1": "500.00", "s2": "200.00"}


def test_R_CM_4_a_first_contract_cancelled_within_the_month_passes_the_first_deal_bonus_on():
    book = Book("fitness")
    book.sign("N1", "2026-03-02T10:00", "8000.00", "s2").cancel("N1", "2026-03-05T10:00")
    book.sign("N2", "2026-03-03T10:00", "8000.00", "s1")
    assert totals(book.month("2026-03")) == {"s1": "700.00"}


def test_R_CM_4_a_tie_on_top_enrolment_shares_the_bonus_equally_each_line_rounded_R_MO_1():
    book = Book("fitness")
    for i, consultant in enumerate(["s1", "s2", "s3", "s1", "s2", "s3"]):
        book.sign(f"N{i}", f"2026-03-0{i + 2}T10:00", "6000.00", consultant)
    result = book.month("2026-03")
    top = {
        s["consultant"]: [l["amount"] for l in s["lines"] if l.get("bonus") == "top_enrolment"]
        for s in result["statements"]
    }
    # "shared equally on a tie", "rounded half up to the fen per statement line": 500/3 = 166.666…
    assert top == {"s1": ["166.67"], "s2": ["166.67"], "s3": ["166.67"]}
    assert totals(result) == {"s1": "366.67", "s2": "166.67", "s3": "166.67"}
    s3_line = result["statements"][2]["lines"][0]
    assert (s3_line["share"], s3_line["contract"], s3_line["tied_with"]) == ("1/3", None, ["s1", "s2"])


def test_R_CM_4_bonuses_follow_the_policy_in_force_at_the_months_end():
    book = Book("realty").sign("N1", "2026-03-02T10:00", "8000.00", "s1")
    book.adopt("2026-03-20T00:00", "fitness", first_deal_bonus="300.00", top_enrolment_bonus="0")
    result = book.month("2026-03")
    assert lines(result, "s1") == [("R-CM-1", "N1", "14.40"), ("R-CM-4", None, "300.00")]


def test_R_CM_4_referral_reward_is_due_in_the_month_the_period_completes():
    book = Book("fitness").referral("F2", "h:abc123:0001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2", kind="referral")
    assert book.month("2026-12")["customer_rewards"] == []
    assert book.month("2027-02")["customer_rewards"] == []
    rewards = book.month("2027-01")["customer_rewards"]
    assert len(rewards) == 1
    reward = rewards[0]
    assert (reward["customer"], reward["total"]) == ("*******0001", "300.00")
    only = reward["lines"][0]
    assert (only["rule"], only["contract"], only["lead"], only["referred_contract"]) == ("R-CM-4", None, "F2", "K2")
    assert only["due"] == "2027-01-15T10:00:00+08:00"
    assert "s1" not in totals(book.month("2027-01"))


def test_R_CM_4_referral_reward_is_lost_on_a_refund_within_the_period():
    book = Book("fitness").referral("F2", "13900000001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2").refund("K2", "2027-01-15T09:59", "100.00")
    assert book.month("2027-01")["customer_rewards"] == []


def test_R_CM_4_a_refund_after_the_period_does_not_take_the_referral_reward_back():
    book = Book("fitness").referral("F2", "13900000001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2").cancel("K2", "2027-01-15T10:00")
    rewards = book.month("2027-01")["customer_rewards"]
    assert [r["total"] for r in rewards] == ["300.00"]
    assert rewards[0]["customer"] == "*******0001"  # a raw number is never shown in full


def test_R_CM_4_referral_period_ending_past_a_short_month_is_clamped_to_its_last_day():
    book = Book("fitness").referral("F2", "13900000001", "2026-12-01T10:00")
    book.sign("K2", "2026-12-31T10:00", "8000.00", "s1", lead="F2")
    assert book.month("2027-02")["customer_rewards"][0]["lines"][0]["due"] == "2027-02-28T10:00:00+08:00"


def test_R_CM_4_one_referral_reward_per_referred_customer_on_its_first_full_contract():
    book = Book("fitness").referral("F2", "13900000001", "2026-11-10T10:00", customer="cust-9")
    book.sign("DEP", "2026-11-11T10:00", "500.00", "s1", lead="F2", deposit=True)
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F9", customer="cust-9")
    book.sign("K3", "2026-11-16T10:00", "8000.00", "s1", lead="F2")
    rewards = book.month("2027-01")["customer_rewards"]
    assert [(l["referred_contract"], l["amount"]) for r in rewards for l in r["lines"]] == [("K2", "300.00")]


def test_R_CM_4_referral_reward_follows_the_policy_at_the_referred_signing():
    book = Book("fitness", referral_reward="250.00").referral("F2", "13900000001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2")
    book.adopt("2026-12-01T00:00", "fitness")
    assert book.month("2027-01")["customer_rewards"][0]["total"] == "250.00"


# ------------------------------------------------------------------ R-CM-5 campus provider reward


def test_R_CM_5_a_conference_duplicate_pays_the_provider_in_the_month_of_its_arrival():
    book = Book("campus").provider("s2", "C7", "2026-03-31T23:59").provider("s2", "C8", "2026-04-01T00:00")
    march = book.month("2026-03")
    assert lines(march, "s2") == [("R-CM-5", None, "100.00")]
    only = march["statements"][0]["lines"][0]
    assert (only["lead"], only["rests_on"]) == ("C7", [1])
    assert totals(book.month("2026-04")) == {"s2": "100.00"}


def test_R_CM_5_the_provider_reward_can_be_overridden():
    book = Book("campus", provider_reward="150.00").provider("s2", "C7", "2026-03-10T10:00")
    assert totals(book.month("2026-03")) == {"s2": "150.00"}


# ------------------------------------------------------------------ every preset, R-CM-6


def mixed_book(preset: str) -> Book:
    book = Book(preset)
    book.target("s1", "2026-03", "100000", "50000")
    book.sign("K1", "2026-03-02T10:00", "120000.00", "s1").pay("K1", "2026-03-02T11:00", "60000.00")
    book.disburse("K1", "2026-03-10T10:00", "60000.00")
    book.split("K2", "2026-03-03T10:00", "40000.00", "s2", "s1").pay("K2", "2026-03-03T11:00", "40000.00")
    book.refund("K1", "2026-04-05T10:00", "12000.00")
    book.cancel("K2", "2026-04-06T10:00")
    return book


@pytest.mark.parametrize("preset, march_rules, april_rules", [
    ("realty", {"R-CM-1"}, {"R-CM-2"}),
    ("campus", {"R-CM-3"}, {"R-CM-3"}),
    ("fitness", {"R-CM-4"}, set()),
])
def test_R_CM_each_preset_applies_its_own_commission_rules(preset, march_rules, april_rules):
    book = mixed_book(preset)
    rules = lambda r: {l["rule"] for s in r["statements"] for l in s["lines"]}
    assert rules(book.month("2026-03")) == march_rules
    assert rules(book.month("2026-04")) == april_rules


@pytest.mark.parametrize("preset, march, april", [
    # s1 both lines met: K1 100000 × 2.3‰ + 20000 × 2.5‰ = 280, its half of K2 above the red line 50;
    # s2 no target: 20000 × 1.8‰ = 36. April: 10% of K1's 280 and all of K2 back.
    ("realty", {"s1": "330.00", "s2": "36.00"}, {"s1": "-78.00", "s2": "-36.00"}),
    ("campus", {"s1": "2400.00", "s2": "600.00"}, {"s1": "-960.00", "s2": "-600.00"}),
    ("fitness", {"s1": "700.00"}, {}),
])
def test_R_CM_each_preset_gives_the_expected_totals(preset, march, april):
    book = mixed_book(preset)
    assert totals(book.month("2026-03")) == march
    assert totals(book.month("2026-04")) == april


@pytest.mark.parametrize("preset", ["realty", "campus", "fitness"])
def test_R_CM_6_every_line_cites_its_rule_and_the_events_it_rests_on(preset):
    book = mixed_book(preset).provider("s3", "C1", "2026-03-09T10:00").referral("L-K1", "13900000009", "2026-03-01T10:00")
    book.sign("K9", "2026-01-05T10:00", "9000.00", "s3", lead="L-K9")
    for month in ("2026-01", "2026-03", "2026-04", "2026-05"):
        result = book.month(month)
        everything = [l for s in result["statements"] + result["customer_rewards"] for l in s["lines"]]
        for l in everything:
            assert l["rule"].startswith("R-CM-")
            assert l["rests_on"] and all(isinstance(seq, int) and 1 <= seq <= book.seq for seq in l["rests_on"])
            if l["contract"] is None:
                assert l["lead"] or l["reason"]
        for s in result["statements"] + result["customer_rewards"]:
            assert s["total"] == _sum(l["amount"] for l in s["lines"])


def _sum(amounts) -> str:
    return f"{sum((Decimal(a) for a in amounts), Decimal('0.00')):.2f}"


def test_R_CM_6_statements_are_sorted_by_consultant_and_amounts_have_two_decimals():
    book = Book().sign("K1", "2026-03-02T10:00", "100000.00", "zed").sign("K2", "2026-03-03T10:00", "100000.00", "amy")
    result = book.month("2026-03")
    assert [s["consultant"] for s in result["statements"]] == ["amy", "zed"]
    assert all(l["amount"] == "180.00" for s in result["statements"] for l in s["lines"])


def test_R_CM_6_a_month_without_lines_has_no_statements():
    assert acceptance_book().month("2027-05") == {"month": "2027-05", "statements": [], "customer_rewards": []}


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "", "2026-00"])
def test_a_malformed_month_is_an_input_error(month):
    with pytest.raises(InputError, match="YYYY-MM"):
        acceptance_book().month(month)


# ------------------------------------------------------------------ CSV rows


def test_statement_rows_give_a_header_one_row_per_line_and_a_total_per_consultant():
    rows = statement_rows(acceptance_book().month("2026-11"))
    assert rows[0] == ["consultant", "rule", "contract/lead", "basis", "rate", "amount"]
    assert rows[1] == ["s1", "R-CM-1", "KA", "1200000.00", "0.0023 on 1000000.00; 0.0025 on 200000.00", "2800.00"]
    assert rows[4] == ["s1", "total", "", "", "", "4050.00"]
    assert rows[-1] == ["s2", "total", "", "", "", "2000.00"]
    assert len(rows) == 1 + 3 + 1 + 2 + 1
    assert all(isinstance(cell, str) for row in rows for cell in row)


def test_statement_rows_list_customer_rewards_masked_after_the_consultants():
    book = Book("fitness").referral("F2", "13900000001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2")
    book.sign("K3", "2027-01-03T10:00", "8000.00", "s1")
    rows = statement_rows(book.month("2027-01"))
    assert rows[-2] == ["customer:*******0001", "R-CM-4", "lead:F2", "300.00", "", "300.00"]
    assert rows[-1] == ["customer:*******0001", "total", "", "", "", "300.00"]
    assert rows[1][0] == "s1"
    assert not any("13900000001" in cell for row in rows for cell in row)


def test_statement_rows_defuse_text_cells_a_spreadsheet_would_run_as_formulas():
    book = Book().sign("K1", "2026-03-02T10:00", "100000.00", "=HYPERLINK")
    rows = statement_rows(book.month("2026-03"))
    assert rows[1][0] == "'=HYPERLINK"
    book.refund("K1", "2026-04-02T10:00", "100000.00")
    assert statement_rows(book.month("2026-04"))[1][-1] == "-180.00"  # numbers stay numbers


def test_R_CM_1_a_contract_signed_before_a_switch_to_tiered_counts_toward_S_but_earns_no_tier_line():
    book = Book("campus").target("s1", "2026-03", "1000000.00", "0")
    book.sign("K1", "2026-03-02T10:00", "900000.00", "s1")
    book.adopt("2026-03-10T00:00", "realty")
    book.sign("K2", "2026-03-12T10:00", "200000.00", "s1")  # 100000 within, 100000 above the red line
    result = book.month("2026-03")
    assert lines(result, "s1") == [("R-CM-1", "K2", "480.00")]
    assert result["statements"][0]["tier"]["signed"] == "1100000.00"


def test_R_CM_3_campus_statements_carry_no_tier_information():
    book = Book("campus").target("s1", "2026-03", "1", "1").sign("K1", "2026-03-02T10:00", "100.00", "s1")
    book.pay("K1", "2026-03-02T11:00", "100.00")
    assert "tier" not in book.month("2026-03")["statements"][0]
