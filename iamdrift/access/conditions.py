"""Conditions on an edge: what the collected state already decides, and what travels (pure).

A statement's Condition block is an AND over operators and keys, each key an OR over
its values (a negated operator: none of them), as the IAM User Guide's "Condition
element" and "Creating a condition with multiple keys or values" pages define it. Keys
about the principal that asks (`aws:PrincipalArn`, `aws:PrincipalAccount`,
`aws:PrincipalType`, `aws:username`, `aws:PrincipalOrgID` for a member of the
organization read, and `aws:PrincipalTag/K` where the principal's tags are known and
its session cannot carry others) are decided here: a false one
means the statement does not apply; a true one is dropped. Every other key depends on
the request (MFA, source IP, time, ExternalId, session tags) and stays on the edge.

An edge is made by any of several ways in (a trust statement with an identity
statement); it needs what every way needs, so its conditions are what all the ways
share (`weakest`): a second, unconditional statement next to one requiring
`sts:ExternalId` means the ExternalId is not required.

>>> facts = Facts("arn:aws:iam::111111111111:user/ops/alice", "user")
>>> decide({"ArnLike": {"aws:principalarn": ["arn:aws:iam::*:user/ops/*"]},
...         "Bool": {"aws:multifactorauthpresent": ["true"]}}, facts)
{'Bool': {'aws:multifactorauthpresent': ['true']}}
>>> decide({"StringEquals": {"aws:principalaccount": ["222222222222"]}}, facts) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iamdrift.access.evaluate import iam_match, statement_applies

Canonical = dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """What is known of the principal that asks."""

    arn: str
    kind: str  # user | role
    tags: dict[str, str] | None = field(default=None, hash=False)  # None: not known
    org_id: str | None = None  # the organization the principal's account belongs to, if known

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def value(self, key: str) -> tuple[bool, str | None]:
        """(decidable, value): the value of a request key for this principal, None when
        the key is absent from the request."""
        if key == "aws:principalarn":
            return True, self.arn
        if key == "aws:principalaccount":
            return True, self.account
        if key == "aws:principalorgid":
            return (True, self.org_id) if self.org_id else (False, None)
        if key == "aws:principaltype":
            return True, "User" if self.kind == "user" else "AssumedRole"
        if key == "aws:username":
            return True, self.arn.rsplit("/", 1)[-1] if self.kind == "user" else None
        if key.startswith("aws:principaltag/"):
            # Known only where they are all its requests carry (evaluate.principal_tags): a
            # role whose trust allows sts:TagSession may be given others by whoever assumes it.
            if self.tags is None:
                return False, None
            tag = key.split("/", 1)[1]
            found = {k.lower(): v for k, v in self.tags.items()}.get(tag)
            return True, found
        return False, None


# The positive string and ARN operators: (case-sensitive, wildcards).
_STRING = {
    "stringequals": (True, False),
    "stringequalsignorecase": (False, False),
    "stringlike": (True, True),
    "arnequals": (True, True),
    "arnlike": (True, True),
}


def _test(operator: str, values: list[str], value: str | None) -> bool | None:
    """The operator applied to one request value; None where it is not decided here."""
    op = operator.lower()
    if op.startswith(("forallvalues:", "foranyvalue:")):
        op = op.split(":", 1)[1]  # on a single-valued key, as the plain operator
    if_exists = op.endswith("ifexists")
    op = op.removesuffix("ifexists")
    if op == "null":
        return (value is None) == (values[0].lower() == "true") if len(values) == 1 else None
    negated = "not" in op
    base = op.replace("not", "")
    if base not in _STRING:
        return None
    if any("${" in v for v in values):
        return None  # a policy variable: decided by the request, not here
    if value is None:
        # An absent key: "...IfExists" holds; otherwise a test that the key matches is
        # false and one that it does not (StringNotLike, ArnNotLike) is true (IAM User
        # Guide, "Condition operators").
        return True if if_exists else negated
    case, wild = _STRING[base]
    if base.startswith("arn"):
        # Each of the six colon-separated parts is matched on its own: a wildcard does
        # not cross a colon (IAM User Guide, "Amazon Resource Name (ARN) condition operators").
        hit = any(_arn_like(v, value) for v in values)
    elif wild:
        hit = iam_match(values, value, case=case)
    elif case:
        hit = value in values
    else:
        hit = value.lower() in {v.lower() for v in values}
    return not hit if negated else hit


def _arn_like(pattern: str, arn: str) -> bool:
    parts, have = pattern.split(":", 5), arn.split(":", 5)
    return len(parts) == len(have) == 6 and all(
        iam_match([p], h, case=True) for p, h in zip(parts, have, strict=True)
    )


def decide(conditions: Canonical, facts: Facts) -> Canonical | None:
    """The conditions left once what `facts` decide is decided; None when one is false
    (the statement does not apply to this principal)."""
    left: Canonical = {}
    for operator, pairs in conditions.items():
        for key, values in pairs.items():
            decidable, value = facts.value(key)
            outcome = _test(operator, values, value) if decidable else None
            if outcome is False:
                return None
            if outcome is None:
                left.setdefault(operator, {})[key] = list(values)
    return left


def _negated(operator: str) -> bool:
    return "not" in operator.lower().split(":")[-1]


def combine(*blocks: Canonical) -> Canonical | None:
    """Conditions all of which a way in needs (a trust statement's and an identity
    statement's) as one block: where both name a key, its values are those both accept
    (for a negated operator, those neither excludes). None when no request meets them.

    >>> combine({"StringEquals": {"sts:externalid": ["a"]}},
    ...         {"StringEquals": {"sts:externalid": ["b"]}}) is None
    True
    """
    out: Canonical = {}
    for block in blocks:
        for operator, pairs in block.items():
            for key, values in pairs.items():
                have = out.setdefault(operator, {}).get(key)
                if have is None:
                    out[operator][key] = sorted(set(values))
                elif _negated(operator):
                    out[operator][key] = sorted(set(values) | set(have))
                else:
                    both = set(values) & set(have)
                    if not both:
                        return None
                    out[operator][key] = sorted(both)
    return out


def weakest(ways: list[Canonical]) -> Canonical:
    """What every way in requires: the operator and key pairs all of them have, each with
    the values any of them accepts.

    >>> weakest([{"StringEquals": {"sts:externalid": ["x"]}}, {}])
    {}
    """
    if not ways:
        return {}
    out: Canonical = {}
    first, rest = ways[0], ways[1:]
    for operator, pairs in first.items():
        for key, values in pairs.items():
            if all(key in w.get(operator, {}) for w in rest):
                others = [set(w[operator][key]) for w in rest]
                # Any of the ways will do: a value one of them accepts is accepted (for a
                # negated operator, only a value all of them exclude stays excluded).
                accepted = (
                    set(values).intersection(*others)
                    if _negated(operator)
                    else set(values).union(*others)
                )
                if accepted or not _negated(operator):
                    out.setdefault(operator, {})[key] = sorted(accepted)
    return out


def denied(stmt: Canonical, facts: Facts) -> bool:
    """Does a Deny apply whatever the request? Unconditional, or on conditions the
    principal decides true. A Deny on the request's conditions may not apply: the graph
    errs towards showing access."""
    return decide(stmt.get("Condition", {}), facts) == {}


def ways(
    policies: list[tuple[str, list[Canonical]]], action: str, resource: str, facts: Facts
) -> list[tuple[str, Canonical]] | None:
    """The statements (by their policy's label) that allow `action` on `resource`, each
    with the conditions the request must meet; None when a Deny applies whatever the
    request.

    >>> ways([("p", [{"Effect": "Allow", "Action": ["iam:*"], "Resource": ["*"]}])],
    ...      "iam:createaccesskey", "arn:aws:iam::1:user/u", Facts("arn:aws:iam::1:user/a", "user"))
    [('p', {})]
    """
    found = []
    for label, statements in policies:
        for stmt in statements:
            if not statement_applies(stmt, action, resource):
                continue
            if stmt["Effect"] == "Deny":
                if denied(stmt, facts):
                    return None
                continue
            left = decide(stmt.get("Condition", {}), facts)
            if left is not None:
                found.append((label, left))
    return found
