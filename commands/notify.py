"""`ledger notify`: derive notices from the fold into the outbox, and deliver them (issue #16).

    result = derive(store, team, now)         # notices up to the store's head, into the outbox
    sent = deliver(store, team, now)          # what is due, to each target, in order
    follow(store, teams, stop)                # both, every POLL seconds, until `stop()`

`derive` folds the team to the moment a query would answer at (the later of now and the latest
`at`), reads the notices of the customers the new events (and the timers since) touched
(`TeamState.touched`; everything on a first run, a re-fold or a new link), and writes what is
not noticed yet -- corrections included (`projections.notices.plan`) -- with the new position,
in one transaction (`ledger.notify_store.write_batch`). A state kept from the previous round
(`Tracker`) folds only the new events. The clock-driven notices (`projections.notices_timed`:
follow-up deadlines due soon or missed, the 日报) are read at the same moment; each 日报 off the
fold at its own moment (`_summaries`), and a kept state wakes at the next one due (`Tracker.wake`).

Delivery is in the order noticed, per target: the oldest undelivered notice blocks the ones
after it while it is retried (5xx, 429, no connection, a robot's rate limit), with a backoff
doubling from `backoff` seconds up to 5 minutes; a 4xx (or another error code) is given up after
`GIVE_UP_AFTER` tries, recorded in the outbox, and the next one goes. A notice is marked delivered
in its own transaction right after the target's answer: a crash between the two (a `kill -9`)
sends that one notice again on restart, with the same idempotency key.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ledger import models_store as M
from ledger import notify_store as S
from ledger.errors import InputError, UnknownTeam
from ledger.notify_send import Mentions, Sender, body_for
from ledger.store import Store
from projections import engine, notices
from projections import notices_timed as timed

from . import history
from .notify_text import render

GIVE_UP_AFTER = 3
MAX_BACKOFF = 300.0
POLL = 1.0
ONE_US = dt.timedelta(microseconds=1)
DUE_HOURS = 2.0  # a follow-up deadline in the next 2 hours is noticed (issue #16's default)
SUMMARY_AT = dt.time(20, 0)  # the 日报's local time


@dataclass(frozen=True)
class Clock:
    """What the clock-driven notices need: how far ahead a deadline is noticed, when the 日报 is."""

    due_hours: float = DUE_HOURS
    summary_at: dt.time = SUMMARY_AT
    # Facts before this moment are noted (their keys known, so never sent later) but not sent:
    # the first run on a team with a history behind it need not flood its groups with it.
    since: dt.datetime | None = None


@dataclass
class Derived:
    team: str
    position: int
    new: dict = field(default_factory=dict)  # notice kind -> how many were written
    outbox: int = 0


@dataclass
class Tracker:
    """A team's state kept between rounds of `--follow`, at `position`."""

    state: engine.TeamState | None = None
    position: int = 0
    wake: dt.datetime | None = None  # the next moment a deadline or a 日报 falls due


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _load(store: Store, team: str, position: int, until: dt.datetime | None, head: int, moment: dt.datetime,
          tracker: Tracker | None) -> tuple[engine.TeamState, set | None]:
    """The state at `moment` and the customers to look at (None: all): those touched by the
    events recorded after `position` and by the timers after `until` (the last round's moment)."""
    if position == 0 or until is None or M.relinked_since(store, team, position):
        return history.load(store, team, moment, head=head).state, None
    start = M.first_unfolded_at(store, team, position)
    if tracker is not None and tracker.state is not None and tracker.position == position and (
            start is None or (tracker.state.clock is not None and start > tracker.state.clock)):
        state = tracker.state
        after = state.last_key
    else:
        base = min(start - ONE_US, until) if start is not None else until
        state = history.load(store, team, base, head=head).state
        after = (base, history.CHECKPOINT_SEQ)
    state.touched = set()
    records = store.read_by_time(team, after_key=after, until=moment)
    try:
        folded = engine.replay(records, until=moment, state=state)
    except engine.NeedsFullReplay:
        return history.load(store, team, moment, head=head).state, None
    if folded is not state:  # a re-fold (late event, link): everything may differ
        return folded, None
    return folded, set(folded.touched)


def derive(store: Store, team: str, now: dt.datetime | None = None, *, lang: str = "zh",
           tracker: Tracker | None = None, clock: Clock = Clock()) -> Derived:
    """Notices up to the store's head into the outbox, with the position, in one transaction."""
    now = now or _now()
    head = store.head(team)
    if head == 0:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    position, until = S.position(store, team)
    moment = max(history.default_moment(store, team, now), until or now)
    if position >= head and tracker is not None and tracker.state is not None and not _timers_due(tracker, moment) \
            and (tracker.wake is None or moment < tracker.wake):
        return Derived(team, position)
    state, customers = _load(store, team, position, until, head, moment, tracker)
    keys, noticed = S.known(store, team)
    found = notices.derive(state, customers) + timed.deadlines(state, moment, clock.due_hours)
    found += _summaries(store, team, head, state, until, moment, clock.summary_at, keys)
    found.sort(key=lambda n: n.order)
    names = {cid: c.name for cid, c in state.consultants.items()}
    new = notices.plan(found, keys, noticed, names) + notices.withdrawn(state, noticed, names)
    people = S.routes(store, team)
    rows = [_row(n, noticed, state.tz, lang, people) for n in new]
    made = S.write_batch(store, team, rows, position, head, moment, quiet_before=clock.since)
    state.touched = None
    if tracker is not None:
        tracker.state, tracker.position = state, head
        tracker.wake = timed.next_wake(state, moment, clock.due_hours, clock.summary_at)
    counted: dict[str, int] = {}
    for n in new:
        counted[n.kind] = counted.get(n.kind, 0) + 1
    return Derived(team, head, counted, made)


def _summaries(store: Store, team: str, head: int, state: engine.TeamState, until: dt.datetime | None,
               moment: dt.datetime, at: dt.time, keys: set[str]) -> list[notices.Notice]:
    """The 日报 due by `moment` and not noticed yet, each read off the fold at its own moment:
    one fold stepping from the first to the last (a first run notices every day of the history)."""
    wanted = [(date, when) for date, when in timed.summary_days(state, until, moment, at)
              if f"{state.team or '-'}/summary/{date.isoformat()}" not in keys]
    found = []
    day: engine.TeamState | None = None
    for date, when in wanted:
        if day is None:
            day = history.load(store, team, when, head=head).state
        else:
            try:
                day = engine.replay(store.read_by_time(team, after_key=day.last_key, until=when), until=when, state=day)
            except engine.NeedsFullReplay:
                day = history.load(store, team, when, head=head).state
        found.append(timed.summary(day, date, when))
    return found


def _timers_due(tracker: Tracker, moment: dt.datetime) -> bool:
    timers = tracker.state.timers
    return bool(timers) and timers[0][0] <= moment


def _row(n: notices.Notice, noticed: dict, tz: ZoneInfo, lang: str, people: dict[str, S.Route]) -> S.Row:
    title, text = render(n, tz, lang)
    revision = n.facts.get("revision", 0) if n.kind == "corrected" else 0
    facts = json.dumps(n.facts, ensure_ascii=False, sort_keys=True)
    shown = json.loads(_masked(facts))
    concerned = notices.concerns(n)
    mentions = _mentions(concerned, people)
    bodies = {kind: body_for(kind, n.key, n.kind, title, text, shown, mentions) for kind in S.KINDS}
    return S.Row(n.key, n.kind, n.subject, n.value, revision, n.at, facts, bodies, concerned, notices.audience(n))


def _mentions(concerned: tuple, people: dict[str, S.Route]) -> Mentions:
    """The routes' user ids of the consultants concerned (a route applies to notices derived after it)."""
    routed = [people[c] for c in concerned if c in people]
    return Mentions(concerned, tuple(r.wecom_user for r in routed if r.wecom_user),
                    tuple(r.dingtalk_user for r in routed if r.dingtalk_user))


def _masked(text: str) -> str:
    from ledger.phone import mask_numbers

    return mask_numbers(text)


DEFAULT_RATES = {"wecom": (20, 60.0), "dingtalk": (20, 60.0)}  # both robots: 20 messages a minute


@dataclass
class Delivery:
    sent: dict = field(default_factory=dict)  # target -> how many it took
    wake: dt.datetime | None = None  # the first moment something held (quiet hours, a rate) may go
    held: dt.datetime | None = None  # quiet hours: nothing goes before this moment


def quiet_window(store: Store, team: str) -> tuple[dt.time, dt.time] | None:
    value = S.setting(store, f"team:{team}", "quiet")
    return timed.parse_quiet(value) if value else None


def rate_of(store: Store, target: S.Target) -> tuple[int, float] | None:
    """The target's pace: its own setting (`none`: unpaced), else its kind's default."""
    value = S.setting(store, f"target:{target.name}", "rate")
    if value is None:
        return DEFAULT_RATES.get(target.kind)
    return None if value == "none" else timed.parse_rate(value)


def deliver(store: Store, team: str, now_fn=_now, *, backoff: float = 2.0, max_backoff: float = MAX_BACKOFF,
            sender: Sender | None = None, stop=lambda: False) -> Delivery:
    """Send what is due to each of the team's targets, unless the team's quiet hours hold it."""
    done = Delivery()
    window = quiet_window(store, team)
    if window is not None:
        now = now_fn()
        done.held = timed.quiet_end(window, now.astimezone(history.zone_now(store, team, now)))
        if done.held is not None:
            done.wake = done.held
            return done
    own = sender is None
    sender = sender or Sender()
    try:
        for target in S.targets(store, team):
            sent, wake = _deliver_to(store, target, sender, now_fn, backoff, max_backoff, stop)
            done.sent[target.name] = sent
            if wake is not None and (done.wake is None or wake < done.wake):
                done.wake = wake
    finally:
        if own:
            sender.close()
    return done


def _deliver_to(store: Store, target: S.Target, sender: Sender, now_fn, backoff: float, max_backoff: float,
                stop) -> tuple[int, dt.datetime | None]:
    """(sent, the moment the target's pace lets the next one go if it held one back)."""
    sent = 0
    limit = rate_of(store, target)
    recent = S.sent_since(store, target.name, now_fn() - dt.timedelta(seconds=limit[1])) if limit else []
    while not stop():
        batch = S.pending(store, target.name)
        if not batch:
            return sent, None
        for item in batch:
            if stop():
                return sent, None
            now = now_fn()
            if item.next_try_us > int(now.timestamp() * 1_000_000):
                return sent, None  # the oldest waits for its retry: the ones after it wait too
            free = timed.rate_free(recent, limit, now) if limit else None
            if free is not None:
                return sent, free  # the target's pace: the rest waits, nothing is lost
            outcome = sender.send(target.kind, target.url, target.secret, item.key, item.body)
            if outcome.ok:
                at = now_fn()
                S.delivered(store, target.name, item.key, at)
                recent.append(at)
                sent += 1
                continue
            tries = item.attempts + 1
            give_up = not outcome.retry and tries >= GIVE_UP_AFTER
            wait = min(backoff * 2 ** min(item.attempts, 16), max(max_backoff, backoff))
            S.failed(store, target.name, item.key, outcome.error, now_fn() + dt.timedelta(seconds=wait), give_up)
            if not give_up:
                return sent, None
    return sent, None


def once(store: Store, teams: list[str], *, lang: str = "zh", backoff: float = 2.0,
         max_backoff: float = MAX_BACKOFF, clock: Clock = Clock(), now: dt.datetime | None = None) -> list[tuple]:
    """`--once`: derive up to the head and deliver what is due, for each team, at `now` (the
    notifier's clock for both; default the system clock)."""
    done = []
    now_fn = (lambda: now) if now is not None else _now
    for team in teams:
        derived = derive(store, team, now, lang=lang, clock=clock)
        done.append((derived, deliver(store, team, now_fn, backoff=backoff, max_backoff=max_backoff)))
    return done


def follow(store: Store, teams_fn, stop, *, lang: str = "zh", backoff: float = 2.0,
           max_backoff: float = MAX_BACKOFF, poll: float = POLL, report=None, clock: Clock = Clock(),
           now_fn=_now) -> None:
    """`--follow`: derive and deliver at `now_fn()` (the notifier's clock) every `poll` seconds,
    or sooner when a retry, the end of the quiet hours or a target's pace is due, until `stop()`."""
    trackers: dict[str, Tracker] = {}
    sender = Sender()
    try:
        while not stop():
            wait = poll
            for team in teams_fn():
                tracker = trackers.setdefault(team, Tracker())
                try:
                    derived = derive(store, team, now_fn(), lang=lang, tracker=tracker, clock=clock)
                except S.Stale:
                    tracker.state = None  # another notifier wrote first: read again next round
                    continue
                done = deliver(store, team, now_fn, backoff=backoff, max_backoff=max_backoff, sender=sender, stop=stop)
                if report is not None and (derived.outbox or any(done.sent.values())):
                    report(derived, done.sent)
                for when in (S.earliest_retry(store, team), done.wake):
                    if when is not None:
                        wait = min(wait, max((when - now_fn()).total_seconds(), 0.01))
            deadline = time.monotonic() + wait
            while not stop() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        sender.close()


def set_quiet(store: Store, team: str, text: str | None) -> tuple[dt.time, dt.time] | None:
    """The team's quiet hours (`22:00-08:00`, local in its zone), or None to have none."""
    if store.head(team) == 0:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    window = timed.parse_quiet(text) if text is not None else None
    if text is not None and window is None:
        raise InputError(f"quiet hours: expected HH:MM-HH:MM (two different local times, e.g. 22:00-08:00), "
                         f"got {text[:40]!r}")
    S.set_setting(store, f"team:{team}", "quiet", text.strip() if text is not None else None)
    return window


def set_rate(store: Store, name: str, text: str) -> tuple[int, float] | None:
    """A target's pace: `N/SECONDS`, `none` (unpaced) or `default` (its kind's)."""
    if name not in {t.name for t in S.targets(store)}:
        raise InputError(f"unknown target {name[:40]!r}; `ledger notify list-targets` shows them (nothing stored)")
    value = text.strip()
    if value not in ("none", "default") and timed.parse_rate(value) is None:
        raise InputError(f"rate: expected N/SECONDS (e.g. 20/60), none or default, got {text[:40]!r}")
    S.set_setting(store, f"target:{name}", "rate", None if value == "default" else value)
    return rate_of(store, next(t for t in S.targets(store) if t.name == name))


# -- configuration: routes, quiet hours, rates ----------------------------------------------------


def route(store: Store, team: str, consultant: str | None, *, wecom_user: str | None = None,
          dingtalk_user: str | None = None, target: str | None = None, clear: bool = False,
          now: dt.datetime | None = None) -> S.Route | None:
    """Set a consultant's @-mention ids / own target (consultant None: the supervisors' target)."""
    if store.head(team) == 0:
        raise UnknownTeam(f"unknown team {team!r}: no events recorded for it")
    if consultant is None:
        if target is None and not clear or wecom_user or dingtalk_user:
            raise InputError("notify route --supervisors: expected --target NAME (or --clear)")
        who = S.SUPERVISORS
    else:
        state = history.load(store, team, history.default_moment(store, team, now or _now())).state
        if consultant not in state.consultants:
            known = ", ".join(sorted(state.consultants)[:20]) or "none"
            raise InputError(f"unknown consultant {consultant[:40]!r} in team {team!r} (nothing stored); "
                             f"expected one of: {known}")
        if not (wecom_user or dingtalk_user or target or clear):
            raise InputError("notify route: expected --wecom-user ID, --dingtalk-user ID, --target NAME or --clear")
        who = consultant
    return S.set_route(store, team, who, wecom_user, dingtalk_user, target, clear)
