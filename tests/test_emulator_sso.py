"""The emulator's Identity Center against AWS's documentation: one contract test per
documented behaviour the emulator adds to moto (iamdrift/emulator/sso.py cites each)."""

from __future__ import annotations

import json

import pytest

from iamdrift.emulator import (
    ACCOUNT_B,
    DEMO,
    MANAGEMENT,
    READ_ONLY,
    allow,
    assign,
    group_id,
    identity_center,
    permission_set,
    set_arn,
)

pytestmark = pytest.mark.e2e


def _roles(emu, account: str, prefix: str) -> list[dict]:
    return [
        r
        for r in emu.iam(account).list_roles(PathPrefix="/aws-reserved/")["Roles"]
        if r["RoleName"].startswith(prefix)
    ]


def _customer_set(emu, name: str, policy: str) -> str:
    arn = permission_set(emu, name, [])
    instance, _ = identity_center(emu)
    emu.sso().attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=arn,
        CustomerManagedPolicyReference={"Name": policy, "Path": "/team/"},
    )
    return arn


def test_roles_last_twelve_hours_whatever_the_sets_session(world):
    """ "...configures these roles with a maximum session duration of 12 hours" (User
    Guide, "Set session duration"): the set says 1 hour, the role 12."""
    for role in _roles(world.emu, DEMO, "AWSReservedSSO_"):
        assert role["MaxSessionDuration"] == 43200
    described = world.emu.sso().describe_permission_set(
        InstanceArn=identity_center(world.emu)[0],
        PermissionSetArn=set_arn(world.emu, "SecurityAudit"),
    )["PermissionSet"]
    assert described["SessionDuration"] == "PT1H"


def test_a_role_made_again_has_a_new_suffix(world):
    """ "...a different, unique suffix" when the role is made again (User Guide,
    "Referencing permission sets in resource policies")."""
    emu, instance = world.emu, identity_center(world.emu)[0]
    arn, group = set_arn(emu, "SecurityAudit"), group_id(emu, "SecurityAuditors")
    [before] = _roles(emu, ACCOUNT_B, "AWSReservedSSO_SecurityAudit_")
    emu.sso().delete_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT_B,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType="GROUP",
        PrincipalId=group,
    )
    assert _roles(emu, ACCOUNT_B, "AWSReservedSSO_SecurityAudit_") == []  # the last one went
    assign(emu, arn, group, [ACCOUNT_B])
    [after] = _roles(emu, ACCOUNT_B, "AWSReservedSSO_SecurityAudit_")
    assert after["RoleName"] != before["RoleName"]


def test_assignment_fails_where_the_customer_managed_policy_is_missing(world):
    """ "IAM Identity Center fails to assign the permission set if the policy doesn't exist
    in your member account" (User Guide, "Customer managed policies")."""
    emu, instance = world.emu, identity_center(world.emu)[0]
    emu.iam(DEMO).create_policy(
        PolicyName="Reader", Path="/team/", PolicyDocument=json.dumps(allow("s3:GetObject", "*"))
    )
    arn, group = _customer_set(emu, "Scoped", "Reader"), group_id(emu, "SecurityAuditors")
    answers = {}
    for account in (DEMO, ACCOUNT_B):
        answers[account] = emu.sso().create_account_assignment(
            InstanceArn=instance,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=arn,
            PrincipalType="GROUP",
            PrincipalId=group,
        )["AccountAssignmentCreationStatus"]
    assert answers[DEMO]["Status"] == "SUCCEEDED"
    assert answers[ACCOUNT_B]["Status"] == "FAILED"
    assert "/team/Reader" in answers[ACCOUNT_B]["FailureReason"]
    [role] = _roles(emu, DEMO, "AWSReservedSSO_Scoped_")
    attached = emu.iam(DEMO).list_attached_role_policies(RoleName=role["RoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [
        f"arn:aws:iam::{DEMO}:policy/team/Reader"
    ]
    assert _roles(emu, ACCOUNT_B, "AWSReservedSSO_Scoped_") == []
    listed = emu.sso().list_account_assignments(
        InstanceArn=instance, AccountId=ACCOUNT_B, PermissionSetArn=arn
    )["AccountAssignments"]
    assert listed == []


def test_a_changed_set_keeps_the_old_version_until_provisioned_and_answers_per_account(world):
    """Changing a set leaves accounts on the old version until ProvisionPermissionSet
    (API Reference, CreateAccountAssignment: "the corresponding IAM policies attached to
    roles in your accounts will not be updated automatically"); an account lacking a
    customer managed policy stays on it, and the status lists it per account."""
    emu, instance = world.emu, identity_center(world.emu)[0]
    sso, arn = emu.sso(), set_arn(emu, "SecurityAudit")
    emu.iam(DEMO).create_policy(
        PolicyName="Extra", Path="/team/", PolicyDocument=json.dumps(allow("s3:GetObject", "*"))
    )
    sso.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=arn,
        CustomerManagedPolicyReference={"Name": "Extra", "Path": "/team/"},
    )

    def stale() -> list[str]:
        return sso.list_accounts_for_provisioned_permission_set(
            InstanceArn=instance,
            PermissionSetArn=arn,
            ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED",
        )["AccountIds"]

    assert stale() == [DEMO, ACCOUNT_B]
    done = sso.provision_permission_set(
        InstanceArn=instance, PermissionSetArn=arn, TargetType="ALL_PROVISIONED_ACCOUNTS"
    )["PermissionSetProvisioningStatus"]
    assert done["Status"] == "FAILED" and ACCOUNT_B in done["FailureReason"]
    assert stale() == [ACCOUNT_B]
    [role] = _roles(emu, ACCOUNT_B, "AWSReservedSSO_SecurityAudit_")
    attached = emu.iam(ACCOUNT_B).list_attached_role_policies(RoleName=role["RoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [READ_ONLY]
    admin = set_arn(emu, "AdministratorAccess")
    for account, sets in ((DEMO, {arn, admin}), (ACCOUNT_B, {arn}), (MANAGEMENT, set())):
        got = sso.list_permission_sets_provisioned_to_account(
            InstanceArn=instance, AccountId=account
        )["PermissionSets"]
        assert set(got) == sets


def test_the_instance_answers_in_its_region_only(world):
    """One instance for the organization ("You can create only one instance per account and
    across all AWS Regions", CloudFormation AWS::SSO::Instance); moto makes one in every
    region, the emulator answers in the instance's."""
    assert world.emu.sso().list_instances()["Instances"]
    other = world.emu.client("sso-admin", region="eu-west-1")
    assert other.list_instances()["Instances"] == []
