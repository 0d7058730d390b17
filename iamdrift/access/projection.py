"""What the access graph needs of one account, and nothing more (pure).

An account's whole state is dropped once it is compared; the graph across accounts
keeps only this projection: the trust statements that open a role to other accounts,
and each principal whose policies may let it assume a role in another account, with
the statements that decide it (its own, its groups', its boundary). What can only
ever stay inside the account is left out: the graph is of cross-account access.

>>> from iamdrift.baselines.models import AccountState
>>> project("222222222222", AccountState(), {}).roles
[]
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from iamdrift.access.edge import Edge
from iamdrift.access.evaluate import (
    ASSUME,
    SERVICE_ROLE_PATH,
    Canonical,
    principal_tags,
    statement_applies,
)
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize


class _Compact(BaseModel):
    model_config = ConfigDict(frozen=True)


class TrustingRole(_Compact):
    """A role and the statements of its trust policy that concern sts:AssumeRole."""

    arn: str
    name: str
    trust: list[dict[str, Any]]


class Grant(_Compact):
    """One identity policy of a principal, by the name the access path shows."""

    label: str
    policy: str  # key into AccountProjection.policies


class Source(_Compact):
    """A user or role that some policy lets assume roles."""

    arn: str
    kind: str  # user | role
    grants: list[Grant]
    boundary: str | None = None  # key into AccountProjection.policies
    # Its tags where they are all its requests carry (evaluate.principal_tags): conditions
    # on aws:PrincipalTag are decided by them.
    tags: dict[str, str] | None = None


def member_edges(groups: dict[str, list[str]]) -> list[Edge]:
    """Identity Center's users become their groups: a user signs in with every set its
    groups are assigned.

    >>> [e.principal for e in member_edges({"Ops": ["bob"]})]
    ['identitycenter:user/bob']
    """
    return [
        Edge(
            principal=f"identitycenter:user/{user}",
            target=f"identitycenter:group/{name}",
            kind="member",
            path=[f"{user} is a member of Identity Center group {name}"],
        )
        for name, members in sorted(groups.items())
        for user in members
    ]


class AccountProjection(_Compact):
    account: str
    roles: list[TrustingRole] = []
    sources: list[Source] = []
    policies: dict[str, list[dict[str, Any]]] = {}  # the AssumeRole statements of each policy
    administrators: list[str] = []  # ARNs of the principals that can do anything here
    local: list[Edge] = []  # the ways in inside the account, for reachability
    assigned: list[Edge] = []  # Identity Center's ways in
    # Members of groups assigned here, carried by the first account of its process that
    # met each group (aws/identity_center.py's Memberships): the graph unions them.
    members: list[Edge] = []


def arn_of(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def aws_policies_attached(state: AccountState) -> set[str]:
    """AWS managed policy ARNs attached to principals: their bodies decide what they may do."""
    arns: set[str] = set()
    for entity in [*state.users.values(), *state.groups.values(), *state.roles.values()]:
        for arn in [*entity.managed_policies, getattr(entity, "permissions_boundary", None)]:
            if arn and arn.split(":")[4] == "aws":
                arns.add(arn)
    return arns


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


def _assume_statements(doc: Canonical) -> list[Canonical]:
    return [s for s in doc["Statement"] if statement_applies(s, ASSUME)]


# AWS managed policies are the same in every account: their AssumeRole statements are
# picked out once per body (ReadOnlyAccess alone lists thousands of actions).
_AWS_ASSUME: dict[str, tuple[Canonical, list[Canonical]]] = {}


def _policy_statements(arn: str, state: AccountState, aws: dict[str, Canonical]) -> list[Canonical]:
    doc = managed_policy(arn, state, aws)
    if arn.split(":")[4] != "aws":
        return _assume_statements(doc)
    cached = _AWS_ASSUME.get(arn)
    if cached is None or cached[0] is not doc:
        cached = _AWS_ASSUME[arn] = (doc, _assume_statements(doc))
    return cached[1]


def _outside(principal: str, account: str) -> bool:
    """Could a trusted principal be outside `account`? Anything but an ARN of it."""
    return principal.split(":")[4:5] != [account]


def _trust_statements(doc: Canonical, account: str) -> list[Canonical]:
    """Trust statements that can open a role to another account, or shut one out.

    The graph is of cross-account access: a statement naming only the role's own account
    (its root, users or roles) or AWS services opens no edge and is left out."""
    opening = [
        s
        for s in _assume_statements(doc)
        if s["Effect"] == "Allow"
        and (
            "NotPrincipal" in s
            or "Federated" in s.get("Principal", {})
            or any(_outside(p, account) for p in s.get("Principal", {}).get("AWS", []))
        )
    ]
    if not opening:
        return []
    return opening + [s for s in _assume_statements(doc) if s["Effect"] == "Deny"]


def _reaches_out(statements: list[Canonical], account: str) -> bool:
    """Might an Allow among these statements cover a role in another account?"""
    for s in statements:
        if s["Effect"] != "Allow":
            continue
        if "NotResource" in s or any(_outside(r, account) for r in s.get("Resource", ["*"])):
            return True
    return False


def project(
    account: str, state: AccountState, aws_policies: dict[str, Canonical]
) -> AccountProjection:
    """The account's part of the access graph (raises KeyError for an uncollected policy)."""
    policies: dict[str, list[Canonical]] = {}

    def grants(label: str, entity, key: str) -> list[Grant]:
        out = []
        for name, doc in entity.inline_policies.items():
            ref = f"{key}/inline/{name}"
            policies[ref] = _assume_statements(normalize(doc))
            out.append(Grant.model_construct(label=f"{label} inline policy {name}", policy=ref))
        for arn in entity.managed_policies:
            if arn not in policies:
                policies[arn] = _policy_statements(arn, state, aws_policies)
            out.append(Grant.model_construct(label=f"{label} managed policy {arn}", policy=arn))
        return out

    group_grants = {
        name: grants(f"group {name}", group, f"group/{name}")
        for name, group in state.groups.items()
    }
    sources = []
    candidates = [("user", n, e) for n, e in state.users.items()]
    candidates += [
        ("role", n, e) for n, e in state.roles.items() if not e.path.startswith(SERVICE_ROLE_PATH)
    ]
    for kind, name, entity in candidates:
        mine = grants(f"{kind} {name}", entity, f"{kind}/{name}")
        for group in getattr(entity, "groups", []):
            mine += group_grants.get(group, [])
        boundary = entity.permissions_boundary
        if boundary and boundary not in policies:
            policies[boundary] = _policy_statements(boundary, state, aws_policies)
        if not _may_allow(mine, boundary, policies, account):
            continue
        sources.append(
            Source.model_construct(
                arn=arn_of(account, kind, entity.path, name),
                kind=kind,
                grants=mine,
                boundary=boundary,
                tags=principal_tags(kind, entity),
            )
        )
    roles = []
    for name, role in sorted(state.roles.items()):
        trust = _trust_statements(normalize(role.trust_policy), account)
        if trust and not role.path.startswith(SERVICE_ROLE_PATH):
            arn = arn_of(account, "role", role.path, name)
            roles.append(TrustingRole.model_construct(arn=arn, name=name, trust=trust))
    used = {g.policy for s in sources for g in s.grants} | {s.boundary for s in sources}
    return AccountProjection.model_construct(
        account=account,
        roles=roles,
        sources=sources,
        policies={k: v for k, v in policies.items() if k in used},
    )


def _may_allow(grants: list[Grant], boundary: str | None, policies: dict, account: str) -> bool:
    """Could this principal be allowed sts:AssumeRole on a role in another account?"""
    allows = any(_reaches_out(policies[g.policy], account) for g in grants)
    if boundary is not None:
        allows = allows and _reaches_out(policies[boundary], account)
    return allows
