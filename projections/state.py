"""The state of one team's fold: plain data, no rule and no pickling logic (how these classes
pickle into a checkpoint is registered in `projections.checkpoint`).

`TeamState` holds everything derived; `Consultant`, `Sanction`, `Queue`, `Lead`, `Customer`
(with its timeline of `Entry`), `Violation`, `ContractState` are its parts; a `Route` is how a
lead would be allocated (R-OW-4), computed by `rules.rotation` and applied by `rotation.commit`.
`TeamState.timers` is a heap of (instant, priority, counter, kind, payload); `schedule` pushes
one and `projections.fold` fires them.
"""
from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from ledger import events as E
from ledger.policy import Policy, build_policy

from .calendar import Calendar
from .facts import MoneyFacts, MoneyIndex
from .lazy import LazyDict, open_timeline

ZERO = Decimal("0")
ONE = Decimal("1")
HALF = Decimal("0.5")

# timer priorities at one instant
P_DEADLINE, P_MONTH, P_WEEK, P_DEFER = 0, 1, 2, 3


class NeedsFullReplay(Exception):
    """A state restored by `load_checkpoint` holds no records, so it cannot re-fold by itself
    (a link, or an event earlier than its clock): replay from the full history instead."""


@dataclass
class Consultant:
    id: str
    name: str
    seat: int
    joined_at: dt.datetime
    seq: int
    left_at: dt.datetime | None = None
    presence: str = "on_post"
    presence_seq: int = 0
    sanctions: list = field(default_factory=list)  # Sanction, possibly in force
    mkt_history: deque = field(default_factory=deque)  # (at, lead) marketing leads received (R-RT-8)
    mkt_pending: dict = field(default_factory=dict)  # lead -> arrival, not followed up (R-FU-3)

    @property
    def left(self) -> bool:
        return self.left_at is not None


@dataclass
class Sanction:
    id: str
    consultant: str
    kind: str  # suspend | skip | throttle
    channels: tuple  # as imposed; "*" = all
    rule: str
    start: dt.datetime
    until: dt.datetime | None
    reason: str
    seq: int | None  # the imposing event; None when derived
    derived: bool = False
    turns_left: int = 0
    take: int = 0
    of: int = 0
    reaches: dict = field(default_factory=dict)  # channel -> reaches so far (R-SA-3)
    lifted_at: dt.datetime | None = None
    lift_seq: int | None = None

    def covers(self, channel: str) -> bool:
        return "*" in self.channels or channel in self.channels

    def live(self, t: dt.datetime) -> bool:
        if t < self.start or (self.until is not None and t >= self.until):
            return False
        if self.lifted_at is not None and self.lifted_at <= t:
            return False
        return self.kind != "skip" or self.turns_left > 0


@dataclass
class Queue:
    up: str | None = None  # the consultant who is up; None = the first of the order
    bonus_for: str | None = None  # R-RT-4: the pointer stays on them for their bonus leads
    bonus_left: int = 0  # how many bonus leads they are still due (0 from an older state: one)
    last_seq: int | None = None  # the event that last moved the pointer


class Entry(NamedTuple):
    """One line of a customer's timeline (R-OW-6)."""

    at: dt.datetime
    seq: int | None
    type: str
    summary: str
    owner: str | None
    rule: str | None
    lead: str | None = None
    rests_on: tuple = ()
    candidates: tuple = ()  # (consultant, outcome, why)


@dataclass
class Lead:
    id: str
    channel: str
    at: dt.datetime
    seq: int
    customer: str
    date: dt.date
    phone: str | None
    taken_by: str | None
    callback_on: dt.date | None
    owner: str | None = None  # the owner its own decision gave
    rule: str | None = None
    tick: int = 0  # when its decision was taken (compare Customer.tick)
    deferred: bool = False
    deadline: dt.datetime | None = None
    reassigned: bool = False
    converted: bool = False  # R-RT-8
    counted_lead: tuple | None = None  # (consultant, channel, date) of its lead count
    candidates: tuple = ()
    rests_on: tuple = ()


@dataclass
class Violation:
    lead: str
    consultant: str
    at: dt.datetime
    seq: int


@dataclass
class Customer:
    id: str
    owner: str | None = None
    rule: str | None = None
    tick: int = 0  # when the owner last changed
    owner_since: dt.datetime | None = None
    last_touch: dt.datetime | None = None  # R-ID-3
    via: str | None = None  # channel of the lead through which the owner holds it (R-OW-3c)
    split_with: str | None = None  # R-OW-2a receiver
    ruling: str | None = None  # R-OW-0
    ruling_at: dt.datetime | None = None
    claims: list = field(default_factory=list)  # (lead, consultant, at, reason, seq) since the ruling
    contested: bool = False  # a claim disagreed with the derived owner when made (R-OW-7)
    violations: list = field(default_factory=list)  # Violation since the ruling (R-OW-8)
    leads: list = field(default_factory=list)
    contracts: list = field(default_factory=list)  # contract ids
    last_owner_fu: dt.datetime | None = None  # latest follow-up by the then owner
    inbound: dict = field(default_factory=dict)  # consultant -> latest inbound follow-up time
    followed: dict = field(default_factory=dict)  # consultant -> latest follow-up time (R-FU-3)
    pending_3b: tuple | None = None  # (date, previous owner, lead, receiver)
    timeline: list = field(default_factory=list)
    grade: str | None = None
    grade_at: dt.datetime | None = None
    moved_at: dt.datetime | None = None  # last R-FU-2 reassignment

    # A checkpoint keeps each timeline as its own pickle, opened only when it is read
    # (`projections.checkpoint`): most customers of a long history are never explained again.
    def __getattr__(self, name: str):
        if name == "timeline":
            return open_timeline(self)
        raise AttributeError(name)


@dataclass
class ContractState:
    owner: str | None
    refunded: Decimal = ZERO
    cancelled: bool = False


@dataclass
class Route:
    """How a lead would be allocated by its channel (R-OW-4): shift rules, then rotation."""

    kind: str  # rotation | weighted | shift | overtime | deferred | none | maker
    rule: str
    receiver: str | None
    queue: str | None = None
    date: dt.date | None = None
    candidates: list = field(default_factory=list)
    new_up: str | None = None
    new_bonus: str | None = None
    new_bonus_left: int = 0
    move_pointer: bool = False
    skips: list = field(default_factory=list)
    reaches: list = field(default_factory=list)  # (sanction, channel)
    busy: list = field(default_factory=list)
    scores: dict | None = None
    ot_key: tuple | None = None
    rests: list = field(default_factory=list)


class TeamState:
    """All derived state of one team; plain data, picklable as a checkpoint (`projections.checkpoint`)."""

    # Observers (the persisted read models, projections.models) set a set here: every customer
    # whose timeline grows -- every change of its owner, rule, claims or disputes -- is added.
    touched: set | None = None

    def __init__(self, team: str | None = None):
        self.team = team
        self.clock: dt.datetime | None = None
        self.policies: list[tuple[dt.datetime, Policy]] = []
        self.policy: Policy = build_policy("campus")
        self.policy_seq: int | None = None
        self.cal = Calendar(self.policy)
        # A command reads a handful of a year's contracts: each is unpickled on first read.
        self.money = MoneyFacts(contracts=LazyDict(), referral_sources=LazyDict(), index=MoneyIndex())
        self._records: list = []  # Recorded folded so far, in key order (see `records`)
        self._packed: list = []  # older records in their JSON form (checkpoints stay light)
        self.seen: set[int] = set()
        self.last_key: tuple | None = None
        self.late_seqs: set[int] = set()  # R-T-5: recorded after an event with a later `at`
        self.unlate: list[int] = []  # folded seqs not (yet) known to be late, ascending
        self.link_plan: tuple = ()  # link facts the identity mapping uses
        self.link_facts: list = []  # link facts folded so far
        self.alias: dict[str, str] = {}
        self.split_off: set[str] = set()
        self.consultants: dict[str, Consultant] = {}
        self.seat_order: list[str] = []
        self.rank_order: list[str] = []
        self.rank_rev: dict[str, Decimal] = {}
        self.top_earner: str | None = None
        self.week_monday: dt.date | None = None
        self.queues: dict[str, Queue] = {}
        self.ot_queues: dict[str, tuple] = {}  # channel -> (date, up)
        self.scores: dict[str, Fraction] = {}
        self.shifts: dict[dt.date, dict] = {}
        self.sanctions: dict[str, Sanction] = {}
        self.leads: dict[str, Lead] = LazyDict()
        self.customers: dict[str, Customer] = LazyDict()
        self.contracts: dict[str, ContractState] = {}
        self.counts: dict[tuple, list] = {}  # (consultant, channel, date) -> [turns, leads]
        self.rev_window: dict[dt.date, dict[str, Decimal]] = {}
        self.rev_month: dict[tuple, dict[str, Decimal]] = {}
        self.rev_month_seqs: dict[tuple, dict[str, list[int]]] = {}  # the movements behind rev_month
        self.metrics: dict[tuple, dict[str, int]] = {}  # (window key, metric) -> consultant -> n
        self.timers: list = []
        # indexes for the queries (projections.indexes): what changed since they were refreshed
        self.changed: set[str] = set()
        self.changed_all = False
        self.duties: dict[str, tuple] = {}  # customer -> (due, lead, rule, owner, grade)
        self.disputed: set[str] = set()  # customers
        self.deferred: dict[str, tuple] = {}  # customer -> its deferred leads
        self.timer_counter = 0
        self.tick = 0
        self.list_swap_last: str | None = None  # the month (YYYY-MM) whose start was handled last
        self.adopted = False

    @property
    def tz(self):
        return self.cal.tz

    @property
    def records(self) -> list:
        """Every record folded so far, in key order (kept for re-folds: links, late events)."""
        if self.__dict__.get("records_dropped"):
            raise NeedsFullReplay("this state was restored from a light checkpoint without its records")
        if self._packed:
            unpacked = [E.Recorded(seq, E.parse_event(json.loads(text))) for seq, text in self._packed]
            self._records = unpacked + self._records
            self._packed = []
        return self._records

    # -- helpers used by queries too
    def policy_at(self, at: dt.datetime) -> Policy:
        chosen = self.policy
        for since, policy in self.policies:
            if since <= at:
                chosen = policy
        return chosen

    def customer_of(self, lead: str) -> Customer:
        return self.customers[self.leads[lead].customer]

    def active(self, cid: str) -> bool:
        c = self.consultants.get(cid)
        return c is not None and c.left_at is None


def lead_customer(state: TeamState, lead_id: str) -> tuple[Lead | None, Customer | None]:
    lead = state.leads.get(lead_id)
    if lead is None:
        return None, None
    return lead, state.customers[lead.customer]


def schedule(state: TeamState, instant: dt.datetime, prio: int, kind: str, payload: Any) -> None:
    state.timer_counter += 1
    # in the events' own shared zone object: `apply` compares the first timer with every event
    heapq.heappush(state.timers, (E.shared_zone(instant), prio, state.timer_counter, kind, payload))
