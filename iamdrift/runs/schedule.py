"""`schedule`: run the checks on a schedule until stopped.

Each run is a child process (`runner.py run`), so a crash, a hang (killed at
the timeout) or leaked state cannot take the scheduler down; a run that does not
finish is recorded as failed in the history and the scheduler goes on. A lock
file in the report directory keeps runs from overlapping, also across two
schedulers. SIGTERM and SIGINT stop it cleanly: a run in progress is stopped
and recorded as failed; no half-written report is left.
"""

from __future__ import annotations

import fcntl
import logging
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import schedule

from iamdrift.report import history

log = logging.getLogger("iamdrift.scheduler")
LOCK_FILE = ".iamdrift.lock"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_every(text: str) -> tuple[int, str]:
    """`6h` -> (6, "hours"); also s, m, d.

    >>> parse_every("90m")
    (90, 'minutes')
    """
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected an interval such as 30m, 6h or 1d, got {text!r}")
    return int(match.group(1)), _UNITS[match.group(2)]


class Scheduler:
    def __init__(
        self,
        run_args: list[str],
        report_dir: str,
        timeout: float,
        keep: int,
        pytest_args: list[str] | None = None,
    ):
        self.run_args = run_args
        self.report_dir = Path(report_dir)
        self.timeout = timeout
        self.keep = keep
        self.pytest_args = pytest_args or []
        self.stopping = False
        self.runs = 0

    def _stop(self, signum: int, _frame) -> None:
        log.info("received %s: stopping after cleaning up", signal.Signals(signum).name)
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def run_once(self) -> int | None:
        """One run under the lock; its exit code, or None when it did not finish."""
        self.report_dir.mkdir(parents=True, exist_ok=True)
        with open(self.report_dir / LOCK_FILE, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.warning("another run holds %s; skipping this one", lock.name)
                return None
            return self._run_locked(lock.fileno())

    def _run_locked(self, lock_fd: int) -> int | None:
        run_id = history.new_run_id(self.report_dir)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        cmd = [
            sys.executable,
            "-m",
            "iamdrift",
            "run",
            *self.run_args,
            "--report-dir",
            str(self.report_dir),
            "--run-id",
            run_id,
            "--keep",
            str(self.keep),
        ]
        if self.pytest_args:
            cmd += ["--", *self.pytest_args]
        log.info("run %s started", run_id)
        self.runs += 1
        # The run holds the lock too: should the scheduler die, no other run starts while
        # this one goes on.
        proc = subprocess.Popen(cmd, pass_fds=(lock_fd,))
        deadline = time.monotonic() + self.timeout
        reason = None
        while proc.poll() is None:
            if self.stopping:
                reason = "stopped: the scheduler was asked to stop during the run"
            elif time.monotonic() > deadline:
                reason = f"timed out after {self.timeout:g}s"
            if reason:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                break
            time.sleep(0.1)
        code = proc.returncode
        if (self.report_dir / run_id / history.RUN_META).exists():
            log.info("run %s finished with exit code %s", run_id, code)
            return code
        reason = reason or f"the run ended with exit code {code} without a report"
        history.record_failed_run(self.report_dir, run_id, reason, code, started, self.keep)
        log.error("run %s failed: %s", run_id, reason)
        return None

    def loop(self) -> None:
        self.install_signal_handlers()
        log.info("scheduler started: %s", ", ".join(str(j) for j in schedule.get_jobs()))
        while not self.stopping:
            schedule.run_pending()
            time.sleep(0.2)
        schedule.clear()
        log.info("scheduler stopped after %d run(s)", self.runs)


def run_schedule(
    run_args: list[str],
    report_dir: str,
    at: str | None,
    every: str | None,
    tz: str | None,
    once: bool,
    timeout: float,
    keep: int,
    pytest_args: list[str] | None = None,
) -> int:
    scheduler = Scheduler(run_args, report_dir, timeout, keep, pytest_args)
    if once:
        scheduler.install_signal_handlers()
        code = scheduler.run_once()
        return 1 if code is None else code
    plan(at, every, tz).do(scheduler.run_once)
    scheduler.loop()
    return 0


def plan(at: str | None, every: str | None, tz: str | None) -> schedule.Job:
    """The `schedule` job for `--every` or `--at` (daily, in `tz` or local time)."""
    if every:
        count, unit = parse_every(every)
        return getattr(schedule.every(count), unit)
    return schedule.every().day.at(at or "02:00", tz)
