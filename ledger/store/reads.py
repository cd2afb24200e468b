"""The store's reads (`Reads`), shared by `Store` and `ImportSession`: the stream head, replay
order, voids and the two clocks (R-CO-*), adoptions, checkpoints, catalogs, export."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from ..errors import StoreError
from ..events import EVENT_TYPES, ID_PATTERN, EntryVoided, Event, Recorded
from . import chain
from .base import _CHUNK, EVENTS_TABLE, Key, decode_event, decoded, from_micros, to_micros


class Reads:
    """What the store and an import session read alike: only `_rows` and `_sid` differ
    (the store's own connection, or the import's transaction)."""

    _rows: Any
    _sid: Any
    vault: Any  # the store's keys (`keys.Keys`): opens the sealed clear numbers

    def head(self, team: str) -> int:
        rows = self._rows(f"SELECT MAX(originator_version) FROM {EVENTS_TABLE} WHERE originator_id = ?",
                          (self._sid(team),))
        return rows[0][0] or 0

    def voided(self, team: str, as_recorded: dt.datetime | None = None) -> dict[int, int]:
        """seq voided -> seq of its void, for the voids recorded by `as_recorded` (None: all)."""
        statement = "SELECT seq, void_seq FROM ledger_voids WHERE team = ?"
        params: list[Any] = [team]
        if as_recorded is not None:
            statement += " AND rec_us <= ?"
            params.append(to_micros(as_recorded))
        return dict(self._rows(statement, params))

    def latest_recorded(self, team: str) -> dt.datetime | None:
        rows = self._rows("SELECT MAX(rec_us) FROM ledger_index WHERE team = ?", (team,))
        return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None

    def seq_of(self, team: str, ref: str) -> int | None:
        """The recording number an event reference names: `#N` or an event id (None: unknown)."""
        if ref.startswith("#"):
            number = int(ref[1:]) if ref[1:].isdigit() else 0
            return number if 0 < number <= self.head(team) else None
        if not re.fullmatch(ID_PATTERN, ref):  # no stored id looks like it (and PostgreSQL refuses a NUL)
            return None
        rows = self._rows("SELECT seq FROM ledger_ids WHERE team = ? AND event_id = ?", (team, ref))
        return rows[0][0] if rows else None

    def teams(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT team FROM ledger_teams ORDER BY team")]

    def read(self, team: str, after_seq: int = 0, limit: int | None = None) -> list[Recorded]:
        """The team's events with seq > after_seq, in recording order (at most `limit`)."""
        rows = self._rows(
            f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version"
            + (f" LIMIT {int(limit)}" if limit is not None else ""),
            (self._sid(team), after_seq))
        return decoded(rows)

    def read_by_time(self, team: str, after_key: Key | None = None,
                     until: dt.datetime | None = None, as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """The events replay folds (R-T-5, R-CO-2, R-CO-4): the team's events in replay order
        (at, seq), after `after_key`, with at <= until, recorded by `as_recorded` (None: all),
        without the voids and what they voided."""
        statement = (f"SELECT e.originator_version, e.topic, e.state FROM ledger_index i "
                     f"JOIN {EVENTS_TABLE} e ON e.originator_id = ? AND e.originator_version = i.seq "
                     "WHERE i.team = ?")
        params: list[Any] = [self._sid(team), team]
        if as_recorded is not None:
            statement += " AND i.rec_us <= ?"
            params.append(to_micros(as_recorded))
        if after_key is not None:
            # The plain bound first: PostgreSQL guesses a row comparison's selectivity blindly
            # (~1 %), and chose a hash join over the whole events table for a few new events.
            statement += " AND i.at_us >= ? AND (i.at_us, i.seq) > (?, ?)"
            at_us = to_micros(after_key[0])
            params += [at_us, at_us, after_key[1]]
        if until is not None:
            statement += " AND i.at_us <= ?"
            params.append(to_micros(until))
        statement += " ORDER BY i.at_us, i.seq"
        return self.unvoided(team, decoded(self._rows(statement, params)), as_recorded)

    def adoptions(self, team: str, as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """The team's `PolicyAdopted` events in replay order, voided ones left out (R-CO-2);
        with `as_recorded`, those recorded by then (R-CO-4)."""
        statement = (f"SELECT e.originator_version, e.topic, e.state FROM {EVENTS_TABLE} e "
                     "WHERE e.originator_id = ? AND e.topic = 'PolicyAdopted'")
        params: list[Any] = [self._sid(team)]
        if as_recorded is not None:
            statement += (" AND EXISTS (SELECT 1 FROM ledger_index i WHERE i.team = ? "
                          "AND i.seq = e.originator_version AND i.rec_us <= ?)")
            params += [team, to_micros(as_recorded)]
        records = decoded(self._rows(statement, params))
        return sorted(self.unvoided(team, records, as_recorded), key=lambda rec: rec.key)

    def unvoided(self, team: str, records: list[Recorded], as_recorded: dt.datetime | None = None) -> list[Recorded]:
        """`records` without the voids and the events they voided (R-CO-2)."""
        voided = self.voided(team, as_recorded)
        if not voided and not any(type(r.event) is EntryVoided for r in records):
            return records
        return [r for r in records if r.seq not in voided and type(r.event) is not EntryVoided]

    def recorded_at(self, team: str, seqs: Iterable[int]) -> dict[int, tuple[dt.datetime, dt.datetime]]:
        """seq -> (at as indexed, recorded) for these events of the team (R-CO-1)."""
        found: dict[int, tuple[dt.datetime, dt.datetime]] = {}
        wanted = sorted(set(seqs))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            for seq, at_us, rec_us in self._rows(
                    f"SELECT seq, at_us, rec_us FROM ledger_index WHERE team = ? "
                    f"AND seq IN ({', '.join('?' * len(chunk))})", [team, *chunk]):
                found[seq] = (from_micros(at_us), from_micros(rec_us))
        return found

    def earliest_at_recorded_after(self, team: str, moment: dt.datetime) -> dt.datetime | None:
        """The earliest replay `at` among the events recorded after `moment` (a void counts at
        the `at` of what it voids): a checkpoint before it holds only what was recorded by then."""
        rows = self._rows("SELECT MIN(at_us) FROM ledger_index WHERE team = ? AND rec_us > ?",
                          (team, to_micros(moment)))
        return from_micros(rows[0][0]) if rows and rows[0][0] is not None else None

    def voided_records(self, team: str, as_recorded: dt.datetime | None = None) -> list[tuple[Recorded, int]]:
        """The team's voided events (phones as keys) with the seq of each one's void, in
        recording order: one query, whatever the number of voids."""
        statement = (f"SELECT v.seq, v.void_seq, e.topic, e.state FROM ledger_voids v JOIN {EVENTS_TABLE} e "
                     "ON e.originator_id = ? AND e.originator_version = v.seq WHERE v.team = ?")
        params: list[Any] = [self._sid(team), team]
        if as_recorded is not None:
            statement += " AND v.rec_us <= ?"
            params.append(to_micros(as_recorded))
        rows = self._rows(statement + " ORDER BY v.seq", params)
        return [(Recorded(seq, decode_event(topic, bytes(state))), void) for seq, void, topic, state in rows]

    def stored(self, team: str, seq: int) -> tuple[Event, dt.datetime] | None:
        """One stored event (phone numbers as keys) and its `recorded`."""
        rows = self._rows(f"SELECT e.topic, e.state, i.rec_us FROM {EVENTS_TABLE} e JOIN ledger_index i "
                          "ON i.team = ? AND i.seq = e.originator_version "
                          "WHERE e.originator_id = ? AND e.originator_version = ?", (team, self._sid(team), seq))
        if not rows:
            return None
        topic, state, rec_us = rows[0]
        return decode_event(topic, bytes(state)), from_micros(rec_us)

    def latest_at(self, team: str, as_recorded: dt.datetime | None = None) -> dt.datetime | None:
        """The latest `at` replay sees for the team (recorded by `as_recorded`; voids and what
        they voided left out: a time typed as 2030 and voided no longer sets the default moment);
        None when it has no such event."""
        voided = self.voided(team, as_recorded)
        hidden = set(voided) | set(voided.values())
        statement = "SELECT seq, at_us FROM ledger_index WHERE team = ?"
        params: list[Any] = [team]
        if as_recorded is not None:
            statement += " AND rec_us <= ?"
            params.append(to_micros(as_recorded))
        statement += f" ORDER BY at_us DESC LIMIT {len(hidden) + 1}"
        found = next((at_us for seq, at_us in self._rows(statement, params) if seq not in hidden), None)
        return from_micros(found) if found is not None else None

    def export_lines(self, team: str) -> Iterator[bytes]:
        """The team's events as interchange JSON (no newline), recording order, with clear phone
        numbers re-joined where they have not been erased (else the stored key)."""
        clear: dict[int, dict[str, str]] = {}
        keys = self.vault()
        for seq, name, number in self._rows(
                "SELECT seq, field, clear FROM ledger_phones WHERE team = ?", (team,)):
            clear.setdefault(seq, {})[name] = keys.open(number)
        rows = self._rows(f"SELECT e.originator_version, e.topic, e.state, i.rec_us FROM {EVENTS_TABLE} e "
                          "JOIN ledger_index i ON i.team = ? AND i.seq = e.originator_version "
                          "WHERE e.originator_id = ? ORDER BY e.originator_version", (team, self._sid(team)))
        zone: Any = dt.timezone.utc
        for seq, topic, state, rec_us in rows:
            state = bytes(state)
            if topic == "PolicyAdopted":  # `recorded` in the zone of the latest policy recorded
                from zoneinfo import ZoneInfo

                from ..policy import policy_of

                zone = ZoneInfo(policy_of(decode_event(topic, state)).timezone)
            if seq in clear:
                data = orjson.loads(state)
                data.update(clear[seq])
                state = orjson.dumps(data)
            recorded = from_micros(rec_us).astimezone(zone).isoformat(timespec="seconds")
            yield state[:-1] + b',"recorded":"' + recorded.encode() + b'"}'

    def export_events(self, team: str) -> list[Event]:
        return [EVENT_TYPES[orjson.loads(line)["type"]].model_validate_json(line)
                for line in self.export_lines(team)]

    def check_chain(self, team: str, page: int = 5000) -> chain.ChainReport:
        """The team's hash chain checked against its stored events (`ledger.store.chain.check`)."""
        last = self._rows("SELECT MAX(seq) FROM ledger_chain WHERE team = ?", (team,))[0][0]

        def pages() -> Iterator[list]:
            after = 0
            while True:
                rows = self._rows(
                    f"SELECT e.originator_version, e.state, i.rec_us, c.body, c.hash FROM {EVENTS_TABLE} e "
                    "LEFT JOIN ledger_index i ON i.team = ? AND i.seq = e.originator_version "
                    "LEFT JOIN ledger_chain c ON c.team = ? AND c.seq = e.originator_version "
                    f"WHERE e.originator_id = ? AND e.originator_version > ? ORDER BY e.originator_version "
                    f"LIMIT {int(page)}", (team, team, self._sid(team), after))
                if not rows:
                    return
                yield rows
                after = rows[-1][0]

        def stored_link(seq: int) -> bytes | None:
            rows = self._rows("SELECT hash FROM ledger_chain WHERE team = ? AND seq = ?", (team, seq))
            return bytes(rows[0][0]) if rows else None

        return chain.check(team, pages(), last, stored_link)

    def get_catalog(self, team: str) -> tuple[int, bytes] | None:
        """The latest kept import catalog of the team: (seq, blob)."""
        rows = self._rows("SELECT seq, blob FROM ledger_catalogs WHERE team = ? ORDER BY seq DESC LIMIT 1", (team,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def get_checkpoint(self, team: str, before: Key | None = None) -> tuple[Key, bytes] | None:
        """The latest checkpoint with key <= `before` (None: the latest of all)."""
        statement = "SELECT at_us, seq, blob FROM ledger_checkpoints WHERE team = ?"
        params: list[Any] = [team]
        if before is not None:
            at_us = to_micros(before[0])
            statement += " AND at_us <= ? AND (at_us, seq) <= (?, ?)"
            params += [at_us, at_us, before[1]]
        statement += " ORDER BY at_us DESC, seq DESC LIMIT 1"
        rows = self._rows(statement, params)
        if not rows:
            return None
        at_us, seq, blob = rows[0]
        return (from_micros(at_us), seq), bytes(blob)

    def checkpoint_items(self, team: str, digests: Sequence[bytes]) -> dict[bytes, bytes]:
        """The values checkpoints kept apart, by digest (`put_checkpoint(items=...)`)."""
        found: dict[bytes, bytes] = {}
        wanted = list(dict.fromkeys(digests))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = self._rows(f"SELECT digest, blob FROM ledger_checkpoint_items WHERE team = ? "
                              f"AND digest IN ({', '.join('?' * len(chunk))})", [team, *chunk])
            found.update((bytes(digest), bytes(blob)) for digest, blob in rows)
        missing = len(wanted) - len(found)
        if missing:  # deleted by hand meanwhile (OPERATIONS.md): the command is not trusted to go on
            raise StoreError(f"{missing} checkpoint value(s) of team {team!r} are missing from the store; "
                             "run the command again")
        return found
