"""Progress of reading accounts: one rewritten status line on a terminal, log lines elsewhere.

Reader threads only count; the main thread renders through pytest's terminal
writer (which writes past pytest's output capture) while it waits for accounts.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol


class Writer(Protocol):
    def write_line(self, line: str) -> None: ...
    def rewrite(self, line: str) -> None: ...


class Progress:
    """Counts accounts read; shows `[iamdrift] 3/20 accounts read; reading ...`."""

    def __init__(self, total: int, tty: bool):
        self.total = total
        self.tty = tty
        self.done = 0
        self.reading: dict[str, str] = {}
        self._lines: list[str] = []
        self._drawn = False  # a status line is on the terminal
        self._lock = threading.Lock()

    def started(self, account: str, label: str) -> None:
        with self._lock:
            self.reading[account] = label

    def finished(self, account: str, label: str, status: str, seconds: float) -> None:
        with self._lock:
            self.done += 1
            self.reading.pop(account, None)
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._lines.append(
                f"{stamp} iamdrift: [{self.done}/{self.total}] account {label} "
                f"read in {seconds:.1f}s: {status}"
            )

    def has_output(self, waiting: bool) -> bool:
        with self._lock:
            return bool(self._lines) if not self.tty else (waiting or self._drawn)

    def render(self, out: Writer, waiting: bool = True) -> None:
        """Show progress: rewrite the status line (terminal) or print new lines (CI, pipes)."""
        with self._lock:
            lines, self._lines = self._lines, []
            if not self.tty:
                for line in lines:
                    out.write_line(line)
                return
            self._drawn = waiting
            if not waiting:
                out.rewrite("")
                return
            names = ", ".join(list(self.reading.values())[:3])
            more = f" and {len(self.reading) - 3} more" if len(self.reading) > 3 else ""
            reading = f"; reading {names}{more}" if names else ""
            out.rewrite(f"[iamdrift] {self.done}/{self.total} accounts read{reading}")


def phases(read_span: tuple[float, float] | None, tested: float, done: float) -> str:
    """Where a run's time went after its start, for its log: reading (the first read's
    start to the last's end, reads running side by side), judging (from there to the end
    of the tests: the checks, the organization's reduce), writing (the findings, the part,
    the HTML report, the history).

    >>> phases((10.0, 12.5), 13.0, 13.75)
    'reading 2.5s, judging 0.5s, writing 0.8s'
    >>> phases(None, 13.0, 13.5)
    'reading 0.0s (nothing read), judging -, writing 0.5s'
    """
    writing = f"writing {done - tested:.1f}s"
    if read_span is None:
        return f"reading 0.0s (nothing read), judging -, {writing}"
    began, ended = read_span
    return f"reading {ended - began:.1f}s, judging {max(0.0, tested - ended):.1f}s, {writing}"
