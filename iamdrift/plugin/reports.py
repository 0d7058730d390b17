"""A check judged outside any test item (the access graph of an xdist run, on the
controller), reported as pytest reports one that ran."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest import TestReport

from iamdrift.report.results import CheckRecord
from iamdrift.report.text import failure_text, waived_text

if TYPE_CHECKING:
    from iamdrift.plugin.state import AccessResult, State


class Record(CheckRecord):
    """A check's record while its test runs, with report HTML that stays in this process."""

    html: str = ""


def emit_report(state: State, node: dict[str, Any], result: AccessResult) -> None:
    """Report a check judged outside any test item, as pytest reports one that ran, so the
    terminal, JUnit, the HTML report and the exit status all count it."""
    hook = state.config.hook
    nodeid, location = node["nodeid"], tuple(node["location"])
    acct = state.baseline.accounts[node["account"]]
    failing, waived = state.judge(result.findings)
    record = Record(account=acct.id, name=acct.name, check="access", findings=failing)
    record.waived = waived
    record.access = result.rows
    record.html = result.html
    if result.error:
        record.error, record.elsewhere = (None, True) if result.elsewhere else (result.error, False)
    phases = [("setup", "failed" if result.error else "passed")]
    if not result.error:
        phases.append(("call", "failed" if failing else ("skipped" if waived else "passed")))
    phases.append(("teardown", "passed"))
    hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    for when, outcome in phases:
        longrepr = None
        if outcome == "failed":
            longrepr = result.error or failure_text("cross-account access", failing)
        report = TestReport(nodeid, location, node["keywords"], outcome, longrepr, when)
        if outcome == "skipped":  # only waived findings: an expected failure, as xfail reports
            report.wasxfail = waived_text(waived)
        if outcome == "failed" or when == "call":
            state._attach(report, record)
        hook.pytest_runtest_logreport(report=report)
    hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
