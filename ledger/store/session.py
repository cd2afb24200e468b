"""One import's transaction (`Store.import_session`): reads through the import's own cursor,
chunked appends, and the phone rows settled at the end as one append would have."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..events import Event
from .base import _CHUNK, EVENTS_TABLE, AppendPlan, settle_phones
from .reads import Reads

if TYPE_CHECKING:
    from .app import Store


class RolledBack(Exception):
    """Raised by `ImportSession.finish` to roll back without an error."""


class ImportSession(Reads):
    """The reads and chunked appends of one import, in one transaction (`Store.import_session`).

    Appended chunks are visible to this session's reads (`find_ids`) at once. Clear phone
    numbers and erasures are written at the end, settled in the order a single append of the
    whole file would have used (teams in order of their first appended event, then seq)."""

    def __init__(self, store: "Store", cur: Any):
        self.store = store
        self.cur = cur
        self.sql = store.recorder.sql
        self._team_order: dict[str, int] = {}
        self._phones: list[tuple] = []
        self.erased = False
        self._rollback = False

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        self.cur.execute(self.sql(statement), params)
        return self.cur.fetchall()

    def _sid(self, team: str) -> Any:
        return self.store._sid(team)

    def vault(self) -> Any:
        return self.store.keys

    def put_catalog(self, team: str, seq: int, blob: bytes) -> None:
        self.cur.execute(self.sql("DELETE FROM ledger_catalogs WHERE team = ?"), (team,))
        self.cur.execute(self.sql("INSERT INTO ledger_catalogs (team, seq, blob) VALUES (?, ?, ?)"),
                         (team, seq, blob))

    def find_ids(self, team: str, ids: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """Events of `team` with these ids, stored or appended in this session: id -> (seq, JSON)."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[int, bytes]] = {}
        seqs: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            for event_id, seq in self._rows(
                    f"SELECT event_id, seq FROM ledger_ids WHERE team = ? "
                    f"AND event_id IN ({', '.join('?' * len(chunk))})", [team, *chunk]):
                seqs[seq] = event_id
        if seqs:  # rare (re-imports): then the stored content
            numbers = sorted(seqs)
            sid = self.store._sid(team)
            for start in range(0, len(numbers), _CHUNK):
                chunk = numbers[start:start + _CHUNK]
                for seq, state in self._rows(
                        f"SELECT originator_version, state FROM {EVENTS_TABLE} WHERE originator_id = ? "
                        f"AND originator_version IN ({', '.join('?' * len(chunk))})", [sid, *chunk]):
                    found[seqs[seq]] = (seq, bytes(state))
        return found

    def append(self, batches: dict[str, tuple[int, list[Event]]]) -> dict[str, int]:
        """Append each team's events after its expected head; returns team -> new head."""
        store = self.store
        try:
            plan, recorded, phones = store._plan_append(batches)
        finally:
            store._prepared.clear()
        for team in recorded:
            self._team_order.setdefault(team, len(self._team_order))
        order = self._team_order
        self._phones += [(order[entry[0]], entry) for entry in phones]
        if plan.events:
            store.recorder.write_plan(self.cur, plan, bulk=True)
        return {team: items[-1].seq for team, items in recorded.items() if items}

    def rollback(self) -> None:
        self._rollback = True

    def finish(self) -> None:
        if self._rollback:
            raise RolledBack
        if self._phones:
            self._phones.sort(key=lambda item: (item[0], item[1][1]))  # stable: fields keep order
            rows, erase_keys = settle_phones([entry for _, entry in self._phones])
            plan = AppendPlan(phone_rows=rows, erase_keys=erase_keys)
            self.store.recorder.write_side_tables(self.cur, plan)
            self.erased = bool(erase_keys)
