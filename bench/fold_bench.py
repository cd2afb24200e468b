"""The fold's own speed: `projections.engine.replay` over one generated history, in memory.

Generates one busy campus team (`fixtures.generate`, `--days` days) once, writes it as an event
file, then times `replay(records)` in a child process per checkout: this tree, and with
`--baseline DIR` another checkout of the project (a `git worktree` of an older commit), on the
same events, runs alternating between the two so that the machine's noise falls on both. Each
child parses the file with its own `ledger.events.parse_event` and reports the fastest of
`--repeat` replays (GC as the fold leaves it) of the records in (at, seq) order, as the store
reads them. Prints JSON; never an assertion.

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
times = []
for _ in range(repeat):
    gc.collect()
    began = time.perf_counter()
    replay(records)
    times.append(time.perf_counter() - began)
print(json.dumps({"events": len(records), "median_s": statistics.median(times), "min_s": min(times)}))
"""


def child(tree: Path, history: Path, repeat: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(history), str(repeat)], cwd=tree, check=True,
                         capture_output=True, text=True, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=45)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="alternating rounds (one child per tree each)")
    parser.add_argument("--repeat", type=int, default=3, help="replays per child")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure on the same events")
    options = parser.parse_args()

    from fixtures.generate import generate, write_jsonl

    with tempfile.TemporaryDirectory(prefix="ledger-fold-") as work:
        history = Path(work) / "history.jsonl"
        write_jsonl(generate(options.seed, teams=1, days=options.days, start=dt.date(2025, 11, 3),
                             preset="campus", leads_per_day=options.leads_per_day), str(history))
        trees = {"current": ROOT, **({"baseline": options.baseline.resolve()} if options.baseline else {})}
        times: dict[str, list[float]] = {name: [] for name in trees}
        events = 0
        for _ in range(options.runs):
            for name, tree in trees.items():
                figures = child(tree, history, options.repeat)
                events = figures["events"]
                times[name].append(figures["min_s"])
    result = {"events": events, **{f"{name}_replay_s": round(statistics.median(t), 3) for name, t in times.items()}}
    result["current_events_per_s"] = round(events / statistics.median(times["current"]))
    if options.baseline:
        result["speedup_current_over_baseline"] = round(
            statistics.median(times["baseline"]) / statistics.median(times["current"]), 3)
        result["target_speedup"] = 1.3
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
