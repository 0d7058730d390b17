"""IAM evaluation for `sts:AssumeRole`, over canonical statements (pure).

>>> stmt = {"Effect": "Allow", "Action": ["sts:*"], "Resource": ["arn:aws:iam::*:role/ops-*"]}
>>> statement_applies(stmt, ASSUME, "arn:aws:iam::222222222222:role/ops-read")
True
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from iamdrift.baselines.structure import Structure
from iamdrift.compare.policy import normalize

ASSUME = "sts:assumerole"
TAG_SESSION = "sts:tagsession"
SERVICE_ROLE_PATH = "/aws-service-role/"
Canonical = dict[str, Any]


@dataclass
class OrgContext:
    """What the organization adds: who is a member, and the SCPs above each account.

    `scp_levels[account]` lists, from the root down to the account, the SCP documents
    attached at each level; an action must be allowed at every level.
    """

    management: str | None = None
    members: set[str] = field(default_factory=set)
    scp_levels: dict[str, list[list[Canonical]]] = field(default_factory=dict)
    org_id: str | None = None  # known only with the live structure: members are then known

    @classmethod
    def of(
        cls,
        management: str | None,
        structure: Structure | None,
        declared: set[str],
        org_id: str | None = None,
    ) -> OrgContext:
        """From the live structure when the hub may read it; else the declared accounts,
        with SCPs unknown and so assumed to allow."""
        if structure is None:
            return cls(management, set(declared), {})
        return cls(management, set(structure.accounts), scp_levels(structure), org_id)


def scp_levels(structure: Structure) -> dict[str, list[list[Canonical]]]:
    """For each account, the SCPs attached at each level from the root down to it."""
    attached: dict[str, list[Canonical]] = {}
    for scp in structure.service_control_policies.values():
        for target in scp.targets:
            attached.setdefault(target, []).append(normalize(scp.document))
    out = {}
    for account, member in structure.accounts.items():
        parts = member.ou.split("/")
        chain = ["/".join(parts[: i + 1]) for i in range(len(parts))] + [account]
        out[account] = [attached.get(level, []) for level in chain]
    return out


def iam_glob(pattern: str) -> str:
    """A regular expression for an IAM pattern. In IAM, `*` (any run of characters) and `?`
    (one character) are the only wildcards; brackets and every other character match
    themselves (IAM User Guide, "IAM JSON policy elements: Action" and "Resource": wildcards).

    >>> bool(re.fullmatch(iam_glob("arn:aws:iam::[12]*"), "arn:aws:iam::1x"))
    False
    >>> bool(re.fullmatch(iam_glob("arn:aws:iam::[12]*"), "arn:aws:iam::[12]x"))
    True
    """
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


class _Patterns:
    """A list of IAM patterns made ready to match many values: exact ones in a set, `prefix*`
    ones as prefixes, the rest as expressions; each kept under its service (`s3` of
    `s3:Get*`) where it names one, so a value meets only the patterns that could match it."""

    def __init__(self, patterns: tuple[str, ...], case: bool):
        self.source = patterns
        self.case = case
        self.exact: set[str] = set()
        self.prefixes: dict[str, list[str]] = {}
        self.expressions: dict[str, list[re.Pattern[str]]] = {}
        for pattern in patterns:
            p = pattern if case else pattern.lower()
            if "*" not in p and "?" not in p:
                self.exact.add(p)
                continue
            head = p.split(":", 1)[0]
            bucket = head if ":" in p and "*" not in head and "?" not in head else ""
            if p.endswith("*") and "*" not in p[:-1] and "?" not in p:
                self.prefixes.setdefault(bucket, []).append(p[:-1])
            else:
                self.expressions.setdefault(bucket, []).append(re.compile(iam_glob(p), re.DOTALL))

    def match(self, value: str) -> bool:
        v = value if self.case else value.lower()
        if v in self.exact:
            return True
        for bucket in (v.split(":", 1)[0], ""):
            if any(v.startswith(p) for p in self.prefixes.get(bucket, ())):
                return True
            if any(x.fullmatch(v) for x in self.expressions.get(bucket, ())):
                return True
        return False


@functools.lru_cache(maxsize=2**14)
def _patterns(patterns: tuple[str, ...], case: bool) -> _Patterns:
    # Made once per list: the same lists (an AWS managed policy's 1,600 actions among them)
    # recur in every account.
    return _Patterns(patterns, case)


_BY_LIST: dict[tuple[int, bool], tuple[list[str] | tuple[str, ...], _Patterns]] = {}


def iam_match(patterns: list[str] | tuple[str, ...], value: str, case: bool) -> bool:
    """Does `value` match any IAM pattern? Actions compare without case, resources with.

    >>> iam_match(["s3:Get*", "sts:AssumeRole"], "STS:assumerole", case=False)
    True
    >>> iam_match(["arn:aws:iam::*:role/[ab]"], "arn:aws:iam::1:role/a", case=True)
    False
    """
    # Canonical policies are made once and never changed: the same list object comes
    # back for every principal it applies to, so it is looked up by identity first
    # (keeping it alive, so that its id is not reused) before hashing 1,600 actions.
    key = (id(patterns), case)
    found = _BY_LIST.get(key)
    if found is None or found[0] is not patterns or len(found[1].source) != len(patterns):
        if len(_BY_LIST) > 2**14:
            _BY_LIST.clear()
        found = _BY_LIST[key] = (patterns, _patterns(tuple(patterns), case))
    return found[1].match(value)


def statement_applies(stmt: Canonical, action: str, resource: str | None = None) -> bool:
    """Does a canonical statement cover this action (and resource)? Conditions aside."""
    if "Action" in stmt and not iam_match(stmt["Action"], action, case=False):
        return False
    if "NotAction" in stmt and iam_match(stmt["NotAction"], action, case=False):
        return False
    if resource is not None:
        if "Resource" in stmt and not iam_match(stmt["Resource"], resource, case=True):
            return False
        if "NotResource" in stmt and iam_match(stmt["NotResource"], resource, case=True):
            return False
    return True


def principal_tags(kind: str, entity: Any) -> dict[str, str] | None:
    """The tags every request of a principal carries, when nothing else can be among them:
    a user's own; a role's own when no statement of its trust allows sts:TagSession, for
    "to pass session tags ... the role's trust policy must allow the sts:TagSession action"
    (IAM User Guide, "Passing session tags in AWS STS") and without session tags a
    session's principal tags are the role's. None: not known (a session may carry others).
    """
    if entity.tags is None or kind == "user":
        return entity.tags
    trust = normalize(entity.trust_policy)["Statement"]
    tagging = any(s["Effect"] == "Allow" and statement_applies(s, TAG_SESSION) for s in trust)
    return None if tagging else entity.tags


@dataclass
class Decision:
    allowed: bool
    why: list[str]
    conditions: list[Canonical]


def evaluate(policies: list[tuple[str, list[Canonical]]], action: str, resource: str) -> Decision:
    """Identity-policy evaluation over (label, statements): some Allow applies and no
    unconditional Deny does.

    A Deny with conditions may not apply, so it does not remove access (the graph
    errs towards showing access); its conditions are not recorded as the edge's.
    """
    allows, conditions = [], []
    for label, statements in policies:
        for stmt in statements:
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
    """Do the SCPs at every level allow it? Levels that only allow everything (the
    FullAWSAccess most organizations keep) are known to without evaluating."""
    return all(
        _allows_all(level)
        or evaluate([("scp", d["Statement"]) for d in level], action, resource).allowed
        for level in levels
    )


def _allows_all(level: list[Canonical]) -> bool:
    statements = [s for d in level for s in d["Statement"]]
    return all(s["Effect"] == "Allow" for s in statements) and any(
        not s.get("Condition") and s.get("Action") == ["*"] and s.get("Resource") == ["*"]
        for s in statements
    )
