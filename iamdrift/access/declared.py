"""The access graph judged against access.yaml (pure): edges it declares that are gone or
stripped of their conditions, edges nobody declared (when exclusive), and every edge as a
row of the findings JSON's `access[]` with its status."""

from __future__ import annotations

from typing import Any

from iamdrift.access.edge import AccessRow, Edge
from iamdrift.access.evaluate import (
    Canonical,
    OrgContext,
)
from iamdrift.access.graph import Graph
from iamdrift.baselines.access_file import AccessFile
from iamdrift.compare.findings import Finding, Place, finding, sort_findings
from iamdrift.compare.identity_center import stable
from iamdrift.compare.policy import normalize


def canonical_conditions(conditions: dict[str, Any]) -> Canonical:
    """A Condition block in the canonical form edges carry (keys lower case, values sorted)."""
    if not conditions:
        return {}
    doc = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": conditions}]}
    return normalize(doc)["Statement"][0].get("Condition", {})


def _has_conditions(edge: Canonical, required: Canonical) -> bool:
    return all(
        set(values) <= set(edge.get(op, {}).get(key, []))
        for op, pairs in required.items()
        for key, values in pairs.items()
    )


def diff_access(
    expected: AccessFile, graph: Graph, org: OrgContext
) -> tuple[list[Finding], list[AccessRow]]:
    """Findings for expected edges missing or stripped of conditions, and (when exclusive)
    for edges nobody declared; plus every edge with its status, for the matrix."""
    findings: list[Finding] = []
    # By stable names: an edge accepted into a role Identity Center has made again since
    # (a new suffix) is the same edge.
    live = {(stable(e.principal), stable(e.target)): e for e in graph.edges}
    nodes = {p.key: p for p in graph.principals}
    wanted = {(stable(x.principal), stable(x.role)): x for x in expected.edges}
    rows: list[AccessRow] = []

    def add(edge: Edge, aspect, change, severity, want, have, what, live=None) -> None:
        where = Place(edge.account, "access", edge.id, f"Account {edge.account}")
        findings.append(finding(where, aspect, change, severity, what, want, have, live))

    for key, x in sorted(wanted.items()):
        principal, role = x.principal, x.role
        name = role.rsplit("/", 1)[-1]
        edge = live.get(key)
        required = canonical_conditions(x.conditions)
        if edge is None:
            declared = Edge(principal=principal, target=role, kind="assume")
            add(
                declared,
                "edge",
                "missing",
                "medium",
                {"principal": principal, "role": role},
                None,
                f"{principal} can no longer assume {name}, which access.yaml expects",
                {"principal": principal, "role": role},  # the edge to remove
            )
            rows.append(
                AccessRow(principal=principal, role=role, status="missing", conditions=required)
            )
        elif not _has_conditions(edge.conditions, required):
            add(
                edge,
                "conditions",
                "changed",
                "high",
                required,
                edge.conditions,
                f"{principal} can assume {name} without the trust conditions access.yaml requires",
                {"principal": principal, "role": role, "conditions": edge.conditions},
            )
            rows.append(AccessRow.of(edge, "conditions missing"))
        else:
            rows.append(AccessRow.of(edge, "expected"))
    for key, edge in sorted(live.items()):
        if key in wanted:
            continue
        if edge.kind == "sign-in":  # identity_center.yaml judges it
            rows.append(AccessRow.of(edge, "expected" if edge.declared else "unexpected"))
            continue
        rows.append(AccessRow.of(edge, "unexpected"))
        if expected.exclusive:
            node = nodes[edge.principal]
            outside = node.kind in ("anyone", "deleted") or (
                node.account is not None and org.members and node.account not in org.members
            )
            row = AccessRow.of(edge, "unexpected").model_dump(exclude={"status"})
            add(
                edge,
                "edge",
                "unexpected",
                "critical" if outside else "high",
                None,
                row,
                f"{edge.principal} can assume {edge.name}, which access.yaml does "
                f"not declare (path: {'; '.join(edge.path)})",
                {"principal": edge.principal, "role": edge.target, "conditions": edge.conditions},
            )
    return sort_findings(findings), rows
