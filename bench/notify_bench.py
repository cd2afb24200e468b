"""Issue 16 benchmark: `ledger notify --once` over a year-long team's history.

Generates a year of one busy campus with the project's generator, imports it with `ledger
import`, adds a generic webhook target (unpaced) pointing at a real HTTP receiver on 127.0.0.1
run by this script, and times, in a child process, the first `ledger notify --once` (every
notice of the year derived, written to the outbox and delivered), on a fresh copy of the store
for each of `--runs` runs. Prints JSON: notices per kind, delivered, the median wall time and
how many times faster than the history's own rate it keeps up (the issue's target: >= 10x; a
year in well under a minute).

    python bench/notify_bench.py [--days 365] [--leads-per-day 45] [--runs 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.generate import generate, write_jsonl  # noqa: E402


def receiver() -> tuple[http.server.ThreadingHTTPServer, list]:
    got: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else the answer's two writes wait 40 ms for a delayed ACK

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append(self.headers["Idempotency-Key"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--leads-per-day", type=int, default=45)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledger-notifybench-"))
    first = dt.date(2025, 11, 3)
    events = list(generate(options.seed, teams=1, days=options.days, start=first, preset="campus",
                           leads_per_day=options.leads_per_day))
    team = events[0]["team"]
    path = work / "year.jsonl"
    write_jsonl(events, str(path))
    base = work / "base.db"
    exe = str(Path(sys.executable).parent / "ledger")
    server, got = receiver()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    started = time.perf_counter()
    subprocess.run([exe, "import", "--allow-future", str(path), "--db", f"sqlite:///{base}"], check=True,
                   capture_output=True)
    import_s = time.perf_counter() - started
    for args in (["add-target", "bench", "--kind", "webhook", "--url", url, "--team", team], ["rate", "bench", "none"]):
        subprocess.run([exe, "notify", *args, "--db", f"sqlite:///{base}"], check=True, capture_output=True)
    span = (dt.datetime.fromisoformat(events[-1]["at"]) - dt.datetime.fromisoformat(events[0]["at"])).total_seconds()
    now = (dt.datetime.fromisoformat(events[-1]["at"]) + dt.timedelta(hours=1)).isoformat()
    times, answer = [], {}
    for run in range(options.runs):
        db = work / f"run{run}.db"
        shutil.copy(base, db)
        got.clear()
        started = time.perf_counter()
        done = subprocess.run([exe, "notify", "--once", "--team", team, "--json", "--now", now, "--db", f"sqlite:///{db}"],
                              check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        answer = json.loads(done.stdout)["teams"][0]
        db.unlink()
    median = statistics.median(times)
    server.shutdown()
    print(json.dumps({
        "history_events": len(events),
        "history_days": options.days,
        "import_s": round(import_s, 2),
        "notices": answer["new"],
        "notices_total": sum(answer["new"].values()),
        "delivered": sum(answer["sent"].values()),
        "received": len(got),
        "once_median_s": round(median, 2),
        "once_s": [round(t, 2) for t in times],
        "faster_than_history": round(span / median),
        "target_faster_than_history_at_least": 10,
        "runs": options.runs,
        "store_dir": str(work) if os.environ.get("KEEP_TMP") else None,
    }, indent=2))
    if not os.environ.get("KEEP_TMP"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
