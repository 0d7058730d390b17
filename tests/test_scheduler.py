"""The scheduler: several runs, a crash and a hang recorded as failed, no overlap, clean stop."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time

import pytest

from iamdrift.report import history
from iamdrift.runs.schedule import parse_every, plan
from tests.conftest import RUNNER

pytestmark = pytest.mark.e2e


def _start(world, *args, faults=None, report_dir=None):
    env = world.env(IAMDRIFT_FAULTS=json.dumps(faults or {}))
    cmd = [
        sys.executable,
        str(RUNNER),
        "schedule",
        *args,
        "--report-dir",
        str(report_dir or world.tmp / "reports"),
        "--",
        "-p",
        "tests.faults",
    ]
    return subprocess.Popen(
        cmd, env=env, cwd=RUNNER.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _intervals(trace):
    """(start, end) per run from the fault plugin's trace; crashed runs have no end."""
    spans, open_ = [], {}
    for line in trace.read_text().splitlines():
        event, stamp, pid = line.split()
        if event == "start":
            open_[pid] = float(stamp)
        else:
            spans.append((open_.pop(pid), float(stamp)))
    return sorted(spans), open_


@pytest.mark.slow
def test_runs_go_on_after_a_crash_and_a_hang_and_stop_cleanly(world):
    reports = world.tmp / "reports"
    faults = {
        "counter": str(world.tmp / "count"),
        "crash_runs": [2],
        "hang_runs": [3],
        "trace": str(world.tmp / "trace"),
    }
    proc = _start(world, "--every", "1s", "--timeout", "15", faults=faults)
    _wait_for(lambda: len(history.runs(reports)) >= 5)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    runs = history.runs(reports)
    statuses = [r.status for r in runs]
    assert statuses[:4] == ["compliant", "failed", "failed", "compliant"], statuses
    assert "exit code 70" in runs[1].reason
    assert "timed out after 15s" in runs[2].reason
    assert "scheduler stopped" in err and "received SIGTERM" in err
    assert not list(reports.glob(".*.partial"))
    spans, _ = _intervals(world.tmp / "trace")
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


@pytest.mark.slow
def test_two_schedulers_never_run_at_once(world):
    reports = world.tmp / "reports"
    trace = world.tmp / "trace"
    procs = [_start(world, "--every", "1s", faults={"trace": str(trace)}) for _ in range(2)]
    _wait_for(lambda: len(history.runs(reports)) >= 4)
    for p in procs:
        p.send_signal(signal.SIGTERM)
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    spans, unfinished = _intervals(trace)
    assert not unfinished
    assert len(spans) >= 4
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert any("another run holds" in e for e in errs)


def test_sigterm_during_a_run_records_it_failed_and_leaves_no_partial_report(world):
    reports = world.tmp / "reports"
    faults = {
        "counter": str(world.tmp / "count"),
        "hang_runs": [1],
        "trace": str(world.tmp / "trace"),
    }
    proc = _start(world, "--every", "1s", faults=faults)
    _wait_for(lambda: (world.tmp / "trace").exists())
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    (run,) = history.runs(reports)
    assert run.status == "failed" and "stopped" in run.reason
    assert not list(reports.glob(".*.partial"))
    assert sorted(p.name for p in (reports / run.id).iterdir()) == ["run.json"]


def test_once_runs_now_and_exits_with_the_run_code(world):
    world.emu.iam("222222222222").create_user(UserName="eve")
    proc = _start(world, "--once")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-2000:]
    assert [r.status for r in history.runs(world.tmp / "reports")] == ["drift"]


@pytest.mark.parametrize(
    ("text", "expected"), [("30s", (30, "seconds")), ("6h", (6, "hours")), ("1d", (1, "days"))]
)
def test_parse_every(text, expected):
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["0h", "6", "h", "6w", "-1h"])
def test_parse_every_rejects(text):
    with pytest.raises(ValueError, match="expected an interval"):
        parse_every(text)


def test_daily_at_a_time_in_a_time_zone():
    import schedule

    job = plan("02:30", None, "Europe/Berlin")
    try:
        job.do(lambda: None)
        assert (job.unit, job.at_time.hour, job.at_time.minute) == ("days", 2, 30)
        assert str(job.at_time_zone) == "Europe/Berlin"
        assert job.next_run is not None
    finally:
        schedule.cancel_job(job)


def test_a_bad_time_is_refused():
    with pytest.raises(Exception, match=r"time format|Invalid"):
        plan("25:99", None, None)
