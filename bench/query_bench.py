"""Issue 3 benchmark: does a query or an append cost the same on a long history as on a short one?

Generates a year of one busy campus (about 80,000 events) with the project's generator, imports
its first 1,000 events into one SQLite store and all of it into another, then times, as separate
processes the way a person runs them:
  - `ledger owner LEAD` (median of --runs, after one warm-up run that leaves a checkpoint),
  - `ledger import` of one more event (a new lead after the last event),
  - `ledger owner LEAD --as-recorded T` (R-CO-4) on the year, T a day before its end, against the
    same query without it (from the read model with --json, and folded, human output),
and, per query (owner, explain, next, turns, sanctions, disputes, followups, board, commission),
human and `--json`, the year/day ratio from runs alternating between the two stores (issue 19:
every query <= 1.5x), and reports the in-process fold rate (projections.engine.replay over the
whole year). Prints JSON. Ratios, not absolute times, are the result: the machine is noisy.

    python bench/query_bench.py [--days 365] [--leads-per-day 45] [--runs 7]
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
from ledger.events import Recorded, parse_event  # noqa: E402


def ledger(*args: str, db: str) -> tuple[float, subprocess.CompletedProcess]:
    exe = Path(sys.executable).parent / "ledger"
    started = time.perf_counter()
    done = subprocess.run([str(exe), *args, "--db", db], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ledger {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return elapsed, done


def median_time(runs: int, make_args) -> float:
    times = []
    for i in range(runs):
        args, db = make_args(i)
        times.append(ledger(*args, db=db)[0])
    return statistics.median(times)


def query_ratios(events: list[dict], counts: dict, stores: dict, team: str, runs: int) -> dict:
    """Each query, human and --json, on the day (small) and the year (big) store, alternating
    runs; {query: {form: {"day_s", "year_s", "ratio"}}} with medians."""
    def moments(slice_: list[dict]) -> tuple[str, str, str, str]:
        leads = [e for e in slice_ if e["type"] == "LeadArrived"]
        last = max(dt.datetime.fromisoformat(e["at"]) for e in slice_)
        day = last.date().isoformat()
        return leads[-1]["lead"], day, last.strftime("%Y-%m"), last.isoformat()

    asked = {name: moments(events[: counts[name]]) for name in ("small", "big")}

    def questions(name: str) -> dict[str, list[str]]:
        lead, day, month, _ = asked[name]
        return {"owner": ["owner", lead], "explain": ["explain", lead], "next": ["next", "hotline"],
                "turns": ["turns", "--from", day, "--to", day], "sanctions": ["sanctions"],
                "disputes": ["disputes"], "followups": ["followups"], "board": ["board"],
                "commission": ["commission", "--month", month]}

    out: dict = {}
    for query in questions("small"):
        out[query] = {}
        for form in ("human", "json"):
            times: dict[str, list[float]] = {"small": [], "big": []}
            for _ in range(runs):
                for name in ("small", "big"):
                    args = [*questions(name)[query], "--team", team]
                    if query not in ("turns", "commission"):  # those two answer for a period
                        args += ["--at", asked[name][3]]
                    if form == "json":
                        args.append("--json")
                    times[name].append(ledger(*args, db=stores[name])[0])
            day_s, year_s = statistics.median(times["small"]), statistics.median(times["big"])
            out[query][form] = {"day_s": round(day_s, 3), "year_s": round(year_s, 3), "ratio": round(year_s / day_s, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=45)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledger-qbench-"))
    events = list(generate(options.seed, teams=1, days=options.days, start=dt.date(2025, 11, 3),
                           preset="campus", leads_per_day=options.leads_per_day))
    team = events[0]["team"]
    running = None
    for event in events:  # recorded as it happened; a late event when the next one came (R-CO-1)
        moment = dt.datetime.fromisoformat(event["at"]).replace(microsecond=0)
        running = moment if running is None or moment > running else running
        event["recorded"] = running.isoformat()
    small, big = work / "small.jsonl", work / "big.jsonl"
    write_jsonl(events[: options.small], str(small))
    write_jsonl(events, str(big))
    stores = {"small": f"sqlite:///{work / 'small.db'}", "big": f"sqlite:///{work / 'big.db'}"}
    counts = {"small": options.small, "big": len(events)}
    import_full = {}
    for name, path in (("small", small), ("big", big)):
        import_full[name] = ledger("import", "--allow-future", str(path), db=stores[name])[0]

    def last_lead(slice_: list[dict]) -> tuple[str, dt.datetime]:
        leads = [e for e in slice_ if e["type"] == "LeadArrived"]
        latest = max(dt.datetime.fromisoformat(e["at"]) for e in slice_)
        return leads[-1]["lead"], latest

    figures: dict[str, dict] = {}
    for name in ("small", "big"):
        slice_ = events[: counts[name]]
        lead, latest = last_lead(slice_)
        db = stores[name]
        ledger("owner", lead, "--team", team, "--json", db=db)  # warm-up: leaves a checkpoint
        owner = median_time(options.runs, lambda i: (("owner", lead, "--team", team, "--json"), db))
        extra = []
        for i in range(options.runs):
            event = {"type": "LeadArrived", "team": team, "lead": f"BENCH-{name}-{i}", "channel": "walk_in",
                     "at": (latest + dt.timedelta(minutes=1 + i)).isoformat(), "phone": f"1990000{i:04d}"}
            path = work / f"extra-{name}-{i}.jsonl"
            path.write_text(json.dumps(event) + "\n", encoding="utf-8")
            extra.append(path)
        one_more = median_time(options.runs, lambda i: (("import", "--allow-future", str(extra[i])), db))
        figures[name] = {"events": counts[name], "owner_s": round(owner, 4), "import_one_more_s": round(one_more, 4),
                         "import_all_s": round(import_full[name], 3)}

    per_query = query_ratios(events, counts, stores, team, options.runs)

    db = stores["big"]
    as_of = running - dt.timedelta(days=1)
    lead = [e for e in events if e["type"] == "LeadArrived" and dt.datetime.fromisoformat(e["at"]) < as_of][-1]["lead"]
    flag = ("--as-recorded", as_of.isoformat())
    ledger("owner", lead, "--team", team, *flag, db=db)  # warm-up, as above
    as_recorded = {
        "json": median_time(options.runs, lambda i: (("owner", lead, "--team", team, "--json", *flag), db)),
        "json_without": median_time(options.runs, lambda i: (("owner", lead, "--team", team, "--json"), db)),
        "human": median_time(options.runs, lambda i: (("owner", lead, "--team", team, *flag), db)),
        "human_without": median_time(options.runs, lambda i: (("owner", lead, "--team", team), db)),
    }

    records = [Recorded(i + 1, parse_event(json.loads(json.dumps(e)))) for i, e in enumerate(events)]
    from projections.engine import replay

    started = time.perf_counter()
    replay(records)
    fold_s = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cli"], cwd=ROOT, check=True)
    import_cli_s = time.perf_counter() - started

    print(json.dumps({
        "history_events": len(events),
        "small": figures["small"],
        "big": figures["big"],
        "owner_ratio_big_over_small": round(figures["big"]["owner_s"] / figures["small"]["owner_s"], 3),
        "import_one_more_ratio_big_over_small": round(
            figures["big"]["import_one_more_s"] / figures["small"]["import_one_more_s"], 3),
        "target_ratio_below": 1.5,
        "as_recorded_s": {k: round(v, 4) for k, v in as_recorded.items()},
        "as_recorded_ratio_json": round(as_recorded["json"] / as_recorded["json_without"], 3),
        "as_recorded_ratio_human": round(as_recorded["human"] / as_recorded["human_without"], 3),
        "as_recorded_target_below": 2.0,
        "per_query_year_over_day": per_query,
        "per_query_target_below": 1.5,
        "fold_events_per_s": round(len(records) / fold_s),
        "python_c_import_cli_s": round(import_cli_s, 3),
        "store_dir": str(work) if os.environ.get("KEEP_TMP") else None,
    }, indent=2))
    if not os.environ.get("KEEP_TMP"):
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
