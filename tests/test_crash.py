"""Crashes leave the history whole: a run killed (SIGKILL) at random moments, many times,
never leaves `latest` or the index pointing at anything but complete runs, never leaves
a half-written file where a reader looks, does not hold the lock, and the next run
compares with the last complete one."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from iamdrift.emulator import DEMO
from tests.conftest import PROJECT, RUNNER

pytestmark = pytest.mark.e2e
RUN_FILES = {"report.html", "findings.json", "junit.xml", "run.json"}
RUN_ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def _whole(reports: Path) -> None:
    """What a reader finds in the report directory is complete."""
    visible = [p for p in reports.iterdir() if not p.name.startswith(".")]
    for path in visible:
        if path.name in ("index.html", "latest", ".iamdrift.lock"):
            continue
        assert RUN_ID.match(path.name), f"unexpected {path.name}"
        meta = json.loads((path / "run.json").read_text())  # every run folder has its record
        if meta["status"] != "failed":
            assert {p.name for p in path.iterdir()} >= RUN_FILES, path
            json.loads((path / "findings.json").read_text())
    latest = (reports / "latest").resolve()
    assert {p.name for p in latest.iterdir()} >= RUN_FILES
    parser = _Links()
    parser.feed((reports / "index.html").read_text())
    assert parser.links  # the latest report at least
    for link in parser.links:
        assert (reports / link).exists(), link


def _run(world, reports: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, str(RUNNER), *extra, "--report-dir", str(reports)]
    return subprocess.Popen(
        cmd, env=world.env(), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.slow
def test_runs_killed_at_random_moments_leave_the_history_whole(world):
    reports = world.tmp / "reports"
    first = world.cli("run")
    assert first.code == 0
    started = time.monotonic()
    assert world.cli("run").code == 0
    duration = time.monotonic() - started
    world.emu.iam(DEMO).create_user(UserName="eve")  # later runs have something to record
    rng = random.Random(1129)
    for attempt in range(20):
        # Half are plain runs, half scheduled runs (which hold the lock), killed anywhere
        # from start-up to the last file.
        args = ("run",) if attempt % 2 else ("schedule", "--once")
        proc = _run(world, reports, *args)
        time.sleep(rng.uniform(0.05, duration * 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _whole(reports)
    time.sleep(duration)  # an orphaned run of a killed scheduler may still be finishing
    last_complete = json.loads((reports / "latest" / "run.json").read_text())["id"]
    after = _run(world, reports, "schedule", "--once")  # the lock was not left held
    assert after.wait(timeout=120) == 1  # eve is drift
    _whole(reports)
    newest = json.loads((reports / "latest" / "findings.json").read_text())
    assert newest["history"]["previous_run"] is not None
    assert newest["history"]["previous_run"] >= last_complete
    assert f"{DEMO}/user/eve/existence" in {f["id"] for f in newest["findings"]}
