"""One way a principal becomes another, as PMapper's `Edge` is: who, what it leads to, how
(its kind), the statements that allow it, and the conditions a request must meet. Every
edge of the access graph is one: across accounts (assuming a role, signing in with an
Identity Center set) and inside one (role chaining, IAM take-over, administrator, a group's
members). The findings JSON's `access[]` rows and a chain's hops are views of it.

>>> e = Edge(principal="arn:aws:iam::111111111111:user/demo1",
...          target="arn:aws:iam::222222222222:role/Audit", kind="assume")
>>> e.id, e.line()
('111111111111:user:demo1->222222222222:Audit', 'arn:aws:iam::111111111111:user/demo1 assumes \
arn:aws:iam::222222222222:role/Audit')
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from iamdrift.compare.identity_center import stable

EdgeKind = Literal["assume", "sign-in", "iam", "admin", "any", "member"]
# How a chain's line names each kind of edge (`is` administrator: the target says of what).
VERBS: dict[str, str] = {
    "assume": "assumes",  # a trust policy admits it, and (across accounts) its own policies
    "sign-in": "signs in to",  # Identity Center assigns it a permission set in the account
    "iam": "takes over",  # IAM actions on the target make the target its own
    "admin": "is",  # administrator of its account
    "any": "can become",  # a shared node stands for any role or user of an account
    "member": "is a member of",  # an Identity Center user in a group
}
# The nodes that stand for many principals of one account, so that an administrator, or a
# principal allowed to assume every role, is one edge rather than one per principal.
SHARED = {
    "admin": "administrator of {}",
    "roles": "any role of {}",
    "users": "any user of {}",
    "assumers": "any principal of {} allowed to assume its roles",
}
_IAM_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(.+)$")


def shared(kind: str, account: str) -> str:
    """`admin@222222222222`: the node of kind `kind` (see SHARED) for an account."""
    return f"{kind}@{account}"


def is_shared(node: str) -> bool:
    return not node.startswith("arn:") and node.split("@", 1)[0] in SHARED


def describe(node: str) -> str:
    """A node as a reviewer reads it: `any role of 222222222222` for `roles@222222222222`."""
    if is_shared(node):
        kind, account = node.split("@", 1)
        return SHARED[kind].format(account)
    return node


def account_of(arn: str) -> str:
    return arn.split(":")[4] if arn.count(":") >= 5 else ""


def node_label(key: str) -> str:
    """Short and stable, without slashes: `123456789012:user:demo1`, `service:ec2...`."""
    if key.startswith("identitycenter:"):  # identitycenter:group/NAME
        kind, _, name = key.partition("/")
        return f"{kind}:{name.replace('/', '%2F')}"
    match = _IAM_ARN.match(stable(key))
    if match:
        kind, _, name = match.group(2).partition("/")
        return f"{match.group(1)}:{kind}:{name.rsplit('/', 1)[-1]}" if name else match.group(1)
    return key


class Edge(BaseModel):
    model_config = ConfigDict(frozen=True)

    principal: str  # an ARN, `identitycenter:group/NAME`, or an outside node (`*`, `id:...`)
    target: str  # a role, a user, a group, or a shared node (`admin@ACCOUNT`)
    kind: EdgeKind
    path: list[str] = []  # the statements that allow it, as a reviewer reads them
    conditions: dict[str, Any] = {}  # what every way in needs (canonical Condition block)
    declared: bool | None = None  # sign-in: identity_center.yaml declares the assignment

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if data.get("declared") is None:
            data.pop("declared", None)  # only sign-in edges carry it
        return data

    @property
    def account(self) -> str:
        """The target's account."""
        return account_of(self.target) or self.target.partition("@")[2]

    @property
    def name(self) -> str:
        return self.target.rsplit("/", 1)[-1]

    @property
    def id(self) -> str:
        """Stable across runs: a role Identity Center makes again is the same edge."""
        return f"{node_label(self.principal)}->{self.account}:{stable(self.target).rsplit('/')[-1]}"

    def line(self) -> str:
        return f"{describe(self.principal)} {VERBS[self.kind]} {describe(self.target)}"


class AccessRow(BaseModel):
    """One edge of the findings JSON's `access[]`, with its status against access.yaml."""

    principal: str
    role: str
    status: Literal["expected", "unexpected", "missing", "conditions missing"]
    conditions: dict[str, Any] = {}
    path: list[str] = []

    @classmethod
    def of(cls, edge: Edge, status: str) -> AccessRow:
        return cls(
            principal=edge.principal,
            role=edge.target,
            status=status,  # type: ignore[arg-type]
            conditions=edge.conditions,
            path=list(edge.path),
        )
