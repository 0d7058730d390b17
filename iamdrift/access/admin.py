"""Administrator is a judgement, not a name (pure): which principals of an account can give
themselves any permission there.

A user or role is administrator of its account when, without a condition, its identity
policies (its own and its groups') allow one of the ways to grant itself anything, no
unconditional Deny takes that way away, its account's SCPs allow it (the management
account is not bound by SCPs), and its permissions boundary, if it has one, allows every
action on every resource (a boundary that does not is a ceiling no new policy could lift).
The ways, as Principal Mapper judges them:

- put or attach a policy on itself (`AdministratorAccess` and any `"Action": "*",
  "Resource": "*"` grant are the common case);
- create a new default version of a customer managed policy attached to it or its groups;
- a user: put or attach a policy on one of its groups;
- create a role and put or attach a policy on it (the new role's trust names the creator,
  who then needs no identity permission to assume it within the account).

>>> from iamdrift.access.principals import principals
>>> from iamdrift.baselines.models import AccountState
>>> [administrator_reason(w, []) for w in principals("222222222222", AccountState(), {}, None)]
[]
"""

from __future__ import annotations

from dataclasses import replace

from iamdrift.access.evaluate import Canonical, evaluate, scp_allows
from iamdrift.access.principals import Who, mentions

# A role that does not exist yet: what "create a role, then grant it" is evaluated on.
NEW_ROLE = "iamdrift-new-role-\x00"


def _unconditional(policies: list[tuple[str, list[Canonical]]]) -> list[tuple[str, list]]:
    """Allows without conditions (a conditional grant is not always there), and Denies of
    every kind (a conditional Deny may apply)."""
    return [
        (label, [s for s in statements if s["Effect"] == "Deny" or not s.get("Condition")])
        for label, statements in policies
    ]


def _allows_everything(doc: list[Canonical]) -> bool:
    """Does an unconditional Allow grant every action on every resource?"""
    return any(
        s["Effect"] == "Allow"
        and not s.get("Condition")
        and "*" in s.get("Action", [])
        and "*" in s.get("Resource", [])
        for s in doc
    )


def self_grants(who: Who) -> list[tuple[str, str, str]]:
    """The (action, resource, what it achieves) that would let `who` grant itself anything."""
    if who.kind == "user":
        own = [("iam:PutUserPolicy", who.arn), ("iam:AttachUserPolicy", who.arn)]
    else:
        own = [("iam:PutRolePolicy", who.arn), ("iam:AttachRolePolicy", who.arn)]
    out = [(action, arn, "a policy on itself") for action, arn in own]
    out += [("iam:CreatePolicyVersion", arn, f"a new version of {arn}") for arn in who.attached]
    for group in who.group_arns:
        out += [
            ("iam:PutGroupPolicy", group, f"a policy on its group {group}"),
            ("iam:AttachGroupPolicy", group, f"a policy on its group {group}"),
        ]
    return out


def _lifts_boundary(who: Who, scps: list) -> str | None:
    """How `who` may remove or replace its own permissions boundary, or None: a boundary
    limits only while the principal may not change it (IAM User Guide, "Permissions
    boundaries for IAM entities", delegation example: the administrator denies
    iam:DeleteUserPermissionsBoundary and allows iam:PutUserPermissionsBoundary only for
    the boundary they chose). The identity policies, the boundary itself and the SCPs must
    allow it, unconditionally."""
    kind = "Role" if who.kind == "role" else "User"
    policies = _unconditional(who.policies)
    ceiling = _unconditional([("boundary", who.boundary or [])])
    for action in (f"iam:Delete{kind}PermissionsBoundary", f"iam:Put{kind}PermissionsBoundary"):
        if not mentions(who, action):
            continue
        decision = evaluate(policies, action, who.arn)
        if (
            decision.allowed
            and evaluate(ceiling, action, who.arn).allowed
            and scp_allows(scps, action, who.arn)
        ):
            return f"{decision.why[0]} allows {action} on itself, which its boundary allows"
    return None


def administrator_reason(who: Who, scps: list) -> str | None:
    """Why `who` may give itself any permission, or None (see the module's docstring)."""
    if who.boundary is not None and not _allows_everything(who.boundary):
        lifted = _lifts_boundary(who, scps)
        if lifted is None:
            return None
        unbound = administrator_reason(replace(who, boundary=None, memo={}), scps)
        return f"{lifted}; without it, {unbound}" if unbound else None
    policies = _unconditional(who.policies)

    def allowed(action: str, resource: str) -> list[str] | None:
        if not mentions(who, action):
            return None  # no Allow of it anywhere: nothing to evaluate
        decision = evaluate(policies, action, resource)
        ok = decision.allowed and scp_allows(scps, action, resource)
        return decision.why if ok else None

    for action, resource, what in self_grants(who):
        why = allowed(action, resource)
        if why:
            return f"{why[0]} allows {action} on {resource}: it can put {what}"
    new_role = f"arn:aws:iam::{who.account}:role/{NEW_ROLE}"
    created = allowed("iam:CreateRole", new_role)
    if created:
        for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy"):
            why = allowed(action, new_role)
            if why and scp_allows(scps, "sts:AssumeRole", new_role):
                return (
                    f"{created[0]} allows iam:CreateRole and {why[0]} allows {action} on any "
                    "role: it can create a role that trusts it and grant that role anything"
                )
    return None
