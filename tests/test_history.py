"""commands.history: the state at a moment from the nearest checkpoint plus the events after it."""
import datetime as dt
import json

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
