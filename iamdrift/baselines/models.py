"""The one model both sides share: a baseline loads into it, live IAM is normalized into it.

Policy documents keep IAM's own key names (Version, Statement, Effect, ...), so a
reviewer can paste what the console shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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


def as_baseline(entity: StrictModel) -> dict[str, Any]:
    """An entity as a baseline file writes it: defaults left out, policies as IAM JSON.

    >>> as_baseline(Role(max_session_duration=7200, trust_policy={"Statement": {
    ...     "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}}))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'trust_policy': {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow',
      'Principal': {'AWS': '*'}, 'Action': 'sts:AssumeRole'}]}, 'max_session_duration': 7200}
    """
    data = entity.model_dump(exclude_defaults=True)
    for key, value in entity:
        if isinstance(value, PolicyDocument):
            data[key] = value.as_json()
        elif isinstance(value, dict) and value and key in data:
            data[key] = {
                n: d.as_json() if isinstance(d, PolicyDocument) else d for n, d in value.items()
            }
    return data


@dataclass(frozen=True)
class Credentials:
    """Live only: what a user holds that decides whether taking it over succeeds (a
    password, access keys), read where a take-over depends on it."""

    login_profile: bool
    access_keys: int


class _Tagged(StrictModel):
    # Live only (not part of a baseline, not compared): the principal's tags, which decide
    # conditions on aws:PrincipalTag in the access graph. None: not read.
    _tags: dict[str, str] | None = PrivateAttr(default=None)

    @property
    def tags(self) -> dict[str, str] | None:
        return self._tags

    @tags.setter
    def tags(self, value: dict[str, str] | None) -> None:
        self._tags = dict(value) if value is not None else None


class User(_Tagged):
    path: IamPath = "/"
    groups: list[GroupName] = []
    managed_policies: list[PolicyArn] = []
    inline_policies: dict[PolicyName, IdentityPolicy] = {}
    permissions_boundary: PolicyArn | None = None


class Group(StrictModel):
    path: IamPath = "/"
    managed_policies: list[PolicyArn] = []
    inline_policies: dict[PolicyName, IdentityPolicy] = {}


class Role(_Tagged):
    path: IamPath = "/"
    trust_policy: TrustPolicy
    managed_policies: list[PolicyArn] = []
    inline_policies: dict[PolicyName, IdentityPolicy] = {}
    max_session_duration: int = Field(3600, ge=3600, le=43200)
    permissions_boundary: PolicyArn | None = None


class ManagedPolicy(StrictModel):
    path: IamPath = "/"
    document: IdentityPolicy  # the default version: the one in force
    # Other versions expected to exist by version id (v1..v5). A non-default version
    # that grants more than the default and is not declared here is a finding: it is
    # one iam:SetDefaultPolicyVersion away from being in force.
    dormant_versions: dict[
        Annotated[str, StringConstraints(pattern=r"^v\d+$")], IdentityPolicy
    ] = {}


class AccountState(StrictModel):
    """What IAM in one account holds, or should hold."""

    users: dict[UserName, User] = {}
    groups: dict[GroupName, Group] = {}
    roles: dict[RoleName, Role] = {}
    policies: dict[PolicyName, ManagedPolicy] = {}


ENTITY_KINDS: dict[str, str] = {
    "users": "user",
    "groups": "group",
    "roles": "role",
    "policies": "policy",
}


class IgnoreRules(StrictModel):
    """Glob patterns on path + name, e.g. `/aws-service-role/*` or `/*/TempUser*`."""

    users: list[str] = []
    groups: list[str] = []
    roles: list[str] = []
    policies: list[str] = []

    def merged(self, other: IgnoreRules) -> IgnoreRules:
        return IgnoreRules(**{k: [*getattr(self, k), *getattr(other, k)] for k in ENTITY_KINDS})


class AccountFile(AccountState):
    """One account's baseline file."""

    account: AccountId
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    read_via: RoleRef | None = None
    external_id: Annotated[str, StringConstraints(min_length=2, max_length=1224)] | None = None
    ignore: IgnoreRules = IgnoreRules()


class Defaults(StrictModel):
    """Settings that apply to every account unless its file says otherwise."""

    # A name, not an ARN: the role with this name is assumed in each account.
    read_via: UserName = "OrganizationAccountAccessRole"
    external_id: str | None = None
    session_name: Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{2,48}$")] = "iamdrift"
    ignore: IgnoreRules = IgnoreRules(roles=["/aws-service-role/*"])


class OrganizationFile(StrictModel):
    """`organization.yaml`: the management account, defaults, what every member holds."""

    management_account: AccountId | None = None
    discover_accounts: bool = True
    defaults: Defaults = Defaults()
    member_baseline: dict[str, Any] = {}


class ExpectedEdge(StrictModel):
    """One cross-account access path that should exist, and the trust conditions it must keep."""

    principal: Annotated[
        str,
        StringConstraints(pattern=r"^(\*|arn:aws[\w-]*:iam::\d{12}:\S+|(service|federated):\S+)$"),
    ]
    role: Annotated[
        str, StringConstraints(pattern=rf"^{PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]+$")
    ]
    conditions: dict[ConditionOperator, dict[str, ConditionValues]] = {}


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Selector(StrictModel):
    """Which principals (in `from`) or targets (in `to`) a reachability rule means; every
    key given must hold. `ou` is a glob over OU paths (`Root/Prod/*`: Prod and below);
    `principal` a glob over ARNs (IAM's `*` and `?`); `admin` (in `to`): administrator of
    the selected accounts, rather than any of their principals."""

    account: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    ou: Annotated[str, StringConstraints(pattern=r"^Root(/[^/]+)*$")] | None = None
    principal: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    admin: bool = False

    def ou_matches(self, path: str) -> bool:
        """Does the `ou` glob hold for an account in OU `path`? `*` (any run, across `/`)
        and `?` are the wildcards, as in IAM; `Root/Prod/*` holds for Root/Prod itself."""
        if self.ou is None:
            return True
        glob = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in self.ou)
        return any(re.fullmatch(glob, p, re.DOTALL) for p in (path, path + "/"))


Selectors = Annotated[list[Selector], BeforeValidator(_one_or_many)]


class Reach(StrictModel):
    """From any of `from` to any of `to`."""

    model_config = ConfigDict(populate_by_name=True)

    sources: Selectors = Field(alias="from", min_length=1)
    to: Selectors = Field(min_length=1)


class ReachRule(StrictModel):
    """A rule over chains of access, checked every run: `forbid` (no principal of `from`
    may reach `to`) or `only` (no principal but those of `from` may reach `to`)."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][\w.-]{0,99}$")]
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    forbid: Reach | None = None
    only: Reach | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReachRule:
        if (self.forbid is None) == (self.only is None):
            raise ValueError("a rule has either forbid or only")
        for selector in self.reach.sources:
            if selector.admin:
                raise ValueError("admin selects targets: it belongs under to")
        return self

    @property
    def reach(self) -> Reach:
        return self.forbid or self.only  # type: ignore[return-value]


class AccessFile(StrictModel):
    """`access.yaml`: who may assume which role across accounts, and rules over chains."""

    exclusive: bool = True  # an edge not listed here is a finding
    risks: Literal["warn", "fail"] = "warn"
    third_parties: dict[AccountId, str] = {}  # accounts outside the organization, by design
    edges: list[ExpectedEdge] = []
    rules: list[ReachRule] = []

    @model_validator(mode="after")
    def _unique_rules(self) -> AccessFile:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rule names must be unique: {', '.join(twice)}")
        return self


class Waiver(StrictModel):
    """Known drift tolerated for a while: never for ever, and always someone's."""

    finding: Annotated[str, StringConstraints(min_length=1, max_length=1024)]  # an id or a glob
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    expires: date  # the last day the waiver holds
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class WaiverFile(StrictModel):
    """`waivers.yaml`: findings that do not fail the run until their waiver expires."""

    waivers: list[Waiver] = []


OuPath = Annotated[str, StringConstraints(pattern=r"^Root(/[^/]+)*$")]


class Member(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1)]
    ou: OuPath = "Root"


class ServiceControlPolicy(StrictModel):
    document: IdentityPolicy
    targets: list[Annotated[str, StringConstraints(pattern=r"^(Root(/[^/]+)*|\d{12})$")]] = []


class Structure(StrictModel):
    """`structure.yaml`: the organization's members, their OUs (paths of names such as
    `Root/Workloads/Prod`) and its service control policies (targets: OU paths or ids)."""

    accounts: dict[AccountId, Member] = {}
    service_control_policies: dict[str, ServiceControlPolicy] = {}
    # Live only (not part of the format): Organizations' ids of the root, OUs and SCPs,
    # by which plans name them (`ou-...` -> its path, `p-...` -> the SCP's name).
    _ids: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def ids(self) -> dict[str, str]:
        return self._ids


def all_field_names() -> set[str]:
    """Every key the format knows (but identity_center.yaml's), to suggest the nearest one
    for a typo."""
    names: set[str] = set()
    for model in (
        AccountFile,
        OrganizationFile,
        Defaults,
        IgnoreRules,
        User,
        Group,
        Role,
        ManagedPolicy,
        PolicyDocument,
        Statement,
        PrincipalMap,
        AccessFile,
        ExpectedEdge,
        Structure,
        Member,
        ServiceControlPolicy,
        WaiverFile,
        Waiver,
    ):
        names.update(model.model_fields)
    return names
