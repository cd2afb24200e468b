"""The payroll CSV's rows (commands.payroll): lines without totals, totals apart, cells defused."""
from __future__ import annotations

from decimal import Decimal

from commands import payroll
from tests.unit.test_commission import Book, acceptance_book

NAMES = {"s1": "王芳", "s2": "=cmd"}


def test_the_lines_carry_team_month_and_name_and_their_amounts_sum_to_the_totals():
    answer = acceptance_book().month("2026-11")
    rows = payroll.rows(answer, "jz", "2026-11", NAMES)
    assert rows[0] == list(payroll.LINE_COLUMNS)
    assert rows[1] == ["jz", "2026-11", "s1", "王芳", "R-CM-1", "KA", "1200000.00",
                       "0.0023 on 1000000.00; 0.0025 on 200000.00", "2800.00"]
    assert "total" not in {row[4] for row in rows}
    assert sum(Decimal(row[-1]) for row in rows[1:]) == sum(Decimal(s["total"]) for s in answer["statements"])
    assert {row[3] for row in rows[1:]} == {"王芳", "'=cmd"}  # a name a spreadsheet would run is defused


def test_the_totals_are_one_row_per_payee_with_their_line_count():
    rows = payroll.rows(acceptance_book().month("2026-11"), "jz", "2026-11", NAMES, totals=True,
                        gettext={"total": "合计"}.get)
    assert rows[0][-1] == "合计"
    assert rows[1:] == [["jz", "2026-11", "s1", "王芳", "3", "4050.00"], ["jz", "2026-11", "s2", "'=cmd", "2", "2000.00"]]


def test_customer_rewards_follow_masked_and_the_bytes_are_bom_and_crlf():
    book = Book("fitness").referral("F2", "13900000001", "2026-11-10T10:00")
    book.sign("K2", "2026-11-15T10:00", "8000.00", "s1", lead="F2")
    book.sign("K3", "2027-01-03T10:00", "8000.00", "s1")
    rows = payroll.rows(book.month("2027-01"), "fit", "2027-01", {})
    assert rows[-1] == ["fit", "2027-01", "customer:*******0001", "", "R-CM-4", "lead:F2", "300.00", "", "300.00"]
    data = payroll.csv_bytes(rows)
    assert data.startswith("\ufeffteam,month,".encode()) and data.count(b"\r\n") == len(rows)
    assert b"13900000001" not in data
