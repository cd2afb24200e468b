"""Who may post what through `POST /api/{team}/events` (issue #13: roles enforced on every write):
a supervisor anything; reception the front desk's entries; a consultant only follow-ups and claims
as their own consultant id, a follow-up only on a customer they own at its time; a viewer
nothing. Refusals are 403 and store nothing. Also: a `?at=` whose `+` arrived as a space."""
from __future__ import annotations

import json

import httpx
import pytest
from desk_server import ledger, serving
from exports import event_lines

TEAM, LEAD = "renda", "L1116-X2"  # ruled for c2 (李娜) on 2026-11-17
AT = "2026-11-20T10:00:00+08:00"


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    users = [("boss", TEAM, "supervisor"), ("front", TEAM, "reception"), ("lina", TEAM, "consultant", "c2"),
             ("zhangwei", TEAM, "consultant", "c3"), ("unlinked", TEAM, "consultant"), ("crm", TEAM, "viewer")]
    with serving(tmp_path_factory.mktemp("roles"), users) as served:
        yield served


def post(desk, user: str, **event) -> httpx.Response:
    line = json.dumps({"team": TEAM, "at": AT, **event}, ensure_ascii=False)
    return httpx.post(f"{desk['base']}/api/{TEAM}/events", content=line.encode(), timeout=30,
                      headers={"Authorization": f"Bearer {desk['tokens'][user]}"})


def stored(desk) -> int:
    return len(event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout))


FOLLOW = {"type": "FollowUpLogged", "lead": LEAD, "direction": "outbound"}
CLAIM = {"type": "ClaimMade", "lead": LEAD, "reason": "家长上周联系的是我"}


def test_refused_posts_are_403_and_store_nothing(desk):
    before = stored(desk)
    refusals = [
        post(desk, "front", type="ContractSigned", contract="K-API", lead=LEAD, amount="1000.00"),
        post(desk, "lina", type="LeadArrived", lead="L-API-1", channel="walk_in", phone="13900001111"),
        post(desk, "lina", **FOLLOW, consultant="c3"),  # not as herself
        post(desk, "zhangwei", **FOLLOW, consultant="c3"),  # not his customer
        post(desk, "zhangwei", **CLAIM, consultant="c2"),  # a claim in someone else's name
        post(desk, "unlinked", **CLAIM, consultant="c2"),  # no consultant id to act as
        post(desk, "crm", **FOLLOW, consultant="c2"),
        post(desk, "front", type="RulingMade", lead=LEAD, owner="c3", reason="前台不能裁定"),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals), [r.text for r in refusals]
    assert all("error" in r.json() for r in refusals)
    assert stored(desk) == before


def test_allowed_posts_are_stored_by_the_token_user(desk):
    before = stored(desk)
    assert post(desk, "lina", **FOLLOW, consultant="c2").status_code == 201
    assert post(desk, "zhangwei", **CLAIM, consultant="c3").status_code == 201
    assert post(desk, "front", **FOLLOW, consultant="c2", at="2026-11-20T11:00:00+08:00").status_code == 201
    assert post(desk, "boss", type="ContractSigned", contract="K-API", lead=LEAD, amount="1000.00").status_code == 201
    events = [json.loads(line) for line in event_lines(ledger(desk["db"], "export", "--team", TEAM).stdout)[before:]]
    assert [(e["type"], e["by"]) for e in events] == [("FollowUpLogged", "lina"), ("ClaimMade", "zhangwei"),
                                                      ("FollowUpLogged", "front"), ("ContractSigned", "boss")]


def test_an_at_whose_plus_arrived_as_a_space_is_read_as_the_offset(desk):
    auth = {"Authorization": f"Bearer {desk['tokens']['crm']}"}
    base = f"{desk['base']}/api/{TEAM}/owner/{LEAD}"
    encoded = httpx.get(base, params={"at": "2026-11-16T20:30:00+08:00"}, headers=auth, timeout=30)
    raw = httpx.get(base + "?at=2026-11-16T20:30:00+08:00", headers=auth, timeout=30)  # "+" decodes to " "
    assert encoded.status_code == raw.status_code == 200 and raw.content == encoded.content
