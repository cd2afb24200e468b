"""Every answer of a history, one JSON line each: the before/after check of a refactor.

Not a benchmark. Imports an event file into a fresh SQLite store and prints, per team, the
`--json` answer of `owner` and `explain` for every lead, `turns` and `commission` for every
month, and `sanctions`, `disputes`, `followups` and `board` at ten moments spread over the
history -- as the CLI computes them, in-process. Run it on the old and the new code and diff:

    python bench/answers.py fixtures/demo-campus-month.jsonl > before.jsonl
    python bench/answers.py history.jsonl --out after.jsonl && cmp before.jsonl after.jsonl

With `--generate TEAMS DAYS` it first writes a generated history (`fixtures.generate`, seed 1)
to `--history FILE` (keep that file: a changed generator writes another history).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def answers(path: str):
    from commands import history
    from commands.importing import import_file
    from ledger.store import open_store
    from projections import board, queries
    from projections.commission import statements

    work = Path(tempfile.mkdtemp(prefix="ledger-answers-"))
    with open_store(f"sqlite:///{work / 'answers.db'}") as store:
        import_file(store, Path(path).read_text(encoding="utf-8"), path, allow_future=True)
        for team in store.teams():
            records = store.read_by_time(team)
            first, last = records[0].event.at, records[-1].event.at
            state = history.state_at(store, team, last)
            for lead in sorted(state.leads):
                yield {"team": team, "q": "owner", "lead": lead, "a": queries.owner(state, lead)}
                yield {"team": team, "q": "explain", "lead": lead, "a": queries.explain(state, lead)}
            zones = history.team_zones(store, team)
            month = dt.date(first.year, first.month, 1)
            while month <= last.date():
                following = (month + dt.timedelta(days=32)).replace(day=1)
                end = history.day_start(zones, following) - dt.timedelta(microseconds=1)
                at_end = history.state_at(store, team, end)
                yield {"team": team, "q": "turns", "month": str(month),
                       "a": queries.turns(at_end, month, following - dt.timedelta(days=1))}
                yield {"team": team, "q": "commission", "month": str(month),
                       "a": statements(at_end.money, at_end.policies, at_end.tz, month.strftime("%Y-%m"))}
                month = following
            for step in range(10):
                moment = first + (last - first) * (step + 1) / 10
                at = history.state_at(store, team, moment)
                for name, question in (("sanctions", queries.sanctions), ("disputes", queries.disputes),
                                       ("followups", queries.followups)):
                    yield {"team": team, "q": name, "at": moment.isoformat(), "a": question(at)}
                yield {"team": team, "q": "board", "at": moment.isoformat(), "a": board.board(at, moment)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", nargs="?", help="an event file (JSON Lines)")
    parser.add_argument("--generate", nargs=2, type=int, metavar=("TEAMS", "DAYS"))
    parser.add_argument("--history", dest="written", help="where --generate writes the history")
    parser.add_argument("--out", help="write the answers here (default: standard output)")
    options = parser.parse_args()
    path = options.history
    if options.generate:
        from fixtures.generate import generate, write_jsonl

        path = options.written or str(Path(tempfile.mkdtemp()) / "history.jsonl")
        teams, days = options.generate
        write_jsonl(generate(1, teams, days, dt.date(2026, 7, 1)), path)
        print(f"history: {path}", file=sys.stderr)
    if not path:
        parser.error("give an event file or --generate TEAMS DAYS")
    out = open(options.out, "w", encoding="utf-8") if options.out else sys.stdout
    with out:
        for item in answers(path):
            out.write(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    main()
