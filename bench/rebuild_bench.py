"""Import and rebuild throughput on one generated history, SQLite and PostgreSQL, in one run.

For each store, on the SAME history (`fixtures.generate`: `--teams` busy campus teams over
`--days` days, optionally cut to `--events`):

  import            `ledger import FILE` in a child process (whole CLI: read, parse, validate,
                    catalog check, one transaction), with its peak RSS
  library_save      the eventsourcing library's own batched write of the same events: one
                    aggregate per team, `Application.save` every `--batch` events (default
                    mapper and transcoder; the library's time only, events already triggered)
  a_raw_select      SELECT of every stored event row of our store, paged, no decoding (ceiling)
  b_library_read    the library's `recorder.select_notifications` pages + `mapper.to_domain_event`
                    over the library's table (no fold)
  our_read_decode   our store's paged read + `ledger.codec` decode into events (no fold)
  c_projection_runner  PostgreSQL only: the library's ProjectionRunner with a trivial counting
                    projection, on the first `--runner-events` events
  d_rebuild         our rebuild (read, decode, fold, write models) with --jobs 1 and --jobs 2,
                    each in a child process, with peak RSS: `ledger rebuild` when the CLI has
                    it, else read + decode + fold (`projections.engine.replay`) team by team

Prints JSON (rates in events/s, ratios against the targets of issue #6); never an assertion.

Usage:
  python bench/rebuild_bench.py                          # full: 12 teams x 365 days (~1.1M events)
  python bench/rebuild_bench.py --events 100000          # quick
  python bench/rebuild_bench.py --stores sqlite --teams 4 --days 60
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PYTHON = sys.executable
# `python -m cli` from ROOT: the CLI of the tree this file is in (an installed `ledger` runs the
# checkout it was installed from), so a copy of this file in a worktree of an older commit
# measures that commit's code (with `--history`, on the same events).
LEDGER = [PYTHON, "-m", "cli"]
PAGE = 1000


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("inf")


def run_measured(args: list[str]) -> dict:
    """Run a child and return wall seconds, CPU seconds (user + system, its waited-for children
    included: steadier than wall time on a shared machine) and its peak RSS (from wait4)."""
    began = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT))
    out = child.stdout.read()  # type: ignore[union-attr]
    err = child.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {child.returncode}:\n{err.decode()[-3000:]}")
    try:
        payload = json.loads(out)
    except ValueError:
        payload = {"stdout": out.decode()[-300:], "stderr": err.decode()[-300:]}
    return {"seconds": round(seconds, 3), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "result": payload}


# ------------------------------------------------------------------------------- the history

def write_history(path: str, seed: int, teams: int, days: int, events: int | None) -> int:
    from fixtures.generate import generate

    produced = generate(seed, teams, days, dt.date(2026, 1, 1))
    if events:
        produced = itertools.islice(produced, events)
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for data in produced:
            out.write(json.dumps(data, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count


def read_history(path: str):
    import orjson

    with open(path, "rb") as handle:
        for line in handle:
            yield orjson.loads(line)


# ------------------------------------------------------------------------------- the library

_CLASSES: list = []


def library_classes():
    if not _CLASSES:  # defined once: the library registers each class under its topic
        from eventsourcing.application import Application
        from eventsourcing.domain import Aggregate, event

        class TeamStream(Aggregate):
            @event("Recorded")
            def record(self, data: dict) -> None:
                pass

        class Library(Application):
            pass

        _CLASSES.extend([Library, TeamStream])
    return _CLASSES


def library_env(url: str) -> dict:
    from ledger.store import parse_url

    u = parse_url(url)
    if u.kind == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": u.path}
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": u.dbname,
            "POSTGRES_HOST": u.host, "POSTGRES_PORT": str(u.port), "POSTGRES_USER": u.user,
            "POSTGRES_PASSWORD": u.password}


def library_save(url: str, path: str, batch: int) -> dict:
    """The library's batched save: `batch` events per `Application.save`, one aggregate per team."""
    Library, TeamStream = library_classes()
    app = Library(env=library_env(url))
    streams: dict[str, object] = {}
    saving = 0.0
    count = 0
    pending = 0
    try:
        for data in read_history(path):
            stream = streams.get(data["team"])
            if stream is None:
                stream = streams[data["team"]] = TeamStream()
            stream.record(data)  # type: ignore[attr-defined]
            count += 1
            pending += 1
            if pending >= batch:
                began = time.perf_counter()
                app.save(*streams.values())
                saving += time.perf_counter() - began
                pending = 0
        began = time.perf_counter()
        app.save(*streams.values())
        saving += time.perf_counter() - began
    finally:
        app.close()
    return {"events": count, "events_per_save": batch, "seconds": round(saving, 3),
            "events_per_s": rate(count, saving)}


def library_read(url: str) -> dict:
    """(b): `select_notifications` pages + `mapper.to_domain_event`, no fold."""
    Library, _ = library_classes()
    app = Library(env=library_env(url))
    try:
        began = time.perf_counter()
        count = 0
        start = 1
        to_domain_event = app.mapper.to_domain_event
        while True:
            page = app.recorder.select_notifications(start, PAGE)
            if not page:
                break
            for notification in page:
                to_domain_event(notification)
            count += len(page)
            start = page[-1].id + 1
        seconds = time.perf_counter() - began
    finally:
        app.close()
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": rate(count, seconds)}


def library_runner(url: str, events: int, timeout: float) -> dict:
    """(c): the library's ProjectionRunner (PostgreSQL), counting projection, first `events`."""
    from functools import singledispatchmethod

    from eventsourcing.postgres import PostgresTrackingRecorder
    from eventsourcing.projection import Projection, ProjectionRunner

    Library, _ = library_classes()

    class Counting(Projection[PostgresTrackingRecorder]):
        name = "counting"
        count = 0

        @singledispatchmethod
        def process_event(self, domain_event, tracking) -> None:
            Counting.count += 1
            self.view.insert_tracking(tracking)

    env = library_env(url)
    began = time.perf_counter()
    with ProjectionRunner(application_class=Library, projection_class=Counting,
                          view_class=PostgresTrackingRecorder, env=env) as runner:
        try:
            runner.wait(events, timeout=timeout)
            complete = True
        except TimeoutError:
            complete = False
        seconds = time.perf_counter() - began
        done = Counting.count
    return {"events": done, "asked": events, "complete": complete, "seconds": round(seconds, 3),
            "events_per_s": rate(done, seconds),
            "note": "one transaction per event (tracking row), as the library's runner does"}


# ------------------------------------------------------------------------------- our store

def raw_select(url: str) -> dict:
    """(a): every stored event row of our store, paged per team, not decoded."""
    from ledger.store import EVENTS_TABLE, open_store

    with open_store(url) as store:
        teams = store.teams()
        began = time.perf_counter()
        count = 0
        with store._cursor() as cur:
            sql = store.recorder.sql(
                f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} WHERE originator_id = ? "
                f"AND originator_version > ? ORDER BY originator_version LIMIT {PAGE * 10}")
            for team in teams:
                sid, after = store._sid(team), 0
                while True:
                    cur.execute(sql, (sid, after))
                    rows = cur.fetchall()
                    if not rows:
                        break
                    count += len(rows)
                    after = rows[-1][0]
        seconds = time.perf_counter() - began
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": rate(count, seconds)}


def our_read_decode(url: str) -> dict:
    """Our store's read of every team in replay order, decoded (ledger.codec), no fold."""
    from ledger.store import open_store

    with open_store(url) as store:
        began = time.perf_counter()
        count = 0
        for team in store.teams():
            count += len(store.read_by_time(team))
        seconds = time.perf_counter() - began
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": rate(count, seconds)}


def has_rebuild_command() -> bool:
    probe = subprocess.run([*LEDGER, "rebuild", "--help"], capture_output=True, cwd=str(ROOT))
    return probe.returncode == 0 and b"--jobs" in probe.stdout


def rebuild(url: str, jobs: int, use_cli: bool, events: int) -> dict:
    if use_cli:
        measured = run_measured([*LEDGER, "rebuild", "--db", url, "--jobs", str(jobs), "--json"])
        how = "ledger rebuild"
    else:
        measured = run_measured([PYTHON, __file__, "--worker", "fold", "--db", url, "--jobs", str(jobs)])
        how = "read + decode + fold per team (commands.rebuild not available)"
        events = measured["result"].get("events", events)
    measured.update(events=events, events_per_s=rate(events, measured["seconds"]), jobs=jobs, how=how)
    return measured


def worker_fold(url: str, jobs: int) -> None:
    """Child: read + decode + fold every team, teams split over `jobs` processes."""
    from ledger.store import open_store

    with open_store(url) as store:
        teams = store.teams()
    began = time.perf_counter()
    if jobs <= 1:
        counts = [_fold_teams(url, teams)]
    else:
        from concurrent.futures import ProcessPoolExecutor

        shares = [teams[k::jobs] for k in range(jobs)]
        with ProcessPoolExecutor(jobs) as pool:
            counts = list(pool.map(_fold_teams, [url] * jobs, shares))
    seconds = time.perf_counter() - began
    import resource

    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"events": sum(counts), "seconds": round(seconds, 3),
                      "peak_rss_mib_any_process": round(peak / 1024, 1)}))


def worker_import(url: str, path: str) -> None:
    """Child: `commands.importing.import_file` of the file, read-model maintenance switched off."""
    import commands.read_models as read_models
    from commands.importing import import_file
    from ledger.store import open_store

    read_models.maintain_quietly = lambda store, teams: None
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8-sig")  # as the CLI does
    began = time.perf_counter()
    with open_store(url) as store:
        summary = import_file(store, text, path, allow_future=True)
    seconds = time.perf_counter() - began
    print(json.dumps({"events": summary.total, "seconds": round(seconds, 3)}))


def _fold_teams(url: str, teams: list[str]) -> int:
    import gc

    from ledger.store import open_store
    from projections import engine

    count = 0
    with open_store(url) as store:
        for team in teams:
            records = store.read_by_time(team)
            count += len(records)
            state = engine.replay(records)
            del records, state
            gc.collect()
    return count


# ------------------------------------------------------------------------------- main

def bench_store(kind: str, url_for, path: str, count: int, args, use_cli: bool) -> dict:
    out: dict = {}
    ours, lib = url_for("ours"), url_for("library")
    imported = run_measured([PYTHON, __file__, "--worker", "import", "--db", ours, path])
    out["import"] = {"events": count, "seconds": imported["seconds"],
                     "events_per_s": rate(count, imported["seconds"]),
                     "peak_rss_mib": imported["peak_rss_mib"],
                     "in_process_seconds": imported["result"].get("seconds"),
                     "how": "import_file in a child process, read models not maintained"}
    if args.cli_import:
        cli = run_measured([*LEDGER, "import", "--allow-future", "--db", url_for("cli"), "--json", path])
        out["import_cli"] = {"events": count, "seconds": cli["seconds"],
                             "events_per_s": rate(count, cli["seconds"]),
                             "peak_rss_mib": cli["peak_rss_mib"],
                             "how": "`ledger import FILE`: also brings the read models up to date"}
    out["library_save"] = library_save(lib, path, args.batch)
    out["a_raw_select"] = raw_select(ours)
    out["b_library_read"] = library_read(lib)
    out["our_read_decode"] = our_read_decode(ours)
    if kind == "postgresql" and args.runner_events:
        out["c_projection_runner"] = library_runner(lib, min(args.runner_events, count), args.runner_timeout)
    out["d_rebuild_jobs1"] = rebuild(ours, 1, use_cli, count)
    out["d_rebuild_jobs2"] = rebuild(ours, 2, use_cli, count)
    r1, r2 = out["d_rebuild_jobs1"], out["d_rebuild_jobs2"]
    best = max(r1["events_per_s"], r2["events_per_s"])
    out["ratios"] = {
        "import_vs_library_save (>= 2)": round(out["import"]["events_per_s"] / out["library_save"]["events_per_s"], 2),
        "cli_import_with_models_vs_library_save": round(out["import_cli"]["events_per_s"] / out["library_save"]["events_per_s"], 2)
        if "import_cli" in out else None,
        "rebuild_vs_b_library_read (>= 1.0)": round(best / out["b_library_read"]["events_per_s"], 2),
        "rebuild_vs_a_raw_select (>= 0.4)": round(best / out["a_raw_select"]["events_per_s"], 2),
        "jobs2_vs_jobs1 (>= 1.6)": round(r2["events_per_s"] / r1["events_per_s"], 2),
        "rebuild_peak_rss_mib (< 1024)": max(r1["peak_rss_mib"], r2["peak_rss_mib"]),
        "our_decode_vs_b_library_read": round(out["our_read_decode"]["events_per_s"]
                                              / out["b_library_read"]["events_per_s"], 2),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=12)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--events", type=int, default=0, help="cut the history to N events (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1000, help="events per library save")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--runner-events", type=int, default=20_000,
                        help="events for the library's ProjectionRunner (0: skip)")
    parser.add_argument("--runner-timeout", type=float, default=120.0)
    parser.add_argument("--pg-url", help="a PostgreSQL server URL (database ignored) instead of a throwaway one")
    parser.add_argument("--keep", help="keep the history file and SQLite files in this folder")
    parser.add_argument("--history", help="use this event file instead of generating one (compare two trees on it)")
    parser.add_argument("--cli-import", action=argparse.BooleanOptionalAction, default=True,
                        help="also time `ledger import` (with read-model upkeep) into another database")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("file", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "fold":
        worker_fold(args.db, args.jobs)
        return
    if args.worker == "import":
        worker_import(args.db, args.file)
        return

    folder = args.keep or tempfile.mkdtemp(prefix="ledger-rebuild-bench-")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "history.jsonl")
    began = time.perf_counter()
    if args.history:
        shutil.copyfile(args.history, path)
        with open(path, encoding="utf-8") as given:
            count = sum(1 for line in given if line.strip() and not line.startswith("#"))
    else:
        count = write_history(path, args.seed, args.teams, args.days, args.events or None)
    results: dict = {
        "history": {"events": count, "teams": args.teams, "days": args.days, "seed": args.seed,
                    "file_mib": round(os.path.getsize(path) / 2**20, 1),
                    "generate_seconds": round(time.perf_counter() - began, 1)},
        "machine": {"cpus": os.cpu_count()},
    }
    use_cli = has_rebuild_command()
    results["rebuild_via"] = "ledger rebuild" if use_cli else "read + decode + fold (no ledger rebuild yet)"
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    try:
        if "sqlite" in stores:
            for name in ("ours", "library", "cli"):
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(os.path.join(folder, f"{name}.db{suffix}")):
                        os.remove(os.path.join(folder, f"{name}.db{suffix}"))
            results["sqlite"] = bench_store("sqlite", lambda name: f"sqlite:///{folder}/{name}.db",
                                            path, count, args, use_cli)
        if "postgresql" in stores:
            server = None
            if args.pg_url:
                base = args.pg_url.rsplit("/", 1)[0]
                url_for = lambda name: f"{base}/bench_{name}"  # noqa: E731  (must exist, empty)
            else:
                import pg_server

                server = pg_server.start(durable=True)
                for name in ("ours", "library", "cli"):
                    server.create_database(f"bench_{name}")
                url_for = lambda name: server.url(f"bench_{name}")  # noqa: E731
            try:
                results["postgresql"] = bench_store("postgresql", url_for, path, count, args, use_cli)
            finally:
                if server is not None:
                    server.stop()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    results["total_seconds"] = round(time.perf_counter() - began, 1)
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
