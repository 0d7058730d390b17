"""An account's users and roles as the evaluation sees them (pure): each with its identity
policies labelled as access paths show them, its boundary, and what conditions can know
of it.

>>> from iamdrift.baselines.models import AccountState
>>> principals("222222222222", AccountState(), {}, None)
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iamdrift.access.conditions import Facts, combine, ways, weakest
from iamdrift.access.evaluate import (
    SERVICE_ROLE_PATH,
    Canonical,
    principal_tags,
    scp_allows,
    statement_applies,
)
from iamdrift.access.projection import arn_of, managed_policy
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize

Policies = list[tuple[str, list[Canonical]]]


@dataclass
class Who:
    """A user or role of the account."""

    arn: str
    kind: str  # user | role
    name: str
    facts: Facts
    policies: Policies  # (label, statements) of its own and its groups' policies
    boundary: list[Canonical] | None = None
    attached: list[str] = field(default_factory=list)  # customer managed policies, its groups'
    group_arns: list[str] = field(default_factory=list)
    # Shared by the account's principals, whose group and managed policies are the same
    # lists: what `mentions` found of a list, by its id (the lists live as long as this).
    memo: dict[tuple, Any] = field(default_factory=dict, repr=False)
    allowed: frozenset[str] | None = field(default=None, repr=False)  # of RELEVANT

    @property
    def account(self) -> str:
        return self.facts.account


def principals(
    account: str, state: AccountState, aws: dict[str, Canonical], org_id: str | None
) -> list[Who]:
    """The account's users and roles (service-linked roles aside: only their service can
    use them), raising KeyError for a managed policy whose body was not collected."""
    docs: dict[str, list[Canonical]] = {}

    def statements(arn: str) -> list[Canonical]:
        if arn not in docs:
            docs[arn] = managed_policy(arn, state, aws)["Statement"]
        return docs[arn]

    def labelled(label: str, entity) -> Policies:
        out = [
            (f"{label} inline policy {name}", normalize(doc)["Statement"])
            for name, doc in entity.inline_policies.items()
        ]
        out += [
            (f"{label} managed policy {arn}", statements(arn)) for arn in entity.managed_policies
        ]
        return out

    groups = {name: labelled(f"group {name}", g) for name, g in state.groups.items()}
    memo: dict[tuple, Any] = {}
    found = []
    candidates = [("user", n, e) for n, e in sorted(state.users.items())]
    candidates += [
        ("role", n, e)
        for n, e in sorted(state.roles.items())
        if not e.path.startswith(SERVICE_ROLE_PATH)
    ]
    for kind, name, entity in candidates:
        arn = arn_of(account, kind, entity.path, name)
        member_of = [g for g in entity.groups if g in state.groups] if kind == "user" else []
        policies = labelled(f"{kind} {name}", entity)
        for g in member_of:
            policies += groups[g]
        managed = [*entity.managed_policies]
        managed += [arn for g in member_of for arn in state.groups[g].managed_policies]
        boundary = entity.permissions_boundary
        tags = principal_tags(kind, entity)
        found.append(
            Who(
                arn=arn,
                kind=kind,
                name=name,
                facts=Facts(arn, kind, tags, org_id),
                policies=policies,
                boundary=statements(boundary) if boundary else None,
                attached=sorted({a for a in managed if a.split(":")[4] != "aws"}),
                group_arns=[arn_of(account, "group", state.groups[g].path, g) for g in member_of],
                memo=memo,
            )
        )
    return found


def probes(account: str, kind: str) -> list[str]:
    """Two ARNs no real role or user can have (IAM names have no control characters), of
    different lengths: a pattern that matches both matches every role (user) of the
    account, since only `*` can stand for both."""
    return [
        f"arn:aws:iam::{account}:{kind}/\x00",
        f"arn:aws:iam::{account}:{kind}/" + "\x00/" * 40 + "\x01",
    ]


def may(
    who: Who, action: str, resource: str, scps: list | None
) -> tuple[Canonical, list[str]] | None:
    """May `who` call `action` on `resource` by its identity policies, within its
    boundary and (unless None) its SCPs? The conditions the request must meet, and the
    policies that allow it."""
    allowing = ways(who.policies, action, resource, who.facts)
    if not allowing:
        return None
    ceiling: Canonical = {}
    if who.boundary is not None:
        bounded = ways([("boundary", who.boundary)], action, resource, who.facts)
        if not bounded:
            return None
        ceiling = weakest([c for _, c in bounded])
    if scps is not None and not scp_allows(scps, action, resource):
        return None
    both = [(label, c) for label, c0 in allowing if (c := combine(c0, ceiling)) is not None]
    if not both:
        return None
    return weakest([c for _, c in both]), list(dict.fromkeys(label for label, _ in both))


# Every action the edges inside an account ask about (IAM actions compare without case).
RELEVANT = tuple(
    a.lower()
    for a in (
        "sts:AssumeRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:PutUserPolicy",
        "iam:AttachUserPolicy",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:PutGroupPolicy",
        "iam:AttachGroupPolicy",
        "iam:CreateRole",
        "iam:DeleteUserPermissionsBoundary",
        "iam:PutUserPermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:PutRolePermissionsBoundary",
    )
)


def mentions(who: Who, action: str) -> bool:
    """Does any Allow of its policies cover the action, on some resource?"""
    action = action.lower()
    if action not in RELEVANT:
        return any(action in _allowed(st, (action,)) for _, st in who.policies)
    if who.allowed is None:
        who.allowed = frozenset().union(*(_allowed(st, RELEVANT) for _, st in who.policies))
    return action in who.allowed


# What each policy's statement list allows of RELEVANT, by the list's identity (canonical
# lists are made once and never changed; an AWS managed policy's is the same list in every
# account). Each entry keeps its list alive, so that its id is not reused; bounded.
_ALLOWED: dict[tuple[int, tuple[str, ...]], tuple[list, frozenset[str]]] = {}


def _allowed(statements: list[Canonical], actions: tuple[str, ...]) -> frozenset[str]:
    key = (id(statements), actions)
    found = _ALLOWED.get(key)
    if found is None or found[0] is not statements:
        if len(_ALLOWED) > 2**14:
            _ALLOWED.clear()
        hits: set[str] = set()
        for s in statements:
            if s["Effect"] != "Allow":
                continue
            named = s.get("Action", [])
            if "NotAction" not in s and not any(_service_may_be_iam(a) for a in named):
                continue  # logs:, s3:, ...: none of the actions these edges are about
            if "NotAction" not in s and not any("*" in a or "?" in a for a in named):
                hits.update(a for a in actions if a in named)  # canonical: lower case
            else:
                hits.update(a for a in actions if a not in hits and statement_applies(s, a))
        found = _ALLOWED[key] = (statements, frozenset(hits))
    return found[1]


def _service_may_be_iam(pattern: str) -> bool:
    service = pattern.split(":", 1)[0].lower()
    return service in ("iam", "sts") or "*" in service or "?" in service


def uniform(who: Who, action: str, kind: str) -> tuple[Canonical, list[str]] | None:
    """May `who` call `action` on every role (user) of its account alike? Only then is it
    one edge to the shared node: no Deny of the action may single one out. Principals
    with the same policies (a group's users) are judged once, unless a condition could
    tell them apart."""
    docs = [*who.policies, *([("boundary", who.boundary)] if who.boundary else [])]
    key = ("uniform", action, kind, *(id(st) for _, st in docs))
    if key in who.memo:
        return who.memo[key]
    if any(s["Effect"] == "Deny" and statement_applies(s, action) for _, st in docs for s in st):
        found = None
    else:
        ways = [may(who, action, probe, None) for probe in probes(who.account, kind)]
        found = ways[0] if all(ways) else None
    if not any("Condition" in s for _, st in docs for s in st):
        who.memo[key] = found
    return found
