"""Organization membership compared with the declared accounts (pure)."""

from __future__ import annotations

from iamdrift.findings import Finding, sort_findings


def diff_membership(
    management: str, declared: dict[str, str], live: dict[str, str]
) -> list[Finding]:
    """Accounts in the organization without a baseline, and declared accounts not in it.

    >>> [f.id for f in diff_membership("111111111111", {"111111111111": "M"},
    ...                                {"111111111111": "M", "444444444444": "New"})]
    ['111111111111/account/444444444444/existence']
    """

    def finding(account: str, change: str, severity: str, side: dict, what: str) -> Finding:
        name = side[account]
        value = {"id": account, "name": name}
        return Finding(
            account=management,
            resource_type="account",
            resource=account,
            aspect="existence",
            change=change,
            severity=severity,
            expected=value if change == "missing" else None,
            actual=value if change == "unexpected" else None,
            message=f"Organization of {management}: account {account} ({name}) {what}.",
        )

    findings = [
        finding(
            a,
            "unexpected",
            "high",
            live,
            "is a member but has no baseline, so nothing checks who can assume roles in it",
        )
        for a in sorted(live.keys() - declared.keys())
    ] + [
        finding(
            a,
            "missing",
            "medium",
            declared,
            "has a baseline but is not an active member of the organization",
        )
        for a in sorted(declared.keys() - live.keys())
    ]
    return sort_findings(findings)
