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
    seconds,
)
from iamdrift.baselines.models import AccountState, Role
from iamdrift.compare.diff import diff_entity
from iamdrift.compare.findings import Finding, Place, Severity, finding, sort_findings
from iamdrift.compare.meaning import equivalent, widens
from iamdrift.compare.policy import normalize

RESERVED_PATH = "/aws-reserved/sso.amazonaws.com/"
INLINE_NAME = "AwsSSOInlinePolicy"  # the inline policy's name on a provisioned role


def is_reserved(role: Role) -> bool:
    """A role Identity Center provisioned (judged against its set, not the account's file)."""
    return role.path.startswith(RESERVED_PATH)


def provisioned_role(state: AccountState, permission_set: str) -> tuple[str, Role] | None:
    """The `AWSReservedSSO_<set>_<hash>` role of a set in an account, if there is one."""
    pattern = re.compile(rf"AWSReservedSSO_{re.escape(permission_set)}_[0-9a-f]{{16}}")
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
        out.append(
            finding(
                Place(ic.account, "assignment", a.name, context),
                "existence",
                "missing",
                "medium",
                f"is declared but {a.principal} is not assigned {a.permission_set} here",
                expected=a.model_dump(),
            )
        )
    for name in ic.provisioned:
        content = ic.sets.get(name)
        if content is not None:
            out += _provisioning(ic, context, name, content, state)
    return sort_findings(out)


def role_of(content: PermissionSet, account: str) -> dict:
    """What Identity Center provisions for a set in an account, as comparable values."""
    local = f"arn:aws:iam::{account}:policy"
    boundary = content.permissions_boundary
    return {
        "managed_policies": sorted(
            [*content.managed_policies, *(local + r for r in content.customer_managed_policies)]
        ),
        "inline_policy": normalize(content.inline_policy) if content.inline_policy else None,
        "permissions_boundary": local + boundary
        if boundary and boundary.startswith("/")
        else boundary,
        "max_session_duration": seconds(content.session_duration),
    }


def _live_role(role: Role) -> dict:
    inline = role.inline_policies.get(INLINE_NAME)
    return {
        "managed_policies": sorted(role.managed_policies),
        "inline_policy": normalize(inline) if inline is not None else None,
        "permissions_boundary": role.permissions_boundary,
        "max_session_duration": role.max_session_duration,
    }


def _wider(want: dict, have: dict) -> bool:
    """Does the role let a session do more (or for longer) than its set says?"""
    return bool(
        set(have["managed_policies"]) - set(want["managed_policies"])
        or widens(want["inline_policy"], have["inline_policy"])
        or (want["permissions_boundary"] and have["permissions_boundary"] is None)
        or have["max_session_duration"] > want["max_session_duration"]
    )


def _provisioning(
    ic: AccountIdentityCenter, context: str, name: str, content: PermissionSet, state: AccountState
) -> list[Finding]:
    where = Place(ic.account, "permission_set", name, context)
    want = role_of(content, ic.account)
    found = provisioned_role(state, name)
    if found is None:
        return [
            finding(where, "provisioned", "missing", "medium",
                    f"is provisioned here but its role AWSReservedSSO_{name}_* is gone: "
                    "sign-in through it fails", want)
        ]  # fmt: skip
    role_name, role = found
    have = _live_role(role)
    extra = sorted(set(role.inline_policies) - {INLINE_NAME})
    same = (
        want["managed_policies"] == have["managed_policies"]
        and equivalent(want["inline_policy"], have["inline_policy"])
        and want["permissions_boundary"] == have["permissions_boundary"]
        and want["max_session_duration"] == have["max_session_duration"]
        and not extra
    )
    if same:
        return []
    wider = _wider(want, have) or bool(extra)
    if name in ic.outdated:
        return [
            finding(
                where, "outdated", "changed", "high" if wider else "medium",
                f"was changed but not provisioned here again: its role {role_name} still "
                f"grants the previous version{' (more than the set now does)' if wider else ''}"
                f"; provision it (aws sso-admin provision-permission-set)", want, have,
            )
        ]  # fmt: skip
    return [
        finding(
            where, "provisioned", "changed", "high" if wider else "low",
            f"differs from its role {role_name} here, which was changed outside Identity "
            f"Center{' and grants more' if wider else ''}", want, {**have, "extra": extra},
        )
    ]  # fmt: skip
