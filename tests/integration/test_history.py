"""commands.history: the state at a moment from the nearest checkpoint plus the events after it."""
import datetime as dt
import json

import pytest

from commands.history import CHECKPOINT_SEQ, state_at
from commands.importing import import_file
from ledger.store import open_store
from projections import queries

TZ = dt.timezone(dt.timedelta(hours=8))
EVENTS = [
    {"type": "PolicyAdopted", "team": "t", "at": "2026-11-02T08:00:00+08:00", "preset": "campus"},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-11-02T08:00:00+08:00", "consultant": "c1", "name": "王芳", "seat": 1},
    {"type": "ConsultantJoined", "team": "t", "at": "2026-11-02T08:00:00+08:00", "consultant": "c2", "name": "李娜", "seat": 2},
    {"type": "LeadArrived", "team": "t", "at": "2026-11-02T10:00:00+08:00", "lead": "L1", "channel": "walk_in", "phone": "13800000001"},
    {"type": "LeadArrived", "team": "t", "at": "2026-11-02T11:00:00+08:00", "lead": "L2", "channel": "walk_in", "phone": "13800000002"},
]


def test_a_checkpoint_of_another_engine_version_is_ignored_and_the_answer_folds_from_events(store_url):
    store = open_store(store_url)
    try:
        import_file(store, "\n".join(json.dumps(e, ensure_ascii=False) for e in EVENTS), "events")
        at = dt.datetime(2026, 11, 2, 12, 0, tzinfo=TZ)
        store.put_checkpoint("t", (dt.datetime(2026, 11, 2, 10, 30, tzinfo=TZ), CHECKPOINT_SEQ), b"not a checkpoint")
        state = state_at(store, "t", at)
        assert queries.owner(state, "L2")["owner"] == "c2"  # R-RT-2: the pointer moved past c1
    finally:
        store.close()


@pytest.mark.slow
def test_a_restored_state_reads_only_the_values_it_uses_and_a_new_checkpoint_writes_only_those(store_url, monkeypatch):
    """Checkpoints keep leads and customers apart by digest: restoring one reads none of them until
    a query touches one, and the next checkpoint stores only the values read (and changed) since."""
    from commands import history
    from fixtures.generate import generate

    lines = [json.dumps(e, ensure_ascii=False) for e in generate(4, teams=1, days=20, start=dt.date(2026, 9, 1))]
    with open_store(store_url) as store:
        import_file(store, "\n".join(lines), "history")
        team = store.teams()[0]
        at = store.latest_at(team)
        items_before = store._rows("SELECT COUNT(*) FROM ledger_checkpoint_items")[0][0]
        asked = []
        real = store.checkpoint_items
        monkeypatch.setattr(store, "checkpoint_items", lambda t, digests: asked.extend(digests) or real(t, digests))
        loaded = history.load(store, team, at)
        assert loaded.folded == 0 and asked == []  # the import left a checkpoint at its last event
        lead = sorted(loaded.state.leads)[len(loaded.state.leads) // 2]
        answer = queries.owner(loaded.state, lead)
        assert 1 <= len(asked) <= 3  # the lead, its customer (and its other leads)
        from commands.history import records_until
        from projections import engine

        full = engine.replay(records_until(store, team, at), until=at)
        assert answer == queries.owner(full, lead)
        history.save(store, team, loaded.state, (at, CHECKPOINT_SEQ - 1), store.head(team))
        assert store._rows("SELECT COUNT(*) FROM ledger_checkpoint_items")[0][0] == items_before  # nothing changed
        again = history.load(store, team, at)
        assert [queries.owner(again.state, lid) for lid in full.leads] == [queries.owner(full, lid) for lid in full.leads]
