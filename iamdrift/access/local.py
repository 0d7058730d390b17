"""Every way one principal becomes another inside its account (pure), in the manner of
Principal Mapper's STS and IAM edge checkers, one checker per way, each edge with the
statements that allow it:

- **assume** (role chaining): a role's trust policy admits the principal. Within one
  account a trust statement that names the principal's own ARN is enough without an
  identity policy (for a role, its permissions boundary still limits it); one that names
  the account (`:root`) delegates to the principal's identity policies (IAM User Guide,
  "Policy evaluation logic": resource-based policies within the same account). Explicit
  Denies and the account's SCPs apply either way.
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
from iamdrift.access.conditions import combine, decide, denied, ways, weakest
from iamdrift.access.evaluate import (
    ASSUME,
    SERVICE_ROLE_PATH,
    Canonical,
    OrgContext,
    scp_allows,
    statement_applies,
)
from iamdrift.access.principals import Who, principals
from iamdrift.access.projection import LocalEdge, arn_of, shared
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize

TAKE_ROLE = ("iam:UpdateAssumeRolePolicy",)
TAKE_USER = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")
_PRINCIPAL_KEYS = ("aws:principal", "aws:username", "aws:userid")


def _probes(account: str, kind: str) -> list[str]:
    """Two ARNs no real role or user can have (IAM names have no control characters), of
    different lengths: a pattern that matches both matches every role (user) of the
    account, since only `*` can stand for both."""
    return [
        f"arn:aws:iam::{account}:{kind}/\x00",
        f"arn:aws:iam::{account}:{kind}/" + "\x00/" * 40 + "\x01",
    ]


def _may(
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


def _mentions(who: Who, action: str) -> bool:
    """Does any Allow of its policies cover the action, on some resource?"""
    return any(
        s["Effect"] == "Allow" and statement_applies(s, action)
        for _, statements in who.policies
        for s in statements
    )


def _uniform(who: Who, action: str, kind: str) -> tuple[Canonical, list[str]] | None:
    """May `who` call `action` on every role (user) of its account alike? Only then is it
    one edge to the shared node: no Deny of the action may single one out."""
    docs = [*who.policies, *([("boundary", who.boundary)] if who.boundary else [])]
    if any(s["Effect"] == "Deny" and statement_applies(s, action) for _, st in docs for s in st):
        return None
    found = [_may(who, action, probe, None) for probe in _probes(who.account, kind)]
    return found[0] if all(found) else None


class _Role:
    def __init__(self, account: str, name: str, role) -> None:
        self.arn = arn_of(account, "role", role.path, name)
        self.name = name
        statements = normalize(role.trust_policy)["Statement"]
        self.trust = [(i, s) for i, s in enumerate(statements) if statement_applies(s, ASSUME)]
        self.denies = [s for _, s in self.trust if s["Effect"] == "Deny"]

    def admitting(self, value: str) -> list[tuple[int, Canonical]]:
        return [
            (i, s)
            for i, s in self.trust
            if s["Effect"] == "Allow" and value in s.get("Principal", {}).get("AWS", [])
        ]

    def named(self) -> set[str]:
        """The ARNs its trust's Allows name."""
        return {
            v
            for i, s in self.trust
            if s["Effect"] == "Allow"
            for v in s.get("Principal", {}).get("AWS", [])
        }

    def shut_out(self, who: Who, root: str) -> bool:
        """Does a Deny of the trust apply to `who` whatever the request?"""
        names = {who.arn, root, "*"}
        return any(
            names & set(d.get("Principal", {}).get("AWS", [])) and denied(d, who.facts)
            for d in self.denies
        )


def _trusted(who: Who, role: _Role, statements, root: str, scps: list, direct: bool):
    """The edge `who` -> `role` through these trust statements, or None.

    `direct`: the statements name `who` itself, so no identity permission is needed (a
    role's boundary still limits it); else they name its account, and its identity
    policies must allow the call."""
    trusts = [
        (i, c)
        for i, s in statements
        if (c := decide(s.get("Condition", {}), who.facts)) is not None
    ]
    if not trusts or role.shut_out(who, root) or not scp_allows(scps, ASSUME, role.arn):
        return None
    if ways(who.policies, ASSUME, role.arn, who.facts) is None:
        return None  # an identity Deny applies whatever the request
    if direct:
        side: tuple[Canonical, list[str]] | None = ({}, [])
        if who.kind == "role" and who.boundary is not None:
            bounded = ways([("boundary", who.boundary)], ASSUME, role.arn, who.facts)
            side = (weakest([c for _, c in bounded]), []) if bounded else None
    else:
        side = _may(who, ASSUME, role.arn, scps)
    if side is None:
        return None
    found = [(i, c) for i, t in trusts if (c := combine(t, side[0])) is not None]
    if not found:
        return None
    how = "names it" if direct else "admits its account"
    index = min(found, key=lambda f: (sum(map(len, f[1].values())), f[0]))[0]
    why = [*side[1], f"trust statement {index} of {role.name} {how}"]
    return LocalEdge(
        principal=who.arn,
        target=role.arn,
        kind="assume",
        path=why,
        conditions=weakest([c for _, c in found]),
    )


def _shareable(role: _Role, statements) -> bool:
    """Can the trust's account statements be judged once for every principal? Not when
    it has Denies or conditions on who the principal is."""
    keys = [k for _, s in statements for pairs in s.get("Condition", {}).values() for k in pairs]
    return not role.denies and not any(k.startswith(_PRINCIPAL_KEYS) for k in keys)


def local_edges(
    account: str, state: AccountState, aws: dict[str, Canonical], org: OrgContext
) -> tuple[list[str], list[LocalEdge]]:
    """The account's administrators and its edges inside it (raises KeyError for a
    managed policy whose body was not collected)."""
    scps = [] if account == org.management else org.scp_levels.get(account, [])
    org_id = org.org_id if account in org.members else None
    found = principals(account, state, aws, org_id)
    root = f"arn:aws:iam::{account}:root"
    roles = [
        _Role(account, n, r)
        for n, r in sorted(state.roles.items())
        if not r.path.startswith(SERVICE_ROLE_PATH)
    ]
    users = [w for w in found if w.kind == "user"]
    edges: list[LocalEdge] = []
    admins: list[str] = []
    others: list[Who] = []
    for who in found:
        reason = administrator_reason(who, scps)
        if reason is None:
            others.append(who)
            continue
        admins.append(who.arn)
        edges.append(
            LocalEdge(
                principal=who.arn, target=shared("admin", account), kind="admin", path=[reason]
            )
        )
    if admins:
        for kind, why in (
            ("roles", "may rewrite any role's trust"),
            ("users", "may give itself any user's credentials"),
        ):
            edges.append(
                LocalEdge(
                    principal=shared("admin", account),
                    target=shared(kind, account),
                    kind="any",
                    path=[why],
                )
            )
    edges += _assume_edges(account, roles, found, others, root, scps)
    edges += _take_over(account, roles, users, others, scps)
    used = {e.target for e in edges}
    if shared("roles", account) in used:
        edges += [
            LocalEdge(
                principal=shared("roles", account),
                target=r.arn,
                kind="any",
                path=["iam:UpdateAssumeRolePolicy, then sts:AssumeRole"],
            )
            for r in roles
            if scp_allows(scps, TAKE_ROLE[0], r.arn)
        ]
    if shared("users", account) in used:
        edges += [
            LocalEdge(
                principal=shared("users", account),
                target=u.arn,
                kind="any",
                path=["iam:CreateAccessKey or a login profile"],
            )
            for u in users
            if any(scp_allows(scps, a, u.arn) for a in TAKE_USER)
        ]
    return sorted(admins), edges


def _assume_edges(account, roles, found, others, root, scps) -> list[LocalEdge]:
    """Role chaining inside the account."""
    edges: list[LocalEdge] = []
    by_arn = {w.arn: w for w in found}
    assumers = shared("assumers", account)
    uniform = {
        w.arn: u for w in others if _mentions(w, ASSUME) and (u := _uniform(w, ASSUME, "role"))
    }
    shared_roles = False
    for role in roles:
        everyone = role.admitting("*")
        direct: set[str] = set()
        for who in found if everyone else [by_arn[a] for a in role.named() if a in by_arn]:
            named = role.admitting(who.arn) + everyone
            if named and who.arn != role.arn:
                edge = _trusted(who, role, named, root, scps, direct=True)
                if edge is not None:
                    edges.append(edge)
                    direct.add(who.arn)
        by_account = role.admitting(root)
        if not by_account:
            continue
        sharing = _shareable(role, by_account) and scp_allows(scps, ASSUME, role.arn)
        if sharing and uniform:
            shared_roles = True
            index = by_account[0][0]
            edges.append(
                LocalEdge(
                    principal=assumers,
                    target=role.arn,
                    kind="any",
                    path=[f"trust statement {index} of {role.name} admits its account"],
                    conditions=weakest([s.get("Condition", {}) for _, s in by_account]),
                )
            )
        for who in others:
            if who.arn == role.arn or who.arn in direct or (sharing and who.arn in uniform):
                continue
            if not _mentions(who, ASSUME):
                continue
            edge = _trusted(who, role, by_account, root, scps, direct=False)
            if edge is not None:
                edges.append(edge)
    if shared_roles:
        edges += [
            LocalEdge(
                principal=arn,
                target=assumers,
                kind="any",
                path=[*labels, "allows sts:AssumeRole on every role of its account"],
                conditions=conditions,
            )
            for arn, (conditions, labels) in sorted(uniform.items())
            if arn in by_arn
        ]
    return edges


def _take_over(account, roles, users, others, scps) -> list[LocalEdge]:
    """Principals that may rewrite a role's trust or make themselves a user's credentials."""
    edges: list[LocalEdge] = []
    for actions, kind, targets in (
        (TAKE_ROLE, "roles", [(r.arn, r.name) for r in roles]),
        (TAKE_USER, "users", [(u.arn, u.name) for u in users]),
    ):
        for who in others:
            mentioned = [a for a in actions if _mentions(who, a)]
            if not mentioned:
                continue
            every = next((u for a in mentioned if (u := _uniform(who, a, kind[:-1]))), None)
            if every is not None:
                edges.append(
                    LocalEdge(
                        principal=who.arn,
                        target=shared(kind, account),
                        kind="iam",
                        path=[*every[1], f"allows {', '.join(mentioned)} on any {kind[:-1]}"],
                        conditions=every[0],
                    )
                )
                continue
            for arn, name in targets:
                if arn == who.arn:
                    continue
                for action in mentioned:
                    may = _may(who, action, arn, scps)
                    if may is not None:
                        edges.append(
                            LocalEdge(
                                principal=who.arn,
                                target=arn,
                                kind="iam",
                                path=[*may[1], f"allows {action} on {name}"],
                                conditions=may[0],
                            )
                        )
                        break
    return edges
