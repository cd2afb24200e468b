"""Issue #14 item 8: `ledger demo` works from a non-editable install (`pip install .`): the sample
month is package data of `cli`, not a file of the checkout. The sources tracked by git are copied
apart, installed with `pip install --no-deps` into a fresh virtualenv (the dependencies are
borrowed from this one through a .pth line), and `ledger demo` runs in an empty directory."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_runs_from_a_non_editable_install(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the sources")
    src = tmp_path / "src"
    for name in subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.splitlines():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, target)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(src)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(src)  # nothing of the checkout is left to read
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DB", "PYTHONPATH")}
    demo = subprocess.run([str(venv / "bin" / "ledger"), "--lang", "en", "demo"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Imported demo-campus-month.jsonl: 2197 new event(s)" in demo.stdout
    assert "L1116-X2" in demo.stdout and (work / "ledger.db").exists()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import cli; print(cli.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(site)
