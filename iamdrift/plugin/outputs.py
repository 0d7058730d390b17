"""The end of a session: the findings JSON, a shard's part file, the terminal summary,
each from the session's one run report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from iamdrift.audit.outcome import Part, baselines_digest, write_part
from iamdrift.plugin.session import Session
from iamdrift.report.text import waiver_lines


class Outputs:
    def __init__(self, session: Session):
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        try:
            return (yield)
        finally:  # the tests' end: what follows is writing (the run's log says how long)
            self.session.tested_at = time.monotonic()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = self.session
        run.close()
        if run.is_worker:
            return
        path = run.config.getoption("iamdrift_json")
        if path:
            run.report().write(path)
        part = run.config.getoption("iamdrift_part_out")
        if part:
            self.write_part(Path(part))

    def write_part(self, path: Path) -> None:
        run = self.session
        files = [*run.baseline.directory.rglob("*.y*ml")]
        run.report()  # built once: with it, an event run's carried accounts are recorded
        outcomes = run.collector.outcomes
        shard = f"{run.shard[0]}/{run.shard[1]}" if run.shard else "1/1"
        write_part(
            path,
            Part(
                shard=shard,
                baselines=baselines_digest(files),
                started=run.collector.started,
                organization=run.organization(),
                accounts=[outcomes[a.id] for a in run.selected() if a.id in outcomes],
                selection=list(run.config.getoption("entity") or []),
            ),
        )

    def pytest_terminal_summary(self, terminalreporter) -> None:
        run = self.session
        if run.is_worker or not run.collector.accounts:
            return
        report = run.report()
        terminalreporter.section("iamdrift")
        clean = 0
        for a in report.accounts:
            if a.status == "compliant":
                clean += 1
                continue
            detail = a.error or ", ".join(f"{n} {s}" for s, n in a.by_severity.items() if n)
            terminalreporter.write_line(f"{a.id} ({a.name}): {a.status}: {detail}")
        terminalreporter.write_line(f"{clean} of {len(report.accounts)} account(s) compliant")
        for line in waiver_lines(len(report.waived), report.waivers):
            terminalreporter.write_line(line)
