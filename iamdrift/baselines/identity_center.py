"""`identity_center.yaml`: IAM Identity Center's permission sets, who is assigned which set
in which accounts, and the members of the groups that matter. Live Identity Center is read
into the same models.

>>> Assignment(group="PlatformAdmins", permission_set="Admin", accounts=["DEMO"]).principal
'group:PlatformAdmins'
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, model_validator

from iamdrift.baselines.models import as_baseline
from iamdrift.baselines.policy import IdentityPolicy, PolicyArn, StrictModel
from iamdrift.baselines.structure import OuPath

# IAM Identity Center's own limits: a permission set's name.
SetName = Annotated[str, StringConstraints(pattern=r"^[\w+=,.@-]{1,32}$")]
# A customer managed policy by path and name, the same in every account: `/Path/Name`.
PolicyRef = Annotated[str, StringConstraints(pattern=r"^/([\x21-\x7e]*/)?[\w+=,.@-]{1,128}$")]
PrincipalName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
AccountRef = Annotated[str, StringConstraints(min_length=1, max_length=100)]
INSTANCE = r"^arn:aws[\w-]*:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"
# The API's `Duration` shape (botocore's sso-admin model): ISO 8601, seconds and days too.
_ISO_DURATION = re.compile(
    r"P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def seconds(duration: str) -> int:
    """The length of a session, from any ISO 8601 duration the API accepts.

    >>> seconds("PT1H30M"), seconds("PT1H5M40S"), seconds("PT90M"), seconds("P0DT12H")
    (5400, 3940, 5400, 43200)
    """
    match = _ISO_DURATION.fullmatch(duration.strip()) if isinstance(duration, str) else None
    if not match or match.group(1) or match.group(2):  # years and months have no fixed length
        raise ValueError(f"expected an ISO 8601 duration such as PT8H or PT1H30M, got {duration!r}")
    days = int(match.group(3) or 0) * (7 if match.group(4) == "W" else 1)
    hours, minutes = int(match.group(5) or 0), int(match.group(6) or 0)
    return round(days * 86400 + hours * 3600 + minutes * 60 + float(match.group(7) or 0))


def canonical_duration(duration: str) -> str:
    """One spelling per length, so that sets compare by meaning (`PT60M` is `PT1H`).

    >>> canonical_duration("PT60M"), canonical_duration("PT1H5M40S"), canonical_duration("PT3600S")
    ('PT1H', 'PT1H5M40S', 'PT1H')
    """
    total = seconds(duration)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n]
    return "PT" + ("".join(parts) or "0S")


def _session(duration: str) -> str:
    # "You can set a session duration of 1 to 12 hours" (IAM Identity Center User Guide,
    # "Set session duration"); CreatePermissionSet refuses anything else.
    if not 3600 <= seconds(duration) <= 43200:
        raise ValueError(f"expected a session of 1 to 12 hours, got {duration!r}")
    return canonical_duration(duration)


# As written in identity_center.yaml and as read from the API: compared by its length.
Duration = Annotated[
    str,
    AfterValidator(_session),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^P(\d+[DW])?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$",
            "description": "ISO 8601, 1 to 12 hours: PT8H, PT1H30M, PT1H5M40S",
        }
    ),
]


class PermissionSet(StrictModel):
    """What a session in an account through this set may do; provisioned into each account
    as the role `AWSReservedSSO_<name>_<hash>`."""

    session_duration: Duration = "PT1H"
    managed_policies: list[PolicyArn] = []  # AWS managed policies, by ARN
    customer_managed_policies: list[PolicyRef] = []  # `/path/Name`, looked up in each account
    inline_policy: IdentityPolicy | None = None
    # An AWS managed policy ARN, or a customer managed `/path/Name` in each account.
    permissions_boundary: PolicyArn | PolicyRef | None = None


class IdentityGroup(StrictModel):
    """A group of the identity store. `members` (user names), when given, is exact: anyone
    added is a finding; leave it out for groups whose membership is not baselined."""

    members: list[PrincipalName] | None = None


class Assignment(StrictModel):
    """A group or user given a permission set in accounts (ids or names) and in every
    account of OUs (paths of structure.yaml; an OU covers the OUs below it)."""

    group: PrincipalName | None = None
    user: PrincipalName | None = None
    permission_set: SetName
    accounts: list[AccountRef] = []
    ous: list[OuPath] = []

    @model_validator(mode="after")
    def _one_principal(self) -> Assignment:
        if (self.group is None) == (self.user is None):
            raise ValueError("expected exactly one of group or user: who is assigned")
        if not self.accounts and not self.ous:
            raise ValueError("expected accounts or ous: where the set is assigned")
        return self

    @property
    def principal(self) -> str:
        return f"group:{self.group}" if self.group is not None else f"user:{self.user}"


class IdentityCenterFile(StrictModel):
    """`identity_center.yaml`. `instance` pins the instance (found when left out); `region`
    is the instance's (the hub's region when left out)."""

    instance: Annotated[str, StringConstraints(pattern=INSTANCE)] | None = None
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    permission_sets: dict[SetName, PermissionSet] = {}
    groups: dict[PrincipalName, IdentityGroup] = {}
    assignments: list[Assignment] = []

    @property
    def declared_members(self) -> set[str]:
        """The groups whose members are declared (read with the organization)."""
        return {n for n, g in self.groups.items() if g.members is not None}


class Assigned(StrictModel):
    """One assignment in one account: `group:NAME` or `user:NAME`, and the set."""

    model_config = StrictModel.model_config | {"frozen": True}

    principal: str
    permission_set: str

    @property
    def name(self) -> str:
        """The finding's resource name: `SET:group:NAME` (no slash: ids split on it)."""
        return f"{self.permission_set}:{self.principal}".replace("/", "%2F")


class IdentityCenterRead(StrictModel):
    """Identity Center as the hub read it, once for the organization (the per-account
    part, who is assigned what there, travels with each account's outcome)."""

    instance: str
    store: str
    permission_sets: dict[str, PermissionSet] = {}
    # Every group; with its members when identity_center.yaml declares them, or (reading
    # per principal) when it is assigned somewhere; the members of other groups are read
    # where an account assigns them (AccountAssignments.members).
    groups: dict[str, IdentityGroup] = {}
    users: list[str] = []
    # Accounts where a set's latest version is not provisioned (changed since).
    outdated: dict[str, list[str]] = {}
    set_arns: dict[str, str] = {}  # ARN -> name
    principals: dict[str, str] = {}  # identity store id -> `group:NAME` / `user:NAME`
    region: str | None = None  # where the instance was read (the hub's when None)
    # What the organization's read learned of every account, when that was cheaper than
    # asking per account (aws/identity_center.plan_reads): the sets provisioned to each,
    # and who is assigned what in each. None: asked per account.
    provisioned_to: dict[str, list[str]] | None = None
    assigned: dict[str, list[Assigned]] | None = None

    def principal(self, kind: Literal["GROUP", "USER"], ident: str) -> str:
        """`group:NAME` for an id; a principal deleted since is named by its id."""
        return self.principals.get(ident) or f"{kind.lower()}:id:{ident}"


class AccountAssignments(StrictModel):
    """What Identity Center says of one account: the sets provisioned there, and who is
    assigned which set."""

    provisioned: list[str] = []
    assignments: list[Assigned] = Field(default_factory=list)
    # Members of the groups assigned here that this account's process read first (each
    # group's members travel once, with one account, to the organization's judgement).
    members: dict[str, list[str]] = {}


def as_file(
    ic: IdentityCenterRead, assigned: dict[str, AccountAssignments], region: str | None
) -> dict[str, Any]:
    """The live instance as identity_center.yaml declares it (what `snapshot` writes): every
    set, every assignment (by principal and set, with its accounts), and the members of
    every group that holds one."""
    accounts: dict[tuple[str, str], list[str]] = {}
    for account, here in sorted(assigned.items()):
        for a in here.assignments:
            accounts.setdefault((a.principal, a.permission_set), []).append(account)
    holders = {p.split(":", 1)[1] for p, _ in accounts if p.startswith("group:")}
    members = {n: g.members for n, g in ic.groups.items() if g.members is not None}
    for here in assigned.values():
        members.update(here.members)
    doc: dict[str, Any] = {"instance": ic.instance, **({"region": region} if region else {})}
    doc["permission_sets"] = {n: as_baseline(p) for n, p in sorted(ic.permission_sets.items())}
    doc["groups"] = {n: {"members": members.get(n, [])} for n in sorted(holders)}
    doc["assignments"] = [
        {kind: name, "permission_set": s, "accounts": ids}
        for (principal, s), ids in sorted(accounts.items())
        for kind, name in [principal.split(":", 1)]
    ]
    return doc


# Every key of identity_center.yaml, to suggest the nearest one for a typo.
IC_FIELDS = {
    name
    for model in (IdentityCenterFile, PermissionSet, IdentityGroup, Assignment)
    for name in model.model_fields
}
