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

import json
from typing import Any

from iamdrift.baselines.models import ACCOUNT_ID_RE, PolicyDocument

Canonical = dict[str, Any]

_LIST_ELEMENTS = ("Resource", "NotResource")
_ACTION_ELEMENTS = ("Action", "NotAction")
_PRINCIPAL_ELEMENTS = ("Principal", "NotPrincipal")


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


def _aws_principal(value: str) -> str:
    # A bare account id means the account's root, which IAM itself stores as the ARN.
    return f"arn:aws:iam::{value}:root" if ACCOUNT_ID_RE.match(value) else value


def _statement(stmt: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": stmt["Effect"]}
    for key in _ACTION_ELEMENTS:
        if key in stmt:
            out[key] = _sorted_unique([a.lower() for a in stmt[key]])
    for key in _LIST_ELEMENTS:
        if key in stmt:
            out[key] = _sorted_unique(stmt[key])
    for key in _PRINCIPAL_ELEMENTS:
        if key in stmt:
            out[key] = {
                kind: _sorted_unique(
                    [_aws_principal(v) for v in values] if kind == "AWS" else values
                )
                for kind, values in sorted(stmt[key].items())
            }
    if stmt.get("Condition"):
        # Condition keys are case-insensitive in IAM; operators and values are not.
        conditions: dict[str, dict[str, list[str]]] = {}
        for operator, pairs in sorted(stmt["Condition"].items()):
            merged = conditions.setdefault(operator, {})
            for key, values in pairs.items():
                merged[key.lower()] = _sorted_unique([*merged.get(key.lower(), []), *values])
        out["Condition"] = conditions
    return out


def normalize(doc: PolicyDocument | dict[str, Any]) -> Canonical:
    """Canonical form of a policy document: sorted, deduplicated, Sid and Id dropped."""
    if not isinstance(doc, PolicyDocument):
        doc = PolicyDocument.model_validate(doc)
    statements = []
    for s in doc.Statement:
        raw = s.model_dump(exclude_none=True)
        raw = {k: _relist(k, v) for k, v in raw.items()}
        statements.append(_statement(raw))
    unique = sorted({json.dumps(s, sort_keys=True) for s in statements})
    return {"Version": doc.Version, "Statement": [json.loads(s) for s in unique]}


def _relist(key: str, value: Any) -> Any:
    """Undo the one-item-as-string serialization, so canonical forms always hold lists."""
    if key in _ACTION_ELEMENTS + _LIST_ELEMENTS:
        return value if isinstance(value, list) else [value]
    if key in _PRINCIPAL_ELEMENTS:
        return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
    if key == "Condition":
        return {
            op: {k: v if isinstance(v, list) else [v] for k, v in pairs.items()}
            for op, pairs in value.items()
        }
    return value


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
    for key in (*_ACTION_ELEMENTS, *_LIST_ELEMENTS):
        if not _covers_values(broad.get(key), narrow.get(key)):
            return False
    for key in _PRINCIPAL_ELEMENTS:
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
