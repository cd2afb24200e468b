"""`ledger rebuild` and `ledger verify`: replay the log into a shadow generation of the read models,
compare it with the live one, report drift, and (rebuild) swap it in.

Per team, in its own process when `--jobs N` > 1 (spawned; each opens its own store):

1. clear every generation of the team but the live one (a shadow left by a killed run);
2. create the shadow generation (live + 1) and fold the team's events into it, read a page at a
   time in replay order (the state, never the whole store, is in memory);
3. write the shadow's rows and position in one transaction;
4. bring the live model and the shadow to the same position (events appended meanwhile);
5. compare them table by table: owners per lead over time, turn counts, seats, sanctions,
   commission statements; every difference is a drift item naming the team, the model, the
   key (lead, date/consultant/channel, penalty, month), the live and the rebuilt values and the rule;
6. rebuild: flip the live flag to the shadow and delete the old generation, in one transaction;
   verify: delete the shadow.

Killed at any point, the live generation is untouched (only step 6 changes it, atomically) and
the next run starts by clearing the leftovers. `LEDGER_REBUILD_PAUSE_AT=PHASE` makes a run stop
at that point, printing `paused at PHASE` on standard error, so a test can kill it there: `start`
(shadow created), `fold` (the second page of events read), `write` (inside the shadow's write
transaction, old rows deleted), `written` (shadow committed), `swap` (just before the swap).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ledger import models_store as M
from ledger.store import Store, from_micros, open_store

from . import read_models

PAUSE_ENV = "LEDGER_REBUILD_PAUSE_AT"
PHASES = ("start", "fold", "write", "written", "swap")
PAGE_ENV = "LEDGER_REBUILD_PAGE"  # events read per page (default read_models.PAGE)


def shard_of(team: str, shards: int) -> int:
    """A team's shard: a stable hash of its id (the same on every machine and Python run)."""
    return int.from_bytes(hashlib.sha256(team.encode("utf-8")).digest()[:8], "big") % shards


def select_teams(all_teams: list[str], teams: tuple[str, ...] | list[str] = (),
                 shard: tuple[int, int] | None = None) -> list[str]:
    chosen = [t for t in all_teams if not teams or t in teams]
    if shard is not None:
        index, count = shard
        chosen = [t for t in chosen if shard_of(t, count) == index]
    return chosen


def page_size() -> int:
    """Events read per page: LEDGER_REBUILD_PAGE, or `read_models.PAGE`; `InputError` (exit 2)
    for anything but a whole number from 1 to 1,000,000."""
    from ledger.errors import InputError

    text = os.environ.get(PAGE_ENV)
    if not text:
        return read_models.PAGE
    if not (text.strip().isascii() and text.strip().isdigit() and 1 <= int(text) <= 1_000_000):
        from ledger.events import shown

        raise InputError(f"{PAGE_ENV}: expected a whole number of events from 1 to 1,000,000, got {shown(text)}")
    return int(text)


def pause(phase: str, env: str = PAUSE_ENV) -> None:
    """Stop here, forever, when the variable `env` (LEDGER_REBUILD_PAUSE_AT) names this phase
    (crash tests)."""
    if os.environ.get(env) == phase:
        print(f"paused at {phase}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)


@dataclass
class TeamResult:
    team: str
    events: int = 0
    seconds: float = 0.0
    position: int = 0
    swapped: bool = False
    drift: list[dict] = field(default_factory=list)
    chain: dict | None = None  # ledger.store.chain.ChainReport.to_json_dict()
    refused: bool = False  # rebuild: the chain is broken, nothing was folded or swapped


def process_team(store: Store, team: str, *, swap: bool,
                 progress: Callable[[int], None] | None = None) -> TeamResult:
    """Rebuild (swap=True) or verify one team's read models; see the module docstring. The
    team's hash chain is checked first; a team whose chain is broken is not replayed (a rebuild
    is refused: its live models stay as they are, a tampered history is never swapped in)."""
    started = time.perf_counter()
    report = store.check_chain(team)
    if not report.intact:
        return TeamResult(team, seconds=time.perf_counter() - started, position=report.head,
                          chain=report.to_json_dict(), refused=swap)
    with read_models.fewer_collections():
        result = _process_team(store, team, swap=swap, progress=progress)
    result.chain = report.to_json_dict()
    result.seconds = time.perf_counter() - started
    return result


def _process_team(store: Store, team: str, *, swap: bool, progress: Callable[[int], None] | None) -> TeamResult:
    started = time.perf_counter()
    M.ensure_tables(store)
    read_models.maintain(store, team)  # a live model left behind (or never built) by a killed writer
    for g in M.generations(store, team):
        if not g.live:
            M.clear_generation(store, team, g.gen)
    gens = M.generations(store, team)
    live = next((g for g in gens if g.live), None)
    shadow = max((g.gen for g in gens), default=0) + 1
    M.create_generation(store, team, shadow, live=False)
    pause("start")
    head = store.head(team)
    pages = [0]

    def tick(n: int) -> None:
        pages[0] += 1
        if pages[0] == 2:
            pause("fold")
        if progress is not None:
            progress(n)

    page = page_size()
    models = read_models.compute(store, team, None, head, page=page, keep_checkpoint=False, progress=tick)
    M.write(store, team, shadow, models, 0, pause=pause)
    pause("written")
    result = TeamResult(team, events=models.events, position=models.position)
    rebuilt = M.Generation(team, shadow, False, models.position, models.horizon, models.tz)
    for _ in range(5):  # events appended meanwhile: both to the same position
        if live is not None:
            live = read_models.maintain(store, team) or live
        rebuilt = read_models.maintain(store, team, gen=shadow) or rebuilt
        if live is None or live.position == rebuilt.position:
            break
    result.position = rebuilt.position
    if live is None:
        result.drift.append({"team": team, "model": "all", "key": None, "at": None,
                             "live": None, "rebuilt": f"position {rebuilt.position}",
                             "rule": None, "note": "no live model"})
    else:
        result.drift.extend(compare(store, team, live.gen, shadow, live.position, rebuilt.position))
    if swap:
        pause("swap")
        for _ in range(5):
            try:
                M.swap(store, team, shadow, rebuilt.position)
                result.swapped = True
                break
            except M.Stale:
                rebuilt = read_models.maintain(store, team, gen=shadow) or rebuilt
    else:
        M.clear_generation(store, team, shadow)
    result.seconds = time.perf_counter() - started
    return result


# -- comparing two generations ----------------------------------------------------------------


def _iso(at_us: int | None, tz: Any = None) -> str | None:
    if at_us is None:
        return None
    moment = from_micros(at_us)
    return (moment.astimezone(tz) if tz is not None else moment).isoformat(timespec="seconds")


Item = Callable[..., None]  # item(model, key, at, live, rebuilt, rule): add one drift item


def compare(store: Store, team: str, live_gen: int, rebuilt_gen: int, live_position: int = 0,
            rebuilt_position: int = 0) -> list[dict]:
    """The differences between two generations of a team's models, as drift items."""
    drift: list[dict] = []

    def item(model: str, key: Any, at: str | None, live_value: Any, rebuilt_value: Any, rule: Any) -> None:
        drift.append({"team": team, "model": model, "key": key, "at": at, "live": live_value,
                      "rebuilt": rebuilt_value, "rule": rule})

    if live_position != rebuilt_position:
        item("position", None, None, live_position, rebuilt_position, None)
    if M.same_rows(store, team, live_gen, rebuilt_gen):
        return drift
    tz = _zone_of(store, team, rebuilt_gen)
    live, rebuilt = M.dump(store, team, live_gen), M.dump(store, team, rebuilt_gen)
    _owner_drift(live["owners"], rebuilt["owners"], tz, item)
    _turn_drift(live["counts"], rebuilt["counts"], item)
    if live["seats"] != rebuilt["seats"]:  # seats over time (the order of `turns` rows)
        item("seats", None, None, [json.loads(s) for _, s in live["seats"][-1:]],
             [json.loads(s) for _, s in rebuilt["seats"][-1:]], "R-RO-1")
    _sanction_drift(live["sanctions"], rebuilt["sanctions"], item)
    _commission_drift(live["commission"], rebuilt["commission"], item)
    return drift


def _zone_of(store: Store, team: str, gen: int) -> Any:
    """The time zone of a generation of the team's models (None if there is no such generation)."""
    from zoneinfo import ZoneInfo

    tz = None
    for g in M.generations(store, team):
        if g.gen == gen:
            tz = ZoneInfo(g.tz)
    return tz


def _owner_drift(live: list, rebuilt: list, tz: Any, item: Item) -> None:
    """Owners per lead over time: one item per lead, at the first moment the two differ."""
    by_live: dict[str, list] = {}
    by_rebuilt: dict[str, list] = {}
    for lead, at_us, owner, rule, disputed, _ in live:
        by_live.setdefault(lead, []).append((at_us, owner, rule, bool(disputed)))
    for lead, at_us, owner, rule, disputed, _ in rebuilt:
        by_rebuilt.setdefault(lead, []).append((at_us, owner, rule, bool(disputed)))
    answers_live = {(r[0], r[1]): r[5] for r in live}
    answers_rebuilt = {(r[0], r[1]): r[5] for r in rebuilt}
    for lead in sorted(set(by_live) | set(by_rebuilt)):
        a, b = by_live.get(lead, []), by_rebuilt.get(lead, [])
        if a == b and all(answers_live[(lead, r[0])] == answers_rebuilt[(lead, r[0])] for r in a):
            continue
        index = next((i for i, (x, y) in enumerate(zip(a, b))
                      if x != y or answers_live[(lead, x[0])] != answers_rebuilt[(lead, y[0])]), min(len(a), len(b)))
        at_us = min(r[0] for r in (a[index:index + 1] + b[index:index + 1]))
        now_live, now_rebuilt = _owner_at(a, at_us), _owner_at(b, at_us)
        item("owner", lead, _iso(at_us, tz), now_live, now_rebuilt,
             (now_rebuilt or now_live or {}).get("rule"))


def _owner_at(rows: list, at_us: int) -> dict | None:
    """The owner a lead's rows (at_us, owner, rule, disputed) give at `at_us`."""
    found = [r for r in rows if r[0] <= at_us]
    if not found:
        return None
    _, owner, rule, disputed = found[-1]
    return {"owner": owner, "rule": rule, "disputed": disputed}


def _turn_drift(live: list, rebuilt: list, item: Item) -> None:
    """Turn and lead counts per (date, consultant, channel) (R-RT-7)."""
    counts_live = {tuple(r[:3]): (r[3], r[4]) for r in live}
    counts_rebuilt = {tuple(r[:3]): (r[3], r[4]) for r in rebuilt}
    for key in sorted(set(counts_live) | set(counts_rebuilt)):
        x, y = counts_live.get(key, (0, 0)), counts_rebuilt.get(key, (0, 0))
        if x != y:
            day, consultant, channel = key
            item("turns", {"date": day, "consultant": consultant, "channel": channel}, day,
                 {"turns": x[0], "leads": x[1]}, {"turns": y[0], "leads": y[1]}, "R-RT-7")


def _sanction_drift(live: list, rebuilt: list, item: Item) -> None:
    """Sanctions, per penalty."""
    sanctions_live, sanctions_rebuilt = dict(live), dict(rebuilt)
    for penalty in sorted(set(sanctions_live) | set(sanctions_rebuilt)):
        x, y = sanctions_live.get(penalty), sanctions_rebuilt.get(penalty)
        if x != y:
            xs, ys = (json.loads(x) if x else None), (json.loads(y) if y else None)
            item("sanctions", penalty, (ys or xs or {}).get("from"), xs, ys, (ys or xs or {}).get("rule"))


def _commission_drift(live: list, rebuilt: list, item: Item) -> None:
    """Commission statements, per month and consultant."""
    months_live, months_rebuilt = dict(live), dict(rebuilt)
    for month in sorted(set(months_live) | set(months_rebuilt)):
        x, y = months_live.get(month), months_rebuilt.get(month)
        if x == y:
            continue
        xs = {s["consultant"]: s for s in json.loads(x)["statements"]} if x else {}
        ys = {s["consultant"]: s for s in json.loads(y)["statements"]} if y else {}
        differing = [c for c in sorted(set(xs) | set(ys)) if xs.get(c) != ys.get(c)]
        if not differing:  # a month missing on one side, or a difference outside the statements
            item("commission", {"month": month, "consultant": None}, month,
                 "missing" if x is None else {"statements": len(xs)},
                 "missing" if y is None else {"statements": len(ys)}, "R-CM-6")
        for consultant in differing:
            sx, sy = xs.get(consultant), ys.get(consultant)
            rules = sorted({line["rule"] for s in (sx, sy) if s for line in s["lines"]})
            item("commission", {"month": month, "consultant": consultant}, month,
                 None if sx is None else {"total": sx["total"], "lines": len(sx["lines"])},
                 None if sy is None else {"total": sy["total"], "lines": len(sy["lines"])},
                 ",".join(rules) or "R-CM-6")


# -- many teams ---------------------------------------------------------------------------------

_progress_queue = None


def _init_worker(queue: Any) -> None:
    global _progress_queue
    _progress_queue = queue


def _worker(job: tuple[str, str, bool]) -> dict:
    url, team, swap = job
    queue = _progress_queue

    def progress(n: int) -> None:
        if queue is not None:
            queue.put(n)

    with open_store(url) as store:
        return asdict(process_team(store, team, swap=swap, progress=progress))


@dataclass
class Summary:
    teams: list[str]
    events: int
    seconds: float
    drift: list[dict]
    swapped: list[str]
    results: list[dict]

    @property
    def chains(self) -> list[dict]:
        """Each team's chain: head #N, head hash (to keep elsewhere), intact, problems."""
        return [r["chain"] for r in self.results if r.get("chain") is not None]

    @property
    def broken(self) -> list[dict]:
        return [c for c in self.chains if not c["intact"]]

    def to_json_dict(self) -> dict:
        return {
            "teams": self.teams, "events": self.events, "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events / self.seconds, 1) if self.seconds > 0 else None,
            "drift": self.drift, "swapped": self.swapped,
            "chains": self.chains, "refused": [r["team"] for r in self.results if r.get("refused")],
            "per_team": [{k: (round(v, 3) if k == "seconds" else v) for k, v in r.items()
                          if k not in ("drift", "chain")} for r in self.results],
        }


def run(url: str, teams: list[str], *, swap: bool, jobs: int = 1,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None) -> Summary:
    """Rebuild or verify `teams` of the store at `url`, `jobs` teams at a time."""
    started = time.perf_counter()
    results: list[dict] = []
    page_size()  # a bad LEDGER_REBUILD_PAGE is refused before anything is read
    if on_start is not None:
        with open_store(url) as store:
            on_start(sum(store.head(team) for team in teams))
    if jobs <= 1 or len(teams) <= 1:
        with open_store(url) as store:
            for team in teams:
                results.append(asdict(process_team(store, team, swap=swap, progress=on_progress)))
    else:
        results = _run_pool(url, teams, swap=swap, jobs=jobs, on_progress=on_progress)
    seconds = time.perf_counter() - started
    drift = [d for r in results for d in r["drift"]]
    return Summary(teams=[r["team"] for r in results], events=sum(r["events"] for r in results),
                   seconds=seconds, drift=drift, swapped=[r["team"] for r in results if r["swapped"]],
                   results=results)


def _run_pool(url: str, teams: list[str], *, swap: bool, jobs: int,
              on_progress: Callable[[int], None] | None) -> list[dict]:
    """The teams in `jobs` spawned processes. A worker that dies (killed, out of memory) fails
    the run with `StoreError` (exit 1) instead of waiting for it forever: the pool is broken,
    the other workers are stopped, and the teams not finished keep their live models (only a
    finished team's swap changes them, atomically)."""
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from ledger.errors import StoreError

    ctx = multiprocessing.get_context("spawn")
    progress_queue = ctx.Queue()

    def drain(block: bool) -> None:
        while True:
            try:
                n = progress_queue.get(timeout=0.2) if block else progress_queue.get_nowait()
            except queues.Empty:
                return
            if on_progress is not None:
                on_progress(n)
            block = False

    done: dict[str, dict] = {}
    with ProcessPoolExecutor(min(jobs, len(teams)), mp_context=ctx, initializer=_init_worker,
                             initargs=(progress_queue,)) as pool:
        pending = {pool.submit(_worker, (url, team, swap)): team for team in teams}
        try:
            while pending:
                drain(block=True)
                finished, _ = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
                for future in finished:
                    done[pending.pop(future)] = future.result()
        except BrokenProcessPool:
            for future in pending:
                future.cancel()
            left = ", ".join(team for team in teams if team not in done)
            raise StoreError(f"a worker process died (killed or out of memory) before it finished "
                             f"team(s) {left}; their live read models are untouched"
                             f"{' (finished: ' + ', '.join(done) + ')' if done else ''}; run again, "
                             "or with --jobs 1 to use less memory") from None
        drain(block=False)
    return [done[team] for team in teams]


def parse_shard(text: str | None) -> tuple[int, int] | None:
    from ledger.errors import InputError

    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise InputError(f"--shard {text!r}: expected I/N, e.g. 0/3") from None
    if count < 1 or not 0 <= index < count:
        raise InputError(f"--shard {text!r}: expected 0 <= I < N")
    return index, count

