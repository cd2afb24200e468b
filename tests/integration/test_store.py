"""The event store on SQLite and PostgreSQL: streams, ordering, atomic appends, concurrency,
idempotency ids, phone keys and their erasure (R-ID-2), and engine checkpoints (R-T-5)."""
from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import pytest

from ledger.errors import ConcurrencyConflict, InputError, StoreError
from ledger.events import parse_event
from ledger.phone import ERASED, identity, is_key, mask
from ledger.store import from_micros, open_store, parse_url

SH = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> str:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH).isoformat()


def event(event_type: str, team: str = "t1", when: str | None = None, **keys):
    return parse_event({"type": event_type, "team": team, "at": when or at(1, 9), **keys})


def roster(team: str = "t1", consultants: int = 3):
    events = [event("PolicyAdopted", team, preset="campus")]
    events += [event("ConsultantJoined", team, consultant=f"c{n}", name=f"C{n}", seat=n)
               for n in range(1, consultants + 1)]
    return events


# -- URLs and opening --------------------------------------------------------------------------


def test_store_urls_follow_sqlalchemy_style_paths():
    assert parse_url("sqlite:///data/l.db").path == "data/l.db"
    assert parse_url("sqlite:////var/lib/l.db").path == "/var/lib/l.db"
    pg = parse_url("postgresql://u:p%40ss@db.example:6543/ledger")
    assert (pg.host, pg.port, pg.user, pg.password, pg.dbname) == ("db.example", 6543, "u", "p@ss", "ledger")


def test_no_url_falls_back_to_ledger_db_then_the_default(monkeypatch):
    monkeypatch.setenv("LEDGER_DB", "sqlite:///from-env.db")
    assert parse_url(None).path == "from-env.db"
    monkeypatch.delenv("LEDGER_DB")
    assert parse_url(None).path == "ledger.db"


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://relative.db", "sqlite:///", "postgresql://host:5432/"])
def test_a_bad_store_url_is_an_input_error(url):
    with pytest.raises(InputError):
        parse_url(url)


def test_an_unreachable_postgresql_server_is_a_store_error_without_retrying_for_long():
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody:x@127.0.0.1:1/none")


def test_a_sqlite_store_in_a_missing_folder_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="no directory"):
        open_store(f"sqlite:///{tmp_path}/missing/l.db")


# -- streams -----------------------------------------------------------------------------------


def test_an_empty_store_has_no_teams_and_head_zero(store):
    assert store.teams() == []
    assert store.head("t1") == 0
    assert store.read("t1") == []


def test_appended_events_come_back_in_recording_order_with_seqs_from_one(store):
    events = roster()
    recorded = store.append({"t1": (0, events)})["t1"]
    assert [r.seq for r in recorded] == [1, 2, 3, 4]
    assert store.head("t1") == 4
    assert store.read("t1") == recorded
    assert [r.event for r in store.read("t1", after_seq=2)] == events[2:]
    assert store.teams() == ["t1"]


def test_teams_are_separate_streams_appended_in_one_transaction(store):
    store.append({"a": (0, roster("a", 1)), "b": (0, roster("b", 2))})
    assert store.teams() == ["a", "b"]
    assert (store.head("a"), store.head("b")) == (2, 3)


def test_a_stale_expected_head_conflicts_and_writes_nothing_in_any_team(store):
    store.append({"a": (0, roster("a", 1))})
    with pytest.raises(ConcurrencyConflict):
        store.append({"b": (0, roster("b", 1)), "a": (1, [event("ConsultantLeft", "a", consultant="c1")])})
    assert store.teams() == ["a"]
    assert store.head("a") == 2 and store.head("b") == 0


def test_an_expected_head_beyond_the_stream_is_rejected_rather_than_leaving_a_gap(store):
    store.append({"a": (0, roster("a", 1))})
    with pytest.raises(ConcurrencyConflict):
        store.append({"a": (5, [event("ConsultantLeft", "a", consultant="c1")])})
    assert store.head("a") == 2


def test_read_by_time_orders_by_at_then_recording_order_and_stops_at_until(store):
    store.append({"t1": (0, roster(consultants=1))})
    late = event("PresenceChanged", when=at(2, 8), consultant="c1", presence="away")
    early = event("PresenceChanged", when=at(1, 10), consultant="c1", presence="leave")
    same = event("PresenceChanged", when=at(2, 8), consultant="c1", presence="on_post")
    store.append({"t1": (2, [late, early, same])})
    keys = [(r.event.at, r.seq) for r in store.read_by_time("t1")]
    assert keys == sorted(keys)
    assert [r.seq for r in store.read_by_time("t1")] == [1, 2, 4, 3, 5]
    until = dt.datetime.fromisoformat(at(2, 8))
    assert [r.seq for r in store.read_by_time("t1", until=until - dt.timedelta(seconds=1))] == [1, 2, 4]
    assert [r.seq for r in store.read_by_time("t1", until=until)] == [1, 2, 4, 3, 5]
    after = store.read_by_time("t1")[2].key
    assert [r.seq for r in store.read_by_time("t1", after_key=after)] == [3, 5]


def test_times_with_different_offsets_are_ordered_as_instants(store):
    store.append({"t1": (0, roster(consultants=1))})
    utc_later = event("PresenceChanged", when="2026-11-01T02:00:00+00:00", consultant="c1", presence="away")
    shanghai_earlier = event("PresenceChanged", when="2026-11-01T09:30:00+08:00", consultant="c1", presence="leave")
    store.append({"t1": (2, [utc_later, shanghai_earlier])})
    assert [r.seq for r in store.read_by_time("t1")][-2:] == [4, 3]
    assert store.read("t1")[2].event.at == utc_later.at


def test_amounts_and_times_round_trip_exactly(store):
    from decimal import Decimal

    events = roster(consultants=1) + [
        event("LeadArrived", when=at(2, 10), lead="L1", channel="walk_in"),
        event("ContractSigned", when="2026-11-02T10:30:00.123456+05:45", contract="K", lead="L1", amount="0.10"),
    ]
    store.append({"t1": (0, events)})
    signed = store.read("t1")[-1].event
    assert signed.amount == Decimal("0.10") and str(signed.amount) == "0.10"
    assert signed.at == events[-1].at and signed.at.utcoffset() == dt.timedelta(hours=5, minutes=45)


def test_find_ids_returns_the_seq_and_canonical_content_of_stored_ids(store):
    events = [event("PolicyAdopted", preset="campus", id="e1"),
              event("ConsultantJoined", consultant="c1", name="甲", seat=1, id="e2")]
    store.append({"t1": (0, events)})
    found = store.find_ids("t1", ["e2", "e1", "nope"])
    assert set(found) == {"e1", "e2"}
    assert found["e2"][0] == 2
    assert parse_event(__import__("json").loads(found["e2"][1])) == events[1]
    assert store.find_ids("other", ["e1"]) == {}


# -- concurrency -------------------------------------------------------------------------------


def _append_with_retries(url: str, worker: int, batches: int) -> int:
    """Run in a spawned process: append `batches` small batches, retrying on conflict."""
    from ledger.errors import ConcurrencyConflict
    from ledger.store import open_store

    conflicts = 0
    with open_store(url) as store:
        for batch in range(batches):
            events = [event("PresenceChanged", consultant="c1", presence="away",
                            when=at(2, 9, (worker * 7 + batch) % 60), id=f"w{worker}-b{batch}-e{n}")
                      for n in range(1 + batch % 3)]
            while True:
                head = store.head("t1")
                try:
                    store.append({"t1": (head, events)})
                    break
                except ConcurrencyConflict:
                    conflicts += 1
    return conflicts


@pytest.mark.slow
def test_concurrent_processes_appending_to_one_team_lose_and_duplicate_nothing(store, store_url):
    store.append({"t1": (0, roster(consultants=1))})
    workers, batches = 4, 15
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        conflicts = pool.starmap(_append_with_retries, [(store_url, w, batches) for w in range(workers)])
    recorded = store.read("t1")
    expected_ids = {f"w{w}-b{b}-e{n}" for w in range(workers) for b in range(batches) for n in range(1 + b % 3)}
    ids = [r.event.id for r in recorded[2:]]
    assert sorted(ids) == sorted(expected_ids)  # none lost, none twice
    assert [r.seq for r in recorded] == list(range(1, len(recorded) + 1))  # contiguous
    assert sorted(r.seq for r in store.read_by_time("t1")) == [r.seq for r in recorded]
    assert len(store.find_ids("t1", expected_ids)) == len(expected_ids)
    assert sum(conflicts) >= 0


# -- phones (R-ID-2) ---------------------------------------------------------------------------


def _all_table_text(store) -> str:
    """Every row of every table of the store, as text."""
    tables = ["stored_events", "ledger_meta", "ledger_teams", "ledger_index", "ledger_ids",
              "ledger_phones", "ledger_checkpoints", "ledger_erased"]
    text = []
    for table in tables:
        for row in store._rows(f"SELECT * FROM {table}"):
            text.append(" ".join(bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview))
                                 else str(v) for v in row))
    return "\n".join(text)


def test_phone_numbers_are_stored_as_keys_and_exported_in_clear(store):
    lead = event("LeadArrived", when=at(2, 10), lead="L1", channel="customer_referral",
                 phone="+86 139-1111-0001", referrer_phone="13922220002")
    store.append({"t1": (0, roster(consultants=1) + [lead])})
    stored = store.read("t1")[-1].event
    assert is_key(stored.phone) and stored.phone.count(":") == 1  # no digit of the number (R-ID-2)
    assert mask(stored.phone) == "*******0001"  # its masked form comes from the store
    assert identity(stored.phone) == identity(store.protect(event("CustomerErased", phone="13911110001")).phone)
    assert is_key(stored.referrer_phone)
    exported = store.export_events("t1")[-1]
    assert (exported.phone, exported.referrer_phone) == ("+86 139-1111-0001", "13922220002")
    assert "13911110001" not in store._rows("SELECT state FROM stored_events")[-1][0].__bytes__().decode()


def test_after_customer_erased_the_number_is_nowhere_and_a_later_lead_still_matches(store):
    number = "13911110001"
    first = event("LeadArrived", when=at(2, 10), lead="L1", channel="walk_in", phone="+86 139-1111-0001")
    other = event("LeadArrived", when=at(2, 11), lead="L2", channel="walk_in", phone="13955550005")
    store.append({"t1": (0, roster(consultants=1) + [first, other])})
    store.append({"t1": (4, [event("CustomerErased", when=at(3, 9), phone=number)])})
    again = event("LeadArrived", when=at(4, 10), lead="L3", channel="walk_in", phone="0086 13911110001")
    late = event("LeadArrived", when=at(2, 12), lead="L4", channel="walk_in", phone="139 1111 0001")  # back-dated
    store.append({"t1": (5, [again, late])})

    recorded = store.read("t1")
    erased_key = recorded[2].event.phone
    assert recorded[4].event.phone == erased_key and recorded[5].event.phone == erased_key
    assert recorded[6].event.phone == erased_key  # still matches through the key
    exported = store.export_events("t1")
    assert exported[2].phone == erased_key  # erased: only the key remains
    assert exported[3].phone == "13955550005"  # someone else's number is untouched
    # given again after the erasure, or back-dated before it: "after CustomerErased the number
    # cannot be recovered from the store, exports included" (R-ID-2), so only the key is kept
    assert exported[5].phone == erased_key and exported[6].phone == erased_key

    text = _all_table_text(store)
    for shown in (number, "139-1111-0001", "0086 13911110001"):
        assert shown not in text
        assert all(shown.encode() not in line for line in store.export_lines("t1"))
    assert "13955550005" not in text  # kept sealed (ledger.store.keys), exported in clear
    assert mask(recorded[3].event.phone) == "*******0005" and mask(erased_key) == ERASED
    if store.url.kind == "sqlite":
        store.close()
        path = Path(store.url.path)
        for file in [path, *path.parent.glob(path.name + "-*")]:
            content = file.read_bytes()
            assert number.encode() not in content and b"139-1111-0001" not in content, file


def test_an_erasure_in_the_same_batch_removes_the_clear_number_of_earlier_and_later_leads(store):
    batch = roster(consultants=1) + [
        event("LeadArrived", when=at(2, 10), lead="L1", channel="walk_in", phone="13911110001"),
        event("CustomerErased", when=at(2, 11), phone="139 1111 0001"),
        event("LeadArrived", when=at(2, 12), lead="L2", channel="walk_in", phone="13911110001"),
    ]
    store.append({"t1": (0, batch)})
    exported = store.export_events("t1")
    assert is_key(exported[2].phone) and exported[4].phone == exported[2].phone


def test_a_store_made_before_the_erased_table_learns_its_erasures_when_reopened(store_url):
    with open_store(store_url) as store:
        store.append({"t1": (0, roster(consultants=1) + [event("CustomerErased", when=at(2, 9), phone="13911110001")])})
        with store._cursor(commit=True) as cur:
            cur.execute("DROP TABLE ledger_erased")
    with open_store(store_url) as store:
        store.append({"t1": (3, [event("LeadArrived", when=at(2, 10), lead="L1", channel="walk_in", phone="13911110001")])})
        assert is_key(store.export_events("t1")[-1].phone)


def test_a_phone_key_given_on_import_is_kept_as_is(store):
    store.append({"t1": (0, roster(consultants=1))})
    key = "h:0123456789abcdef0123456789abcdef:0001"
    store.append({"t1": (2, [event("LeadArrived", when=at(2, 10), lead="L1", channel="walk_in", phone=key)])})
    assert store.read("t1")[-1].event.phone == key
    assert store.export_events("t1")[-1].phone == key


def test_the_phone_secret_belongs_to_the_store_and_survives_reopening(store_url, new_store_url, monkeypatch,
                                                                      tmp_path):
    with open_store(store_url) as first:
        key = first.protect(event("CustomerErased", phone="13911110001")).phone
    with open_store(store_url) as again:
        assert again.protect(event("CustomerErased", phone="13911110001")).phone == key
    other_url = new_store_url()
    monkeypatch.setenv("LEDGER_SECRET_FILE", str(tmp_path / "other.key"))  # PostgreSQL tests share one
    with open_store(other_url) as other:
        assert other.protect(event("CustomerErased", phone="13911110001")).phone != key


# -- checkpoints (R-T-5) -----------------------------------------------------------------------


def key_at(day: int, hour: int, seq: int):
    return (dt.datetime.fromisoformat(at(day, hour)), seq)


def test_get_checkpoint_returns_the_latest_at_or_before_a_key(store):
    store.append({"t1": (0, roster(consultants=1))})
    store.put_checkpoint("t1", key_at(2, 0, 2), b"two")
    store.put_checkpoint("t1", key_at(3, 0, 2), b"three")
    assert store.get_checkpoint("t1") == (key_at(3, 0, 2), b"three")
    assert store.get_checkpoint("t1", key_at(2, 12, 9)) == (key_at(2, 0, 2), b"two")
    assert store.get_checkpoint("t1", key_at(2, 0, 2))[1] == b"two"
    assert store.get_checkpoint("t1", key_at(2, 0, 1)) is None
    assert store.get_checkpoint("other") is None
    store.put_checkpoint("t1", key_at(3, 0, 2), b"replaced")
    assert store.get_checkpoint("t1")[1] == b"replaced"


def test_a_back_dated_event_deletes_the_checkpoints_after_its_time(store):
    store.append({"t1": (0, roster(consultants=1))})
    store.put_checkpoint("t1", key_at(2, 0, 2), b"two")
    store.put_checkpoint("t1", key_at(4, 0, 2), b"four")
    store.append({"t1": (2, [event("PresenceChanged", when=at(3, 9), consultant="c1", presence="away")])})
    assert store.get_checkpoint("t1") == (key_at(2, 0, 2), b"two")


def test_a_checkpoint_computed_before_a_late_event_is_not_kept(store):
    store.append({"t1": (0, roster(consultants=1))})
    store.append({"t1": (2, [event("PresenceChanged", when=at(1, 12), consultant="c1", presence="away")])})
    assert store.put_checkpoint("t1", key_at(2, 0, 2), b"stale", head=2) is False
    assert store.get_checkpoint("t1") is None
    assert store.put_checkpoint("t1", key_at(2, 0, 3), b"fresh", head=3) is True


def test_checkpoint_items_are_kept_once_per_digest_and_read_back_by_digest(store):
    store.append({"t1": (0, roster(consultants=1))})
    store.put_checkpoint("t1", key_at(2, 0, 2), b"two", items={b"d1" * 8: b"first", b"d2" * 8: b"second"})
    store.put_checkpoint("t1", key_at(3, 0, 2), b"three", items={b"d2" * 8: b"second", b"d3" * 8: b"third"})
    assert store.checkpoint_items("t1", [b"d1" * 8, b"d3" * 8, b"d1" * 8]) == {b"d1" * 8: b"first", b"d3" * 8: b"third"}
    assert store._rows("SELECT COUNT(*) FROM ledger_checkpoint_items")[0][0] == 3
    with pytest.raises(StoreError, match="1 checkpoint value"):
        store.checkpoint_items("other", [b"d1" * 8])


def test_checkpoints_are_thinned_to_the_newest_few_and_the_latest_of_each_month(store):
    from ledger.store import RECENT_CHECKPOINTS

    store.append({"t1": (0, roster(consultants=1))})
    utc = dt.timezone.utc
    days = [dt.datetime(2026, month, day, 12, tzinfo=utc) for month in (8, 9, 10) for day in (3, 10, 17, 24)]
    days += [dt.datetime(2026, 11, day, 12, tzinfo=utc) for day in range(1, RECENT_CHECKPOINTS + 3)]
    for n, day in enumerate(days):
        assert store.put_checkpoint("t1", (day, 2), f"c{n}".encode()) is True
    kept = [(from_micros(at_us), seq) for at_us, seq in store._rows(
        "SELECT at_us, seq FROM ledger_checkpoints WHERE team = ? ORDER BY at_us", ("t1",))]
    newest = sorted(days)[-RECENT_CHECKPOINTS:]
    assert kept == [(dt.datetime(2026, month, 24, 12, tzinfo=utc), 2) for month in (8, 9, 10)] + [(d, 2) for d in newest]
    assert store.get_checkpoint("t1", (dt.datetime(2026, 9, 20, tzinfo=utc), 9))[1] == b"c3"  # August's latest
