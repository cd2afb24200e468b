"""Synthetic event histories: realistic, deterministic, streamed (`ledger generate`).

`generate(seed, teams, days, start)` yields interchange event dicts (INTERCHANGE.md) in
recording order. Everything comes from `random.Random(seed)`: no clock, no global randomness.

Each team is simulated in time order with a small model of the rulebook (seat and ranking
rotation with the R-RT-4 bonus, weighted marketing with the R-FU-3 hold, shift windows,
overtime and deferral, presence, named, signed, referred and duplicate customers, penalties and
weekly sanctions, R-FU-2 reassignment) so that follow-ups, grades and invitations are logged by
the consultant who owns the customer. The model is not the engine and drifts slowly (it agrees
with `projections.engine` on 95-99 % of a campus or realty team's leads over a few months); where
it is wrong, a follow-up is simply by a non-owner, which the engine treats like a missing one.

Layout of a history: a team is set up on the evening before `start` (PolicyAdopted, the roster,
the first day's shifts, realty targets); days `start .. start + days - 1` follow. Teams are
interleaved day by day, so the file is close to chronological; about 1 % of presence changes
and follow-ups are recorded late (back-dated: after events with a later `at`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import random
import sys
from collections import Counter, deque
from contextlib import nullcontext
from fractions import Fraction
from typing import IO, Any, Callable, Iterable, Iterator

from ledger.policy import build_policy

DAY = 86400
WEEK = 7 * DAY
OFFSET = "+08:00"  # Asia/Shanghai has no daylight saving time
TIMEZONE = "Asia/Shanghai"

_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = [
    "芳", "娜", "伟", "洋", "静", "磊", "敏", "静怡", "丽", "强", "军", "杰", "婷", "霞", "勇", "艳", "秀英",
    "涛", "明", "超", "秀兰", "娟", "鹏", "浩", "宇", "欣", "晨", "琳", "雪", "佳", "倩", "颖", "晓东", "海燕",
    "文博", "子涵", "思远", "梓萱", "一鸣", "嘉怡", "志强", "雨桐", "俊杰", "晓明", "丹", "凯", "帆", "蕾",
]
SUPERVISOR = {"campus": "主任", "realty": "主管", "fitness": "店长"}

FOLLOW_NOTES = [
    "已加微信,发了课程介绍", "家长考虑中,周末再联系", "约周六上午试听", "电话未接通,已发短信",
    "家长询问价格,已报价", "孩子期中考试后再定", "已约到校面谈", "家长比较关注师资", "回访:对课程满意",
    "约看样板间", "客户对户型有兴趣", "已邀约周日到店体验", "家长说要和家人商量",
]
INBOUND_NOTES = ["家长来电询问课程", "家长主动发微信咨询", "客户来电找顾问", "家长来电确认试听时间"]
CLAIM_REASONS = [
    "这位家长上周就是我联系的,有通话记录", "家长来访时说找我", "我之前在市场活动登记过这位家长",
    "客户上个月来过售楼处,是我接待的", "家长微信里一直在和我沟通",
]
RULING_REASONS = [
    "主任裁定:以第一跟踪咨询师为准", "主任裁定:有通话记录为证,归原咨询师", "主任裁定:按制度对号入座",
    "主任裁定:家长当日来电指明找该咨询师", "主任裁定:证据不足,维持轮接结果",
]
PENALTIES = [
    ("suspend", ["*"], "R-SA-6", "不记不报抢接电话,停接一周"),
    ("suspend", ["hq_referral", "internal_referral"], "R-SA-6", "推荐电话未按规定轮接,停接推荐一周"),
    ("skip", ["hotline"], "R-SA-2", "热线接听未登记,轮空一次"),
    ("skip", ["walk_in"], "R-SA-2", "来访接待不规范,轮空一次"),
    ("throttle", ["hotline"], "R-SA-3", "回访率低,两轮排一轮"),
]

# Channel mixes (weights) per preset.
CHANNEL_MIX = {
    "campus": {"hotline": 26, "online": 20, "hq_referral": 10, "internal_referral": 6, "walk_in": 12,
               "marketing": 9, "conference": 4, "customer_referral": 5, "outbound": 8},
    "realty": {"hotline": 32, "walk_in": 36, "online": 8, "customer_referral": 8, "outbound": 10,
               "marketing": 4, "hq_referral": 2},
    "fitness": {"walk_in": 22, "marketing": 28, "customer_referral": 14, "hotline": 12, "online": 12,
                "outbound": 10, "conference": 2},
}
# Lead volume by hour of day (local): mostly 09:00-18:00, some early/late/off hours.
HOUR_WEIGHTS = [0.05, 0.05, 0.03, 0.03, 0.03, 0.05, 0.2, 0.8, 3, 8, 10, 10, 6, 8, 10, 10, 9, 8, 5, 4, 2.5,
                0.8, 0.4, 0.2]
PRICES = {
    "campus": [3800, 6800, 9800, 12800, 12800, 16800, 19800, 25800, 32800],
    "realty": [1280000, 1560000, 1880000, 2150000, 2680000, 3200000, 3850000],
    "fitness": [2980, 3980, 5800, 6800, 8800, 12800],
}


def _cum(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


_HOUR_CUM = _cum(HOUR_WEIGHTS)
DEFER = "(deferred)"  # R-SH-5: allocate() found nobody in an off-hours shift channel
_ROSTER = {"ConsultantJoined", "ConsultantLeft", "SeatsSwapped", "PolicyAdopted"}

# Tunable rates; the demo fixture overrides some of them.
DEFAULT_RATES: dict[str, float] = {
    "duplicate": 0.10, "named": 0.03, "prior_contact": 0.02, "taken_by": 0.02, "callback": 0.03,
    "format_variant": 0.10, "followup": 0.92, "followup_inbound": 0.15, "followup_extra": 0.8,
    "contract": 0.30, "renewal": 0.04, "refund": 0.05, "cancel": 0.03, "grade": 0.10,
    "grade_confirm": 0.70, "invitation": 0.35, "visit": 0.60, "claim": 0.25, "ruling": 0.75,
    "penalty": 0.10, "lift": 0.30, "leave_day": 0.02, "episodes": 2.5, "quit": 1 / 45,
    "hire": 1 / 40, "swap": 1 / 25, "late": 0.01, "overtime_weekend": 0.6, "overtime_weekday": 0.1,
    "shift_reassign": 0.03, "weekend_factor": 0.75,
}


class _Consultant:
    __slots__ = ("id", "name", "seat", "joined", "left", "presence", "susp", "skips", "throttles", "score", "mkt",
                 "mkt_pending")

    def __init__(self, cid: str, name: str, seat: int, joined: int):
        self.id, self.name, self.seat, self.joined = cid, name, seat, joined
        self.left = False
        self.presence = "on_post"
        self.susp: list[tuple[frozenset[str] | None, int, int, str]] = []  # (channels|None=all, from, until, id)
        self.skips: dict[str, list] = {}  # channel -> [remaining, penalty id]
        self.throttles: dict[str, list] = {}  # channel -> [take, of, reaches, penalty id, until]
        self.score = Fraction(0)  # R-RT-8
        self.mkt: deque[tuple[int, _Customer]] = deque()  # marketing leads received (R-RT-8)
        self.mkt_pending: dict[str, tuple[int, _Customer]] = {}  # R-FU-3


class _Customer:
    __slots__ = ("phone", "owner", "touch", "fu_at", "via_referral", "ruled", "signed", "leads", "inbound",
                 "last_at")

    def __init__(self, phone: str):
        self.phone = phone
        self.owner: str | None = None
        self.touch = -10**9
        self.fu_at = -10**9
        self.via_referral = False
        self.ruled = False
        self.signed: list[_Contract] = []
        self.leads: list[str] = []
        self.inbound: dict[str, int] = {}  # consultant -> latest inbound contact (R-OW-3b evidence)
        self.last_at = 0  # arrival of the latest lead (R-FU-4 deals oldest first)


class _Contract:
    __slots__ = ("id", "lead", "amount", "credit", "paid", "refunded", "cancelled", "deposit", "at")

    def __init__(self, cid: str, lead: str, amount: int, credit: str | None, deposit: bool, at: int):
        self.id, self.lead, self.amount, self.credit, self.deposit, self.at = cid, lead, amount, credit, deposit, at
        self.paid = 0
        self.refunded = 0
        self.cancelled = False

    @property
    def live(self) -> bool:
        """R-OW-1: neither cancelled nor fully refunded."""
        return not self.cancelled and self.refunded < self.amount and self.credit is not None


class TeamSim:
    """One team, simulated day by day; `run_day(d)` returns that day's events in recording order."""

    def __init__(self, rng: random.Random, team: str, preset: str, start: dt.date, leads_per_day: int,
                 rates: dict[str, float] | None = None,
                 setup_at: int = -DAY + 17 * 3600, lead_prefix: str = "L", contract_prefix: str = "K"):
        self.rng = rng
        self.team = team
        self.preset = preset
        self.start = start
        self.leads_per_day = leads_per_day
        self.rates = {**DEFAULT_RATES, **(rates or {})}
        self.policy = build_policy(preset)
        p = self.policy
        self.early_start = p.early_start.hour * 3600 + p.early_start.minute * 60
        self.day_start = p.day_start.hour * 3600 + p.day_start.minute * 60
        self.day_end = p.day_end.hour * 3600 + p.day_end.minute * 60
        self.late_end = p.late_end.hour * 3600 + p.late_end.minute * 60
        self.shift_channels = {c.value for c in p.shift_channels}
        self.orders = {c.value: m for c, m in p.orders.items()}
        self.bonus_channels = {c.value for c in p.bonus_channels}
        self.reassign_channels = {c.value for c in p.followup_reassign_channels}
        self.tracking = p.tracking_days * DAY
        self.mkt_window = p.marketing_window_days * DAY
        self.mkt_hold = p.marketing_followup_hours * 3600
        self.mkt_min = p.marketing_min_weight
        self.routed: str | None = None
        self.took = False
        self.shift_violation = p.shift_violation_sanction
        self.list_swap = p.list_swap
        self.customers: list[_Customer] = []  # every customer, kept only for R-FU-4
        self.supervisor = SUPERVISOR.get(preset, "主管")
        mix = CHANNEL_MIX[preset]
        self.channels = list(mix)
        self.channel_cum = _cum(mix.values())
        self.prices = PRICES[preset]
        self.setup_at = setup_at
        self.lead_prefix, self.contract_prefix = lead_prefix, contract_prefix

        self.cons: dict[str, _Consultant] = {}
        self.order: list[_Consultant] = []  # active, by seat
        self.names_used: set[str] = set()
        self.next_cid = 1
        self.next_seat = 1
        self.n_lead = self.n_contract = self.n_penalty = self.n_event = 0
        self.ids = True
        self.pointers: dict[str, str | None] = {}
        self.bonus_second: dict[str, bool] = {}
        self.rank: list[_Consultant] | None = None  # R-RT-1 ranking order for the week
        self.rank_rev: Counter = Counter()  # last week's revenue, by consultant
        self.top: str | None = None
        self.weekly_susp: dict[str, set[str]] = {}  # consultant -> channels, for the current week
        self.weekly_throttle: dict[str, dict[str, list[int]]] = {}  # consultant -> channel -> [take, of, reaches]
        self.ot_ptr: dict[str, tuple[int | None, str | None]] = {}  # R-SH-4 queue per channel and day
        self.shifts: dict[int, dict[str, Any]] = {}
        self.pending: dict[int, list[tuple[int, Callable, tuple]]] = {}
        self.due: dict[int, list[tuple[str, _Customer, int]]] = {}
        self.recent: deque[_Customer] = deque(maxlen=3000)
        self.recent_leads: deque[tuple[str, _Customer, int]] = deque(maxlen=200)
        self.signed_customers: deque[_Customer] = deque(maxlen=2000)
        self.week_metrics: dict[int, dict[str, Counter]] = {}
        self.month_revenue: dict[tuple[int, int], Counter] = {}
        self.penalties_open: dict[str, _Consultant] = {}
        self.leaving: set[str] = set()
        self.on_leave: dict[int, set[str]] = {}
        # Sunday 20:00 cut-off (R-T-3) as an absolute second.
        self.cut0 = ((6 - start.weekday()) % 7) * DAY + 20 * 3600
        self.day_str: dict[int, str] = {}
        self.out: list[dict] = []
        self.heap: list = []
        self.hseq = 0
        self.now = 0
        self.today = 0
        # hooks for hand-written stories (fixtures/make_demo.py)
        self.story: dict[int, list[tuple[int, Callable, tuple]]] = {}
        self.shift_plan: dict[int, tuple[str, str]] = {}
        self.contracts_from = -10**9  # background contracts are not signed before this
        self._last_customer: _Customer | None = None
        self.trace: dict[str, str | None] | None = None  # lead -> the model's owner, for checking the model

    # ----- time helpers
    def date_of(self, d: int) -> dt.date:
        return self.start + dt.timedelta(days=d)

    def at(self, t: int) -> str:
        d, s = divmod(t, DAY)
        ds = self.day_str.get(d)
        if ds is None:
            ds = self.day_str[d] = self.date_of(d).isoformat()
        return f"{ds}T{_HMS[s]}{OFFSET}"

    def emit(self, t: int, etype: str, /, **fields: Any) -> dict:
        ev = {"type": etype, "team": self.team, "at": self.at(t)}
        ev.update(fields)
        if self.ids:
            self.n_event += 1
            ev["id"] = f"e{self.n_event:07d}"  # idempotency key: re-importing the file is a no-op
        self.out.append(ev)
        return ev

    def schedule(self, t: int, fn: Callable, *args: Any) -> None:
        d = t // DAY
        if d == self.today:
            self.hseq += 1
            heapq.heappush(self.heap, (max(t, self.now), self.hseq, fn, args))
        elif d > self.today:
            self.pending.setdefault(d, []).append((t, fn, args))

    def week_of(self, t: int) -> int:
        return (t - self.cut0) // WEEK

    # ----- roster
    def _new_name(self) -> str:
        rng = self.rng
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in self.names_used:
                self.names_used.add(name)
                return name

    def join(self, t: int, cid: str | None = None, name: str | None = None) -> _Consultant:
        cid = cid or f"c{self.next_cid:02d}"
        self.next_cid += 1
        name = name or self._new_name()
        self.names_used.add(name)
        c = _Consultant(cid, name, self.next_seat, t)
        self.next_seat += 1
        self.cons[cid] = c
        self.order.append(c)
        self._reorder()
        self.emit(t, "ConsultantJoined", consultant=cid, name=name, seat=c.seat)
        if self.preset == "realty":
            d = t // DAY
            self._target(t, c, self.date_of(max(d, 0)))
        return c

    def quit(self, t: int, c: _Consultant) -> None:
        for ch, ptr in list(self.pointers.items()):
            if ptr == c.id:
                seq = self._order_for(ch)
                i = seq.index(c)
                self.pointers[ch] = seq[(i + 1) % len(seq)].id if len(seq) > 1 else None
        c.left = True
        self.order.remove(c)
        self._reorder()
        for pid in [p for p, who in self.penalties_open.items() if who is c]:
            del self.penalties_open[pid]
        self.emit(t, "ConsultantLeft", consultant=c.id)

    def swap(self, t: int, a_id: str | None = None) -> None:
        """R-RO-2: only neighbours in the current seat order (first and last are not adjacent);
        `a_id` swaps with the next seat, else a random neighbouring pair."""
        if len(self.order) < 2:
            return
        if a_id is None:
            i = self.rng.randrange(len(self.order) - 1)
        else:
            i = self.order.index(self.cons[a_id])
            if i == len(self.order) - 1:
                return
        a, b = self.order[i], self.order[i + 1]
        a.seat, b.seat = b.seat, a.seat
        self._reorder()
        self.emit(t, "SeatsSwapped", a=a.id, b=b.id)

    def _reorder(self) -> None:
        self.order.sort(key=lambda x: x.seat)
        rev = self.rank_rev
        self.rank = sorted(self.order, key=lambda c: (-rev.get(c.id, 0), c.seat))

    def _target(self, t: int, c: _Consultant, month_day: dt.date) -> None:
        red = self.rng.choice([2000000, 3000000, 4000000, 5000000])
        green = red // 2
        self.emit(t, "TargetSet", consultant=c.id, month=month_day.strftime("%Y-%m"),
                  red=f"{red}.00", green=f"{green}.00", by=self.supervisor)

    # ----- setup
    def setup(self, roster: list[tuple[str, str]] | None = None, n: int | None = None) -> list[dict]:
        self.out = []
        t = self.setup_at
        self.today = t // DAY
        self.emit(t, "PolicyAdopted", preset=self.preset, timezone=TIMEZONE, by=self.supervisor)
        if roster:
            for cid, name in roster:
                self.join(t, cid, name)
        else:
            for _ in range(n or self.rng.randint(8, 12)):
                self.join(t, None, None)
        self.start_week(0)
        self.assign_shifts(t + 1800, max(0, t // DAY))
        return self.out

    # ----- sanctions and ranking (approximate R-RT-1, R-RT-4, R-SA-4/7)
    def _metrics(self, week: int) -> dict[str, Counter]:
        m = self.week_metrics.get(week)
        if m is None:
            m = self.week_metrics[week] = {k: Counter() for k in ("revenue", "contracts", "deals", "invitations", "visits")}
        return m

    def start_week(self, day: int) -> None:
        monday = day * DAY
        window = self.week_of(monday - 4 * 3600 - 1)
        m = self._metrics(window)
        rev = self.rank_rev = m["revenue"]
        self._reorder()
        # R-RT-4: the window's top earner, among everyone who earned (a leaver included: no bonus then)
        best = max(rev.values(), default=0)
        tops = [cid for cid, amount in rev.items() if amount == best]
        self.top = tops[0] if best > 0 and len(tops) == 1 else None
        for ch, mode in self.orders.items():
            if mode == "ranking":
                self.pointers[ch] = None
                self.bonus_second[ch] = False
        self.weekly_susp = {}
        self.weekly_throttle = {}
        window_start = self.cut0 + window * WEEK
        for ws in self.policy.weekly_sanctions:
            counts = m[ws.metric]
            for c in self.order:
                if c.joined <= window_start and counts.get(c.id, 0) < ws.minimum:
                    if ws.kind.value == "suspend":
                        self.weekly_susp.setdefault(c.id, set()).update(ch.value for ch in ws.channels)
                    elif ws.kind.value == "throttle":
                        for ch in ws.channels:
                            self.weekly_throttle.setdefault(c.id, {})[ch.value] = [ws.take, ws.of, 0]

    def _suspended(self, c: _Consultant, ch: str, t: int) -> bool:
        chans = self.weekly_susp.get(c.id)
        if chans and ch in chans:
            return True
        for chs, f, u, _ in c.susp:
            if f <= t < u and (chs is None or ch in chs):
                return True
        return False

    def _order_for(self, ch: str) -> list[_Consultant]:
        if self.orders.get(ch) == "ranking" and self.rank is not None:
            return self.rank
        return self.order

    def _reach(self, c: _Consultant, ch: str, t: int) -> str:
        """R-RT-2 steps 1-5 for one reach: 'pass', 'busy' (counted pass) or 'take'."""
        if c.left or (c.presence != "on_post" and c.presence != "busy_new") or self._suspended(c, ch, t):
            return "pass"
        sk = c.skips.get(ch)
        if sk and sk[0] > 0:
            sk[0] -= 1
            if sk[0] == 0:
                del c.skips[ch]
                self.penalties_open.pop(sk[1], None)
            return "pass"
        th = c.throttles.get(ch)
        if th and t >= th[4]:
            del c.throttles[ch]
            th = None
        if th:
            th[2] += 1
            if (th[2] - 1) % th[1] >= th[0]:
                return "pass"
        wt = self.weekly_throttle.get(c.id)
        if wt and ch in wt:
            th = wt[ch]
            th[2] += 1
            if (th[2] - 1) % th[1] >= th[0]:
                return "pass"
        return "busy" if c.presence == "busy_new" else "take"

    def rotate(self, ch: str, t: int) -> str | None:
        if ch == "customer_referral":
            ch = "walk_in"
        seq = self._order_for(ch)
        if not seq:
            return None
        ptr = self.pointers.get(ch)
        i = 0
        if ptr is not None:
            for k, c in enumerate(seq):
                if c.id == ptr:
                    i = k
                    break
        n = len(seq)
        if ch in self.bonus_channels and self.bonus_second.get(ch):
            self.bonus_second[ch] = False
            c = seq[i]
            if c.id == self.top and self._reach(c, ch, t) == "take":
                self.pointers[ch] = seq[(i + 1) % n].id
                return c.id
            i = (i + 1) % n
        for k in range(n):
            c = seq[(i + k) % n]
            if self._reach(c, ch, t) == "take":
                if ch in self.bonus_channels and c.id == self.top:
                    self.pointers[ch] = c.id
                    self.bonus_second[ch] = True
                else:
                    self.pointers[ch] = seq[(i + k + 1) % n].id
                return c.id
        return None

    def swap_lists(self, t: int) -> None:
        """R-FU-4: at a month's first 00:00, untracked customers without a contract are dealt again
        over the seat order, oldest last lead first, each to someone on post who was not its owner."""
        released = []
        for cust in self.customers:
            if cust.owner is None or cust.ruled or any(k.live for k in cust.signed):
                continue
            if t - cust.touch <= self.tracking and not self.cons[cust.owner].left:
                continue
            released.append(cust)
        released.sort(key=lambda c: c.last_at)
        order, pos = self.order, 0
        for cust in released:
            for step in range(len(order)):
                c = order[(pos + step) % len(order)]
                if c.presence == "on_post" and c.id != cust.owner:
                    cust.owner, cust.touch = c.id, t
                    pos = (pos + step + 1) % len(order)
                    break

    def _shift_violation(self, t: int, taken: str) -> None:
        """R-SA-5: taking an early/late window lead whose holder was on post suspends the taker
        from the sanction's channels for the next day(s)."""
        s = t % DAY
        sh = self.shifts.get(t // DAY, {})
        if self.early_start <= s < self.day_start + 60:
            holder = sh.get("early")
        elif self.day_end + 60 <= s < self.late_end:
            holder = sh.get("late")
        else:
            return
        if holder is None or holder == taken:
            return
        hc = self.cons[holder]
        if hc.left or hc.presence != "on_post":
            return
        sv = self.shift_violation
        start = (t // DAY + 1) * DAY
        self.cons[taken].susp.append((frozenset(c.value for c in sv.channels), start, start + sv.days * DAY, ""))

    def weighted(self, ch: str, t: int) -> str | None:
        """R-RT-8 smooth weighted round-robin, with the R-FU-3 hold."""
        hold = self.policy.marketing_followup_hold
        eligible = []
        for c in self.order:
            if c.presence not in ("on_post", "busy_new") or self._suspended(c, ch, t):
                continue
            if hold and c.mkt_pending and self._held(c, t):
                continue
            if self._reach(c, ch, t) == "pass":
                continue
            eligible.append((c, self._weight(c, t)))
        if not eligible:
            return None
        total = Fraction(0)
        best = None
        for c, w in eligible:
            c.score += w
            total += w
            if best is None or c.score > best.score:
                best = c
        best.score -= total
        return best.id

    def _held(self, c: _Consultant, t: int) -> bool:
        held = False
        for lid, (arrived, cust) in list(c.mkt_pending.items()):
            if cust.owner != c.id:
                del c.mkt_pending[lid]
            elif t - arrived > self.mkt_hold:
                held = True
        return held

    def _weight(self, c: _Consultant, t: int) -> Fraction:
        hist = c.mkt
        while hist and hist[0][0] <= t - self.mkt_window:
            hist.popleft()
        if not hist:
            return Fraction(1)
        won = sum(1 for at, cust in hist if any(k.at >= at for k in cust.signed))
        return max(self.mkt_min, Fraction(won, len(hist)))

    def allocate(self, ch: str, t: int, maker: str | None) -> str | None:
        """Where a lead naming nobody goes by its channel (R-OW-4): shift rules, then rotation;
        DEFER when R-SH-5 defers it."""
        self.routed = None
        if ch == "outbound":
            return maker
        path = "walk_in" if ch == "customer_referral" else ch  # R-OW-1b
        s = t % DAY
        if path in self.shift_channels:
            sh = self.shifts.get(t // DAY, {})
            if self.early_start <= s < self.day_start + 60 or self.day_end + 60 <= s < self.late_end:
                holder = sh.get("early" if s < self.day_start + 60 else "late")  # R-SH-2, else R-SH-3
                if holder and self._on_post(holder):
                    return holder
            elif s < self.early_start or s >= self.late_end:  # R-SH-4
                holder = sh.get("early" if s < self.early_start else "late")
                if holder and self._on_post(holder):
                    return holder
                ots = sh.get("overtime")
                if ots:
                    holders = [c for c in (self.rank or self.order) if c.id in ots]
                    qdate, up = self.ot_ptr.get(path, (None, None))
                    start = 0
                    if qdate == t // DAY:
                        start = next((i for i, c in enumerate(holders) if c.id == up), 0)
                    n = len(holders)
                    for i in range(n):
                        c = holders[(start + i) % n]
                        if self._on_post(c.id):
                            self.ot_ptr[path] = (t // DAY, holders[(start + i + 1) % n].id)
                            return c.id
                return DEFER  # R-SH-5
        if self.orders.get(path) == "weighted":
            self.routed = self.weighted(path, t)
            return self.routed
        return self.rotate(path, t)

    def _on_post(self, cid: str) -> bool:
        c = self.cons[cid]
        return not c.left and c.presence == "on_post"

    def _act_defer(self, t: int, lead: str, ch: str, cust: _Customer, taker: bool) -> None:
        """R-SH-5: allocated by the channel's normal rotation at the first minute after day_start."""
        if cust.owner is not None and not taker:
            owner = cust.owner
        else:
            owner = self.rotate("walk_in" if ch == "customer_referral" else ch, t)
        if owner is not None:
            if owner != cust.owner or taker:
                cust.via_referral = ch == "customer_referral"
            cust.owner = owner
            cust.touch = t
        if ch in self.reassign_channels:
            self.due.setdefault(t // DAY, []).append((lead, cust, t - 1))
        if self.rng.random() < self.rates["followup"]:
            self.schedule(t + self.rng.randint(5, 180) * 60, self._act_followup, lead, cust, None)

    # ----- money and metrics
    def credit(self, t: int, who: str | None, metric: str, amount: int = 1) -> None:
        if who is None:
            return
        self._metrics(self.week_of(t))[metric][who] += amount
        if metric == "revenue":
            d = self.date_of(t // DAY)
            self.month_revenue.setdefault((d.year, d.month), Counter())[who] += amount

    def top_of_month(self, t: int, exclude: str | None) -> str | None:
        d = self.date_of(t // DAY)
        rev = self.month_revenue.get((d.year, d.month), Counter())
        cands = [c for c in self.order if c.id != exclude]
        if not cands:
            return None
        return min(cands, key=lambda c: (-rev.get(c.id, 0), c.seat)).id

    # ----- phones
    def new_phone(self) -> str:
        return "13" + str(self.rng.randrange(10)) + f"{self.rng.randrange(10**8):08d}"

    def shown(self, phone: str) -> str:
        rng = self.rng
        if rng.random() >= self.rates["format_variant"]:
            return phone
        k = rng.randrange(4)
        if k == 0:
            return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if k == 1:
            return "0086" + phone
        if k == 2:
            return f"0086 {phone}"
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"

    # ----- a day
    def run_day(self, d: int) -> list[dict]:
        rng, r = self.rng, self.rates
        self.out = []
        self.heap = []
        self.today = d
        self.now = d * DAY
        date = self.date_of(d)
        if date.day == 1 and d > 0 and self.list_swap:
            self.swap_lists(d * DAY)
        if date.weekday() == 0 and d > 0:
            self.start_week(d)
        for t, fn, args in self.pending.pop(d, ()):
            self.schedule(t, fn, *args)
        for t, fn, args in self.story.pop(d, ()):
            self.schedule(t, fn, *args)
        base = d * DAY
        # roster changes decided yesterday, recorded before opening
        if self.leaving:
            for cid in sorted(self.leaving):
                self.schedule(base + 7 * 3600 + 1800, self._act_quit, cid)
            self.leaving = set()
        if r["hire"] and len(self.order) < 12 and rng.random() < r["hire"] * (3 if len(self.order) < 8 else 1):
            self.schedule(base + 7 * 3600 + 2400, self._act_hire)
        if r["swap"] and rng.random() < r["swap"]:
            self.schedule(base + 7 * 3600 + 2700, self._act_swap)
        if self.preset == "realty" and date.day == 1 and d > 0:
            self.schedule(base + 8 * 3600 + 1800, self._act_targets, date)
        # presence: leave days, episodes during the day
        leave_today = self.on_leave.pop(d, set())
        for c in list(self.order):
            if c.id in leave_today:
                self.schedule(base + 7 * 3600 + 3300, self._act_presence, c.id, "leave")
                self.schedule(base + DAY + 7 * 3600 + 3300, self._act_presence, c.id, "on_post")
                continue
            k = int(r["episodes"]) + (1 if rng.random() < r["episodes"] % 1 else 0)
            if k:
                span = (self.day_end - self.day_start) // k
                for j in range(k):
                    lo = self.day_start + j * span
                    dur = rng.randint(10, min(90, span // 60 - 5)) * 60
                    st = lo + rng.randrange(max(1, span - dur - 60))
                    state = rng.choices(("away", "busy_new", "busy_old"), (35, 40, 25))[0]
                    self.schedule(base + st, self._act_presence, c.id, state)
                    self.schedule(base + st + dur, self._act_presence, c.id, "on_post")
        # leads
        factor = r["weekend_factor"] if date.weekday() >= 5 else 1.0
        if self.preset == "realty":
            factor = 1.3 if date.weekday() >= 5 else 0.9
        n = max(0, round(self.leads_per_day * factor * rng.uniform(0.85, 1.15)))
        hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=n)
        for h in hours:
            t = base + h * 3600 + rng.randrange(3600)
            if t > self.setup_at + 60:
                self.schedule(t, self._act_lead)
        # supervisor work
        if r["claim"] and rng.random() < r["claim"]:
            self.schedule(base + rng.randint(10, 19) * 3600 + rng.randrange(3600), self._act_claim)
        if r["penalty"] and rng.random() < r["penalty"]:
            self.schedule(base + rng.randint(9, 18) * 3600 + rng.randrange(3600), self._act_penalty)
        # tomorrow's plan and shifts
        if r["quit"] and len(self.order) > 7 and rng.random() < r["quit"]:
            self.leaving.add(rng.choice(self.order).id)
        tomorrow = set()
        for c in self.order:
            if c.id not in self.leaving and rng.random() < r["leave_day"]:
                tomorrow.add(c.id)
        if tomorrow:
            self.on_leave[d + 1] = tomorrow
        self.schedule(base + 17 * 3600 + rng.randrange(1800), self._act_shifts, d + 1)
        self.schedule(base + DAY - 1, self._act_deadline)

        heap = self.heap
        while heap:
            t, _, fn, args = heapq.heappop(heap)
            self.now = t
            fn(t, *args)
        out = self.out
        if r["late"]:
            self._make_late(out)
        return out

    def _make_late(self, out: list[dict]) -> None:
        """R-T-5: record ~1 % of presence changes and follow-ups hours after their `at`."""
        rng, n, rate = self.rng, len(out), self.rates["late"]
        if n < 10:
            return
        for _ in range(max(0, round(n * rate + rng.random() - 0.5))):
            i = rng.randrange(n - 1)
            ev = out[i]
            if ev["type"] not in ("PresenceChanged", "FollowUpLogged"):
                continue
            s = int(ev["at"][11:13]) * 3600 + int(ev["at"][14:16]) * 60 + int(ev["at"][17:19])
            limit = ev["at"][:11] + _HMS[min(DAY - 1, s + rng.randint(1, 6) * 3600)]
            j = i + 1
            while j < n and out[j]["at"][:19] <= limit and out[j]["type"] not in _ROSTER:
                j += 1
            if j - i < 3:
                continue
            out.insert(j - 1, out.pop(i))

    # ----- actions
    def _act_quit(self, t: int, cid: str) -> None:
        c = self.cons[cid]
        if not c.left and len(self.order) > 2:
            self.quit(t, c)

    def _act_hire(self, t: int) -> None:
        c = self.join(t)
        c.joined = t

    def _act_swap(self, t: int) -> None:
        self.swap(t)

    def _act_targets(self, t: int, date: dt.date) -> None:
        for c in list(self.order):
            self._target(t, c, date)

    def _act_presence(self, t: int, cid: str, state: str) -> None:
        c = self.cons[cid]
        if c.left or c.presence == state or c.joined > t:
            return
        c.presence = state
        self.emit(t, "PresenceChanged", consultant=cid, presence=state)

    def assign_shifts(self, t: int, day: int) -> None:
        rng = self.rng
        off = self.on_leave.get(day, set()) | self.leaving
        pool = [c for c in self.order if c.id not in off] or list(self.order)
        if len(pool) < 2:
            return
        early, late = rng.sample(pool, 2)
        if day in self.shift_plan:
            early, late = (self.cons[x] for x in self.shift_plan[day])
        date = self.date_of(day).isoformat()
        sh: dict[str, Any] = {"early": early.id, "late": late.id, "overtime": []}
        self.emit(t, "ShiftAssigned", consultant=early.id, date=date, shift="early", by=self.supervisor)
        self.emit(t, "ShiftAssigned", consultant=late.id, date=date, shift="late", by=self.supervisor)
        weekend = self.date_of(day).weekday() >= 5
        if rng.random() < self.rates["overtime_weekend" if weekend else "overtime_weekday"]:
            rest = [c for c in pool if c is not early and c is not late]
            for c in rng.sample(rest, min(len(rest), rng.randint(1, 2))):
                sh["overtime"].append(c.id)
                self.emit(t, "ShiftAssigned", consultant=c.id, date=date, shift="overtime", by=self.supervisor)
        if rng.random() < self.rates["shift_reassign"]:
            other = [c for c in pool if c is not early and c is not late]
            if other:
                self.schedule(t + 600, self._act_reassign_early, day, rng.choice(other).id)
        self.shifts[day] = sh
        self.shifts.pop(day - 3, None)

    def _act_reassign_early(self, t: int, day: int, cid: str) -> None:
        # R-SH-1: a later assignment replaces the earlier one
        if self.cons[cid].left or cid in self.leaving:
            return
        self.shifts.setdefault(day, {"overtime": []})["early"] = cid
        self.emit(t, "ShiftAssigned", consultant=cid, date=self.date_of(day).isoformat(), shift="early",
                  by=self.supervisor)

    def _act_shifts(self, t: int, day: int) -> None:
        self.assign_shifts(t, day)

    def _act_lead(self, t: int, channel: str | None = None, phone: str | None = None, **forced: Any) -> str:
        rng, r = self.rng, self.rates
        if channel is None:
            channel = rng.choices(self.channels, cum_weights=self.channel_cum)[0]
        lead = forced.pop("lead_id", None)
        if lead is None:
            self.n_lead += 1
            lead = f"{self.lead_prefix}{self.n_lead:06d}"
        fields: dict[str, Any] = {"lead": lead, "channel": channel}
        cust: _Customer | None = None
        existing: _Customer | None = forced.pop("customer", None)
        if phone is not None:
            fields["phone"] = phone
            cust = existing or _Customer(phone)
        elif existing is not None:
            cust = existing
            fields["phone"] = self.shown(cust.phone)
        elif self.recent and rng.random() < r["duplicate"]:
            cust = self.recent[-1 - min(len(self.recent) - 1, int(rng.expovariate(1 / 150)))]
            fields["phone"] = self.shown(cust.phone)
        else:
            cust = _Customer(self.new_phone())
            fields["phone"] = self.shown(cust.phone)
        is_new = not cust.leads
        self._last_customer = cust
        active = [c for c in self.order if c.joined <= t]
        maker = named = referrer = None
        if channel == "outbound":
            maker = forced.pop("maker", None) or (rng.choice(active).id if active else None)
            if maker is None:
                return ""
            fields["maker"] = maker
        if channel == "customer_referral":
            ref = forced.pop("referrer", None)
            if ref is None and (self.signed_customers or self.recent):
                pool = self.signed_customers if self.signed_customers and rng.random() < 0.8 else self.recent
                ref = pool[rng.randrange(len(pool))]
                if ref is cust:
                    ref = None
            if ref is not None:
                referrer = ref
                fields["referrer_phone"] = ref.phone
            else:  # nobody to refer them yet: the customer simply walks in
                channel = fields["channel"] = "walk_in"
        if "named" in forced:
            named = forced.pop("named")
            fields["named"] = named
        elif "prior_contact" in forced:
            named = forced.pop("prior_contact")
            fields["prior_contact"] = named
        elif active and channel != "outbound":
            x = rng.random()
            if x < r["named"]:
                named = rng.choice(active).id
                fields["named"] = named
            elif x < r["named"] + r["prior_contact"]:
                named = rng.choice(active).id
                fields["prior_contact"] = named
        taken = forced.pop("taken_by", None)
        if taken is None and active and channel != "outbound" and rng.random() < r["taken_by"]:
            taken = rng.choice(active).id
        if taken:
            fields["taken_by"] = taken
        auto = forced.pop("auto", True)
        callback = forced.pop("callback_on", None)
        if callback is None and rng.random() < r["callback"]:
            callback = rng.randint(1, 3)
        if callback:
            fields["callback_on"] = self.date_of(t // DAY + callback).isoformat()
        self.emit(t, "LeadArrived", **fields)

        # ownership (approximate §7)
        self.routed = None
        owner = self._decide(t, channel, cust, named, maker, referrer)
        deferred = owner is DEFER
        if deferred:
            owner = None
            s = t % DAY
            when = (t // DAY + (1 if s >= self.late_end else 0)) * DAY + self.day_start + 60
            if s >= self.late_end:
                self.pending.setdefault(when // DAY, []).insert(0, (when, self._act_defer, (lead, channel, cust, cust.owner is None)))
            else:
                self.schedule(when, self._act_defer, lead, channel, cust, cust.owner is None)
        if taken and self.shift_violation and channel in self.shift_channels:
            self._shift_violation(t, taken)
        if channel == "marketing" and owner is not None:
            if owner == self.routed:
                self.cons[owner].mkt.append((t, cust))
            self.cons[owner].mkt_pending[lead] = (t, cust)
        if self.trace is not None:
            self.trace[lead] = owner
        if owner is not None:
            if self.took:
                cust.via_referral = channel == "customer_referral"  # R-OW-3c reads how the owner got it
            cust.owner = owner
            cust.touch = t
        cust.leads.append(lead)
        cust.last_at = t
        if is_new and self.list_swap:
            self.customers.append(cust)
        if auto:  # story customers stay out of the background's duplicates and claims
            if is_new:
                self.recent.append(cust)
            self.recent_leads.append((lead, cust, t))
        self._plan_lead(t, lead, channel, cust, is_new, callback, auto, followup=not deferred)
        return lead

    def _decide(self, t: int, ch: str, cust: _Customer, named: str | None, maker: str | None,
                referrer: _Customer | None) -> str | None:
        """The owner by the first rule of §7 that applies; `self.took` says whether the owner
        took the customer through this lead (which is how R-OW-3c later reads `via`)."""
        p = self.policy
        self.took = False
        if cust.ruled:  # R-OW-0
            self.allocate(ch, t, maker)
            self.routed = None  # the turn holder passes normally (R-RT-6)
            return cust.owner
        live = [k for k in cust.signed if k.live]
        if live and not self.cons[live[-1].credit].left:  # R-OW-1
            self.took = live[-1].credit != cust.owner
            return live[-1].credit
        if (ch == "customer_referral" and p.referral_to_referrer_owner and referrer is not None and referrer.owner
                and not self.cons[referrer.owner].left):  # R-OW-1b
            self.took = True
            return referrer.owner
        if named:  # R-OW-2
            if ch != "outbound":
                self.allocate(ch, t, maker)
                self.routed = None
            self.took = True
            return named
        tracked = cust.owner is not None and t - cust.touch <= self.tracking and not self.cons[cust.owner].left
        if tracked:  # R-OW-3
            if p.duplicate_default == "new_wins":
                return self._takeover(ch, t, maker, cust)
            if ch == "hotline" and p.hotline_after_tracking:  # R-OW-3b
                got = self.allocate(ch, t, maker)
                seen = cust.inbound.get(cust.owner)
                if seen is not None and seen // DAY == t // DAY:  # same-day evidence: P keeps it
                    self.routed = None
                    return cust.owner
                if got is None or got is DEFER:
                    return cust.owner
                self.took = True
                return got
            if p.weak_customer_referral and cust.via_referral and ch in ("hotline", "hq_referral", "internal_referral"):
                return self._takeover(ch, t, maker, cust)  # R-OW-3c
            self.allocate(ch, t, maker)
            self.routed = None
            return cust.owner
        got = self.allocate(ch, t, maker)  # R-OW-4, R-OW-5
        self.took = got is not None and got is not DEFER
        return got

    def _takeover(self, ch: str, t: int, maker: str | None, cust: _Customer) -> str | None:
        # a takeover that would be deferred or unowned leaves the customer with P (R-OW-3)
        got = self.allocate(ch, t, maker)
        if got is None or got is DEFER:
            return cust.owner
        self.took = True
        return got

    def _plan_lead(self, t: int, lead: str, ch: str, cust: _Customer, is_new: bool, callback: int | None,
                   auto: bool = True, followup: bool = True) -> None:
        rng, r = self.rng, self.rates
        day = t // DAY
        if ch in self.reassign_channels and followup:
            self.due.setdefault(day + (callback or 0), []).append((lead, cust, t))
        if not auto:
            return
        if not followup:
            pass
        elif callback:
            cb = (day + callback) * DAY + rng.randint(9, 19) * 3600 + rng.randrange(3600)
            self.schedule(cb, self._act_followup, lead, cust, None)
        elif rng.random() < r["followup"]:
            ft = t + rng.randint(5, 180) * 60
            if ft // DAY == day:
                self.schedule(ft, self._act_followup, lead, cust, None)
        if followup and rng.random() < r["followup_extra"]:
            self.schedule(t + rng.randint(1, 10) * DAY + rng.randint(-3, 3) * 3600, self._act_followup, lead, cust, None)
        if rng.random() < r["grade"]:
            self.schedule(t + rng.randint(1, 30) * 3600, self._act_grade, lead, cust)
        if self.preset in ("realty", "fitness") and ch != "walk_in" and rng.random() < r["invitation"]:
            self.schedule(t + rng.randint(2, 72) * 3600, self._act_invite, lead, cust)
        if is_new and rng.random() < r["contract"]:
            x = rng.random()
            if x < 0.2:
                ct = t + rng.randint(60, 300) * 60
            elif x < 0.65:
                ct = (day + rng.randint(1, 7)) * DAY + rng.randint(10, 20) * 3600 + rng.randrange(3600)
            else:
                ct = (day + rng.randint(8, 35)) * DAY + rng.randint(10, 20) * 3600 + rng.randrange(3600)
            kind = "referral" if cust.via_referral else "new"
            self.schedule(ct, self._act_sign, lead, cust, kind)

    def _act_followup(self, t: int, lead: str, cust: _Customer, direction: str | None,
                      note: str | None = None, who: str | None = None) -> None:
        owner = who or cust.owner
        if owner is None or self.cons[owner].left:
            return
        rng = self.rng
        if direction is None:
            direction = "inbound" if rng.random() < self.rates["followup_inbound"] else "outbound"
        if note is None and rng.random() < 0.6:
            note = rng.choice(INBOUND_NOTES if direction == "inbound" else FOLLOW_NOTES)
        fields: dict[str, Any] = {"lead": lead, "consultant": owner, "direction": direction}
        if note:
            fields["note"] = note
        self.emit(t, "FollowUpLogged", **fields)
        if direction == "inbound":
            cust.inbound[owner] = t
        c = self.cons[owner]
        if c.mkt_pending:
            for other in cust.leads:
                c.mkt_pending.pop(other, None)
        if owner == cust.owner:
            cust.touch = t
            cust.fu_at = t

    def _act_deadline(self, t: int) -> None:
        # R-FU-2 (approximate): a lead not followed up by its owner goes to the month's top earner.
        for lead, cust, arrived in self.due.pop(self.today, ()):
            if cust.ruled or cust.owner is None or cust.fu_at >= arrived:
                continue
            new = self.top_of_month(t, cust.owner)
            if new:
                cust.owner = new
                cust.touch = t + 1

    def _act_grade(self, t: int, lead: str, cust: _Customer) -> None:
        owner = cust.owner
        if owner is None or self.cons[owner].left:
            return
        grade = self.rng.choices("ABC", (20, 50, 30))[0]
        self.emit(t, "GradeProposed", lead=lead, grade=grade, consultant=owner)
        if self.rng.random() < self.rates["grade_confirm"]:
            self.schedule(t + self.rng.randint(1, 48) * 3600, self._act_grade_confirm, lead, grade)

    def _act_grade_confirm(self, t: int, lead: str, grade: str) -> None:
        self.emit(t, "GradeConfirmed", lead=lead, grade=grade, by=self.supervisor)

    def _act_invite(self, t: int, lead: str, cust: _Customer) -> None:
        owner = cust.owner
        if owner is None or self.cons[owner].left:
            return
        self.emit(t, "InvitationRecorded", lead=lead, consultant=owner)
        self.credit(t, owner, "invitations")
        if self.rng.random() < self.rates["visit"]:
            self.schedule(t + self.rng.randint(1, 7) * DAY, self._act_visit, lead, cust)

    def _act_visit(self, t: int, lead: str, cust: _Customer) -> None:
        owner = cust.owner
        if owner is None or self.cons[owner].left:
            return
        self.emit(t, "VisitRecorded", lead=lead, consultant=owner)
        self.credit(t, owner, "visits")

    def _act_sign(self, t: int, lead: str, cust: _Customer, kind: str, amount: int | None = None,
                  plan: list[tuple[int, str, int]] | None = None) -> str:
        rng, r = self.rng, self.rates
        if amount is None and t < self.contracts_from:
            return ""
        self.n_contract += 1
        cid = f"{self.contract_prefix}{self.n_contract:06d}"
        deposit = self.preset == "realty" and rng.random() < 0.25 and amount is None
        if amount is None:
            amount = rng.choice(self.prices)
            if deposit:
                amount = rng.choice([20000, 50000, 100000, 200000])
        k = _Contract(cid, lead, amount, cust.owner, deposit, t)
        fields: dict[str, Any] = {"contract": cid, "lead": lead, "amount": f"{amount}.00", "kind": kind}
        if deposit:
            fields["deposit"] = True
        self.emit(t, "ContractSigned", **fields)
        cust.signed.append(k)
        if cust.owner:
            cust.touch = t
        if len(cust.signed) == 1:
            self.signed_customers.append(cust)
        self.credit(t, k.credit, "deals")
        if not deposit:
            self.credit(t, k.credit, "contracts")
        if plan is None:
            plan = self._money_plan(t, k)
        for when, what, amt in plan:
            self.schedule(when, self._act_money, k, what, amt)
        if kind != "renewal" and rng.random() < r["renewal"]:
            self.schedule(t + rng.randint(30, 120) * DAY, self._act_sign, lead, cust, "renewal")
        return cid

    def _money_plan(self, t: int, k: _Contract) -> list[tuple[int, str, int]]:
        rng, r = self.rng, self.rates
        plan: list[tuple[int, str, int]] = []
        amount = k.amount
        if self.preset == "realty" and not k.deposit:
            down = (amount * rng.choice([20, 30, 35]) // 100) // 1000 * 1000
            plan.append((t + rng.randint(1, 5) * DAY, "PaymentReceived", down))
            loan = (amount - down) // 1000 * 1000
            parts = rng.randint(1, 2)
            for j in range(parts):
                plan.append((t + rng.randint(15, 50) * DAY + j * 10 * DAY, "LoanDisbursed", loan // parts))
        else:
            n = rng.choices((1, 2, 3), (50, 35, 15))[0]
            if rng.random() < 0.1:
                n = max(1, n - 1)  # some contracts never get fully paid
                amount = amount // 2
            share = amount // n // 100 * 100
            when = t + rng.randint(10, 120) * 60
            for j in range(n):
                amt = share if j < n - 1 else amount - share * (n - 1)
                plan.append((when, "PaymentReceived", amt))
                when += rng.randint(7, 30) * DAY
        x = rng.random()
        last = max(w for w, _, _ in plan)
        if x < r["cancel"]:
            plan.append((plan[0][0] + rng.randint(1, 20) * DAY, "ContractCancelled", 0))
        elif x < r["cancel"] + r["refund"]:
            plan.append((last + rng.randint(1, 30) * DAY, "ContractRefunded", -1))
        return plan

    def _act_money(self, t: int, k: _Contract, what: str, amount: int) -> None:
        if k.cancelled:
            return
        if what == "ContractCancelled":
            k.cancelled = True
            self.emit(t, "ContractCancelled", contract=k.id, by=self.supervisor)
            return
        if what == "ContractRefunded":
            room = k.paid - k.refunded
            if amount < 0:
                amount = (room * self.rng.choice([20, 30, 50]) // 100) // 100 * 100
            amount = min(amount, room)
            if amount <= 0:
                return
            k.refunded += amount
            self.credit(t, k.credit, "revenue", -amount)
        elif what == "PaymentReceived":
            if amount <= 0:
                return
            k.paid += amount
            self.credit(t, k.credit, "revenue", amount)
        self.emit(t, what, contract=k.id, amount=f"{amount}.00")

    def _act_claim(self, t: int) -> None:
        rng = self.rng
        cands = [(lead, cust) for lead, cust, at in self.recent_leads if at < t - 600 and cust.owner
                 and not self.cons[cust.owner].left]
        if not cands:
            return
        lead, cust = cands[rng.randrange(len(cands))]
        others = [c for c in self.order if c.id != cust.owner and c.joined <= t]
        if not others:
            return
        claimant = rng.choice(others).id
        self.claim(t, lead, cust, claimant, rng.choice(CLAIM_REASONS))
        if rng.random() < self.rates["ruling"]:
            when = t + rng.randint(1, 20) * 3600
            owner = rng.choice([cust.owner, claimant])
            self.schedule(when, self._act_ruling, lead, cust, owner, rng.choice(RULING_REASONS))

    def claim(self, t: int, lead: str, cust: _Customer, claimant: str, reason: str) -> None:
        self.emit(t, "ClaimMade", lead=lead, consultant=claimant, reason=reason)

    def _act_ruling(self, t: int, lead: str, cust: _Customer, owner: str, reason: str) -> None:
        if self.cons[owner].left:
            return
        self.emit(t, "RulingMade", lead=lead, owner=owner, reason=reason, by=self.supervisor)
        cust.owner = owner
        cust.ruled = True
        cust.touch = t

    def _act_penalty(self, t: int, spec: tuple | None = None, who: str | None = None,
                     lift_after: int | None = None) -> str | None:
        rng = self.rng
        pool = [c for c in self.order if c.joined <= t]
        if not pool:
            return None
        c = self.cons[who] if who else rng.choice(pool)
        kind, chans, rule, reason = spec or rng.choice(PENALTIES)
        self.n_penalty += 1
        pid = f"P{self.n_penalty:04d}"
        fields: dict[str, Any] = {"penalty": pid, "consultant": c.id, "kind": kind, "channels": list(chans)}
        if kind == "suspend":
            fields["from"] = self.at(t)
            fields["until"] = self.at(t + WEEK)
            c.susp.append((None if chans == ["*"] else frozenset(chans), t, t + WEEK, pid))
        elif kind == "skip":
            fields["turns"] = 1
            for ch in chans:
                c.skips[ch] = [1, pid]
        else:
            fields["from"] = self.at(t)
            fields["until"] = self.at(t + WEEK)
            fields["take"], fields["of"] = 1, 2
            for ch in chans:
                c.throttles[ch] = [1, 2, 0, pid, t + WEEK]
        fields["rule"] = rule
        fields["reason"] = reason
        fields["by"] = self.supervisor
        self.emit(t, "PenaltyImposed", **fields)
        self.penalties_open[pid] = c
        if lift_after is not None or rng.random() < self.rates["lift"]:
            after = lift_after if lift_after is not None else rng.randint(1, 5) * DAY + rng.randint(-4, 4) * 3600
            self.schedule(t + after, self._act_lift, pid)
        return pid

    def _act_lift(self, t: int, pid: str, reason: str | None = None) -> None:
        c = self.penalties_open.pop(pid, None)
        if c is None or c.left:
            return
        c.susp = [s for s in c.susp if s[3] != pid]
        c.skips = {k: v for k, v in c.skips.items() if v[1] != pid}
        c.throttles = {k: v for k, v in c.throttles.items() if v[3] != pid}
        self.emit(t, "PenaltyLifted", penalty=pid, by=self.supervisor)


def _team_name(preset: str, k: int) -> str:
    return f"{preset}-{k:02d}"


def generate(seed: int, teams: int, days: int, start: dt.date, preset: str = "campus",
             leads_per_day: int = 60, *, ids: bool = True) -> Iterator[dict]:
    """Yield a synthetic history of `teams` teams over `days` days from `start`, in recording order.

    Deterministic from `seed`. Every event carries an idempotency `id` (`e0000001`, ... per team)
    unless `ids` is false. Example: `list(generate(1, 2, 30, date(2026, 11, 1)))`.
    """
    if teams < 1 or days < 0:
        raise ValueError("teams must be >= 1 and days >= 0")
    if preset not in CHANNEL_MIX:
        raise ValueError(f"preset: expected one of {', '.join(CHANNEL_MIX)}, got {preset!r}")
    master = random.Random(seed)
    sims = [TeamSim(random.Random(master.getrandbits(64)), _team_name(preset, k + 1), preset, start, leads_per_day)
            for k in range(teams)]
    for sim in sims:
        sim.ids = ids
        yield from sim.setup()
    for d in range(days):
        for sim in sims:
            yield from sim.run_day(d)


def write_jsonl(events: Iterable[dict], path_or_file: str | IO[str], header: Iterable[str] = ()) -> int:
    """Write events as JSON Lines (UTF-8, ensure_ascii=False); `header` lines become `# ...` comments.
    Returns the number of events written."""
    ctx = open(path_or_file, "w", encoding="utf-8", newline="\n") if isinstance(path_or_file, str) else nullcontext(path_or_file)
    n = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    with ctx as f:
        for line in header:
            f.write(f"# {line}\n")
        buf = []
        for ev in events:
            buf.append(dumps(ev))
            n += 1
            if len(buf) >= 4096:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.generate", description=(
        "Write a synthetic, deterministic event history as JSON Lines. "
        "Example: python -m commands.generate --seed 1 --teams 2 --days 30 --out gen.jsonl"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--teams", type=int, default=1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1), help="first day, YYYY-MM-DD")
    parser.add_argument("--preset", choices=sorted(CHANNEL_MIX), default="campus")
    parser.add_argument("--leads-per-day", type=int, default=60)
    parser.add_argument("--no-ids", action="store_true", help="leave out the events' idempotency ids")
    parser.add_argument("--out", default="-", help="output file, or - for standard output")
    args = parser.parse_args(argv)
    events = generate(args.seed, args.teams, args.days, args.start, args.preset, args.leads_per_day,
                      ids=not args.no_ids)
    out = sys.stdout if args.out == "-" else args.out
    n = write_jsonl(events, out)
    print(f"{n} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
