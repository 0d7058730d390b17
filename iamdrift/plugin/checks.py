"""Which tests the baselines make: one per account and kind, one for the organization, one
for the access graph.

The granularity is a trade-off: a test per entity would let `-k NAME` pick one role,
but costs a test item and a report row per entity (300,000 in a large organization);
a test per account and kind costs five per account, and `--entity` picks entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iamdrift.plugin.state import State

KINDS = ("users", "groups", "roles", "policies")
CHECKS = (*KINDS, "risks", "organization", "access")


@dataclass(frozen=True)
class Target:
    """What one test checks: a kind of entity in an account, or the organization."""

    account: str
    check: str

    @property
    def group(self) -> str:
        """The xdist group: an account's tests stay on one worker, which reads it once."""
        return self.account


def targets(state: State, check: str) -> list[Target]:
    selected = state.selected()
    if check in (*KINDS, "risks"):
        return [Target(a.id, check) for a in selected]
    if not state.whole_organization():
        return []  # judged only where every account is at hand (a whole run, or a merge)
    baseline = state.baseline
    management = baseline.management_account
    if check == "organization":
        org = baseline.organization
        wanted = org is not None and (org.discover_accounts or baseline.structure is not None)
        return [Target(management, check)] if management and wanted else []
    if check == "access" and baseline.access is not None:
        return [Target(management or min(baseline.accounts), check)]
    return []
