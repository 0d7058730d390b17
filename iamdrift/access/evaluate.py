"""IAM evaluation for `sts:AssumeRole`, over canonical statements (pure).

>>> stmt = {"Effect": "Allow", "Action": ["sts:*"], "Resource": ["arn:aws:iam::*:role/ops-*"]}
>>> statement_applies(stmt, ASSUME, "arn:aws:iam::222222222222:role/ops-read")
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from iamdrift.baselines.models import Structure
from iamdrift.compare.policy import normalize

ASSUME = "sts:assumerole"
SERVICE_ROLE_PATH = "/aws-service-role/"
Canonical = dict[str, Any]


@dataclass
class OrgContext:
    """What the organization adds: who is a member, and the SCPs above each account.

    `scp_levels[account]` lists, from the root down to the account, the SCP documents
    attached at each level; an action must be allowed at every level.
    """

    management: str | None = None
    members: set[str] = field(default_factory=set)
    scp_levels: dict[str, list[list[Canonical]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, management: str | None, structure: Structure | None, declared: set[str]
    ) -> OrgContext:
        """From the live structure when the hub may read it; else the declared accounts,
        with SCPs unknown and so assumed to allow."""
        if structure is None:
            return cls(management, set(declared), {})
        return cls(management, set(structure.accounts), scp_levels(structure))


def scp_levels(structure: Structure) -> dict[str, list[list[Canonical]]]:
    """For each account, the SCPs attached at each level from the root down to it."""
    attached: dict[str, list[Canonical]] = {}
    for scp in structure.service_control_policies.values():
        for target in scp.targets:
            attached.setdefault(target, []).append(normalize(scp.document))
    out = {}
    for account, member in structure.accounts.items():
        parts = member.ou.split("/")
        chain = ["/".join(parts[: i + 1]) for i in range(len(parts))] + [account]
        out[account] = [attached.get(level, []) for level in chain]
    return out


@functools.lru_cache(maxsize=2**16)
def _glob(value: str, pattern: str) -> bool:
    # The same action and resource patterns recur in every account: match each once.
    return fnmatchcase(value, pattern)


def _values_match(patterns: list[str], value: str, case: bool) -> bool:
    if not case:
        value = value.lower()
        return any(_glob(value, p.lower()) for p in patterns)
    return any(_glob(value, p) for p in patterns)


def statement_applies(stmt: Canonical, action: str, resource: str | None = None) -> bool:
    """Does a canonical statement cover this action (and resource)? Conditions aside."""
    if "Action" in stmt and not _values_match(stmt["Action"], action, case=False):
        return False
    if "NotAction" in stmt and _values_match(stmt["NotAction"], action, case=False):
        return False
    if resource is not None:
        if "Resource" in stmt and not _values_match(stmt["Resource"], resource, case=True):
            return False
        if "NotResource" in stmt and _values_match(stmt["NotResource"], resource, case=True):
            return False
    return True


@dataclass
class Decision:
    allowed: bool
    why: list[str]
    conditions: list[Canonical]


def evaluate(policies: list[tuple[str, list[Canonical]]], action: str, resource: str) -> Decision:
    """Identity-policy evaluation over (label, statements): some Allow applies and no
    unconditional Deny does.

    A Deny with conditions may not apply, so it does not remove access (the graph
    errs towards showing access); its conditions are not recorded as the edge's.
    """
    allows, conditions = [], []
    for label, statements in policies:
        for stmt in statements:
            if not statement_applies(stmt, action, resource):
                continue
            if stmt["Effect"] == "Deny" and not stmt.get("Condition"):
                return Decision(False, [f"denied by {label}"], [])
            if stmt["Effect"] == "Allow":
                allows.append(label)
                if stmt.get("Condition"):
                    conditions.append(stmt["Condition"])
    return Decision(bool(allows), allows, conditions)


def scp_allows(levels: list[list[Canonical]], action: str, resource: str) -> bool:
    return all(
        evaluate([("scp", d["Statement"]) for d in level], action, resource).allowed
        for level in levels
    )
