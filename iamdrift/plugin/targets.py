"""Which tests the baselines make: one per account and kind, one for the organization, one
for the access graph.

The granularity is a trade-off: a test per entity would let `-k NAME` pick one role,
but costs a test item and a report row per entity (300,000 in a large organization);
a test per account and kind costs five per account, and `--entity` picks entities.
"""

from __future__ import annotations

from dataclasses import dataclass

from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.kinds import ENTITY_KINDS

KINDS = tuple(k.check for k in ENTITY_KINDS)
ACCOUNT_CHECKS = (*KINDS, "risks")  # a test each per account
CHECKS = (*ACCOUNT_CHECKS, "organization", "access", "identity_center")


@dataclass(frozen=True)
class Target:
    """What one test checks: a kind of entity in an account, or the organization.

    `group` is the xdist group: an account's tests stay on one worker, which reads it
    once. Accounts are grouped a few together (as many as a worker reads at once), so a
    worker reads a group's accounts concurrently rather than one after another.
    """

    account: str
    check: str
    group: str = ""


def account_groups(ids: list[str], size: int) -> dict[str, list[str]]:
    """Accounts in groups of `size`, the same in every process.

    >>> account_groups(["1", "2", "3"], 2)
    {'accounts-00000': ['1', '2'], 'accounts-00001': ['3']}
    """
    size = max(1, size)
    return {f"accounts-{n // size:05d}": ids[n : n + size] for n in range(0, len(ids), size)}


def targets(
    baseline: Baseline, check: str, ids: list[str], group_size: int, whole: bool
) -> list[Target]:
    """The tests of one check over the selected account `ids`; the organization and access
    checks only where every account is at hand (`whole`: a whole run, or a merge)."""
    if check in ACCOUNT_CHECKS:
        return [
            Target(account, check, group)
            for group, accounts in account_groups(ids, group_size).items()
            for account in accounts
        ]
    if not whole:
        return []
    if check == "organization":
        org = baseline.organization
        wanted = org is not None and (org.discover_accounts or baseline.structure is not None)
        wanted = wanted and baseline.management_account is not None
        return [Target(baseline.anchor, check, check)] if wanted else []
    if check == "access" and baseline.access is not None:
        return [Target(baseline.anchor, check, check)]
    if check == "identity_center" and baseline.identity_center is not None:
        return [Target(baseline.anchor, check, check)]
    return []
