"""IAM's policy language as a baseline writes it, and the names and ARNs it holds: one
model for both sides, so a baseline and live IAM load into the same values.

Policy documents keep IAM's own key names (Version, Statement, Effect, ...), so a
reviewer can paste what the console shows.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

PARTITION = r"arn:aws(?:-[a-z]+)*"
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
_NAME = r"[\w+=,.@-]"

ACCOUNT_PRINCIPAL_RE = re.compile(
    rf"^(\*|\d{{12}}|{PARTITION}:iam::\d{{12}}:(root|(user|role|group|federated-user)/\S+)"
    rf"|{PARTITION}:sts::\d{{12}}:assumed-role/\S+|A[A-Z0-9]{{15,127}})$"
)
_CONDITION_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
}


def _account_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('expected a 12-digit account id in quotes, such as "222222222222"')
    return value


AccountId = Annotated[
    str,
    BeforeValidator(_account_id),
    StringConstraints(pattern=r"^\d{12}$"),
]
PolicyArn = Annotated[
    str, StringConstraints(pattern=rf"^{PARTITION}:iam::(aws|\d{{12}}):policy/([\w+=,.@/-]+)$")
]
RoleRef = Annotated[
    str,
    StringConstraints(pattern=rf"^({_NAME}{{1,64}}|{PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]+)$"),
]
IamPath = Annotated[str, StringConstraints(pattern=r"^/([\x21-\x7e]*/)?$")]
UserName = Annotated[str, StringConstraints(pattern=rf"^{_NAME}{{1,64}}$")]
RoleName = UserName
GroupName = Annotated[str, StringConstraints(pattern=rf"^{_NAME}{{1,128}}$")]
PolicyName = GroupName


def _one_or_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _single_if_one(value: list[str]) -> str | list[str]:
    return value[0] if len(value) == 1 else value


# IAM accepts a string or a list of strings; both load into a list, and a
# one-item list is written back as a string, as the console shows it.
StrOrList = Annotated[
    list[Annotated[str, StringConstraints(min_length=1)]],
    BeforeValidator(_one_or_list),
    PlainSerializer(_single_if_one),
]


def _condition_values(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, int | float | str):
            out.append(str(item))
        else:
            raise ValueError("expected a condition value (text, number or true/false)")
    return out


ConditionValues = Annotated[
    list[str], BeforeValidator(_condition_values), PlainSerializer(_single_if_one)
]


def _condition_operator(value: str) -> str:
    base = re.sub(r"^(ForAllValues:|ForAnyValue:)", "", value)
    base = base.removesuffix("IfExists")
    if base not in _CONDITION_OPERATORS:
        raise ValueError(f"expected an IAM condition operator such as StringEquals, got {value!r}")
    return value


ConditionOperator = Annotated[str, AfterValidator(_condition_operator)]


def _principal(value: Any) -> Any:
    if value == "*":
        return {"AWS": "*"}  # IAM treats the two forms alike
    if isinstance(value, str):
        raise ValueError('expected "*" or a mapping such as {AWS: arn:aws:iam::111111111111:root}')
    return value


def _aws_principals(values: list[str]) -> list[str]:
    for value in values:
        if not ACCOUNT_PRINCIPAL_RE.match(value):
            raise ValueError(f'expected an account id, an IAM principal ARN or "*", got {value!r}')
    return values


class StrictModel(BaseModel):
    # Validators are built on first use: a model used only inside another is never built
    # alone, which halves the import (measured: 0.29 s -> see bench/bench_small.py).
    model_config = ConfigDict(extra="forbid", validate_default=False, defer_build=True)


class PrincipalMap(StrictModel):
    AWS: Annotated[StrOrList, AfterValidator(_aws_principals)] | None = None
    Service: StrOrList | None = None
    Federated: StrOrList | None = None
    CanonicalUser: StrOrList | None = None


PrincipalElement = Annotated[PrincipalMap, BeforeValidator(_principal)]


class Statement(StrictModel):
    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Principal: PrincipalElement | None = None
    NotPrincipal: PrincipalElement | None = None
    Action: StrOrList | None = None
    NotAction: StrOrList | None = None
    Resource: StrOrList | None = None
    NotResource: StrOrList | None = None
    Condition: dict[ConditionOperator, dict[str, ConditionValues]] | None = None

    @model_validator(mode="after")
    def _exclusive_elements(self) -> Statement:
        for a, b in (
            ("Action", "NotAction"),
            ("Resource", "NotResource"),
            ("Principal", "NotPrincipal"),
        ):
            if getattr(self, a) is not None and getattr(self, b) is not None:
                raise ValueError(f"a statement has both {a} and {b}; expected one of them")
        if self.Action is None and self.NotAction is None:
            raise ValueError("a statement needs Action or NotAction")
        return self


_Statement = Statement


def _one_statement_or_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def _some(statements: list[Statement]) -> list[Statement]:
    if not statements:
        raise ValueError("expected at least one statement (AWS rejects a policy without one)")
    return statements


class PolicyDocument(StrictModel):
    Version: Literal["2012-10-17", "2008-10-17"] = "2012-10-17"
    Id: str | None = None
    Statement: Annotated[
        list[_Statement], BeforeValidator(_one_statement_or_list), AfterValidator(_some)
    ]
    # Its canonical form, worked out once (compare.policy.normalize): documents are
    # never changed after they are loaded or collected.
    _canonical: Any = PrivateAttr(default=None)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def _trust(doc: PolicyDocument) -> PolicyDocument:
    for stmt in doc.Statement:
        if stmt.Resource is not None or stmt.NotResource is not None:
            raise ValueError(
                "a trust policy statement has no Resource (AWS rejects one): the role is it"
            )
        if stmt.Principal is None and stmt.NotPrincipal is None:
            raise ValueError("a trust policy statement needs a Principal: who may assume the role")
    return doc


def _identity(doc: PolicyDocument) -> PolicyDocument:
    if any(s.Principal is not None or s.NotPrincipal is not None for s in doc.Statement):
        raise ValueError(
            "an identity policy names no Principal (AWS rejects one): it applies to its holder"
        )
    return doc


# What AWS accepts where: a trust policy names who, an identity policy never does.
TrustPolicy = Annotated[PolicyDocument, AfterValidator(_trust)]
IdentityPolicy = Annotated[PolicyDocument, AfterValidator(_identity)]
