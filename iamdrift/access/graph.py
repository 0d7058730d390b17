"""Who can assume what: the cross-account access graph (pure, no AWS calls).

Access exists only when both sides allow it: the role's trust policy admits the
principal (by ARN, by its account's root, or by "*"), and, across accounts, the
principal's own identity policies allow `sts:AssumeRole` on the role, with no
explicit Deny, within its permissions boundary and its account's SCPs.
Principals outside the audited accounts (other accounts, "*", federated
providers, deleted principals' bare ids) are nodes too: their side cannot be
read, so only the trust decides. AWS service principals are not: a role that
`ec2.amazonaws.com` may assume serves its own account, as IAM Access Analyzer
also judges it; a change to such a trust is still a trust policy finding.

>>> build_graph({}, OrgContext()).edges
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iamdrift.access.conditions import Facts, combine, decide, denied, ways, weakest
from iamdrift.access.edge import Edge
from iamdrift.access.evaluate import (
    ASSUME,
    Canonical,
    OrgContext,
    scp_allows,
)
from iamdrift.access.projection import AccountProjection, TrustingRole
from iamdrift.compare.findings import Finding

_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")
_IAM_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(.+)$")
UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,127}$")
_IC_DOOR = re.compile(r":saml-provider/AWSSSO_[0-9a-f]+_DO_NOT_DELETE$")


@dataclass(frozen=True)
class Principal:
    """A node that can assume roles: an IAM user or role, or something outside the audit."""

    key: str  # ARN, or "*", "service:NAME", "federated:NAME", "id:AIDA..."
    kind: str  # user | role | account | anyone | service | federated | deleted
    account: str | None = None
    audited: bool = False


@dataclass
class Graph:
    edges: list[Edge]  # across accounts: assume and sign-in
    principals: list[Principal]


@dataclass
class _Source:
    principal: Principal
    policies: list[tuple[str, list[Canonical]]]
    boundary: list[Canonical] | None
    tags: dict[str, str] | None = None


def _trust_admits(stmt: Canonical, principal: Principal) -> bool:
    aws = stmt.get("Principal", {}).get("AWS", [])
    if "*" in aws:
        return True
    if principal.key in aws:
        return True
    return f"arn:aws:iam::{principal.account}:root" in aws


def _external(value: str, kind: str, audited: set[str]) -> Principal | None:
    """The node for a trust principal whose own side cannot be read; None for an audited
    account's principal (its own policies decide) and for AWS services."""
    if kind == "Service":
        return None
    if kind == "Federated":
        return Principal(f"federated:{value}", "federated")
    if kind != "AWS":
        return Principal(f"{kind.lower()}:{value}", "external")
    if value == "*":
        return Principal("*", "anyone")
    if UNIQUE_ID.match(value):
        return Principal(f"id:{value}", "deleted")
    match = _IAM_ARN.match(value)
    if not match or match.group(1) in audited:
        return None
    root = _ROOT.match(value)
    kind_name = "account" if root else match.group(2).split("/", 1)[0]
    return Principal(value, kind_name, match.group(1))


def _candidates(
    stmt: Canonical,
    all_sources: list[_Source],
    by_key: dict[str, _Source],
    by_account: dict[str, list[_Source]],
) -> list[_Source]:
    aws = stmt.get("Principal", {}).get("AWS", [])
    if "*" in aws:
        return all_sources
    out = [by_key[v] for v in aws if v in by_key]
    for v in aws:
        root = _ROOT.match(v)
        if root:
            out += by_account.get(root.group(1), [])
    return out


def build_graph(projections: dict[str, AccountProjection], org: OrgContext) -> Graph:
    """Every edge principal -> role across accounts, from each account's projection."""
    audited = set(projections)
    sources: list[_Source] = []
    for account, proj in sorted(projections.items()):
        for s in proj.sources:
            principal = Principal(s.arn, s.kind, account, True)
            grants = [(g.label, proj.policies[g.policy]) for g in s.grants]
            boundary = proj.policies[s.boundary] if s.boundary else None
            sources.append(_Source(principal, grants, boundary, s.tags))
    edges: dict[str, Edge] = {}
    nodes: dict[str, Principal] = {s.principal.key: s.principal for s in sources}
    # Trust statements name ARNs or accounts: look those up instead of trying every principal.
    by_key = {s.principal.key: s for s in sources}
    by_account: dict[str, list[_Source]] = {}
    for s in sources:
        by_account.setdefault(s.principal.account or "", []).append(s)
    for account, proj in sorted(projections.items()):
        signed_in = {a.target for a in proj.assigned}
        for a in proj.assigned:
            kind = "sso-" + a.principal.split(":", 1)[1].split("/", 1)[0]
            nodes.setdefault(a.principal, Principal(a.principal, kind))
            edges[a.id] = a
        for role in proj.roles:
            allows = [
                (i, s)
                for i, s in enumerate(role.trust)
                if s["Effect"] == "Allow" and "Principal" in s
            ]
            denies = [s for s in role.trust if s["Effect"] == "Deny"]
            outside: dict[str, list[tuple[Canonical, str]]] = {}
            admitting: dict[str, tuple[_Source, list[tuple[int, Canonical]]]] = {}
            for i, stmt in allows:
                for kind, values in stmt["Principal"].items():
                    for value in values:
                        if role.arn in signed_in and _IC_DOOR.search(value):
                            continue  # Identity Center's SAML provider: its assignments say who
                        node = _external(value, kind, audited)
                        if node is not None:
                            nodes[node.key] = node
                            why = f"trust statement {i} of {role.name} names {value}"
                            way = (stmt.get("Condition", {}), why)
                            outside.setdefault(node.key, []).append(way)
                for src in _candidates(stmt, sources, by_key, by_account):
                    entry = admitting.setdefault(src.principal.key, (src, []))
                    if (i, stmt) not in entry[1]:
                        entry[1].append((i, stmt))
            for key, found in outside.items():
                edge = _outside_edge(nodes[key], role, account, found)
                edges[edge.id] = edge
            for src, statements in admitting.values():
                edge = _edge(src, role, account, statements, denies, org)
                if edge is not None:
                    edges[edge.id] = edge
    return Graph(
        sorted(edges.values(), key=lambda e: e.id), sorted(nodes.values(), key=lambda p: p.key)
    )


def _outside_edge(
    node: Principal, role: TrustingRole, account: str, ways: list[tuple[Canonical, str]]
) -> Edge:
    """A principal outside the audit: only the trust decides, by its weakest statement."""
    least = min(ways, key=lambda w: _size(w[0]))
    return _assume(node.key, role, weakest([c for c, _ in ways]), [least[1]])


def _assume(principal: str, role: TrustingRole, conditions: Canonical, path: list[str]) -> Edge:
    return Edge(
        principal=principal, target=role.arn, kind="assume", path=path, conditions=conditions
    )


def _size(conditions: Canonical) -> int:
    return sum(len(pairs) for pairs in conditions.values())


def _edge(
    src: _Source,
    role: TrustingRole,
    account: str,
    statements: list[tuple[int, Canonical]],
    denies: list[Canonical],
    org: OrgContext,
) -> Edge | None:
    """The edge from an audited principal to a role in another account, if both sides allow:
    a trust statement admits it and an identity statement allows it, within its boundary,
    SCPs and Denies. Its conditions are those every way in needs (the weakest way wins)."""
    p = src.principal
    if p.account == account:
        return None
    member = org.org_id is not None and p.account in org.members
    facts = Facts(p.key, p.kind, src.tags, org.org_id if member else None)
    trusts = [(i, stmt, decide(stmt.get("Condition", {}), facts)) for i, stmt in statements]
    trusts = [(i, stmt, left) for i, stmt, left in trusts if left is not None]
    if not trusts or any(_trust_admits(d, p) and denied(d, facts) for d in denies):
        return None
    identity = ways(src.policies, ASSUME, role.arn, facts)
    if not identity:
        return None
    ceiling: Canonical = {}
    if src.boundary is not None:
        bounded = ways([("boundary", src.boundary)], ASSUME, role.arn, facts)
        if not bounded:
            return None
        ceiling = weakest([c for _, c in bounded])
    if p.account != org.management and not scp_allows(
        org.scp_levels.get(p.account or "", []), ASSUME, role.arn
    ):
        return None
    admitted = [
        (both, i, stmt)
        for i, stmt, t in trusts
        for _, c in identity
        if (both := combine(t, c, ceiling)) is not None
    ]
    if not admitted:
        return None  # no request meets both sides' conditions at once
    _, index, stmt = min(admitted, key=lambda w: (_size(w[0]), w[1]))
    how = "its ARN" if p.key in stmt["Principal"].get("AWS", []) else "its account"
    labels = tuple(dict.fromkeys(label for label, _ in identity))
    why = (*labels, f"trust statement {index} of {role.name} admits {how}")
    return _assume(p.key, role, weakest([w[0] for w in admitted]), list(why))


def risky_role_arns(projection: AccountProjection, risks: list[Finding]) -> set[str]:
    """ARNs of the roles that risk findings name (to outline them in the access matrix)."""
    arns = {r.name: r.arn for r in projection.roles}
    return {arns[f.resource] for f in risks if f.resource_type == "role" and f.resource in arns}
