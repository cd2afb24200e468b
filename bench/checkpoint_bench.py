"""Issue 19 benchmark: what a long fold's checkpoints cost (the first query on a year).

Imports an event file (say a year of one busy campus) into a SQLite store, then times, as
separate processes the way a person runs them (`python -m cli ...`):
  - `owner --json` right after the import (the import leaves a checkpoint), and once more later;
  - the same query on a copy of the store with every checkpoint deleted (as after an upgrade
    that changed the checkpoint format): the fold of the whole year, checkpoints written on the way;
  - `explain --at` the middle of the history on that copy (no checkpoint before that moment).
With `--tree DIR` given twice or more, each measurement alternates between the code trees
(say the current checkout and a worktree of an older commit), so the ratios between them come
from one run on the same, noisy machine. Prints JSON; medians of `--runs`.

    python bench/checkpoint_bench.py HISTORY.jsonl --tree . --tree /tmp/oldtree [--runs 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ledger(tree: Path, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env, cwd=tree)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{tree}: ledger {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return elapsed


def without_checkpoints(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    key = Path(f"{source}.key")  # the store's key file travels with it (since issue #18)
    if key.exists():
        shutil.copy(key, f"{target}.key")
    with sqlite3.connect(target) as db:
        db.execute("DELETE FROM ledger_checkpoints")
        db.execute("DELETE FROM ledger_checkpoint_items")


def facts(history: Path) -> tuple[str, str, str, str]:
    """The team, its last lead, the middle `at` of the history and a lead arrived by then."""
    team = None
    moments, leads = [], []
    with history.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip() or line.startswith("#"):
                continue
            event = json.loads(line)
            team = team or event["team"]
            moments.append(event["at"])
            if event["type"] == "LeadArrived":
                leads.append((dt.datetime.fromisoformat(event["at"]), event["lead"]))
    moments.sort(key=dt.datetime.fromisoformat)
    middle = moments[len(moments) // 2]
    leads.sort()
    return team, leads[-1][1], middle, [lead for at, lead in leads if at <= dt.datetime.fromisoformat(middle)][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", help="an event file of one team (JSON Lines)")
    parser.add_argument("--tree", action="append", type=Path, help="a code tree to run (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    trees = [t.resolve() for t in options.tree or [Path(__file__).resolve().parent.parent]]
    history = Path(options.history).resolve()
    team, lead, middle, early = facts(history)
    work = Path(tempfile.mkdtemp(prefix="ledger-ckbench-"))
    owner = ("owner", lead, "--team", team)  # the human form folds (--json is read from the models)
    figures: dict[str, dict[str, list[float]]] = {str(t): {} for t in trees}

    def note(tree, name, seconds):
        figures[str(tree)].setdefault(name, []).append(seconds)

    for run in range(options.runs):
        for k, tree in enumerate(trees):
            store = work / f"store-{k}-{run}.db"
            url = f"sqlite:///{store}"
            note(tree, "import_s", ledger(tree, "import", "--allow-future", str(history), "--db", url))
            note(tree, "first_query_after_import_s", ledger(tree, *owner, "--db", url))
            note(tree, "later_query_s", ledger(tree, *owner, "--db", url))
            bare = work / f"bare-{k}-{run}.db"
            without_checkpoints(store, bare)
            note(tree, "first_query_no_checkpoint_s", ledger(tree, *owner, "--db", f"sqlite:///{bare}"))
            without_checkpoints(store, bare)
            note(tree, "explain_at_middle_no_checkpoint_s",
                 ledger(tree, "explain", early, "--team", team, "--at", middle, "--db", f"sqlite:///{bare}"))
            store.unlink()
            bare.unlink()
    out = {"history": str(history), "runs": options.runs, "trees": {}}
    for tree, named in figures.items():
        medians = {name: round(statistics.median(values), 3) for name, values in named.items()}
        medians["first_after_import_vs_later"] = round(
            medians["first_query_after_import_s"] / medians["later_query_s"], 2)
        medians["no_checkpoint_vs_later"] = round(medians["first_query_no_checkpoint_s"] / medians["later_query_s"], 2)
        out["trees"][tree] = medians
    if len(trees) > 1:
        base = out["trees"][str(trees[-1])]
        out[f"ratios_vs_{trees[-1]}"] = {
            str(tree): {name: round(value / base[name], 2) for name, value in out["trees"][str(tree)].items()
                        if name.endswith("_s")} for tree in trees[:-1]}
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
