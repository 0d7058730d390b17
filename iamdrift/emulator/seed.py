"""The seed's organization on the emulator: management with demo1 and userA, members DEMO
and AccountB, Identity Center with its groups, permission sets and assignments.
"""

from __future__ import annotations

import json

from iamdrift.emulator import sso as emulator_sso
from iamdrift.emulator.server import (
    ACCOUNT_B,
    ADMIN,
    ASSUME,
    DEMO,
    MANAGEMENT,
    READ_ONLY,
    Emulator,
    allow,
    pinned_account_ids,
    trust,
)


def build_seed_organization(emu: Emulator, ic_region: str = "us-east-1") -> dict[str, str]:
    """The seed's organization: management with demo1 and userA, members DEMO and AccountB;
    Identity Center enabled in `ic_region`."""
    emulator_sso.HOME["region"] = ic_region
    org = emu.client("organizations")
    org.create_organization(FeatureSet="ALL")
    members = {"DEMO": DEMO, "AccountB": ACCOUNT_B}
    with pinned_account_ids(list(members.values())):
        for name in members:
            org.create_account(AccountName=name, Email=f"{name.lower()}@example.com")

    iam = emu.iam()
    groups = {
        "CrossAccountReaders": (
            "AssumeMemberReadOnly",
            allow(ASSUME, f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess"),
        ),
        "SecurityAuditors": ("AssumeAnyRole", allow(ASSUME, "*")),
    }
    for group, (policy_name, document) in groups.items():
        iam.create_group(GroupName=group)
        iam.attach_group_policy(GroupName=group, PolicyArn=READ_ONLY)
        iam.put_group_policy(
            GroupName=group, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
    for user, group in (("demo1", "CrossAccountReaders"), ("userA", "SecurityAuditors")):
        iam.create_user(UserName=user)
        iam.add_user_to_group(UserName=user, GroupName=group)

    roles = {DEMO: ("MemberReadOnlyAccess", "demo1"), ACCOUNT_B: ("SecurityReadOnlyRole", "userA")}
    for account, (role, user) in roles.items():
        member_iam = emu.iam(account)
        # AWS attaches AdministratorAccess to the role Organizations creates; moto does not.
        member_iam.attach_role_policy(RoleName="OrganizationAccountAccessRole", PolicyArn=ADMIN)
        member_iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:user/{user}")),
        )
        member_iam.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    build_identity_center(emu, [DEMO, ACCOUNT_B])
    return {"Management": MANAGEMENT, **members}


def identity_center(emu: Emulator) -> tuple[str, str]:
    """(instance ARN, identity store id) of the organization's Identity Center."""
    found = emu.sso().list_instances()["Instances"][0]
    return found["InstanceArn"], found["IdentityStoreId"]


def ic_group(emu: Emulator, name: str, members: list[str] = ()) -> str:
    """Create an Identity Center group (and its users, as needed); its id."""
    _, store = identity_center(emu)
    ids = emu.sso("identitystore")
    group = ids.create_group(IdentityStoreId=store, DisplayName=name)["GroupId"]
    for user in members:
        try:
            uid = ids.create_user(
                IdentityStoreId=store,
                UserName=user,
                DisplayName=user,
                Name={"GivenName": user, "FamilyName": "Example"},
            )["UserId"]
        except ids.exceptions.ConflictException:
            uid = ids.get_user_id(
                IdentityStoreId=store,
                AlternateIdentifier={
                    "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": user}
                },
            )["UserId"]
        ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": uid})
    return group


def permission_set(emu: Emulator, name: str, managed: list[str], duration: str = "PT1H") -> str:
    """Create a permission set with these AWS managed policies; its ARN."""
    instance, _ = identity_center(emu)
    sso = emu.sso()
    arn = sso.create_permission_set(InstanceArn=instance, Name=name, SessionDuration=duration)[
        "PermissionSet"
    ]["PermissionSetArn"]
    for policy in managed:
        sso.attach_managed_policy_to_permission_set(
            InstanceArn=instance, PermissionSetArn=arn, ManagedPolicyArn=policy
        )
    return arn


def assign(emu: Emulator, set_arn: str, principal: str, accounts: list[str], kind="GROUP") -> None:
    """Assign a permission set to a group (or user) in these accounts (provisions it)."""
    instance, _ = identity_center(emu)
    sso = emu.sso()
    for account in accounts:
        sso.create_account_assignment(
            InstanceArn=instance,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=set_arn,
            PrincipalType=kind,
            PrincipalId=principal,
        )


def set_arn(emu: Emulator, name: str) -> str:
    """The ARN of the permission set named `name`."""
    instance, _ = identity_center(emu)
    sso = emu.sso()
    for arn in sso.list_permission_sets(InstanceArn=instance)["PermissionSets"]:
        found = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
        if found["PermissionSet"]["Name"] == name:
            return arn
    raise LookupError(name)


def group_id(emu: Emulator, name: str) -> str:
    """The id of the Identity Center group named `name`."""
    _, store = identity_center(emu)
    return emu.sso("identitystore").get_group_id(
        IdentityStoreId=store,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": name}
        },
    )["GroupId"]


def build_identity_center(emu: Emulator, members: list[str]) -> None:
    """SecurityAuditors read-only on every member; PlatformAdmins administrator on DEMO."""
    read_only = permission_set(emu, "SecurityAudit", [READ_ONLY])
    admin = permission_set(emu, "AdministratorAccess", [ADMIN], "PT8H")
    assign(emu, read_only, ic_group(emu, "SecurityAuditors", ["alice"]), members)
    assign(emu, admin, ic_group(emu, "PlatformAdmins", ["bob"]), [DEMO])
