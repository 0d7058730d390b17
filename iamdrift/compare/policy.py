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

from iamdrift.baselines.policy import ACCOUNT_ID_RE, PolicyDocument, Statement

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


def statement_delta(expected: Canonical | None, actual: Canonical | None) -> tuple[int, int]:
    exp = (expected or {}).get("Statement", [])
    act = (actual or {}).get("Statement", [])
    return sum(s not in exp for s in act), sum(s not in act for s in exp)


def admitted(expected: Any, actual: Any) -> list[str]:
    """The principals a normalized trust policy's Allow statements name that the expected
    one's do not: whom the change lets in (`Service:ec2.amazonaws.com` for non-AWS kinds).

    >>> admitted({"Statement": []}, {"Statement": [{"Effect": "Allow",
    ...     "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}}]})
    ['arn:aws:iam::111122223333:root']
    """

    def named(doc: Any) -> set[str]:
        if not isinstance(doc, dict):
            return set()
        return {
            value if kind == "AWS" else f"{kind}:{value}"
            for s in doc.get("Statement") or []
            if isinstance(s, dict) and s.get("Effect") == "Allow"
            for kind, values in (s.get("Principal") or {}).items()
            for value in values
        }

    return sorted(named(actual) - named(expected))
