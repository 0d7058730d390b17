"""Role chaining inside an account (pure): which principals may assume which of its roles.

Within one account a trust statement that names the principal's own ARN is enough without
an identity policy (for a role, its permissions boundary still limits it); one that names
the account (`:root`) delegates to the principal's identity policies (IAM User Guide,
"Policy evaluation logic": resource-based policies within the same account). Explicit
Denies and the account's SCPs apply either way. A principal allowed `sts:AssumeRole` on
every role of its account reaches the shared node `assumers@X`, which reaches each role
trusting the account: one edge each, not one per pair.
"""

from __future__ import annotations

from iamdrift.access.conditions import combine, decide, denied, ways, weakest
from iamdrift.access.edge import Edge, shared
from iamdrift.access.evaluate import ASSUME, Canonical, iam_match, scp_allows, statement_applies
from iamdrift.access.principals import Who, may, mentions, uniform
from iamdrift.access.projection import arn_of
from iamdrift.compare.policy import normalize

_PRINCIPAL_KEYS = ("aws:principal", "aws:username", "aws:userid")


class TrustedRole:
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


def _trusted(who: Who, role: TrustedRole, statements, root: str, scps: list, direct: bool):
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
        side = may(who, ASSUME, role.arn, scps)
    if side is None:
        return None
    found = [(i, c) for i, t in trusts if (c := combine(t, side[0])) is not None]
    if not found:
        return None
    how = "names it" if direct else "admits its account"
    index = min(found, key=lambda f: (sum(map(len, f[1].values())), f[0]))[0]
    why = [*side[1], f"trust statement {index} of {role.name} {how}"]
    return Edge(
        principal=who.arn,
        target=role.arn,
        kind="assume",
        path=why,
        conditions=weakest([c for _, c in found]),
    )


def _shareable(role: TrustedRole, statements) -> bool:
    """Can the trust's account statements be judged once for every principal? Not when
    it has Denies or conditions on who the principal is."""
    keys = [k for _, s in statements for pairs in s.get("Condition", {}).values() for k in pairs]
    return not role.denies and not any(k.startswith(_PRINCIPAL_KEYS) for k in keys)


def _resources(who: Who) -> tuple[str, ...] | None:
    """The resources its Allows of sts:AssumeRole name, to skip roles none of them can
    match (None: a NotResource, which names what it does not allow)."""
    key = ("resources", *(id(st) for _, st in who.policies))
    if key not in who.memo:  # a group's users share their lists
        out: list[str] | None = []
        for _, statements in who.policies:
            for s in statements:
                if s["Effect"] == "Allow" and statement_applies(s, ASSUME):
                    if "NotResource" in s:
                        out = None
                        break
                    out += s.get("Resource", ["*"])
            if out is None:
                break
        who.memo[key] = tuple(out) if out is not None else None
    return who.memo[key]


def assume_edges(account, roles, found, others, root, scps) -> list[Edge]:
    """Role chaining inside the account."""
    edges: list[Edge] = []
    by_arn = {w.arn: w for w in found}
    assumers = shared("assumers", account)
    askers = {w.arn: _resources(w) for w in others if mentions(w, ASSUME)}
    trusting = {r.arn for r in roles if r.admitting(root)}
    fits: dict[tuple[str, ...], set[str]] = {}  # principals of a group share patterns

    def fitting(patterns: tuple[str, ...]) -> set[str]:
        """The roles trusting the account that these resource patterns can match."""
        if patterns not in fits:
            if any("*" in p or "?" in p for p in patterns):
                fits[patterns] = {a for a in trusting if iam_match(patterns, a, case=True)}
            else:
                fits[patterns] = trusting.intersection(patterns)
        return fits[patterns]

    alike = {w.arn: u for w in others if w.arn in askers and (u := uniform(w, ASSUME, "role"))}
    candidates: dict[str, list[Who]] = {}
    anywhere: list[Who] = []  # a NotResource: every role may be one it allows
    for who in others:
        if who.arn not in askers:
            continue
        patterns = askers[who.arn]
        if patterns is None:
            anywhere.append(who)
            continue
        for arn in fitting(patterns):
            candidates.setdefault(arn, []).append(who)
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
        if sharing and alike:
            shared_roles = True
            index = by_account[0][0]
            edges.append(
                Edge(
                    principal=assumers,
                    target=role.arn,
                    kind="any",
                    path=[f"trust statement {index} of {role.name} admits its account"],
                    conditions=weakest([s.get("Condition", {}) for _, s in by_account]),
                )
            )
        # Only the principals an Allow of whose could name this role: not every pair.
        for who in [*candidates.get(role.arn, ()), *anywhere]:
            if who.arn == role.arn or who.arn in direct or (sharing and who.arn in alike):
                continue
            edge = _trusted(who, role, by_account, root, scps, direct=False)
            if edge is not None:
                edges.append(edge)
    if shared_roles:
        edges += [
            Edge(
                principal=arn,
                target=assumers,
                kind="any",
                path=[*labels, "allows sts:AssumeRole on every role of its account"],
                conditions=conditions,
            )
            for arn, (conditions, labels) in sorted(alike.items())
            if arn in by_arn
        ]
    return edges
