"""Import throughput: `ledger import` of a 100,000-event file on SQLite and PostgreSQL, against
the eventsourcing library appending the same events one `save` per event (on a sample) and in
batched saves (1,000 events per `save`; the library's time only, events already triggered). Prints JSON; never an assertion.

Usage:
  python bench/import_bench.py [--events 100000] [--sample 2000] [--pg-url postgresql://...]

Without --pg-url a throwaway PostgreSQL 15 server is started as in the tests (durable: fsync on).
Each measurement uses a fresh database.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "tests")]

TEAM = "bench"
BATCH = 1000
SH = dt.timezone(dt.timedelta(hours=8))


def generate(count: int) -> list[dict]:
    """A deterministic history: a policy, 10 consultants, then leads and follow-ups."""
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=SH)
    events: list[dict] = [{"type": "PolicyAdopted", "team": TEAM, "at": start.isoformat(), "preset": "campus", "id": "p"}]
    for n in range(1, 11):
        events.append({"type": "ConsultantJoined", "team": TEAM, "at": start.isoformat(),
                       "consultant": f"c{n}", "name": f"顾问{n}", "seat": n, "id": f"j{n}"})
    lead = 0
    while len(events) < count:
        when = (start + dt.timedelta(seconds=37 * len(events))).isoformat()
        if len(events) % 2:
            lead += 1
            events.append({"type": "LeadArrived", "team": TEAM, "at": when, "lead": f"L{lead}",
                           "channel": ("hotline", "walk_in", "online")[lead % 3],
                           "phone": f"139{lead % 50000:08d}", "id": f"l{lead}"})
        else:
            events.append({"type": "FollowUpLogged", "team": TEAM, "at": when, "lead": f"L{lead}",
                           "consultant": f"c{lead % 10 + 1}", "direction": "outbound", "note": "回访",
                           "id": f"f{len(events)}"})
    return events[:count]


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def bench_import(url: str, text: str, count: int) -> dict:
    from commands.importing import import_file
    from ledger.store import open_store

    with open_store(url) as store:
        began = time.perf_counter()
        summary = import_file(store, text, "bench.jsonl", allow_future=True)
        seconds = time.perf_counter() - began
        assert summary.total == count, summary
        began = time.perf_counter()
        again = import_file(store, text, "bench.jsonl", allow_future=True)  # idempotent re-import: all skipped
        reimport = time.perf_counter() - began
        assert again.total == 0
        began = time.perf_counter()
        exported = sum(1 for _ in store.export_lines(TEAM))
        export_seconds = time.perf_counter() - began
        began = time.perf_counter()
        replay = len(store.read_by_time(TEAM))
        read_seconds = time.perf_counter() - began
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": rate(count, seconds),
            "reimport_noop_events_per_s": rate(count, reimport),
            "export_events_per_s": rate(exported, export_seconds),
            "read_by_time_decoded_events_per_s": rate(replay, read_seconds)}


def _library_app(env: dict):
    """The library's own application over the same kind of store (classes shared with
    bench/rebuild_bench.py: the library registers each class under its topic once)."""
    from rebuild_bench import library_classes

    Library, TeamStream = library_classes()
    return Library(env=env), TeamStream


def bench_library(env: dict, events: list[dict], sample: int) -> dict:
    """The library's own path: an aggregate per team, one event per recorded line."""
    app, TeamStream = _library_app(env)
    try:
        stream = TeamStream()
        app.save(stream)
        began = time.perf_counter()
        for data in events[:sample]:
            stream.record(data)
            app.save(stream)
        one = time.perf_counter() - began
        # Batched: BATCH events per save. One save of all 100,000 hung on PostgreSQL (psycopg
        # pipeline mode inside the library's insert_events, server waiting on ClientRead).
        stream = TeamStream()
        app.save(stream)
        batched = 0.0
        for start in range(0, len(events), BATCH):
            for data in events[start:start + BATCH]:
                stream.record(data)
            began = time.perf_counter()
            app.save(stream)
            batched += time.perf_counter() - began
    finally:
        app.close()
    return {"one_save_per_event": {"events": sample, "events_per_s": rate(sample, one)},
            "batched_saves": {"events": len(events), "events_per_save": BATCH,
                              "events_per_s": rate(len(events), batched)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--pg-url", help="an EMPTY PostgreSQL database to use instead of a throwaway server")
    args = parser.parse_args()

    events = generate(args.events)
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    results: dict = {"events": args.events, "sample": args.sample, "file_bytes": len(text.encode())}
    folder = tempfile.mkdtemp(prefix="ledger-bench-")

    results["sqlite"] = {"ledger_import": bench_import(f"sqlite:///{folder}/import.db", text, args.events)}
    results["sqlite"]["library"] = bench_library(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/library.db"},
        events, args.sample)

    server = None
    if args.pg_url:
        pg_import_url = pg_library_url = args.pg_url
    else:
        import pg_server

        server = pg_server.start(durable=True)
        pg_import_url = server.create_database("bench_import")
        pg_library_url = server.create_database("bench_library")
    try:
        results["postgresql"] = {"ledger_import": bench_import(pg_import_url, text, args.events)}
        from ledger.store import parse_url

        u = parse_url(pg_library_url)
        results["postgresql"]["library"] = bench_library({
            "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": u.dbname,
            "POSTGRES_HOST": u.host, "POSTGRES_PORT": str(u.port), "POSTGRES_USER": u.user,
            "POSTGRES_PASSWORD": u.password, "LEDGER_NAME": "library"}, events, args.sample)
    finally:
        if server is not None:
            server.stop()

    for kind in ("sqlite", "postgresql"):
        ours = results[kind]["ledger_import"]["events_per_s"]
        library = results[kind]["library"]
        results[kind]["ratios"] = {
            "import_vs_one_save_per_event": round(ours / library["one_save_per_event"]["events_per_s"], 2),
            "import_vs_batched_saves": round(ours / library["batched_saves"]["events_per_s"], 2),
        }
    results["notes"] = ("ledger_import = parse + validate (pydantic, catalog fold) + one transaction with "
                        "side tables; library = Application.save of an aggregate's events (no validation)")
    json.dump(results, sys.stdout, indent=2)
    print()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
