"""Findings as text a person reads: in a failing test, on the terminal, in the report."""

from __future__ import annotations

import difflib
import json
from typing import Any

from iamdrift.changes.events import EventFact
from iamdrift.compare.findings import Finding
from iamdrift.report.results import RunReport, WaiverState


def _lines(value: Any) -> list[str]:
    if value is None:
        return ["(none)"]
    return json.dumps(value, indent=2, sort_keys=True).splitlines()


def unified(expected: Any, actual: Any) -> str:
    """Expected (baseline) vs actual (live), both normalized, as a unified diff."""
    return "\n".join(
        difflib.unified_diff(
            _lines(expected),
            _lines(actual),
            "expected (baseline, normalized)",
            "actual (live, normalized)",
            lineterm="",
            n=3,
        )
    )


def finding_text(finding: Finding) -> str:
    head = f"[{finding.severity}] {finding.id} ({finding.change})\n  {finding.message}"
    head += "".join(f"\n  changed by {changed_by(x)}" for x in finding.events)
    return f"{head}\n{unified(finding.expected, finding.actual)}"


def changed_by(event: EventFact) -> str:
    """`arn:...:user/mallory: UpdateAssumeRolePolicy at 2026-12-03T09:00:00Z from 198.51.100.7`"""
    who = f"{event.actor} (session of {event.issuer})" if event.issuer else event.actor
    where = f" from {event.source_ip}" if event.source_ip else ""
    return f"{who}: {event.event} at {event.time}{where}"


FULL, LISTED = 20, 200  # findings a failure shows with their diff, and by their line only


def failure_text(subject: str, findings: list[Finding]) -> str:
    """The test's failure: the first findings in full, the next by one line each, the rest
    counted (a check over a thousand accounts can have thousands; the findings JSON and the
    report's summary hold every one)."""
    body = "\n\n".join(finding_text(f) for f in findings[:FULL])
    lines = [f"[{f.severity}] {f.id}: {f.message}" for f in findings[FULL : FULL + LISTED]]
    if lines:
        body += "\n\n" + "\n".join(lines)
    if len(findings) > FULL + LISTED:
        body += f"\n\n... and {len(findings) - FULL - LISTED} more, in the findings JSON"
    return f"{subject} differs from the baseline ({len(findings)} finding(s)):\n\n{body}"


def waived_text(findings: list[Finding]) -> str:
    """Why a check with only waived findings is an expected failure, one line per finding."""
    return "; ".join(f"{f.id} {f.waiver.text() if f.waiver else 'waived'}" for f in findings)


def waiver_lines(waived: int, waivers: list[WaiverState]) -> list[str]:
    """The waivers that need a look: expiring within two weeks, expired, stale."""
    lines = [f"{waived} waived finding(s), not failing the run"] if waived else []
    for w in waivers:
        if w.status in ("expiring", "expired", "stale"):
            lines.append(f"waiver {w.status}: {w.finding} (owner {w.owner}, expires {w.expires})")
    return lines


def summary_lines(report: RunReport) -> list[str]:
    """Short human summary: the accounts that need attention, what changed, the most severe
    findings; compliant accounts are counted, not listed, when there are many."""
    lines = []
    accounts = report.accounts
    listed = [a for a in accounts if a.status != "compliant" or len(accounts) <= 20]
    for a in listed[:50]:
        sev = ", ".join(f"{n} {s}" for s, n in a.by_severity.items() if n)
        detail = a.error if a.status == "error" else (sev or "matches its baseline")
        lines.append(f"  {a.id} ({a.name}): {a.status.upper()}: {detail}")
    if len(listed) > 50:
        lines.append(f"  ... and {len(listed) - 50} more accounts that need attention")
    clean = sum(a.status == "compliant" for a in accounts)
    if len(accounts) > 20:
        lines.append(f"  {clean} of {len(accounts)} accounts compliant")
    h = report.history
    if h.previous_run:
        lines.append(
            f"  since run {h.previous_run}: {h.new} new, {h.resolved} resolved, "
            f"{h.persisting} persisting"
        )
    for f in report.findings[:10]:
        mark = " NEW" if f.history == "new" and h.previous_run else ""
        lines.append(f"  [{f.severity}]{mark} {f.id} ({f.change}): {f.message}")
    if len(report.findings) > 10:
        lines.append(f"  ... and {len(report.findings) - 10} more in the report")
    lines += [f"  {line}" for line in waiver_lines(len(report.waived), report.waivers)]
    if report.risks:
        lines.append(f"  risky access, reported as warnings ({len(report.risks)}):")
        lines += [f"    [{f.severity}] {f.id}" for f in report.risks[:5]]
    return lines
