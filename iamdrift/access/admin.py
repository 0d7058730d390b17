"""Administrator is a judgement, not a name (pure): which principals of an account can do
anything there.

A user or role is administrator of its account when it may give itself any permission:
its identity policies (its own and its groups') allow, without a condition, putting or
attaching a policy on itself, no unconditional Deny takes that away, its account's
SCPs allow it (the management account is not bound by SCPs), and its permissions
boundary, if it has one, allows every action on every resource (a boundary that does
not is a ceiling the new policy could not lift). `AdministratorAccess` and any
`"Action": "*", "Resource": "*"` grant are the common case of it.

>>> from iamdrift.baselines.models import AccountState
>>> administrators("222222222222", AccountState(), {}, OrgContext())
[]
"""

from __future__ import annotations

from iamdrift.access.evaluate import (
    SERVICE_ROLE_PATH,
    Canonical,
    OrgContext,
    evaluate,
    scp_allows,
)
from iamdrift.access.projection import arn_of, managed_policy
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize

# The ways to give oneself any permission, by kind of principal (IAM actions on its own ARN).
SELF_GRANT = {
    "user": ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
    "role": ("iam:PutRolePolicy", "iam:AttachRolePolicy"),
}


def _unconditional(statements: list[Canonical]) -> list[Canonical]:
    """Allows without conditions (a conditional grant is not always there), and Denies of
    every kind (a conditional Deny may apply)."""
    return [s for s in statements if s["Effect"] == "Deny" or not s.get("Condition")]


def _documents(entity, state: AccountState, aws: dict[str, Canonical]) -> list[Canonical]:
    docs = [normalize(d) for d in entity.inline_policies.values()]
    docs += [managed_policy(arn, state, aws) for arn in entity.managed_policies]
    for group in getattr(entity, "groups", []):
        g = state.groups.get(group)
        if g is not None:
            docs += [normalize(d) for d in g.inline_policies.values()]
            docs += [managed_policy(arn, state, aws) for arn in g.managed_policies]
    return docs


def _allows_everything(doc: Canonical) -> bool:
    """Does an unconditional Allow of the document grant every action on every resource?"""
    return any(
        s["Effect"] == "Allow"
        and not s.get("Condition")
        and "*" in s.get("Action", [])
        and "*" in s.get("Resource", [])
        for s in doc["Statement"]
    )


def is_administrator(
    kind: str, arn: str, docs: list[Canonical], boundary: Canonical | None, scps: list
) -> bool:
    """May this principal give itself any permission? (see the module's docstring)"""
    if boundary is not None and not _allows_everything(boundary):
        return False
    policies = [("policy", _unconditional(d["Statement"])) for d in docs]
    return any(
        evaluate(policies, action, arn).allowed and scp_allows(scps, action, arn)
        for action in SELF_GRANT[kind]
    )


def administrators(
    account: str, state: AccountState, aws: dict[str, Canonical], org: OrgContext
) -> list[str]:
    """The ARNs of the account's administrators (raises KeyError for an uncollected policy)."""
    scps = [] if account == org.management else org.scp_levels.get(account, [])
    out = []
    candidates = [("user", n, e) for n, e in state.users.items()]
    candidates += [
        ("role", n, e) for n, e in state.roles.items() if not e.path.startswith(SERVICE_ROLE_PATH)
    ]
    for kind, name, entity in candidates:
        arn = arn_of(account, kind, entity.path, name)
        boundary = (
            managed_policy(entity.permissions_boundary, state, aws)
            if entity.permissions_boundary
            else None
        )
        if is_administrator(kind, arn, _documents(entity, state, aws), boundary, scps):
            out.append(arn)
    return sorted(out)
