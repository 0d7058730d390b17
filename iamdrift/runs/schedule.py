"""`schedule`: run the checks on a schedule until stopped.

Each run is a child process (`runner.py run`), so a crash, a hang (killed at
the timeout) or leaked state cannot take the scheduler down; a run that does not
finish is recorded as failed in the history and the scheduler goes on. A lock
file in the report directory keeps runs from overlapping, also across two
schedulers. SIGTERM and SIGINT stop it cleanly: a run in progress is stopped
and recorded as failed; no half-written report is left.
"""

from __future__ import annotations

import logging
import re
import signal
import time
from pathlib import Path

import schedule

from iamdrift.runs.child import LOCK_FILE, filed_run, report_lock

log = logging.getLogger("iamdrift.scheduler")
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
        with report_lock(self.report_dir) as lock:
            if lock is None:
                log.warning("another run holds %s; skipping this one", LOCK_FILE)
                return None
            self.runs += 1
            args = [*self.run_args, *(["--", *self.pytest_args] if self.pytest_args else [])]
            stop = lambda: self.stopping  # noqa: E731
            return filed_run(self.report_dir, args, lock, self.timeout, self.keep, stop)[1]

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
