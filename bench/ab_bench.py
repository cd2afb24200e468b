"""This checkout against another (e.g. main) in one run: `bench/import_bench.py` and
`bench/arrive_bench.py` of each, taking turns round by round so that load from elsewhere on this
shared machine weighs on both alike. Prints JSON (medians over the rounds and the ratios
this / base); never an assertion.

Usage:
  python bench/ab_bench.py --base /path/to/other/checkout [--rounds 3] [--events 30000] [--days 90] [--runs 5]

Each checkout runs with its own `.venv/bin/python` (the base needs one: `python3.11 -m venv .venv
&& .venv/bin/pip install -e '.[test]'`). Both benches measure SQLite and a throwaway PostgreSQL.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def run(checkout: Path, script: str, args: list[str]) -> dict:
    python = checkout / ".venv" / "bin" / "python"
    # A key file for PostgreSQL stores (issue #18 item 3: required there; older checkouts ignore it).
    env = {**os.environ, "LEDGER_SECRET_FILE": os.environ.get("LEDGER_SECRET_FILE")
           or os.path.join(tempfile.gettempdir(), f"ab_bench_{os.getpid()}.key")}
    done = subprocess.run([str(python), str(checkout / "bench" / script), *args], capture_output=True,
                          text=True, check=True, cwd=checkout, env=env)
    return json.loads(done.stdout)


def figures(imported: dict, arrived: dict) -> dict:
    out = {}
    for kind in ("sqlite", "postgresql"):
        out[f"{kind}_import_s"] = imported[kind]["ledger_import"]["seconds"]
        out[f"{kind}_arrive_year_s"] = arrived[kind]["year_team"]["median_s"]
        out[f"{kind}_arrive_empty_s"] = arrived[kind]["empty_team"]["median_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, type=Path, help="the other checkout (with its .venv)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    checkouts = {"this": HERE, "base": args.base.resolve()}
    rounds: dict[str, list[dict]] = {name: [] for name in checkouts}
    for n in range(args.rounds):
        order = list(checkouts) if n % 2 == 0 else list(reversed(checkouts))
        for name in order:
            imported = run(checkouts[name], "import_bench.py", ["--events", str(args.events), "--sample", str(args.sample)])
            arrived = run(checkouts[name], "arrive_bench.py", ["--days", str(args.days), "--runs", str(args.runs), "--pg"])
            rounds[name].append(figures(imported, arrived))
            print(f"round {n + 1} {name}: {rounds[name][-1]}", file=sys.stderr, flush=True)
    keys = list(rounds["this"][0])
    medians = {name: {k: round(statistics.median(r[k] for r in rs), 4) for k in keys} for name, rs in rounds.items()}
    minima = {name: {k: round(min(r[k] for r in rs), 4) for k in keys} for name, rs in rounds.items()}
    result = {
        "checkouts": {name: str(path) for name, path in checkouts.items()},
        "rounds": args.rounds, "import_events": args.events, "arrive_days": args.days, "arrive_runs": args.runs,
        "median": medians, "min": minima,
        "ratio_median_this_to_base": {k: round(medians["this"][k] / medians["base"][k], 3) for k in keys},
        "ratio_min_this_to_base": {k: round(minima["this"][k] / minima["base"][k], 3) for k in keys},
        "each_round": rounds,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
