"""Issue #14 item 8: every example a newcomer pastes runs as written on the demo store. The
command lines of the README's `sh` blocks (each block in order on a fresh copy of the demo
store) and of each command's `-h` examples (each command's in order on a fresh copy) run
through `sh -c` with the virtualenv's `ledger` first on PATH (as after `source
.venv/bin/activate`), and exit 0."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cli import main

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO = ROOT / "cli" / "data" / "demo-campus-month.jsonl"
PASSWORD = "a long passphrase\n"
# Not runnable in a test as written: servers, the network, another database, notices to chat apps.
SKIP = re.compile(r"\bledger (serve|notify)\b|^curl |postgresql://|^export |^python3 -m venv|\.venv/bin/pytest")


def readme_blocks() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = [_command(line) for line in block.splitlines()]
        lines = [line for line in lines if line and re.match(r"(\.venv/bin/)?ledger |\. |echo .*\| *ledger ", line)]
        if lines:
            blocks.append(lines)
    return blocks


def _command(line: str) -> str:
    """The command of an example line: its trailing `# comment` dropped (not a `#12` argument)."""
    return re.sub(r"\s+#\s.*$", "", line).strip()


def help_examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def walk(group: click.Group, path: str) -> None:
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                walk(command, f"{path} {name}")
                continue
            text = re.sub(r"\\\n\s*", "", command.help or "")  # a line continued with a backslash
            lines = re.findall(r"^\s+((?:\w+=\S+ )*ledger .*)$", text, re.M)
            if lines:
                found[f"{path} {name}".strip()] = [_command(line) for line in lines]

    walk(main, "")
    return found


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = subprocess.run([str(BIN / "ledger"), "demo"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return folder / "ledger.db"


def run_lines(lines: list[str], demo_store: Path, tmp_path: Path) -> None:
    shutil.copy(demo_store, tmp_path / "ledger.db")
    shutil.copy(f"{demo_store}.key", tmp_path / "ledger.db.key")  # its key file travels with it (0600 kept)
    (tmp_path / ".venv").symlink_to(BIN.parent)
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DB",)}
    env.update(PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}", LEDGER_LANG="zh", COLUMNS="120")
    for line in lines:
        if SKIP.search(line):
            continue
        result = subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, input=PASSWORD, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, (line, result.stdout[-2000:], result.stderr[-2000:])


def test_the_readme_and_the_help_have_examples_to_run():
    assert len(readme_blocks()) >= 3 and sum(len(b) for b in readme_blocks()) >= 25
    assert {"owner", "explain", "commission", "followups", "arrive", "user add"} <= set(help_examples())


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_every_readme_example_runs_as_written_on_the_demo_store(demo_store, tmp_path, index):
    run_lines(readme_blocks()[index], demo_store, tmp_path)


# The recording commands whose -h examples still name leads, contracts and penalties of an
# imagined store (issue #14 item 8, not done yet): strict, so each must leave this list once
# its example runs on the demo store.
NOT_YET: set[str] = set()


@pytest.mark.parametrize("command", [pytest.param(name, marks=pytest.mark.xfail(
    strict=True, reason="its -h example names ids not in the demo store")) if name in NOT_YET else name
    for name in sorted(help_examples())])
def test_every_help_example_runs_as_written_on_the_demo_store(demo_store, tmp_path, command):
    run_lines(help_examples()[command], demo_store, tmp_path)
