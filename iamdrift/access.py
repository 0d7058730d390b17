"""Who can assume what: the cross-account access graph (pure, no AWS calls).

Access exists only when both sides allow it: the role's trust policy admits the
principal (by ARN, by its account's root, or by "*"), and, across accounts, the
principal's own identity policies allow `sts:AssumeRole` on the role, with no
explicit Deny, within its permissions boundary and its account's SCPs.
Principals outside the audited accounts (other accounts, "*", services,
federated providers) are nodes too: their side cannot be read, so only the
trust decides.

>>> from iamdrift.models import AccountState
>>> build_graph({}, OrgContext()).edges
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from iamdrift.findings import Finding, sort_findings
from iamdrift.models import AccessFile, AccountState
from iamdrift.policy import normalize

ASSUME = "sts:assumerole"
SERVICE_ROLE_PATH = "/aws-service-role/"
_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")
_IAM_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(.+)$")
UNIQUE_ID = re.compile(r"^A[A-Z0-9]{15,127}$")

Canonical = dict[str, Any]


@dataclass(frozen=True)
class Principal:
    """A node that can assume roles: an IAM user or role, or something outside the audit."""

    key: str  # ARN, or "*", "service:NAME", "federated:NAME", "id:AIDA..."
    kind: str  # user | role | account | anyone | service | federated | deleted
    account: str | None = None
    audited: bool = False

    @property
    def label(self) -> str:
        """Short and stable, without slashes: `123456789012:user:demo1`, `service:ec2...`."""
        match = _IAM_ARN.match(self.key)
        if match:
            kind, _, name = match.group(2).partition("/")
            return f"{match.group(1)}:{kind}:{name.rsplit('/', 1)[-1]}" if name else match.group(1)
        return self.key


@dataclass(frozen=True)
class Edge:
    principal: Principal
    role: str  # role ARN
    role_account: str
    role_name: str
    conditions: Canonical = field(default_factory=dict, hash=False, compare=False)
    path: tuple[str, ...] = field(default=(), hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.principal.label}->{self.role_account}:{self.role_name}"


@dataclass
class OrgContext:
    """What the organization adds: who is a member, and the SCPs above each account.

    `scp_levels[account]` lists, from the root down to the account, the SCP documents
    attached at each level; an action must be allowed at every level.
    """

    management: str | None = None
    members: set[str] = field(default_factory=set)
    scp_levels: dict[str, list[list[Canonical]]] = field(default_factory=dict)


@dataclass
class Graph:
    edges: list[Edge]
    principals: list[Principal]


def arn_of(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def _values_match(patterns: list[str], value: str, case: bool) -> bool:
    if not case:
        value = value.lower()
        return any(fnmatchcase(value, p.lower()) for p in patterns)
    return any(fnmatchcase(value, p) for p in patterns)


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


def evaluate(policies: list[tuple[str, Canonical]], action: str, resource: str) -> Decision:
    """Identity-policy evaluation: some Allow applies and no unconditional Deny does.

    A Deny with conditions may not apply, so it does not remove access (the graph
    errs towards showing access); its conditions are not recorded as the edge's.
    """
    allows, conditions = [], []
    for label, doc in policies:
        for stmt in doc["Statement"]:
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
    for level in levels:
        docs = [("scp", d) for d in level]
        if not evaluate(docs, action, resource).allowed:
            return False
    return True


@dataclass
class _Source:
    principal: Principal
    policies: list[tuple[str, Canonical]]
    boundary: Canonical | None


def managed_policy(arn: str, state: AccountState, aws_policies: dict[str, Canonical]) -> Canonical:
    """A managed policy's canonical document; one that was not collected is an error,
    since leaving it out would hide access."""
    if arn.split(":")[4] == "aws":
        if arn not in aws_policies:
            raise KeyError(f"the body of {arn} was not collected")
        return aws_policies[arn]
    name = arn.rsplit("/", 1)[-1]
    if name not in state.policies:
        raise KeyError(f"{arn} is attached but its document was not collected")
    return normalize(state.policies[name].document)


def _own_policies(
    label: str, entity, state: AccountState, aws_policies: dict[str, Canonical]
) -> list[tuple[str, Canonical]]:
    """A user's, group's or role's inline and managed policies, each named for the path."""
    inline = [
        (f"{label} inline policy {p}", normalize(d)) for p, d in entity.inline_policies.items()
    ]
    managed = [
        (f"{label} managed policy {a}", managed_policy(a, state, aws_policies))
        for a in entity.managed_policies
    ]
    return inline + managed


def sources(account: str, state: AccountState, aws_policies: dict[str, Canonical]) -> list[_Source]:
    """Every user and role of an account with the identity policies that apply to it."""
    out = []
    principals = [("user", n, e) for n, e in state.users.items()]
    principals += [
        ("role", n, e) for n, e in state.roles.items() if not e.path.startswith(SERVICE_ROLE_PATH)
    ]
    for kind, name, entity in principals:
        policies = _own_policies(f"{kind} {name}", entity, state, aws_policies)
        for g in getattr(entity, "groups", []):
            if g in state.groups:
                policies += _own_policies(f"group {g}", state.groups[g], state, aws_policies)
        boundary = (
            managed_policy(entity.permissions_boundary, state, aws_policies)
            if entity.permissions_boundary
            else None
        )
        principal = Principal(arn_of(account, kind, entity.path, name), kind, account, True)
        out.append(_Source(principal, policies, boundary))
    return out


def _trust_admits(stmt: Canonical, principal: Principal) -> bool:
    aws = stmt.get("Principal", {}).get("AWS", [])
    if "*" in aws:
        return True
    if principal.key in aws:
        return True
    return f"arn:aws:iam::{principal.account}:root" in aws


def _external(value: str, kind: str, audited: set[str]) -> Principal | None:
    """The node for a trust principal whose own side cannot be read, or None if audited."""
    if kind == "Service":
        return Principal(f"service:{value}", "service")
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


def build_graph(
    states: dict[str, AccountState],
    org: OrgContext,
    aws_policies: dict[str, Canonical] | None = None,
) -> Graph:
    """Every edge principal -> role across accounts, from the collected state of all accounts."""
    aws_policies = aws_policies or {}
    audited = set(states)
    all_sources = [
        s for acct, st in sorted(states.items()) for s in sources(acct, st, aws_policies)
    ]
    edges: dict[str, Edge] = {}
    nodes: dict[str, Principal] = {s.principal.key: s.principal for s in all_sources}
    # Trust statements name ARNs or accounts: look those up instead of trying every principal.
    by_key = {s.principal.key: s for s in all_sources}
    by_account: dict[str, list[_Source]] = {}
    for s in all_sources:
        by_account.setdefault(s.principal.account or "", []).append(s)
    for account, state in sorted(states.items()):
        for name, role in sorted(state.roles.items()):
            if role.path.startswith(SERVICE_ROLE_PATH):
                continue
            role_arn = arn_of(account, "role", role.path, name)
            trust = normalize(role.trust_policy)
            allows = [
                (i, s)
                for i, s in enumerate(trust["Statement"])
                if s["Effect"] == "Allow" and statement_applies(s, ASSUME) and "Principal" in s
            ]
            denies = [
                s
                for s in trust["Statement"]
                if s["Effect"] == "Deny" and statement_applies(s, ASSUME) and not s.get("Condition")
            ]
            for i, stmt in allows:
                for kind, values in stmt["Principal"].items():
                    for value in values:
                        node = _external(value, kind, audited)
                        if node is None:
                            continue
                        nodes[node.key] = node
                        edge = Edge(
                            node,
                            role_arn,
                            account,
                            name,
                            stmt.get("Condition", {}),
                            (f"trust statement {i} of {name} names {value}",),
                        )
                        edges.setdefault(edge.id, edge)
                for src in _candidates(stmt, all_sources, by_key, by_account):
                    p = src.principal
                    if p.account == account or not _trust_admits(stmt, p):
                        continue
                    if any(_trust_admits(d, p) for d in denies):
                        continue
                    decision = evaluate(src.policies, ASSUME, role_arn)
                    if not decision.allowed:
                        continue
                    if (
                        src.boundary is not None
                        and not evaluate([("boundary", src.boundary)], ASSUME, role_arn).allowed
                    ):
                        continue
                    if p.account != org.management and not scp_allows(
                        org.scp_levels.get(p.account, []), ASSUME, role_arn
                    ):
                        continue
                    how = "its ARN" if p.key in stmt["Principal"].get("AWS", []) else "its account"
                    edge = Edge(
                        p,
                        role_arn,
                        account,
                        name,
                        stmt.get("Condition", {}),
                        (*decision.why, f"trust statement {i} of {name} admits {how}"),
                    )
                    edges.setdefault(edge.id, edge)
    return Graph(
        sorted(edges.values(), key=lambda e: e.id), sorted(nodes.values(), key=lambda p: p.key)
    )


def policy_bodies_needed(states: dict[str, AccountState]) -> set[str]:
    """AWS managed policy ARNs attached to principals: their bodies decide what they may assume."""
    arns: set[str] = set()
    for state in states.values():
        for entity in [*state.users.values(), *state.groups.values(), *state.roles.values()]:
            for arn in [*entity.managed_policies, getattr(entity, "permissions_boundary", None)]:
                if arn and arn.split(":")[4] == "aws":
                    arns.add(arn)
    return arns


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
) -> tuple[list[Finding], list[dict]]:
    """Findings for expected edges missing or stripped of conditions, and (when exclusive)
    for edges nobody declared; plus every edge with its status, for the matrix."""
    findings: list[Finding] = []
    live = {(e.principal.key, e.role): e for e in graph.edges}
    wanted = {(x.principal, x.role): x for x in expected.edges}
    rows = []

    def add(account, resource, aspect, change, severity, want, have, what):
        findings.append(
            Finding(
                account=account,
                resource_type="access",
                resource=resource,
                aspect=aspect,
                change=change,
                severity=severity,
                expected=want,
                actual=have,
                message=f"Account {account}: {what}.",
            )
        )

    for (principal, role), x in sorted(wanted.items()):
        account, name = role.split(":")[4], role.rsplit("/", 1)[-1]
        edge = live.get((principal, role))
        required = canonical_conditions(x.conditions)
        label = Edge(Principal(principal, "declared"), role, account, name).id
        if edge is None:
            add(
                account,
                label,
                "edge",
                "missing",
                "medium",
                {"principal": principal, "role": role},
                None,
                f"{principal} can no longer assume {name}, which access.yaml expects",
            )
            rows.append(
                {
                    "principal": principal,
                    "role": role,
                    "status": "missing",
                    "conditions": required,
                    "path": [],
                }
            )
        elif not _has_conditions(edge.conditions, required):
            add(
                account,
                edge.id,
                "conditions",
                "changed",
                "high",
                required,
                edge.conditions,
                f"{principal} can assume {name} without the trust conditions access.yaml requires",
            )
            rows.append(_row(edge, "conditions missing"))
        else:
            rows.append(_row(edge, "expected"))
    for key, edge in sorted(live.items()):
        if key in wanted:
            continue
        rows.append(_row(edge, "unexpected"))
        if expected.exclusive:
            outside = edge.principal.kind in ("anyone", "deleted") or (
                edge.principal.account is not None
                and org.members
                and edge.principal.account not in org.members
            )
            add(
                edge.role_account,
                edge.id,
                "edge",
                "unexpected",
                "critical" if outside else "high",
                None,
                {
                    "principal": edge.principal.key,
                    "role": edge.role,
                    "conditions": edge.conditions,
                    "path": list(edge.path),
                },
                f"{edge.principal.key} can assume {edge.role_name}, which access.yaml does "
                f"not declare (path: {'; '.join(edge.path)})",
            )
    return sort_findings(findings), rows


def _row(edge: Edge, status: str) -> dict[str, Any]:
    return {
        "principal": edge.principal.key,
        "role": edge.role,
        "status": status,
        "conditions": edge.conditions,
        "path": list(edge.path),
    }
