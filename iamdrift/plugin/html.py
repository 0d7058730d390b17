"""pytest-html hooks: the summary on top, failing checks with their findings, passing checks
counted (not one row each, so a thousand clean accounts make a small report).

pytest-html inserts cells raw, so every value is escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from iamdrift.compare.findings import SEVERITY_ORDER, Finding
from iamdrift.report.html import badge, summary_html
from iamdrift.report.results import RunReport


class HtmlReport:
    def __init__(self, run: Callable[[], RunReport]):
        self.run = run

    def pytest_html_report_title(self, report) -> None:
        report.title = "iamdrift: cross-account IAM drift report"

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
        cells.insert(3, "<th>Findings</th>")

    def pytest_html_results_table_row(self, report, cells: list[str]) -> None:
        result = getattr(report, "iamdrift", None)
        if report.passed and (result is None or result.access is None):
            cells.clear()  # counted in the summary; a row each would not scale
            return
        test_id = report.nodeid + ("" if report.when == "call" else f"::{report.when}")
        cells[1] = f'<td class="col-testId">{html.escape(test_id)}</td>'
        findings = result.findings if result else []
        severity = "error" if result and result.error else _top(findings)
        cells.insert(2, f'<td class="col-severity">{badge(severity) if severity else ""}</td>')
        ids = "<br>".join(html.escape(f"{f.severity}: {f.id}") for f in findings)
        cells.insert(3, f'<td class="col-findings">{ids}</td>')

    def pytest_html_results_summary(self, prefix: list[str], summary, postfix, session=None):
        prefix.append(summary_html(self.run()))


def _top(findings: list[Finding]) -> str:
    return min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__, default="")
