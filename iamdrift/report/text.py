"""Findings as text a person reads: in a failing test, on the terminal, in the report."""

from __future__ import annotations

import difflib
import json
from typing import Any

from iamdrift.compare.findings import Finding


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
    return f"{head}\n{unified(finding.expected, finding.actual)}"


def failure_text(subject: str, findings: list[Finding]) -> str:
    body = "\n\n".join(finding_text(f) for f in findings)
    return f"{subject} differs from the baseline ({len(findings)} finding(s)):\n\n{body}"


def waived_text(findings: list[Finding]) -> str:
    """Why a check with only waived findings is an expected failure, one line per finding."""
    return "; ".join(f"{f.id} {f.waiver.text() if f.waiver else 'waived'}" for f in findings)


def waiver_lines(waived: int, waivers: list[dict]) -> list[str]:
    """The waivers that need a look: expiring within two weeks, expired, stale."""
    lines = [f"{waived} waived finding(s), not failing the run"] if waived else []
    for w in waivers:
        if w["status"] in ("expiring", "expired", "stale"):
            who = f"owner {w['owner']}, expires {w['expires']}"
            lines.append(f"waiver {w['status']}: {w['finding']} ({who})")
    return lines
