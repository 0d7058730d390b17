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
    findings = []
    for account in sorted(live.keys() - declared.keys()):
        findings.append(
            Finding(
                account=management,
                resource_type="account",
                resource=account,
                aspect="existence",
                change="unexpected",
                severity="high",
                actual={"id": account, "name": live[account]},
                message=(
                    f"Organization of {management}: account {account} ({live[account]}) is a "
                    "member but has no baseline, so nothing checks who can assume roles in it."
                ),
            )
        )
    for account in sorted(declared.keys() - live.keys()):
        findings.append(
            Finding(
                account=management,
                resource_type="account",
                resource=account,
                aspect="existence",
                change="missing",
                severity="medium",
                expected={"id": account, "name": declared[account]},
                message=(
                    f"Organization of {management}: account {account} ({declared[account]}) has a "
                    "baseline but is not an active member of the organization."
                ),
            )
        )
    return sort_findings(findings)
