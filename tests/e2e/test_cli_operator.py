"""Issue #14 item 6, the operator's comforts, end to end through the installed `ledger` command
(real processes, real SQLite files): stores that do not exist are refused and never created,
the import's progress bar, the nightly JSON's timestamp and heads, the cron line of
docs/OPERATIONS.md as written, `-n` and the pager on long lists, shell completion, and "did
you mean" on an unknown lead; and (item 1) the human output of import, verify and user in
both languages."""
from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "cli" / "data" / "demo-campus-month.jsonl"
LEDGER = str(Path(sys.executable).parent / "ledger")


def ledger(*args: str, db: str | None = None, code: int = 0, lang: str = "en", env: dict | None = None,
           stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = [LEDGER, "--lang", lang, *args] + (["--db", db] if db else [])
    result = subprocess.run(full, capture_output=True, text=True, input=stdin, cwd=cwd,
                            env={**os.environ, "COLUMNS": "160", **(env or {})}, timeout=120)
    assert result.returncode == code, (args, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("operator") / "demo.db"
    ledger("import", str(DEMO), db=f"sqlite:///{path}")
    return f"sqlite:///{path}"


# -- stores that do not exist ---------------------------------------------------------------------

REFUSING = [
    ("verify", "--json"), ("rebuild", "--json"), ("owner", "L1116-X2"), ("explain", "L1116-X2"), ("board",),
    ("followups",), ("export", "--team", "renda"), ("commission", "--month", "2026-11"), ("user", "list"),
    ("whatif", "--from", "2026-11-01", "--to", "2026-11-02", "--preset", "campus"),
]


@pytest.mark.parametrize("args", REFUSING, ids=[" ".join(a) for a in REFUSING])
def test_a_command_on_a_store_that_does_not_exist_exits_2_in_one_line_and_creates_nothing(tmp_path, args):
    typo = tmp_path / "typo.db"
    said = {lang: ledger(*args, db=f"sqlite:///{typo}", code=2, lang=lang) for lang in ("en", "zh")}
    assert said["en"].stdout == "" and said["en"].stderr == (
        f"ledger: no store at sqlite:///{typo} (no such file); expected an existing store "
        "(`ledger import FILE` or `ledger demo` creates one)\n")
    assert said["zh"].stderr.count("\n") == 1 and "没有账本库" in said["zh"].stderr
    assert not typo.exists() and list(tmp_path.iterdir()) == []


def test_import_and_a_recording_command_still_create_their_store(tmp_path):
    ledger("import", str(DEMO), db=f"sqlite:///{tmp_path / 'a.db'}")
    ledger("adopt", "campus", "--team", "t1", db=f"sqlite:///{tmp_path / 'b.db'}")
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()
    assert json.loads(ledger("verify", "--json", db=f"sqlite:///{tmp_path / 'b.db'}").stdout)["teams"] == ["t1"]


# -- the nightly JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize("command, key", [("verify", "checked_at"), ("rebuild", "rebuilt_at")])
def test_verify_and_rebuild_json_say_when_they_ran_and_each_teams_head(demo_db, command, key):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    data = json.loads(ledger(command, "--json", db=demo_db).stdout)
    stamp = dt.datetime.fromisoformat(data[key])
    assert stamp.tzinfo is not None and re.search(r"[+-]\d\d:\d\d$", data[key])
    assert before <= stamp <= dt.datetime.now(dt.timezone.utc)
    assert data["heads"] == {"renda": 2197} == {c["team"]: c["head"] for c in data["chains"]}


def test_the_cron_line_of_operations_md_runs_as_written_with_its_paths_substituted(tmp_path, demo_db):
    text = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    line = re.search(r"```cron\n(.*?)\n```", text, re.S)[1]
    fields = line.split(None, 5)
    assert len(fields) == 6 and "%" not in fields[5]  # five time fields; cron would cut at a bare %
    command = fields[5]
    home, logs, bin_dir = tmp_path / "srv", tmp_path / "log", tmp_path / "bin"
    for folder in (home, logs, bin_dir):
        folder.mkdir()
    (home / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (bin_dir / "mail").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/mailed\ncat >> {tmp_path}/mailed\n")
    (bin_dir / "mail").chmod(0o755)

    def run(db: str) -> None:
        substituted = (command.replace("/srv/ledger", str(home)).replace("/var/log/ledger", str(logs))
                       .replace("postgresql://ledger@db/ledger", db))
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "LEDGER_LANG": "en"}  # cron's few
        result = subprocess.run(["sh", "-c", substituted], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (substituted, result.stdout, result.stderr)

    run(demo_db)
    logged = [json.loads(row) for row in (logs / "rebuild.jsonl").read_text().splitlines()]
    assert len(logged) == 1 and logged[0]["drift"] == [] and logged[0]["swapped"] == ["renda"]
    assert not (tmp_path / "mailed").exists()
    run(f"sqlite:///{tmp_path / 'typo.db'}")  # a typo in LEDGER_DB: mailed, nothing created
    assert "rebuild failed or drifted" in (tmp_path / "mailed").read_text()
    assert "no store at" in (tmp_path / "mailed").read_text() and not (tmp_path / "typo.db").exists()


# -- the import's progress bar --------------------------------------------------------------------


def test_import_draws_a_progress_bar_on_stderr_only_when_asked_or_on_a_terminal(tmp_path):
    quiet = ledger("import", str(DEMO), db=f"sqlite:///{tmp_path / 'q.db'}")
    assert quiet.stderr == f"{DEMO}: imported 2197 event(s) (renda +2197)\n"
    shown = ledger("import", "--progress", str(DEMO), db=f"sqlite:///{tmp_path / 'p.db'}")
    assert "Importing" in shown.stderr or "Saving" in shown.stderr
    assert "\x1b[" in shown.stderr and shown.stderr.endswith(f"{DEMO}: imported 2197 event(s) (renda +2197)\n")
    plain = ledger("import", "--json", str(DEMO), db=f"sqlite:///{tmp_path / 'j1.db'}")
    barred = ledger("import", "--json", "--progress", str(DEMO), db=f"sqlite:///{tmp_path / 'j2.db'}")
    assert barred.stdout == plain.stdout.replace("j1.db", "j2.db") and json.loads(barred.stdout)["appended"]
    assert plain.stderr == ""


def test_the_import_summary_reads_in_chinese(tmp_path):
    said = ledger("import", str(DEMO), db=f"sqlite:///{tmp_path / 'z.db'}", lang="zh").stderr
    assert said == f"{DEMO}:导入 2197 条事件(renda +2197)\n"
    again = ledger("import", str(DEMO), db=f"sqlite:///{tmp_path / 'z.db'}", lang="zh").stderr
    assert "没有新事件" in again and "2197 条已存在" in again


def test_verify_and_user_speak_the_output_language(demo_db):
    zh = ledger("verify", db=demo_db, lang="zh").stdout
    en = ledger("verify", db=demo_db, lang="en").stdout
    assert "哈希链:完好" in zh and "已核对 1 个团队" in zh and "Chain" not in zh
    assert "Chain of renda: intact" in en and "Verified 1 team(s)" in en
    added = ledger("user", "add", "front9", "--team", "renda", "--role", "reception", db=demo_db, lang="zh",
                   stdin="a long passphrase\n")
    assert added.stderr == "已添加 front9(前台,团队 renda)\n"
    listed = ledger("user", "list", "--team", "renda", db=demo_db, lang="zh").stdout
    assert "角色" in listed and "前台" in listed and "role" not in listed


# -- long lists: -n and the pager -----------------------------------------------------------------


def test_followups_n_limits_the_rows_and_says_how_many_are_left(demo_db):
    full = ledger("followups", "--json", "--at", "2026-11-30T20:00:00+08:00", db=demo_db).stdout
    total = len(json.loads(full)["overdue"])
    assert total > 3
    shown = ledger("followups", "-n", "3", "--at", "2026-11-30T20:00:00+08:00", db=demo_db).stdout
    assert f"3 of {total} shown" in shown
    assert ledger("followups", "-n", "3", "--json", "--at", "2026-11-30T20:00:00+08:00", db=demo_db).stdout != full


def _on_a_terminal(args: list[str], env: dict, rows: int = 20) -> str:
    """Run `ledger` with stdout and stderr on a pseudo-terminal of `rows` lines; what it wrote."""
    leader, follower = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 160, 0, 0))
    process = subprocess.Popen([LEDGER, *args], stdin=follower, stdout=follower, stderr=follower,
                               env={k: v for k, v in {**os.environ, **env}.items() if k not in ("COLUMNS", "LINES")})
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(leader)
    assert process.returncode == 0, out
    return out.decode("utf-8", "replace")


def test_a_long_list_goes_through_the_pager_only_on_a_terminal(tmp_path, demo_db):
    paged = tmp_path / "paged.txt"
    args = ["--lang", "en", "followups", "-n", "0", "--at", "2026-11-30T20:00:00+08:00", "--db", demo_db]
    screen = _on_a_terminal(args, {"PAGER": f"cat > {paged}"})
    assert paged.exists() and "Overdue follow-ups" in paged.read_text() and "Overdue follow-ups" not in screen
    short = _on_a_terminal(["--lang", "en", "owner", "L1116-X2", "--db", demo_db], {"PAGER": f"cat > {paged}.2"})
    assert "L1116-X2" in short and not Path(f"{paged}.2").exists()  # fits: no pager
    piped = ledger("followups", "-n", "0", "--at", "2026-11-30T20:00:00+08:00", db=demo_db,
                   env={"PAGER": f"cat > {paged}.3"})
    assert "Overdue follow-ups" in piped.stdout and not Path(f"{paged}.3").exists()


# -- completion and did you mean ------------------------------------------------------------------


def test_help_shows_how_to_install_shell_completion():
    shown = ledger("--help").stdout
    assert '_LEDGER_COMPLETE=bash_source ledger' in shown and "_LEDGER_COMPLETE=zsh_source ledger" in shown
    script = subprocess.run([LEDGER], env={**os.environ, "_LEDGER_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "complete -o nosort -F" in script.stdout


def _complete(words: str, env: dict) -> list[str]:
    result = subprocess.run([LEDGER], capture_output=True, text=True, timeout=60, env={
        **os.environ, **env, "_LEDGER_COMPLETE": "bash_complete", "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))})
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize("command", ["owner", "explain"])
def test_the_lead_argument_completes_lead_ids_from_the_store_and_never_creates_one(tmp_path, demo_db, command):
    assert "L1116-X2" in _complete(f"ledger {command} L1116", {"LEDGER_DB": demo_db})
    assert all(lead.startswith("L111") for lead in _complete(f"ledger {command} L111", {"LEDGER_DB": demo_db}))
    assert _complete(f"ledger {command} L1", {"LEDGER_DB": f"sqlite:///{tmp_path / 'none.db'}"}) == []
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("command", ["owner", "explain"])
def test_an_unknown_lead_says_did_you_mean_in_both_languages_with_exit_2(demo_db, command):
    en = ledger(command, "l1116-x2", db=demo_db, code=2).stderr
    assert en.count("\n") == 1 and en.rstrip().endswith("; did you mean L1116-X2?")
    zh = ledger(command, "L1116X2", db=demo_db, code=2, lang="zh").stderr
    assert "您要找的是不是 L1116-X2?" in zh and zh.count("\n") == 1
    as_json = ledger(command, "L1116X2", "--json", db=demo_db, code=2)
    assert as_json.stdout == "" and "did you mean L1116-X2?" in as_json.stderr
    nothing = ledger(command, "zzzz", db=demo_db, code=2).stderr
    assert "did you mean" not in nothing and "unknown lead 'zzzz'" in nothing


def test_the_demo_fixture_of_fixtures_is_the_packaged_one():
    link = ROOT / "fixtures" / "demo-campus-month.jsonl"
    assert link.read_bytes() == DEMO.read_bytes() and shutil.which("ledger", path=str(Path(LEDGER).parent))
