"""Every way one principal becomes another inside its account (pure), in the manner of
Principal Mapper's STS and IAM edge checkers, one checker per way, each edge with the
statements that allow it:

- **assume** (role chaining, access/chaining.py): a role's trust policy admits the
  principal, by its ARN or its account.
- **iam** (take-over): a principal that may rewrite a role's trust policy
  (`iam:UpdateAssumeRolePolicy`) or give itself a user's credentials
  (`iam:CreateAccessKey`, `iam:CreateLoginProfile`, `iam:UpdateLoginProfile`) becomes it.
- **admin**: a principal that may give itself any permission (access/admin.py) is
  administrator of the account and so can become any of its principals.

What is shared is one node (projection.SHARED), never an edge per pair: an administrator
reaches `admin@X`, which reaches `roles@X` and `users@X`, which reach each role and user;
a principal allowed `sts:AssumeRole` on every role of its account reaches `assumers@X`,
which reaches each role trusting the account. So an account of 300 principals, all
allowed to assume any role and trusted by all, is 600 edges, not 90,000.

>>> from iamdrift.baselines.models import AccountState
>>> from iamdrift.access.evaluate import OrgContext
>>> local_edges("222222222222", AccountState(), {}, OrgContext())
([], [])
"""

from __future__ import annotations

from iamdrift.access.admin import administrator_reason
from iamdrift.access.chaining import TrustedRole, assume_edges
from iamdrift.access.edge import Edge, shared
from iamdrift.access.evaluate import (
    ASSUME,
    SERVICE_ROLE_PATH,
    Canonical,
    OrgContext,
    scp_allows,
)
from iamdrift.access.principals import Who, may, mentions, principals, uniform
from iamdrift.baselines.models import AccountState, Credentials

TAKE_ROLE = ("iam:UpdateAssumeRolePolicy",)
TAKE_USER = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")


def succeeds(action: str, creds: Credentials | None) -> bool:
    """Would the take-over call succeed on a user with these credentials (None: not read,
    assumed to)? "A user can have at most two access keys" (IAM User Guide, "IAM object
    quotas"); CreateLoginProfile fails for a user who has a password (EntityAlreadyExists)
    and UpdateLoginProfile for one who has none (NoSuchEntity; IAM API Reference).

    >>> succeeds("iam:CreateAccessKey", Credentials(False, 2)), succeeds("iam:UpdateLoginProfile", None)
    (False, True)
    """  # noqa: E501
    if creds is None:
        return True
    action = action.lower()
    if action == "iam:createaccesskey":
        return creds.access_keys < 2
    if action == "iam:createloginprofile":
        return not creds.login_profile
    if action == "iam:updateloginprofile":
        return creds.login_profile
    return True


def take_over_candidates(edges: list[Edge], account: str) -> list[str]:
    """The users whose credentials decide a take-over edge: those a principal other than an
    administrator (who may remove a key or password first) may take over, or every user
    when one may take over any (ARNs)."""
    users = {e.target for e in edges if e.kind == "iam" and ":user/" in e.target}
    if any(e.kind == "iam" and e.target == shared("users", account) for e in edges):
        users |= {e.target for e in edges if e.principal == shared("users", account)}
    return sorted(users)


def local_edges(
    account: str,
    state: AccountState,
    aws: dict[str, Canonical],
    org: OrgContext,
    credentials: dict[str, Credentials] | None = None,
) -> tuple[list[str], list[Edge]]:
    """The account's administrators and its edges inside it (raises KeyError for a
    managed policy whose body was not collected). `credentials`, by user ARN, where read:
    a take-over edge only where its call would succeed."""
    scps = [] if account == org.management else org.scp_levels.get(account, [])
    org_id = org.org_id if account in org.members else None
    found = principals(account, state, aws, org_id)
    root = f"arn:aws:iam::{account}:root"
    roles = [
        TrustedRole(account, n, r)
        for n, r in sorted(state.roles.items())
        if not r.path.startswith(SERVICE_ROLE_PATH)
    ]
    users = [w for w in found if w.kind == "user"]
    edges: list[Edge] = []
    admins: list[str] = []
    others: list[Who] = []
    for who in found:
        reason = administrator_reason(who, scps)
        if reason is None:
            others.append(who)
            continue
        admins.append(who.arn)
        edges.append(
            Edge(principal=who.arn, target=shared("admin", account), kind="admin", path=[reason])
        )
    if admins:
        for kind, why in (
            ("roles", "may rewrite any role's trust"),
            ("users", "may give itself any user's credentials"),
        ):
            edges.append(
                Edge(
                    principal=shared("admin", account),
                    target=shared(kind, account),
                    kind="any",
                    path=[why],
                )
            )
    edges += assume_edges(account, roles, found, others, root, scps)
    edges += _take_over(account, roles, users, others, scps, credentials or {})
    used = {e.target for e in edges}
    for kind, actions, members, why in (
        ("roles", TAKE_ROLE, roles, "iam:UpdateAssumeRolePolicy, then sts:AssumeRole"),
        ("users", TAKE_USER, users, "iam:CreateAccessKey or a login profile"),
    ):
        if shared(kind, account) in used:  # each member the SCPs let one take over
            edges += [
                Edge(principal=shared(kind, account), target=m.arn, kind="any", path=[why])
                for m in members
                if any(scp_allows(scps, a, m.arn) for a in actions) and _usable(kind, m.arn, scps)
            ]
    return sorted(admins), edges


def _usable(kind: str, arn: str, scps: list) -> bool:
    """Taking a role over is rewriting its trust, then assuming it: worth nothing where the
    SCPs deny the taker sts:AssumeRole on it (an SCP limits every principal of the account:
    IAM User Guide, "Policy evaluation logic")."""
    return kind != "roles" or scp_allows(scps, ASSUME, arn)


def _take_over(account, roles, users, others, scps, credentials) -> list[Edge]:
    """Principals that may rewrite a role's trust or make themselves a user's credentials
    (where the call would succeed on that user's credentials, when they were read)."""
    edges: list[Edge] = []
    for actions, kind, targets in (
        (TAKE_ROLE, "roles", [(r.arn, r.name) for r in roles]),
        (TAKE_USER, "users", [(u.arn, u.name) for u in users]),
    ):
        for who in others:
            mentioned = [a for a in actions if mentions(who, a)]
            if not mentioned:
                continue
            every = next(((a, u) for a in mentioned if (u := uniform(who, a, kind[:-1]))), None)
            if every is not None and kind == "users" and credentials:
                every = None  # which users it can take depends on their credentials: each
            if every is not None:
                action, (conditions, labels) = every
                edges.append(
                    Edge(
                        principal=who.arn,
                        target=shared(kind, account),
                        kind="iam",
                        path=[*labels, f"allows {action} on any {kind[:-1]}"],
                        conditions=conditions,
                    )
                )
                continue
            for arn, name in targets:
                if arn == who.arn:
                    continue
                for action in mentioned:
                    if not succeeds(action, credentials.get(arn)):
                        continue
                    allowed = may(who, action, arn, scps)
                    if allowed is not None and _usable(kind, arn, scps):
                        edges.append(
                            Edge(
                                principal=who.arn,
                                target=arn,
                                kind="iam",
                                path=[*allowed[1], f"allows {action} on {name}"],
                                conditions=allowed[0],
                            )
                        )
                        break
    return edges
