"""Identity Center compared with identity_center.yaml (pure): permission sets and groups once
for the organization; per account, who is assigned what there, and whether the role
Identity Center provisioned matches its set.

>>> from iamdrift.baselines.identity_center import Assignment
>>> expected_in(IdentityCenterFile(assignments=[Assignment(group="G", permission_set="S",
...     ous=["Root/Prod"])]), "222222222222", "DEMO", "Root/Prod/Web")
{Assigned(principal='group:G', permission_set='S')}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iamdrift.baselines.identity_center import (
    Assigned,
    IdentityCenterFile,
    IdentityCenterRead,
    PermissionSet,
)
from iamdrift.baselines.models import AccountState, Role
from iamdrift.compare.diff import diff_entity
from iamdrift.compare.findings import Finding, Place, Severity, finding, sort_findings
from iamdrift.compare.meaning import equivalent, widens
from iamdrift.compare.policy import normalize

RESERVED_PATH = "/aws-reserved/sso.amazonaws.com/"
INLINE_NAME = "AwsSSOInlinePolicy"  # the inline policy's name on a provisioned role
# The suffix of a role a plan would have Identity Center provision: AWS chooses it then.
UNKNOWN_SUFFIX = "*"


# A provisioned role's suffix changes when Identity Center makes it again ("a different,
# unique suffix", User Guide, "Referencing permission sets in resource policies, Amazon
# EKS, and AWS KMS"): what identifies it is its set and account, never the suffix.
_SUFFIX = re.compile(r"(AWSReservedSSO_[\w+=,.@-]+)_[0-9a-f]{16}")


def stable(arn_or_name: str) -> str:
    """A provisioned role's name or ARN with its suffix as `*` (no role name has one, so it
    cannot meet another role's); anything else as it is.

    >>> stable("arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef")
    'arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*'
    >>> stable("AWSReservedSSO_Admin_0123456789abcdef"), stable("MemberReadOnlyAccess")
    ('AWSReservedSSO_Admin_*', 'MemberReadOnlyAccess')
    """  # noqa: E501
    head, slash, name = arn_or_name.rpartition("/")
    if slash and RESERVED_PATH not in f"{head}/".split(":role", 1)[-1]:
        return arn_or_name
    found = _SUFFIX.fullmatch(name)
    return f"{head}{slash}{found.group(1)}_*" if found else arn_or_name


def is_reserved(role: Role) -> bool:
    """A role Identity Center provisioned (judged against its set, not the account's file)."""
    return role.path.startswith(RESERVED_PATH)


def provisioned_role(state: AccountState, permission_set: str) -> tuple[str, Role] | None:
    """The `AWSReservedSSO_<set>_<hash>` role of a set in an account, if there is one."""
    pattern = re.compile(rf"AWSReservedSSO_{re.escape(permission_set)}_([0-9a-f]{{16}}|\*)")
    for name, role in state.roles.items():
        if is_reserved(role) and pattern.fullmatch(name):
            return name, role
    return None


def ou_covers(ou: str, path: str) -> bool:
    """An OU covers itself and the OUs below it."""
    return path == ou or path.startswith(ou + "/")


def expected_in(file: IdentityCenterFile, account: str, name: str, ou: str | None) -> set[Assigned]:
    """The assignments identity_center.yaml declares in one account (by id, name or OU)."""
    return {
        Assigned(principal=a.principal, permission_set=a.permission_set)
        for a in file.assignments
        if account in a.accounts
        or name in a.accounts
        or (ou is not None and any(ou_covers(o, ou) for o in a.ous))
    }


def _org(management: str, kind: str, name: str) -> Place:
    return Place(management, kind, name, f"Identity Center of {management}")


def diff_organization(
    management: str, want: IdentityCenterFile, have: IdentityCenterRead
) -> list[Finding]:
    """Permission sets created, deleted, widened or narrowed; members of the declared groups
    added or removed (a group declared without `members` is not checked)."""
    out: list[Finding] = []
    for name in sorted(want.permission_sets.keys() | have.permission_sets.keys()):
        out += diff_entity(
            _org(management, "permission_set", name),
            "permission_set",
            want.permission_sets.get(name),
            have.permission_sets.get(name),
        )
    for name, group in sorted(want.groups.items()):
        if group.members is not None:  # members declared: exact, by the account diff's rules
            where = _org(management, "sso_group", name)
            out += diff_entity(where, "sso_group", group, have.groups.get(name))
    return sort_findings(out)


@dataclass
class AccountIdentityCenter:
    """What judging Identity Center in one account needs."""

    account: str
    label: str
    expected: set[Assigned]
    live: set[Assigned]
    provisioned: list[str]
    sets: dict[str, PermissionSet]
    outdated: set[str]  # sets whose latest version is not provisioned here
    partition: str = "aws"  # the instance's: customer managed policies are looked up in it


def diff_account_assignments(
    ic: AccountIdentityCenter, state: AccountState, admin_sets: set[str]
) -> list[Finding]:
    """Assignments added or removed here (an administrator set: critical), and provisioned
    roles that differ from their set (re-provisioning pending, or changed by hand)."""
    out: list[Finding] = []
    context = f"Account {ic.label}"
    held = {a.permission_set for a in ic.expected}
    for a in sorted(ic.live - ic.expected, key=lambda a: a.name):
        admin = a.permission_set in admin_sets
        severity: Severity = "critical" if admin else "high"
        why = (
            "an administrator permission set"
            if admin
            else "a new principal for a set assigned here"
            if a.permission_set in held
            else "a permission set"
        )
        out.append(
            finding(
                Place(ic.account, "assignment", a.name, context),
                "existence",
                "unexpected",
                severity,
                f"gives {a.principal} {why} ({a.permission_set}) in this account, which "
                "identity_center.yaml does not declare",
                actual=a.model_dump(),
                live=a.model_dump(),
            )
        )
    for a in sorted(ic.expected - ic.live, key=lambda a: a.name):
        content = ic.sets.get(a.permission_set)
        lacking = missing_policies(content, state) if content is not None else []
        why = f": Identity Center cannot assign it, {_lacks(lacking)}" if lacking else ""
        out.append(
            finding(
                Place(ic.account, "assignment", a.name, context),
                "existence",
                "missing",
                "medium",
                f"is declared but {a.principal} is not assigned {a.permission_set} here{why}",
                expected=a.model_dump(),
            )
        )
    for name in ic.provisioned:
        content = ic.sets.get(name)
        if content is not None:
            out += _provisioning(ic, context, name, content, state)
    return sort_findings(out)


def partition_of(arn: str) -> str:
    """`aws`, `aws-cn`, `aws-us-gov`: the partition an ARN is in.

    >>> partition_of("arn:aws-cn:sso:::instance/ssoins-0123456789abcdef")
    'aws-cn'
    """
    return arn.split(":")[1] if arn.count(":") >= 2 else "aws"


def role_of(content: PermissionSet, account: str, partition: str = "aws") -> dict:
    """What Identity Center provisions for a set in an account, as comparable values: its
    policies and boundary. Not the session's length: Identity Center "automatically creates
    IAM roles in each assigned account for each permission set, and configures these roles
    with a maximum session duration of 12 hours" (IAM Identity Center User Guide, "Set
    session duration"); the set's own duration is judged on the set."""
    local = f"arn:{partition}:iam::{account}:policy"
    boundary = content.permissions_boundary
    return {
        "managed_policies": sorted(
            [*content.managed_policies, *(local + r for r in content.customer_managed_policies)]
        ),
        "inline_policy": normalize(content.inline_policy) if content.inline_policy else None,
        "permissions_boundary": local + boundary
        if boundary and boundary.startswith("/")
        else boundary,
    }


def _live_role(role: Role) -> dict:
    inline = role.inline_policies.get(INLINE_NAME)
    return {
        "managed_policies": sorted(role.managed_policies),
        "inline_policy": normalize(inline) if inline is not None else None,
        "permissions_boundary": role.permissions_boundary,
    }


def _wider(want: dict, have: dict) -> bool:
    """Does the role let a session do more than its set says?"""
    return bool(
        set(have["managed_policies"]) - set(want["managed_policies"])
        or widens(want["inline_policy"], have["inline_policy"])
        or (want["permissions_boundary"] and have["permissions_boundary"] is None)
    )


def missing_policies(content: PermissionSet, state: AccountState) -> list[str]:
    """The customer managed policies (and boundary) a set references that this account lacks:
    "IAM Identity Center fails to assign the permission set if the policy doesn't exist in
    your member account" (IAM Identity Center User Guide, "Customer managed policies").

    >>> missing_policies(PermissionSet(customer_managed_policies=["/team/Reader"]), AccountState())
    ['/team/Reader']
    """
    have = {f"{p.path}{name}" for name, p in state.policies.items()}
    refs = [*content.customer_managed_policies]
    if content.permissions_boundary and content.permissions_boundary.startswith("/"):
        refs.append(content.permissions_boundary)
    return sorted({r for r in refs if r not in have})


def _lacks(refs: list[str]) -> str:
    return f"this account lacks the customer managed policy {', '.join(refs)} the set references"


def _provisioning(
    ic: AccountIdentityCenter, context: str, name: str, content: PermissionSet, state: AccountState
) -> list[Finding]:
    where = Place(ic.account, "permission_set", name, context)
    want = role_of(content, ic.account, ic.partition)
    found = provisioned_role(state, name)
    lacking = missing_policies(content, state)
    if lacking and name in ic.outdated:
        why = _lacks(lacking)
        return [
            finding(
                where,
                "outdated",
                "changed",
                "medium",
                f"could not be provisioned here again: {why}; the role keeps the previous "
                "version until the policy is created and the set provisioned again",
                want,
            )
        ]
    if found is None:
        return [
            finding(
                where,
                "provisioned",
                "missing",
                "medium",
                f"is provisioned here but its role AWSReservedSSO_{name}_* is gone: "
                "sign-in through it fails",
                want,
            )
        ]
    role_name, role = found
    have = _live_role(role)
    extra = sorted(set(role.inline_policies) - {INLINE_NAME})
    same = (
        want["managed_policies"] == have["managed_policies"]
        and equivalent(want["inline_policy"], have["inline_policy"])
        and want["permissions_boundary"] == have["permissions_boundary"]
        and not extra
    )
    if same:
        return []
    wider = _wider(want, have) or bool(extra)
    if name in ic.outdated:
        return [
            finding(
                where,
                "outdated",
                "changed",
                "high" if wider else "medium",
                f"was changed but not provisioned here again: its role {role_name} still "
                f"grants the previous version{' (more than the set now does)' if wider else ''}"
                f"; provision it (aws sso-admin provision-permission-set)",
                want,
                have,
            )
        ]
    return [
        finding(
            where,
            "provisioned",
            "changed",
            "high" if wider else "low",
            f"differs from its role {role_name} here, which was changed outside Identity "
            f"Center{' and grants more' if wider else ''}",
            want,
            {**have, "extra": extra},
        )
    ]
