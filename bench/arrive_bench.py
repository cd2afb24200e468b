"""Latency of one `ledger arrive` (issue #5): against an empty team and against a team holding a
year of a busy campus (~80,000 events from `fixtures.generate`, imported once). Prints JSON;
never an assertion.

Each figure is the median wall time of `--runs` separate `ledger arrive online --json` processes
(what a receptionist waits for), started a second apart, the empty and the year-long team taking
turns (so that load from elsewhere on the machine weighs on both alike);
`year_team_back_to_back` starts the year-long team's one right after the other. The first
arrival after the import folds the whole history once and leaves a checkpoint
(commands/record.py); it is reported apart. Later arrivals read the nearest checkpoint and fold
only the events recorded since: `folded_by_next_arrival` shows how many. Also reported: the
start-up cost `python -c "import cli"` (median).

Usage:
  python bench/arrive_bench.py [--runs 7] [--leads-per-day 52] [--days 365] [--pg]

With --pg a throwaway PostgreSQL 15 server is started as in the tests and measured as well.
Byte-code caches are kept in a temporary directory (PYTHONPYCACHEPREFIX), as in an installed
package; without them every process compiles the sources again.
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

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

LEDGER = str(Path(sys.executable).with_name("ledger"))
# Seconds between measured arrivals, as at a front desk. An arrival recorded in the same second
# as the one before it shares its `at` (recording commands keep whole seconds) and takes the
# slower read-model path (commands/read_models.maintain); `year_team_back_to_back` measures that.
GAP = 1.0
SEED = 1
START = dt.date(2025, 11, 3)


def timed(args: list[str], env: dict) -> float:
    began = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def median_of(runs: int, args: list[str], env: dict, gap: float = 0.0) -> dict:
    """Median wall time of `runs` runs, `gap` seconds apart."""
    times = []
    for _ in range(runs):
        time.sleep(gap)
        times.append(timed(args, env))
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "max_s": round(max(times), 4), "runs": runs}


def empty_team(url: str, env: dict) -> str:
    team = "empty"
    subprocess.run([LEDGER, "adopt", "campus", "--team", team, "--db", url], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for n in range(1, 9):
        subprocess.run([LEDGER, "join", f"c{n}", "--name", f"顾问{n}", "--seat", str(n), "--team", team, "--db", url],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    return team


def year_file(folder: str, days: int, leads_per_day: int) -> tuple[str, int]:
    from fixtures.generate import generate, write_jsonl

    path = os.path.join(folder, "year.jsonl")
    count = write_jsonl(generate(SEED, 1, days, START, "campus", leads_per_day), path)
    return path, count


def folded_next(url: str, team: str) -> int:
    from commands.record import load_state
    from ledger.store import open_store

    with open_store(url) as store:
        return load_state(store, team, dt.datetime.now(dt.timezone.utc)).folded


def in_process(url: str, team: str, runs: int) -> dict:
    """The recording handler alone (no process start-up), with and without the read-model
    maintenance that follows each append (commands.read_models, issue 6)."""
    import commands.read_models as models
    from commands.record import arrive
    from ledger.store import open_store

    out = {}
    maintain = models.maintain_quietly
    try:
        for label in ("with_read_models_s", "without_read_models_s"):
            if label.startswith("without"):
                models.maintain_quietly = lambda *args, **kwargs: None
            times = []
            with open_store(url) as store:
                for _ in range(runs):
                    began = time.perf_counter()
                    arrive(store, team, "online", at=None, now=dt.datetime.now(dt.timezone.utc))
                    times.append(time.perf_counter() - began)
            out[label] = round(statistics.median(times), 4)
    finally:
        models.maintain_quietly = maintain
    return out


def alternating(runs: int, commands: dict[str, list[str]], env: dict, gap: float) -> dict:
    """`median_of` for several commands at once, taking turns run by run, so that a burst of load
    on this shared machine weighs on each of them alike and their ratio stays fair."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, args in commands.items():
            time.sleep(gap)
            times[name].append(timed(args, env))
    return {name: {"median_s": round(statistics.median(t), 4), "min_s": round(min(t), 4),
                   "max_s": round(max(t), 4), "runs": runs} for name, t in times.items()}


def measure(url: str, year_path: str, runs: int, env: dict) -> dict:
    from commands.importing import import_file
    from ledger.store import open_store

    result: dict = {}
    empty = empty_team(url, env)
    arrive = [LEDGER, "arrive", "online", "--json", "--db", url, "--team"]
    timed(arrive + [empty], env)  # the team's first arrival

    with open(year_path, encoding="utf-8") as handle:
        text = handle.read()
    began = time.perf_counter()
    with open_store(url) as store:
        summary = import_file(store, text, "year.jsonl", allow_future=True)
    result["import_s"] = round(time.perf_counter() - began, 2)
    (team,) = summary.appended
    result["first_arrival_after_import_s"] = round(timed(arrive + [team], env), 3)
    both = alternating(runs, {"empty": arrive + [empty], "year": arrive + [team]}, env, GAP)
    result["empty_team"] = both["empty"]
    result["year_team"] = {"team": team, "events": summary.appended[team], **both["year"]}
    result["year_team_back_to_back"] = median_of(runs, arrive + [team], env)
    result["folded_by_next_arrival"] = folded_next(url, team)
    result["in_process"] = in_process(url, team, min(runs, 3))
    result["ratio_year_to_empty"] = round(result["year_team"]["median_s"] / result["empty_team"]["median_s"], 3)
    result["ratio_back_to_back"] = round(result["year_team_back_to_back"]["median_s"]
                                         / result["empty_team"]["median_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=52, help="~82,000 events over 365 days")
    parser.add_argument("--pg", action="store_true", help="also measure on a throwaway PostgreSQL server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="arrive-bench-") as folder:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": os.path.join(folder, "pyc")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("LEDGER_DB", None)
        import_cli = [sys.executable, "-c", "import cli"]
        timed(import_cli, env)  # fill the byte-code cache
        out: dict = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                     "import_cli": median_of(args.runs, import_cli, env)}
        path, count = year_file(folder, args.days, args.leads_per_day)
        out["history"] = {"generator": f"generate({SEED}, teams=1, days={args.days}, start={START}, "
                                       f"preset='campus', leads_per_day={args.leads_per_day})", "events": count}
        out["sqlite"] = measure(f"sqlite:///{folder}/bench.db", path, args.runs, env)
        if args.pg:
            import pg_server

            server = pg_server.start()
            try:
                out["postgresql"] = measure(server.create_database("arrive_bench"), path, args.runs, env)
            finally:
                server.stop()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
