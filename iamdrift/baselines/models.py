"""The one model both sides share: a baseline loads into it, live IAM is normalized into it:
the entities of an account, its baseline file, and organization.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    Field,
    PrivateAttr,
    StringConstraints,
)

from iamdrift.baselines.access_file import AccessFile, ExpectedEdge
from iamdrift.baselines.kinds import SECTIONS
from iamdrift.baselines.policy import (
    AccountId,
    GroupName,
    IamPath,
    IdentityPolicy,
    PolicyArn,
    PolicyDocument,
    PolicyName,
    PrincipalMap,
    RoleName,
    RoleRef,
    Statement,
    StrictModel,
    TrustPolicy,
    UserName,
)
from iamdrift.baselines.structure import Member, ServiceControlPolicy, Structure
from iamdrift.baselines.waivers import Waiver, WaiverFile


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


class IgnoreRules(StrictModel):
    """Glob patterns on path + name, e.g. `/aws-service-role/*` or `/*/TempUser*`."""

    users: list[str] = []
    groups: list[str] = []
    roles: list[str] = []
    policies: list[str] = []

    def merged(self, other: IgnoreRules) -> IgnoreRules:
        return IgnoreRules(**{k: [*getattr(self, k), *getattr(other, k)] for k in SECTIONS})


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
