"""What-if (RULEBOOK R-WI-1) and fairness: the comparison of two folds of one history.

Pure: the shell (`commands.whatif`) folds the team's history twice -- as adopted and under the
alternative -- and hands this module the two states; nothing here reads a clock or a store.

- `alternative_history(records, start, adoption)`: the history under the alternative policy: the
  same events, every `PolicyAdopted` at or after `start` left out and `adoption` (at `start`)
  put in their place. Folding it is the alternative replay; folding the prefix before `start`
  is the same in both, which is why the shell folds it once.
- `observe(state, ...)`: what a comparison reads off one replay at the end of the period.
- `compare(actual, alternative)`: per consultant, leads and turns (R-RT-7) over the period and
  commission over the months it covers, each an {"actual", "alternative"} pair, and every lead
  whose customer ends the period with another owner.
- `fairness(side, ...)`: per channel, each eligible consultant's share of turns and leads
  against an equal share, the spread (max - min) and the Gini coefficient of the counts.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

from ledger import events as E

from . import queries
from .engine import TeamState

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Side:
    """One replay observed at the end of the period (`observe`): the `turns` rows of its dates,
    each lead's owner and rule, the roster; `commission`: the `commission --json` answer of each
    month the period covers (whole), folded to the end of the last one."""

    rows: list[dict]
    owners: dict[str, tuple[str | None, str | None]]  # lead -> (owner, rule), in arrival order
    seats: dict[str, int]
    names: dict[str, str]
    eligible: dict[str, list[str]]
    timeline: dict | None = None  # `explain` of the lead asked about
    commission: dict[str, dict] = dataclasses.field(default_factory=dict)

    def counts(self) -> dict[str, list[int]]:
        """consultant -> [turns, leads] summed over channels (R-RT-7)."""
        totals: dict[str, list[int]] = {}
        for row in self.rows:
            total = totals.setdefault(row["consultant"], [0, 0])
            total[0] += row["turns"]
            total[1] += row["leads"]
        return totals

    def earned(self) -> dict[str, Decimal]:
        """consultant -> commission summed over the months."""
        totals: dict[str, Decimal] = {}
        for answer in self.commission.values():
            for statement in answer["statements"]:
                who = statement["consultant"]
                totals[who] = totals.get(who, ZERO) + Decimal(statement["total"])
        return totals


def observe(actual: TeamState, alternative: TeamState, date_from: dt.date, date_to: dt.date,
            window: tuple[dt.datetime, dt.datetime], lead: str | None = None) -> tuple[Side, Side]:
    """What a what-if compares, read off the two replays folded to the end of `date_to`: every
    lead's owner (read in bulk: a restored state fetches its kept values at once)."""
    sides = []
    for state in (actual, alternative):
        for kept in (state.leads, state.customers):
            kept.values()  # every value a checkpoint kept apart, in one fetch
        sides.append(side_of(state, set(state.leads), date_from, date_to, window, lead))
    return tuple(sides)


def side_of(state: TeamState, leads: set[str], date_from: dt.date, date_to: dt.date,
          window: tuple[dt.datetime, dt.datetime], lead: str | None = None) -> Side:
    """One replay observed at the end of `date_to` (its clock), the owners of `leads` only."""
    arrived = sorted((lead.at, lid) for lid, lead in state.leads.items() if lid in leads and lead.at <= state.clock)
    owners = {lid: queries.owner_and_rule(state, lid) for _, lid in arrived}
    return Side(
        rows=queries.turns(state, date_from, date_to)["rows"],
        owners=owners,
        seats={cid: c.seat for cid, c in state.consultants.items()},
        names={cid: c.name for cid, c in state.consultants.items()},
        eligible=eligible(state, *window),
        timeline=_timeline(state, lead) if lead is not None else None,
    )


def alternative_history(records: Iterable[E.Recorded], start: dt.datetime,
                        adoption: E.Recorded) -> list[E.Recorded]:
    """R-WI-1: `records` with every adoption from `start` on replaced by `adoption`."""
    kept = [rec for rec in records if not (isinstance(rec.event, E.PolicyAdopted) and rec.event.at >= start)]
    return sorted(kept + [adoption], key=lambda rec: rec.key)


def compare(actual: Side, alternative: Side) -> dict[str, Any]:
    """`whatif --json` without its period keys (INTERCHANGE.md): consultants in seat order (as
    `turns`), then id; owners changed in the order the leads arrived."""
    counts = (actual.counts(), alternative.counts())
    earned = (actual.earned(), alternative.earned())
    people = set().union(*counts, *earned)
    seat = {**alternative.seats, **actual.seats}
    rows = []
    for cid in sorted(people, key=lambda c: (seat.get(c, 0), c)):
        a, b = (side.get(cid, [0, 0]) for side in counts)
        rows.append({
            "consultant": cid,
            "leads": {"actual": a[1], "alternative": b[1]},
            "turns": {"actual": a[0], "alternative": b[0]},
            "commission": {"actual": _money(earned[0].get(cid, ZERO)),
                           "alternative": _money(earned[1].get(cid, ZERO))},
        })
    return {"consultants": rows, "owners_changed": owners_changed(actual, alternative)}


def owners_changed(actual: Side, alternative: Side) -> list[dict[str, Any]]:
    """Every lead whose customer has another owner at the end of the period in the two replays,
    with the rule that gave each its owner (R-RT-7 table)."""
    changed = []
    for lead, (was, was_rule) in actual.owners.items():
        would, would_rule = alternative.owners.get(lead, (was, was_rule))
        if was != would:
            changed.append({"lead": lead, "actual": was, "alternative": would,
                            "rule": {"actual": was_rule, "alternative": would_rule}})
    return changed


def _timeline(state: TeamState, lead: str) -> dict[str, Any]:
    """The lead's `explain` (the late-recording marks left out: they are about the recording
    clock, not the policy, and the alternative's adoption is recorded last)."""
    answer = queries.explain(state, lead)
    for item in answer["timeline"]:
        item.pop("changed_by_late", None)
        item.pop("recorded_late", None)
    return answer


def fairness(side: Side) -> list[dict[str, Any]]:
    """Per channel with any turn or lead in the period: each eligible consultant's turns and
    leads, their shares against the equal share 1/n, the spread (max - min share) and the Gini
    coefficient of the counts. Eligible: the consultants on the roster during the period for a
    channel that rotates (`eligible`), and anyone with a turn or lead in the channel."""
    per_channel: dict[str, dict[str, list[int]]] = {}
    for row in side.rows:
        per_channel.setdefault(row["channel"], {})[row["consultant"]] = [row["turns"], row["leads"]]
    out = []
    for channel in sorted(per_channel):
        got = per_channel[channel]
        people = list(dict.fromkeys([*side.eligible.get(channel, []), *got]))
        turns = [got.get(cid, [0, 0])[0] for cid in people]
        leads = [got.get(cid, [0, 0])[1] for cid in people]
        out.append({
            "channel": channel,
            "eligible": len(people),
            "equal_share": _ratio(Fraction(1, len(people))),
            "consultants": [{"consultant": cid, "turns": t, "leads": n,
                             "turn_share": _share(t, sum(turns)), "lead_share": _share(n, sum(leads))}
                            for cid, t, n in zip(people, turns, leads)],
            "spread": {"turns": _spread(turns), "leads": _spread(leads)},
            "gini": {"turns": _gini(turns), "leads": _gini(leads)},
        })
    return out


def eligible(state: TeamState, start: dt.datetime, end: dt.datetime) -> dict[str, list[str]]:
    """channel -> the consultants on the roster at some moment of [start, end] (joined by its
    end, not left before its start), in seat order, for every channel that rotates under a
    policy in force then (R-CH-1: the policy's `orders`)."""
    roster = [c.id for c in sorted(state.consultants.values(), key=lambda c: (c.seat, c.id))
              if c.joined_at <= end and (c.left_at is None or c.left_at >= start)]
    before = [policy for since, policy in state.policies if since <= start]
    in_force = before[-1:] + [policy for since, policy in state.policies if start < since <= end]
    return {channel: roster for policy in in_force for channel in policy.orders}


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _ratio(value: Fraction) -> float:
    return round(float(value), 4)


def _share(part: int, whole: int) -> float:
    return _ratio(Fraction(part, whole)) if whole else 0.0


def _spread(counts: list[int]) -> float:
    whole = sum(counts)
    return _ratio(Fraction(max(counts) - min(counts), whole)) if whole else 0.0


def _gini(counts: list[int]) -> float:
    """Mean absolute difference over twice the mean: 0 equal, (n-1)/n one takes all."""
    whole, n = sum(counts), len(counts)
    if not whole:
        return 0.0
    ordered = sorted(counts)
    weighted = sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(ordered))
    return _ratio(Fraction(weighted, n * whole))
