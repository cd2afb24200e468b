"""The event store: one ordered stream per team on the `eventsourcing` library's recorders.

Each team's events are one stream: `originator_id = uuid5(TEAM_NAMESPACE, team)`,
`originator_version = seq` (1, 2, ...), `topic` = the event type, `state` = the orjson bytes of
the event's interchange dict. The library's primary key `(originator_id, originator_version)`
is the optimistic concurrency check: a racing writer gets the library's `IntegrityError`, which
the store raises as `ConcurrencyConflict` with nothing written.

Side tables are written by the recorder subclasses in the SAME transaction as the events:

- `ledger_teams`        the teams in the store;
- `ledger_index`        (team, seq, at in UTC microseconds, recorded in UTC microseconds): replay
                        order by (at, seq), R-T-5; `recorded` (R-CO-1) is the store's clock at
                        the append (to the second, non-decreasing in seq) or an import's own;
                        an `EntryVoided` is indexed at the `at` of the event it voids, so that
                        every late-event path (checkpoints, read models) re-folds from there;
- `ledger_voids`        (team, seq voided, seq of the void, recorded of the void), R-CO-2;
- `ledger_ids`          (team, id) -> seq: idempotent imports;
- `ledger_phones`       clear phone numbers, sealed with the key file's vault key (`keys`),
                        by (team, seq, field) and phone key, R-ID-2;
                        the events themselves only ever hold keys (`ledger.phone.make_key`);
                        a `CustomerErased` deletes every clear copy of its number;
- `ledger_erased`       the keys of erased numbers: one recorded afterwards (a new lead, a
                        back-dated one) is kept as its key only, never in clear again;
- `ledger_checkpoints`  opaque rules-engine checkpoints by (team, at, seq); an appended event
                        back-dated before a checkpoint deletes it (R-T-5);
- `ledger_checkpoint_items`  the values checkpoints keep apart, by (team, digest of the bytes);
- `ledger_meta`         `key_file`: the fingerprint of the store's key file (`keys`: the phone
                        key and the vault live outside the database, issue #18 item 3);
- `ledger_chain`        (team, seq, body, hash): the hash chain of each team's events
                        (`chain`, issue #18), written after the appenders' lock is taken.

The record (events, teams, index, ids, voids, erased, chain) is append-only in the database
itself: triggers refuse UPDATE and DELETE of its rows (`guards`, issue #18 item 2).

Nothing is opened at import time; `eventsourcing.postgres` / psycopg are imported only for
`postgresql://` URLs.

The package: `url` (store URLs), `base` (names, units, the append plan, side-table SQL, error
translation), `guards` (the append-only triggers), `keys` (the key file), `chain` (the hash chain: canonical bytes, links, the check), `sqlite` and
`postgres` (the recorders), `reads` (what the store and an import
read alike), `app` (`Store`: opening, appends, checkpoints), `session` (`ImportSession`).
"""
from .app import Store, open_store
from .base import (
    EVENTS_TABLE,
    RECENT_CHECKPOINTS,
    TEAM_NAMESPACE,
    AppendPlan,
    Key,
    decode_event,
    from_micros,
    rowcount,
    team_stream_id,
    to_micros,
)
from .session import ImportSession
from .url import DEFAULT_URL, StoreURL, parse_url

__all__ = ["Store", "open_store", "ImportSession", "StoreURL", "parse_url", "DEFAULT_URL", "EVENTS_TABLE",
           "RECENT_CHECKPOINTS", "TEAM_NAMESPACE", "AppendPlan", "Key", "decode_event", "from_micros", "to_micros",
           "team_stream_id", "rowcount"]
