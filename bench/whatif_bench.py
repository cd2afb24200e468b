"""Issue 15 benchmark: what does a what-if cost against one replay of the same team?

Generates a year of one busy campus (about 80,000 events) with the project's generator and
imports it into a SQLite store with `ledger import` (which leaves checkpoints and read models,
as a store in use has them). Then, each in its own child process (wall time and peak RSS from
`os.wait4`), alternately `--runs` times so that load from elsewhere falls on all of them alike:

  - `replay`: one replay of the team from its first event (`Store.read_by_time` of the whole
    history + `projections.engine.replay`), the issue's baseline;
  - `whatif_year`: `ledger whatif --json` over the whole year (`--from` its first day, `--to`
    its last) with `--override day_end=17:00`: two folds of the year, nothing shared;
  - `whatif_month`: the same over the year's last 30 days: each replay reads the history
    before `--from` from the nearest checkpoint (or folds it, where there is none).

Prints JSON: medians, ratios against `replay` (target: `whatif_year` <= 2.5), peak RSS.

    python bench/whatif_bench.py [--days 365] [--leads-per-day 45] [--runs 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.generate import generate, write_jsonl  # noqa: E402

REPLAY = """
import sys, datetime as dt
sys.path.insert(0, {root!r})
from ledger.store import open_store
from projections import engine
with open_store({db!r}) as store:
    records = store.read_by_time({team!r})
    engine.replay(records, until=records[-1].event.at)
"""


def child(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {proc.stderr.read().decode()[-800:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=45)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledger-wibench-"))
    first = dt.date(2025, 11, 3)
    events = list(generate(options.seed, teams=1, days=options.days, start=first, preset="campus",
                           leads_per_day=options.leads_per_day))
    team = events[0]["team"]
    last = first + dt.timedelta(days=options.days - 1)
    path = work / "year.jsonl"
    write_jsonl(events, str(path))
    db = f"sqlite:///{work / 'year.db'}"
    exe = str(Path(sys.executable).parent / "ledger")
    started = time.perf_counter()
    subprocess.run([exe, "import", "--allow-future", str(path), "--db", db], check=True, capture_output=True)
    import_s = time.perf_counter() - started

    month_from = last - dt.timedelta(days=29)
    commands = {
        "replay": [sys.executable, "-c", REPLAY.format(root=str(ROOT), db=db, team=team)],
        "whatif_year": [exe, "whatif", "--team", team, "--from", first.isoformat(), "--to", last.isoformat(),
                        "--override", "day_end=17:00", "--json", "--db", db],
        "whatif_month": [exe, "whatif", "--team", team, "--from", month_from.isoformat(), "--to", last.isoformat(),
                         "--override", "day_end=17:00", "--json", "--db", db],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, float] = {name: 0.0 for name in commands}
    for _ in range(options.runs):
        for name, argv in commands.items():
            seconds, peak = child(argv)
            times[name].append(seconds)
            rss[name] = max(rss[name], peak)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(json.dumps({
        "history_events": len(events),
        "import_s": round(import_s, 2),
        "median_s": {name: round(value, 3) for name, value in medians.items()},
        "peak_rss_mib": {name: round(value, 1) for name, value in rss.items()},
        "ratio_whatif_year_over_replay": round(medians["whatif_year"] / medians["replay"], 3),
        "ratio_whatif_month_over_replay": round(medians["whatif_month"] / medians["replay"], 3),
        "target_year_ratio_at_most": 2.5,
        "runs": options.runs,
        "store_dir": str(work) if os.environ.get("KEEP_TMP") else None,
    }, indent=2))


if __name__ == "__main__":
    main()
