"""Under pytest-xdist: each worker reads the accounts of the tests it is given and sends
each account's outcome with a check result; the access graph, which needs every
account, is judged on the controller afterwards and reported as pytest reports a test
that ran, so the terminal, JUnit, the HTML report and the exit status all count it."""

from __future__ import annotations

import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pytest import TestReport

from iamdrift.audit.organization import Judgement
from iamdrift.plugin.recording import attach
from iamdrift.plugin.session import SHARED_BASELINE, Session, target_of
from iamdrift.plugin.whole import SUBJECTS, record
from iamdrift.report.results import CheckResult
from iamdrift.report.text import failure_text, waived_text

WHOLE_NODES = "iamdrift_whole_nodes"


class Distributed:
    def __init__(self, session: Session):
        self.session = session
        self._nodes: dict[str, dict[str, Any]] = {}  # check -> the test a worker handed over
        self._shared: Path | None = None  # the baselines handed to the workers

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._shared is not None:
            shutil.rmtree(self._shared.parent, ignore_errors=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """Hand the loaded baselines to each xdist worker (a private file, read once)."""
        if self._shared is None:
            self._shared = Path(tempfile.mkdtemp(prefix="iamdrift-")) / "baseline.pickle"
            self._shared.write_bytes(pickle.dumps(self.session.baseline))
        node.workerinput[SHARED_BASELINE] = str(self._shared)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A worker cannot judge the checks over every account (its accounts are some of
        them): it hands each such test's identity to the controller, which judges it from
        every outcome."""
        if not self.session.is_worker:
            return
        whole = [i for i in items if (t := target_of(i)) is not None and t.check in SUBJECTS]
        nodes = {}
        for item in whole:
            target = target_of(item)
            assert target is not None
            nodes[target.check] = {
                "account": target.account,
                "nodeid": item.nodeid,
                "location": list(item.location),
                "keywords": {k: 1 for k in item.keywords},
            }
        if nodes:
            config.workeroutput[WHOLE_NODES] = nodes
            items[:] = [i for i in items if i not in whole]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        self._nodes.update(getattr(node, "workeroutput", {}).get(WHOLE_NODES) or {})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        result = yield
        if not session.shouldfail:
            for check, node in sorted(self._nodes.items()):
                judged = self.session.judgement(check, self.session.collector.outcomes)
                self.emit(check, node, judged)
        return result

    def emit(self, check: str, node: dict[str, Any], judged: Judgement) -> None:
        """Report a check judged outside any test item, as pytest reports one that ran."""
        hook = self.session.config.hook
        nodeid, location = node["nodeid"], tuple(node["location"])
        acct = self.session.baseline.accounts[node["account"]]
        failing, waived = self.session.judge(judged.findings)
        result = CheckResult(
            account=acct.id, name=acct.name, check=check, findings=failing, waived=waived
        )
        fragment = record(result, judged)
        if judged.error:
            result.error, result.elsewhere = (
                (None, True) if judged.elsewhere else (judged.error, False)
            )
        phases = [("setup", "failed" if judged.error else "passed")]
        if not judged.error:
            phases.append(("call", "failed" if failing else ("skipped" if waived else "passed")))
        phases.append(("teardown", "passed"))
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for when, outcome in phases:
            longrepr = None
            if outcome == "failed":
                longrepr = judged.error or failure_text(SUBJECTS[check], failing)
            report = TestReport(nodeid, location, node["keywords"], outcome, longrepr, when)
            if outcome == "skipped":  # only waived findings: an expected failure, as xfail
                report.wasxfail = waived_text(waived)
            if outcome == "failed" or when == "call":
                attach(self.session, report, result, fragment)
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
