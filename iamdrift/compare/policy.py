"""Policy documents compared by meaning.

`normalize` maps every way of writing the same policy to one canonical form:

>>> a = {"Statement": {"Effect": "Allow", "Action": "STS:AssumeRole",
...                    "Principal": {"AWS": "111111111111"}}}
>>> b = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
...       "Action": ["sts:assumerole"], "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]}}]}
>>> normalize(a) == normalize(b)
True

What changes meaning stays different: Action vs NotAction, ARN and name case,
condition operators (Bool vs BoolIfExists), condition keys, Effect.
"""

from __future__ import annotations

from typing import Any

from iamdrift.baselines.models import ACCOUNT_ID_RE, PolicyDocument, Statement

Canonical = dict[str, Any]

_PRINCIPAL_KINDS = ("AWS", "CanonicalUser", "Federated", "Service")


def _aws_principal(value: str) -> str:
    # A bare account id means the account's root, which IAM itself stores as the ARN.
    return f"arn:aws:iam::{value}:root" if ACCOUNT_ID_RE.match(value) else value


def _principals(element) -> dict[str, list[str]]:
    out = {}
    for kind in _PRINCIPAL_KINDS:
        values = getattr(element, kind)
        if values is not None:
            out[kind] = sorted(
                {_aws_principal(v) for v in values} if kind == "AWS" else set(values)
            )
    return out


def _statement(stmt: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": stmt.Effect}
    if stmt.Action is not None:
        out["Action"] = sorted({a.lower() for a in stmt.Action})
    if stmt.NotAction is not None:
        out["NotAction"] = sorted({a.lower() for a in stmt.NotAction})
    if stmt.Resource is not None:
        out["Resource"] = sorted(set(stmt.Resource))
    if stmt.NotResource is not None:
        out["NotResource"] = sorted(set(stmt.NotResource))
    if stmt.Principal is not None:
        out["Principal"] = _principals(stmt.Principal)
    if stmt.NotPrincipal is not None:
        out["NotPrincipal"] = _principals(stmt.NotPrincipal)
    if stmt.Condition:
        # Condition keys are case-insensitive in IAM; operators and values are not.
        conditions: dict[str, dict[str, list[str]]] = {}
        for operator, pairs in sorted(stmt.Condition.items()):
            merged = conditions.setdefault(operator, {})
            for key, values in pairs.items():
                merged[key.lower()] = sorted({*merged.get(key.lower(), []), *values})
        out["Condition"] = {op: dict(sorted(pairs.items())) for op, pairs in conditions.items()}
    return out


def normalize(doc: PolicyDocument | dict[str, Any]) -> Canonical:
    """Canonical form of a policy document: sorted, deduplicated, Sid and Id dropped.

    Worked out once per document; callers read it and never change it.
    """
    if not isinstance(doc, PolicyDocument):
        doc = PolicyDocument.model_validate(doc)
    private = doc.__pydantic_private__  # a plain dict: cheaper than attribute access
    if private["_canonical"] is None:
        unique = {}
        for s in doc.Statement:
            canonical = _statement(s)
            # Canonical statements are built in one key order, so repr is a stable key.
            unique.setdefault(repr(canonical), canonical)
        statements = [unique[k] for k in sorted(unique)]
        private["_canonical"] = {"Version": doc.Version, "Statement": statements}
    return private["_canonical"]


def _covers_values(broad: list[str] | None, narrow: list[str] | None) -> bool:
    if broad is None or narrow is None:
        return broad is narrow
    return "*" in broad or set(narrow) <= set(broad)


def _principal_covered(broad: dict[str, list[str]], kind: str, value: str) -> bool:
    """An account's root covers every principal of that account; "*" covers all."""
    aws = broad.get("AWS", [])
    if "*" in aws or value in broad.get(kind, []):
        return True
    parts = value.split(":")
    return kind == "AWS" and len(parts) > 4 and f"arn:aws:iam::{parts[4]}:root" in aws


def _covers(broad: dict[str, Any], narrow: dict[str, Any]) -> bool:
    """True when statement `broad` matches at least everything `narrow` matches.

    Conservative: wildcards other than a bare "*" are compared literally, so an
    unclear case counts as not covered (and so as widening).
    """
    if broad["Effect"] != narrow["Effect"]:
        return False
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if not _covers_values(broad.get(key), narrow.get(key)):
            return False
    for key in ("Principal", "NotPrincipal"):
        b, n = broad.get(key), narrow.get(key)
        if (b is None) != (n is None) or (key == "NotPrincipal" and b != n):
            return False  # NotPrincipal inverts coverage: only the same set is safe
        if b is not None and not all(
            _principal_covered(b, kind, value) for kind, values in n.items() for value in values
        ):
            return False
    # Every condition of the broad statement must also constrain the narrow one.
    b_cond, n_cond = broad.get("Condition", {}), narrow.get("Condition", {})
    return all(
        n_cond.get(op, {}).get(key) == values
        for op, pairs in b_cond.items()
        for key, values in pairs.items()
    )


def widens(expected: Canonical | None, actual: Canonical | None) -> bool:
    """Does going from `expected` to `actual` allow anything that was not allowed before?

    An added Allow not covered by a removed Allow widens; so does a removed Deny
    that no added Deny covers.
    """
    exp = (expected or {}).get("Statement", [])
    act = (actual or {}).get("Statement", [])
    added = [s for s in act if s not in exp]
    removed = [s for s in exp if s not in act]
    for s in added:
        if s["Effect"] == "Allow" and not any(_covers(r, s) for r in removed):
            return True
    return any(r["Effect"] == "Deny" and not any(_covers(s, r) for s in added) for r in removed)


def statement_delta(expected: Canonical | None, actual: Canonical | None) -> tuple[int, int]:
    exp = (expected or {}).get("Statement", [])
    act = (actual or {}).get("Statement", [])
    return sum(s not in exp for s in act), sum(s not in act for s in exp)
