"""What each test found, onto its report (for the HTML report, and from xdist workers to the
controller), and into the run being collected."""

from __future__ import annotations

import re

import pytest
from pytest import TestReport

from iamdrift.plugin.session import FRAGMENT, RESULT, Session
from iamdrift.report.html import findings_html
from iamdrift.report.results import CheckResult

_ACCOUNT_PARAM = re.compile(r"\[(\d{12})\](@[^/\[\]]*)?$")  # loadgroup adds @GROUP


def attach(session: Session, report: TestReport, result: CheckResult, fragment: str = "") -> None:
    """Put a check's result on its report: typed in-process, plain JSON from a worker (xdist
    sends reports as JSON); its findings as an HTML extra for pytest-html."""
    ids = session.previous_ids
    fragments = [fragment]
    if result.waived:
        fragments.insert(0, "<h3>Waived</h3>" + findings_html(result.waived, ids))
    if result.findings:
        fragments.insert(0, findings_html(result.findings, ids))
    report.iamdrift = result.model_dump(mode="json") if session.is_worker else result
    if session.config.pluginmanager.hasplugin("html") and any(fragments):
        extra = {
            "name": "findings",
            "format_type": "html",
            "extension": "html",
            "mime_type": None,
            "content": "".join(fragments),
        }
        report.extras = [*getattr(report, "extras", []), extra]


class Recorder:
    """Carries check results from test items, through their reports, into the run."""

    def __init__(self, session: Session):
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        result = item.stash.get(RESULT, None)
        if result is None:
            return report
        if report.failed and not (result.error or result.findings or result.elsewhere):
            # A check that broke without a finding leaves the account unknown: an error.
            last = (report.longreprtext or "check failed").strip().splitlines()[-1]
            result.error = f"check {item.nodeid} could not complete: {last}"
        if report.when == "call" or report.failed:
            attach(self.session, report, result, item.stash.get(FRAGMENT, ""))
        if report.when == "teardown":
            del item.stash[RESULT]  # what it found is on the reports now; items live on
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: TestReport) -> None:
        session = self.session
        if session.is_worker:
            return
        data = getattr(report, "iamdrift", None)
        if data is None:
            if report.failed:
                self._lost(report)
            return
        if report.when == "call" or not report.passed:
            session.collector.count(report.outcome if report.when == "call" else "error")
        if isinstance(data, dict):  # from an xdist worker: typed again before anyone reads it
            data = report.iamdrift = CheckResult.model_validate(data)
        session.collector.record(data)
        if report.passed and data.access is None:
            report.iamdrift = None  # recorded; pytest keeps every report until the end

    def _lost(self, report: TestReport) -> None:
        """A check that failed without a result (its xdist worker crashed under it): its
        account is an error naming why, never left out of the run."""
        found = _ACCOUNT_PARAM.search(report.nodeid)
        account = self.session.baseline.accounts.get(found.group(1)) if found else None
        if account is None:
            return
        last = (report.longreprtext or "no result").strip().splitlines()[-1]
        self.session.collector.count("error")
        self.session.collector.error(
            account.id, account.name, f"check {report.nodeid} ended without a result: {last}"
        )
