"""A run in a child process (`iamdrift run`), as the scheduler and `watch` start one: a
crash, a hang or leaked state cannot take the long-running parent down. The child holds
the report directory's lock too, so no other run starts while it goes on, even should
the parent die.
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_FILE = ".iamdrift.lock"
log = logging.getLogger("iamdrift.runs")


@contextmanager
def report_lock(report_dir: Path, wait: Callable[[], bool] | None = None) -> Iterator[IO | None]:
    """The report directory's lock (runs never overlap, also across processes and
    machines sharing the directory). Without `wait`: None when another run holds it. With
    it: retried while `wait()` says so (it may do work meanwhile), None once it says no."""
    report_dir.mkdir(parents=True, exist_ok=True)
    with open(report_dir / LOCK_FILE, "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait is None or not wait():
                    yield None
                    return
                time.sleep(0.5)
        yield lock


def run_child(
    args: list[str],
    lock: IO,
    timeout: float,
    stopping: Callable[[], bool],
    tick: Callable[[], None] | None = None,
) -> tuple[int | None, str | None]:
    """`iamdrift run ARGS` under the held lock: its exit code, and why it was stopped (None
    when it ended by itself). `tick` is called about every second while it runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "iamdrift", "run", *args], pass_fds=(lock.fileno(),)
    )
    deadline = time.monotonic() + timeout
    reason = None
    last = time.monotonic()
    while proc.poll() is None:
        if stopping():
            reason = "stopped: asked to stop during the run"
        elif time.monotonic() > deadline:
            reason = f"timed out after {timeout:g}s"
        if reason:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            break
        if tick is not None and time.monotonic() - last >= 1:
            tick()
            last = time.monotonic()
        time.sleep(0.1)
    return proc.returncode, reason


def filed_run(
    report_dir: Path,
    args: list[str],
    lock: IO,
    timeout: float,
    keep: int,
    stopping: Callable[[], bool],
    tick: Callable[[], None] | None = None,
) -> tuple[str, int | None]:
    """A run filed in the history: (its id, its exit code), None for the code when it did
    not finish, which is recorded as a failed run."""
    from iamdrift.report import history

    run_id = history.new_run_id(report_dir)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    log.info("run %s started", run_id)
    # Before `args`: what follows their `--` is pytest's.
    argv = ["--report-dir", str(report_dir), "--run-id", run_id, "--keep", str(keep), *args]
    code, reason = run_child(argv, lock, timeout, stopping, tick)
    if (report_dir / run_id / history.RUN_META).exists():
        log.info("run %s finished with exit code %s", run_id, code)
        return run_id, code
    reason = reason or f"the run ended with exit code {code} without a report"
    history.record_failed_run(report_dir, run_id, reason, code, started, keep)
    log.error("run %s failed: %s", run_id, reason)
    return run_id, None
