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

from iamdrift.audit.organization import AccessJudgement
from iamdrift.plugin.recording import attach
from iamdrift.plugin.session import SHARED_BASELINE, Session, target_of
from iamdrift.report.html import access_html
from iamdrift.report.results import CheckResult
from iamdrift.report.text import failure_text, waived_text

ACCESS_NODE = "iamdrift_access_node"


class Distributed:
    def __init__(self, session: Session):
        self.session = session
        self._access_node: dict[str, Any] | None = None
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
        """A worker cannot judge the access graph (its accounts are some of them): it hands
        the test's identity to the controller, which judges it from every outcome."""
        if not self.session.is_worker:
            return
        graph = [i for i in items if (t := target_of(i)) is not None and t.check == "access"]
        if graph:
            item = graph[0]
            config.workeroutput[ACCESS_NODE] = {
                "account": target_of(item).account,  # type: ignore[union-attr]
                "nodeid": item.nodeid,
                "location": list(item.location),
                "keywords": {k: 1 for k in item.keywords},
            }
            items[:] = [i for i in items if i not in graph]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        access = getattr(node, "workeroutput", {}).get(ACCESS_NODE)
        if access:
            self._access_node = access

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        result = yield
        if self._access_node is not None and not session.shouldfail:
            judged = self.session.access_judgement(self.session.collector.outcomes)
            self.emit(self._access_node, judged)
        return result

    def emit(self, node: dict[str, Any], judged: AccessJudgement) -> None:
        """Report a check judged outside any test item, as pytest reports one that ran."""
        hook = self.session.config.hook
        nodeid, location = node["nodeid"], tuple(node["location"])
        acct = self.session.baseline.accounts[node["account"]]
        failing, waived = self.session.judge(judged.findings)
        result = CheckResult(
            account=acct.id, name=acct.name, check="access", findings=failing, waived=waived,
            access=judged.rows, rules=judged.rules,
        )  # fmt: skip
        if judged.error:
            result.error, result.elsewhere = (
                (None, True) if judged.elsewhere else (judged.error, False)
            )
        fragment = access_html(judged.rows, judged.risky_roles)
        phases = [("setup", "failed" if judged.error else "passed")]
        if not judged.error:
            phases.append(("call", "failed" if failing else ("skipped" if waived else "passed")))
        phases.append(("teardown", "passed"))
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for when, outcome in phases:
            longrepr = None
            if outcome == "failed":
                longrepr = judged.error or failure_text("cross-account access", failing)
            report = TestReport(nodeid, location, node["keywords"], outcome, longrepr, when)
            if outcome == "skipped":  # only waived findings: an expected failure, as xfail
                report.wasxfail = waived_text(waived)
            if outcome == "failed" or when == "call":
                attach(self.session, report, result, fragment)
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
