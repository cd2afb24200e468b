"""`ledger notify route` (issue #16 item 3): @-mentions in the WeCom and DingTalk formats, a
consultant's own target and the supervisors' target, against a real receiver on 127.0.0.1."""
from __future__ import annotations

import json

import test_notify
from test_notify import DEMO_COUNTS, DEMO_TOTAL, run

receiver = test_notify.receiver  # the fixture: a real HTTP receiver on 127.0.0.1


def _setup(db: str, url: str) -> None:
    run(db, "import", "fixtures/demo-campus-month.jsonl")
    for name, kind in (("group-wecom", "wecom"), ("group-ding", "dingtalk"), ("group-hook", "webhook"),
                       ("lina", "webhook"), ("bosses", "webhook")):
        run(db, "notify", "add-target", name, "--kind", kind, "--url", f"{url}/{name}", "--team", "renda")
        run(db, "notify", "rate", name, "none")
    run(db, "notify", "route", "c1", "--team", "renda", "--wecom-user", "WangFang", "--dingtalk-user", "ding_c1")
    run(db, "notify", "route", "c2", "--team", "renda", "--target", "lina")
    run(db, "notify", "route", "--supervisors", "--team", "renda", "--target", "bosses")


def _by_target(r) -> dict[str, dict[str, dict]]:
    found: dict[str, dict[str, dict]] = {}
    for path, headers, body, _ in r.accepted():
        found.setdefault(path.strip("/"), {})[headers["Idempotency-Key"]] = json.loads(body)
    return found


def test_notices_about_a_consultant_mention_them_and_go_to_their_own_target_disputes_to_the_supervisors(
        store_url, receiver):
    r = receiver()
    _setup(store_url, r.url)
    answer = json.loads(run(store_url, "notify", "--once", "--team", "renda", "--json").stdout)
    assert answer["teams"][0]["new"] == DEMO_COUNTS
    got = _by_target(r)
    hook = got["group-hook"]
    about = {k: set(m["concerns"]) for k, m in hook.items()}
    disputes = {k for k in got["bosses"] if k.split("/")[1] == "disputed"}
    assert len(disputes) == DEMO_COUNTS["disputed"] and not disputes & set(hook)  # not to the groups
    assert set(hook) | disputes == set(got["bosses"]) | {k for k in hook if k.split("/")[1] != "summary"}
    assert len(hook) + len(disputes) == DEMO_TOTAL
    for k, m in hook.items():  # who a notice concerns, by its kind and facts
        f = m["facts"]
        expected = {"allocated": [f.get("owner")], "corrected": [f.get("owner"), f.get("previous")],
                    "moved": [f.get("from"), f.get("to")], "sanction": [f.get("consultant")],
                    "lifted": [f.get("consultant")], "due-soon": [f.get("owner")],
                    "missed": [f.get("owner")]}.get(m["kind"], [])
        assert about[k] == {p["id"] for p in expected if p}, k
    mine = {k for k, who in about.items() if "c2" in who}
    assert set(got["lina"]) == mine and len(mine) > 50  # c2's own target: the notices about c2 only
    assert set(got["group-wecom"]) == set(got["group-ding"]) == set(hook)
    c1 = {k for k, who in about.items() if "c1" in who}
    assert len(c1) > 50
    for k, message in got["group-wecom"].items():
        content = message["markdown"]["content"]
        assert ("<@WangFang>" in content) == (k in c1), k
        assert content.count("<@") == (1 if k in c1 else 0)  # c2 has no WeCom id: not mentioned
    for k, message in got["group-ding"].items():
        if k in c1:
            assert message["at"] == {"atUserIds": ["ding_c1"], "isAtAll": False}
            assert message["markdown"]["text"].endswith("@ding_c1")  # DingTalk shows a mention named in the text
        else:
            assert "at" not in message and "@ding_c1" not in message["markdown"]["text"]
    assert not any("atMobiles" in json.dumps(m) for m in got["group-ding"].values())  # phones never


def test_a_route_to_a_missing_target_or_an_unknown_consultant_is_one_line_and_stores_nothing(tmp_path, receiver):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    r = receiver()
    _setup(db, r.url)
    before = json.loads(run(db, "notify", "list-routes", "--team", "renda", "--json").stdout)
    for args, says in (
            (["c3", "--target", "nowhere"], "no target 'nowhere' in team 'renda'"),
            (["c3", "--target", "lina"], "'lina' is already the target of c2"),
            (["c99", "--wecom-user", "x"], "'c99' in team 'renda' (nothing stored)"),
            (["c3", "--wecom-user", "bad id!"], "--wecom-user: expected a user id"),
            (["c3"], "expected --wecom-user ID, --dingtalk-user ID, --target NAME or --clear"),
            (["--supervisors", "--target", "nowhere"], "no target 'nowhere'")):
        result = run(db, "notify", "route", *args, "--team", "renda", code=2)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.output, result.output
    assert json.loads(run(db, "notify", "list-routes", "--team", "renda", "--json").stdout) == before
    run(db, "notify", "route", "c1", "--team", "renda", "--clear")
    after = json.loads(run(db, "notify", "list-routes", "--team", "renda", "--json").stdout)["routes"]
    assert [x["who"] for x in after] == ["@supervisors", "c2"]
