"""Issue #13 benchmark: does a page of the web desk cost the same on a year-long team as on a
one-day team, alone and with 20 clients at once?

Imports a year-long history (--history FILE; by default generated into the work folder by
`fixtures.generate`: seed 7, 365 days from 2025-11-03, 45 leads a weekday, ~74k events of team
campus-01, as bench/whatif_bench.py does) and its first --day-events events as a second team (`campus-day`, the team renamed) into one SQLite
store, adds a supervisor per team, starts a real `ledger serve` on it and times, from httpx
clients in threads (each logged in through the login form, cookies of its own):
  - the board `/{team}/board`, a dispute page `/{team}/disputes/{lead}` (the team's last claimed
    lead) and `/api/{team}/owner/{lead}` (Bearer token), at the default moment;
  - with 1 and with 20 concurrent clients, the two teams alternating round by round;
  - p50/p95 of each (milliseconds, client side), the year/day ratio of each p95, and the board's
    requests per second with each number of clients.
A warm-up round per team first (it loads each team's held state). Prints JSON; never asserts.
The issue's targets are printed beside the figures: p95 <= 50 ms on the year-long team,
year/day <= 1.5, >= 200 board requests/s. The machine is shared: run it twice.

    python bench/serve_bench.py [--history FILE] [--day-events 1000] [--requests 200]
                                [--clients 1,20] [--workers 1] [--keep DIR]
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LEDGER = [sys.executable, "-m", "cli"]
YEAR, DAY = "campus-01", "campus-day"
PASSWORD = "bench passphrase 13"
MIN_PER_CLIENT = 10  # each client's requests per round: 20 clients asking twice each would time a burst
TARGETS = {"p95_ms_year_at_most": 50, "year_over_day_at_most": 1.5, "board_requests_per_second_at_least": 200}


def ledger(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([*LEDGER, *args, "--db", db], input=stdin, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"ledger {' '.join(args)}: {done.stderr.strip()}")
    return done


def last_claimed_lead(lines: list[str]) -> str:
    """The lead of the last claim (a dispute page with its claims), else of the last arrival."""
    claims = [json.loads(line)["lead"] for line in lines if '"ClaimMade"' in line]
    if claims:
        return claims[-1]
    return [json.loads(line)["lead"] for line in lines if '"LeadArrived"' in line][-1]


def year_history(work: Path) -> Path:
    """The generated year (written once into `work`), as bench/whatif_bench.py makes it."""
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from fixtures.generate import generate, write_jsonl

    path = work / "year.jsonl"
    if not path.exists():
        write_jsonl(generate(7, teams=1, days=365, start=dt.date(2025, 11, 3), preset="campus", leads_per_day=45),
                    str(path))
    return path


def prepare(work: Path, history: Path | None, day_events: int) -> tuple[str, dict]:
    """The store (imported once; kept in `work` for the next run) and each team's lead."""
    db = f"sqlite:///{work / 'serve-bench.db'}"
    history = history or year_history(work)
    lines = [line for line in history.read_text(encoding="utf-8").splitlines() if line.strip()]
    day = [line.replace(f'"team": "{YEAR}"', f'"team": "{DAY}"') for line in lines[:day_events]]
    leads = {YEAR: last_claimed_lead(lines), DAY: last_claimed_lead(day)}
    if not (work / "serve-bench.db").exists():
        ledger(db, "import", str(history))
        day_file = work / "day.jsonl"
        day_file.write_text("\n".join(day) + "\n", encoding="utf-8")
        ledger(db, "import", str(day_file))
        for team in (YEAR, DAY):
            ledger(db, "user", "add", f"bench-{team}", "--team", team, "--role", "supervisor", stdin=PASSWORD + "\n")
    return db, leads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([*LEDGER, "serve", "--db", db, "--port", str(port), "--workers", str(workers)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/login", timeout=1)
            return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("ledger serve did not start")


def client(base: str, team: str, token: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    done = c.post("/login", data={"csrf": csrf, "name": f"bench-{team}", "password": PASSWORD})
    if done.status_code != 303:
        raise SystemExit(f"login bench-{team}: {done.status_code}")
    return c


def paths(team: str, lead: str) -> dict[str, str]:
    return {"board": f"/{team}/board", "dispute": f"/{team}/disputes/{lead}", "api_owner": f"/api/{team}/owner/{lead}"}


def timed(clients: list[httpx.Client], path: str, requests: int) -> tuple[list[float], float]:
    """`requests` GETs of `path` spread over the clients, all at once: (latencies ms, wall s)."""
    per_client = max(MIN_PER_CLIENT, requests // len(clients))
    latencies: list[float] = []
    guard = threading.Lock()

    def run(c: httpx.Client) -> None:
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            response = c.get(path)
            mine.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: {response.status_code}")
        with guard:
            latencies.extend(mine)

    started = time.perf_counter()
    with futures.ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(run, clients))
    return latencies, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(base: str, db: str, leads: dict, counts: list[int], requests: int) -> dict:
    tokens = {team: ledger(db, "user", "token", f"bench-{team}").stdout.strip() for team in leads}
    pools = {team: [client(base, team, tokens[team]) for _ in range(max(counts))] for team in leads}
    for team, lead in leads.items():  # warm-up: loads the team's held state
        for path in paths(team, lead).values():
            timed(pools[team][:1], path, 5)
    found: dict = {team: {} for team in leads}
    for name in ("board", "dispute", "api_owner"):
        for n in counts:
            samples = {team: ([], 0.0) for team in leads}
            for _ in range(4):  # rounds alternating between the teams
                for team, lead in leads.items():
                    lat, wall = timed(pools[team][:n], paths(team, lead)[name], requests // 4)
                    samples[team] = (samples[team][0] + lat, samples[team][1] + wall)
            for team, (lat, wall) in samples.items():
                found[team].setdefault(name, {})[str(n)] = {
                    "n": len(lat), "p50_ms": round(statistics.median(lat), 2), "p95_ms": round(percentile(lat, 0.95), 2),
                    "requests_per_second": round(len(lat) / wall, 1)}
    for pool in pools.values():
        for c in pool:
            c.close()
    return found


def summary(found: dict, counts: list[int]) -> dict:
    ratios = {f"{name}_p95_{n}": round(found[YEAR][name][str(n)]["p95_ms"] / found[DAY][name][str(n)]["p95_ms"], 2)
              for name in found[YEAR] for n in counts}
    rps = {f"{team}_{n}_clients": found[team]["board"][str(n)]["requests_per_second"] for team in found for n in counts}
    worst = max(found[YEAR][name][str(n)]["p95_ms"] for name in found[YEAR] for n in counts)
    return {"year_over_day_p95": ratios, "board_requests_per_second": rps, "worst_year_p95_ms": worst,
            "targets": TARGETS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", help="a year-long history of team campus-01 (default: generated)")
    parser.add_argument("--day-events", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200, help="requests per team, page and client count")
    parser.add_argument("--clients", default="1,20")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", help="a folder for the store, reused by the next run")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ledger-serve-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    counts = [int(n) for n in args.clients.split(",")]
    started = time.perf_counter()
    db, leads = prepare(work, Path(args.history) if args.history else None, args.day_events)
    prepared = time.perf_counter() - started
    server, base = start_server(db, args.workers)
    try:
        found = measure(base, db, leads, counts, args.requests)
    finally:
        server.terminate()
        server.wait(10)
    print(json.dumps({"history": args.history or "generated (seed 7, 365 days, 45 leads/day)", "teams": {YEAR: "all events", DAY: f"first {args.day_events} events"},
                      "leads": leads, "workers": args.workers, "prepare_seconds": round(prepared, 1),
                      "pages": found, **summary(found, counts)}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
