"""The checks over every account (access, Identity Center): what each is about, and what
it carries besides findings."""

from __future__ import annotations

from iamdrift.audit.organization import AccessJudgement, Judgement
from iamdrift.report.matrix import access_html
from iamdrift.report.results import CheckResult

# The checks over every account (judged once all outcomes are in), and what each is about.
SUBJECTS = {"access": "cross-account access", "identity_center": "Identity Center"}


def record(result: CheckResult, judged: Judgement) -> str:
    """What a whole-organization check carries besides findings (the access graph's edges,
    rules and Identity Center's memberships, for the report and `iamdrift access`), and the
    HTML its report row shows ("" for none)."""
    if not isinstance(judged, AccessJudgement):
        return ""
    result.access, result.rules, result.local = judged.rows, judged.rules, judged.local
    return access_html(judged.rows, judged.risky_roles)
