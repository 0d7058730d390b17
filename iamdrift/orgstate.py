"""The organization's structure: member accounts, their OUs, and service control policies.

`baselines/structure.yaml` declares it; the live side is read through Organizations
when the hub is the management account. OUs are written as paths of names:
`Root`, `Root/Workloads/Prod`. SCP targets are OU paths or account ids.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import StringConstraints

from iamdrift.findings import Finding, Severity, sort_findings
from iamdrift.models import AccountId, PolicyDocument, StrictModel
from iamdrift.policy import normalize

OuPath = Annotated[str, StringConstraints(pattern=r"^Root(/[^/]+)*$")]
STRUCTURE_FILE = "structure.yaml"


class Member(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1)]
    ou: OuPath = "Root"


class ServiceControlPolicy(StrictModel):
    document: PolicyDocument
    targets: list[Annotated[str, StringConstraints(pattern=r"^(Root(/[^/]+)*|\d{12})$")]] = []


class Structure(StrictModel):
    """`structure.yaml`: what the organization holds."""

    accounts: dict[AccountId, Member] = {}
    service_control_policies: dict[str, ServiceControlPolicy] = {}


def _pages(client, operation: str, key: str, **kwargs) -> list[dict[str, Any]]:
    return [
        item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]
    ]


def collect_structure(org) -> Structure:
    """Read OUs, accounts and SCPs with read-only Organizations calls."""
    root = org.list_roots()["Roots"][0]
    paths = {root["Id"]: "Root"}
    accounts: dict[str, dict[str, str]] = {}
    queue = [root["Id"]]
    while queue:
        parent = queue.pop()
        for acct in _pages(org, "list_accounts_for_parent", "Accounts", ParentId=parent):
            if acct.get("Status", "ACTIVE") == "ACTIVE":
                accounts[acct["Id"]] = {"name": acct["Name"], "ou": paths[parent]}
        for ou in _pages(
            org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
        ):
            paths[ou["Id"]] = f"{paths[parent]}/{ou['Name']}"
            queue.append(ou["Id"])
    scps = {}
    for policy in _pages(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"):
        content = org.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"]
        targets = _pages(org, "list_targets_for_policy", "Targets", PolicyId=policy["Id"])
        scps[policy["Name"]] = {
            "document": json.loads(content),
            "targets": sorted(paths.get(t["TargetId"], t["TargetId"]) for t in targets),
        }
    return Structure.model_validate({"accounts": accounts, "service_control_policies": scps})


def scp_levels(structure: Structure) -> dict[str, list[list[dict[str, Any]]]]:
    """For each account, the SCPs attached at each level from the root down to it."""
    attached: dict[str, list[dict[str, Any]]] = {}
    for scp in structure.service_control_policies.values():
        for target in scp.targets:
            attached.setdefault(target, []).append(normalize(scp.document))
    out = {}
    for account, member in structure.accounts.items():
        parts = member.ou.split("/")
        chain = ["/".join(parts[: i + 1]) for i in range(len(parts))] + [account]
        out[account] = [attached.get(level, []) for level in chain]
    return out


def diff_structure(management: str, expected: Structure, actual: Structure) -> list[Finding]:
    """Accounts added, gone, renamed or moved; SCPs created, deleted, changed, (de)attached."""
    findings: list[Finding] = []

    def add(
        kind: str,
        name: str,
        aspect: str,
        change: str,
        severity: Severity,
        want: Any,
        have: Any,
        what: str,
    ) -> None:
        findings.append(
            Finding(
                account=management,
                resource_type=kind,
                resource=name,
                aspect=aspect,
                change=change,
                severity=severity,
                expected=want,
                actual=have,
                message=f"Organization of {management}: {kind.replace('_', ' ')} {name} {what}.",
            )
        )

    want_accts, have_accts = expected.accounts, actual.accounts
    for acct in sorted(want_accts.keys() | have_accts.keys()):
        w, h = want_accts.get(acct), have_accts.get(acct)
        if w is None:
            add(
                "account",
                acct,
                "membership",
                "unexpected",
                "high",
                None,
                h.model_dump(),
                f"({h.name}) joined the organization in {h.ou}, and structure.yaml lacks it",
            )
        elif h is None:
            add(
                "account",
                acct,
                "membership",
                "missing",
                "medium",
                w.model_dump(),
                None,
                f"({w.name}) is declared but is not an active member",
            )
        elif w.ou != h.ou:
            add(
                "account",
                acct,
                "ou",
                "changed",
                "high",
                w.ou,
                h.ou,
                f"({h.name}) moved from {w.ou} to {h.ou}, which changes the SCPs over it",
            )
        elif w.name != h.name:
            add(
                "account",
                acct,
                "name",
                "changed",
                "low",
                w.name,
                h.name,
                f"is named {h.name!r}, structure.yaml says {w.name!r}",
            )
    want_scps, have_scps = expected.service_control_policies, actual.service_control_policies
    for name in sorted(want_scps.keys() | have_scps.keys()):
        w, h = want_scps.get(name), have_scps.get(name)
        if w is None:
            add(
                "scp",
                name,
                "existence",
                "unexpected",
                "high",
                None,
                normalize(h.document),
                f"exists (attached to {', '.join(h.targets) or 'nothing'}) but is not declared",
            )
        elif h is None:
            add(
                "scp",
                name,
                "existence",
                "missing",
                "high",
                normalize(w.document),
                None,
                "is declared but does not exist: the guardrail it set is gone",
            )
        else:
            if normalize(w.document) != normalize(h.document):
                add(
                    "scp",
                    name,
                    "document",
                    "changed",
                    "high",
                    normalize(w.document),
                    normalize(h.document),
                    "differs from the baseline",
                )
            if sorted(w.targets) != sorted(h.targets):
                gone = sorted(set(w.targets) - set(h.targets))
                new = sorted(set(h.targets) - set(w.targets))
                what = "; ".join(
                    p
                    for p in (
                        f"attached to {', '.join(new)}" if new else "",
                        f"detached from {', '.join(gone)}" if gone else "",
                    )
                    if p
                )
                add(
                    "scp",
                    name,
                    "targets",
                    "changed",
                    "high",
                    sorted(w.targets),
                    sorted(h.targets),
                    f"is {what}",
                )
    return sort_findings(findings)
