"""The fold's own speed: `projections.engine.replay` over one generated history, in memory.

Generates one busy campus team (`fixtures.generate`, `--days` days) once, writes it as an event
file, then times `replay(records)` in a child process per checkout: this tree, and with
`--baseline DIR` another checkout of the project (a `git worktree` of an older commit), on the
same events, runs alternating between the two so that the machine's noise falls on both. Each
child parses the file with its own `ledger.events.parse_event` and reports the fastest of
`--repeat` replays, wall and CPU time (the CPU time of the process is the steadier on a shared
machine; GC as the fold leaves it) of the records in (at, seq) order, as the store
reads them. Prints JSON; never an assertion.

Then, in this process (this tree's code), the costs of the queries the web desk answers from a
state held in memory -- `board`, `followups`, `disputes` and the last full month's `commission`
statements -- on the year's state and on its first day's (issue #19: each <= 10 ms on the year),
medians of `--query-runs` calls.

Usage:
  python bench/fold_bench.py                                   # this tree only
  git worktree add /tmp/base d3aaf18 && python bench/fold_bench.py --baseline /tmp/base
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

CHILD = r"""
import gc, json, statistics, sys, time
from ledger.events import Recorded, parse_event
from projections.engine import replay
with open(sys.argv[1], encoding="utf-8") as handle:
    records = [Recorded(i + 1, parse_event(json.loads(line))) for i, line in enumerate(handle)]
records.sort(key=lambda r: (r.event.at, r.seq))  # as the store reads a team: by (at, seq)
repeat = int(sys.argv[2])
times, cpu = [], []
for _ in range(repeat):
    gc.collect()
    began, began_cpu = time.perf_counter(), time.process_time()
    replay(records)
    times.append(time.perf_counter() - began)
    cpu.append(time.process_time() - began_cpu)
print(json.dumps({"events": len(records), "median_s": statistics.median(times), "min_s": min(times),
                  "min_cpu_s": min(cpu)}))
"""


def child(tree: Path, history: Path, repeat: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(history), str(repeat)], cwd=tree, check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def held_costs(history: Path, runs: int) -> dict:
    """Milliseconds per in-memory query on the whole history's state and on its first day's."""
    from ledger.events import Recorded, parse_event
    from projections import board, queries
    from projections.commission import statements
    from projections.engine import replay

    with open(history, encoding="utf-8") as handle:
        records = [Recorded(i + 1, parse_event(json.loads(line))) for i, line in enumerate(handle)]
    records.sort(key=lambda r: (r.event.at, r.seq))
    first_day = records[0].event.at + dt.timedelta(days=1)
    out: dict = {}
    for name, chosen in (("year", records), ("day", [r for r in records if r.event.at < first_day])):
        state = replay(chosen)
        at = state.clock
        local = at.astimezone(state.tz)
        month = (local.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m") if name == "year" \
            else local.strftime("%Y-%m")
        asks = {"board": lambda: board.board(state, at), "followups": lambda: queries.followups(state),
                "disputes": lambda: queries.disputes(state),
                "commission_month": lambda: statements(state.money, state.policies, state.tz, month)}
        for query, ask in asks.items():
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                ask()
                times.append(time.perf_counter() - began)
            out.setdefault(query, {})[f"{name}_ms"] = round(statistics.median(times) * 1000, 3)
    for figures in out.values():
        figures["year_over_day"] = round(figures["year_ms"] / max(figures["day_ms"], 0.001), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=45)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="alternating rounds (one child per tree each)")
    parser.add_argument("--repeat", type=int, default=3, help="replays per child")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure on the same events")
    parser.add_argument("--query-runs", type=int, default=21, help="calls per in-memory query (0: skip)")
    options = parser.parse_args()

    from fixtures.generate import generate, write_jsonl

    with tempfile.TemporaryDirectory(prefix="ledger-fold-") as work:
        history = Path(work) / "history.jsonl"
        write_jsonl(generate(options.seed, teams=1, days=options.days, start=dt.date(2025, 11, 3),
                             preset="campus", leads_per_day=options.leads_per_day), str(history))
        trees = {"current": ROOT, **({"baseline": options.baseline.resolve()} if options.baseline else {})}
        times: dict[str, list[float]] = {name: [] for name in trees}
        cpu: dict[str, list[float]] = {name: [] for name in trees}
        events = 0
        for _ in range(options.runs):
            for name, tree in trees.items():
                figures = child(tree, history, options.repeat)
                events = figures["events"]
                times[name].append(figures["min_s"])
                cpu[name].append(figures["min_cpu_s"])
        held = held_costs(history, options.query_runs) if options.query_runs else None
    result = {"events": events, **{f"{name}_replay_s": round(statistics.median(t), 3) for name, t in times.items()},
              **{f"{name}_replay_cpu_s": round(statistics.median(t), 3) for name, t in cpu.items()}}
    result["current_events_per_s"] = round(events / statistics.median(times["current"]))
    if options.baseline:
        result["speedup_current_over_baseline"] = round(
            statistics.median(times["baseline"]) / statistics.median(times["current"]), 3)
        result["cpu_speedup_current_over_baseline"] = round(
            statistics.median(cpu["baseline"]) / statistics.median(cpu["current"]), 3)
        result["target_speedup"] = 1.3
    if held:
        result["held_in_memory"] = held
        result["held_target_year_ms_below"] = 10
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
