"""Policies compared as the requests they allow and deny (pure).

A statement allows (or denies) every combination of its principals, actions and
resources under its conditions. Cut into those combinations, "atoms", a policy is
the union of its atoms per effect, however its statements group them: one statement
with two actions and two statements with one action each have the same atoms. An
atom that another atom of the same effect covers (`s3:*` covers `s3:GetObject`, `*`
covers an ARN, fewer conditions cover more) adds nothing. Two policies are equal
when every atom of each is covered by an atom of the other.

>>> a = {"Version": "2012-10-17", "Statement": [
...     {"Effect": "Allow", "Action": ["s3:getobject", "s3:putobject"], "Resource": ["*"]}]}
>>> b = {"Version": "2012-10-17", "Statement": [
...     {"Effect": "Allow", "Action": ["s3:putobject"], "Resource": ["*"]},
...     {"Effect": "Allow", "Action": ["s3:getobject"], "Resource": ["arn:aws:s3:::b/*"]},
...     {"Effect": "Allow", "Action": ["s3:getobject"], "Resource": ["*"]}]}
>>> equivalent(a, b)
True

Conservative where exactness would cost too much: NotAction, NotResource and
NotPrincipal are kept whole (splitting them changes their meaning); a condition
operator that negates (StringNotEquals) or quantifies over sets (ForAllValues:)
keeps its values whole; a policy that cuts into more than MAX_ATOMS atoms is
compared by its canonical form alone. Each of these can only report a difference
that is not there, never miss one.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

Canonical = dict[str, Any]
MAX_ATOMS = 20_000

# Element of an atom: ("", value) for one value, ("not", values) for a Not- element,
# None where the statement has no such element (identity policies name no principal).
Element = tuple[str, Any] | None
# (effect, principal, action, resource, conditions)
Atom = tuple[str, Element, Element, Element, tuple]


def _negated(operator: str) -> bool:
    base = operator.split(":")[-1].removesuffix("IfExists")
    return "Not" in base


def _splittable(operator: str) -> bool:
    """Values of these operators are alternatives: k in {a, b} is k = a or k = b."""
    return ":" not in operator and not _negated(operator) and operator != "Null"


def _conditions(block: dict[str, dict[str, list[str]]]) -> list[tuple]:
    """Every way to satisfy a condition block with one value per alternative key."""
    fixed, choices = [], []
    for op, pairs in sorted(block.items()):
        for key, values in sorted(pairs.items()):
            if _splittable(op):
                choices.append([(op, key, (v,)) for v in values])
            else:
                fixed.append((op, key, tuple(values)))
    return [tuple(sorted([*fixed, *combo])) for combo in itertools.product(*choices)]


def _elements(stmt: Canonical, name: str) -> list[Element]:
    if name in stmt:
        values = stmt[name]
        if isinstance(values, dict):  # a principal map: one element per kind and value
            return [("", (kind, v)) for kind, vs in sorted(values.items()) for v in vs]
        return [("", v) for v in values]
    not_name = f"Not{name}"
    if not_name in stmt:
        values = stmt[not_name]
        if isinstance(values, dict):
            values = [(kind, v) for kind, vs in sorted(values.items()) for v in vs]
        return [("not", tuple(sorted(values)))]
    return [None]


def atoms(policy: Canonical | None) -> set[Atom] | None:
    """The policy cut into atoms; None when it would make more than MAX_ATOMS."""
    out: set[Atom] = set()
    for stmt in (policy or {}).get("Statement", []):
        parts = [
            _elements(stmt, "Principal"),
            _elements(stmt, "Action"),
            _elements(stmt, "Resource"),
            _conditions(stmt.get("Condition", {})),
        ]
        size = 1
        for p in parts:
            size *= len(p)
        if len(out) + size > MAX_ATOMS:
            return None
        out.update((stmt["Effect"], *combo) for combo in itertools.product(*parts))
    return out


@functools.lru_cache(maxsize=2**16)
def glob_covers(broad: str, narrow: str) -> bool:
    """Does IAM glob `broad` (`*` any string, `?` one character) match every string that
    glob `narrow` matches?

    >>> glob_covers("s3:*", "s3:get*"), glob_covers("s3:get*", "s3:*"), glob_covers("a?c", "abc")
    (True, False, True)
    """
    if not broad:
        return not narrow
    if broad[0] == "*":
        return glob_covers(broad[1:], narrow) or (bool(narrow) and glob_covers(broad, narrow[1:]))
    if not narrow or narrow[0] == "*":
        return False
    if broad[0] == "?" or broad[0] == narrow[0]:
        return glob_covers(broad[1:], narrow[1:])
    return False


def _principal_covers(broad: tuple, narrow: tuple, root_covers_account: bool) -> bool:
    (b_kind, b), (n_kind, n) = broad, narrow
    if b_kind == "AWS" and b == "*":
        return True
    if (b_kind, b) == (n_kind, n):
        return True
    # An account's root stands for every principal of that account (its IAM policies
    # decide); only for judging whether a change widens, since naming a principal
    # explicitly also grants it within its own account without an identity policy.
    return (
        root_covers_account
        and b_kind == n_kind == "AWS"
        and b.endswith(":root")
        and n.split(":")[4:5] == b.split(":")[4:5]
    )


def _element_covers(broad: Element, narrow: Element, kind: str, root: bool) -> bool:
    if broad is None or narrow is None:
        return broad is narrow
    (b_not, b), (n_not, n) = broad, narrow
    if kind == "principal":
        if b_not or n_not:
            return broad == narrow or (not b_not and b == ("AWS", "*"))
        return _principal_covers(b, n, root)
    if not b_not and not n_not:
        return glob_covers(b, n)
    if not b_not:  # a pattern covers "all but some" only when it matches everything
        return b == "*"
    if not n_not:  # all but b covers n when no excluded pattern can match n
        return not any(glob_covers(x, n) or glob_covers(n, x) for x in b)
    return set(b) <= set(n)  # excluding less covers excluding more


def _conditions_cover(broad: tuple, narrow: tuple) -> bool:
    """Every condition of the broad atom also holds, at least as tightly, in the narrow."""
    tight = {(op, key): values for op, key, values in narrow}
    for op, key, values in broad:
        theirs = tight.get((op, key))
        if theirs is None:
            return False
        if _negated(op) and not op.startswith(("ForAllValues:", "ForAnyValue:")):
            if not set(values) <= set(theirs):  # excluding less is broader
                return False
        elif theirs != values:
            return False
    return True


def covers(broad: Atom, narrow: Atom, root_covers_account: bool = False) -> bool:
    """Does atom `broad` match every request that atom `narrow` matches?"""
    return (
        broad[0] == narrow[0]
        and _element_covers(broad[1], narrow[1], "principal", root_covers_account)
        and _element_covers(broad[2], narrow[2], "action", False)
        and _element_covers(broad[3], narrow[3], "resource", False)
        and _conditions_cover(broad[4], narrow[4])
    )


def _within(extra: set[Atom], other: set[Atom], root_covers_account: bool = False) -> bool:
    """Is every atom of `extra` covered by some atom of `other`?"""
    return all(any(covers(o, x, root_covers_account) for o in other) for x in extra)


def equivalent(a: Canonical | None, b: Canonical | None) -> bool:
    """Do two canonical policies allow and deny exactly the same requests?

    Each atom of one must be covered by an atom of the other (atoms in both are at
    once); a request covered only by several atoms together is not seen as covered,
    which can report a difference where there is none, never the other way round.
    """
    if a == b:
        return True
    if a is None or b is None or a.get("Version") != b.get("Version"):
        return False
    atoms_a, atoms_b = atoms(a), atoms(b)
    if atoms_a is None or atoms_b is None:
        return False  # too large to cut up: the canonical forms differ, so say so
    return _within(atoms_a - atoms_b, atoms_b) and _within(atoms_b - atoms_a, atoms_a)


def widens(expected: Canonical | None, actual: Canonical | None) -> bool:
    """Does going from `expected` to `actual` allow anything that was not allowed before?

    An Allow atom of `actual` that no Allow atom of `expected` covers widens; so does a
    Deny atom of `expected` that no Deny atom of `actual` covers.
    """
    want, have = atoms(expected), atoms(actual)
    if want is None or have is None:
        return True  # cannot tell: err towards the more severe
    new_allows = {h for h in have - want if h[0] == "Allow"}
    lost_denies = {w for w in want - have if w[0] == "Deny"}
    return not (
        _within(new_allows, {w for w in want if w[0] == "Allow"}, root_covers_account=True)
        and _within(lost_denies, {h for h in have if h[0] == "Deny"}, root_covers_account=True)
    )
