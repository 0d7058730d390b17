"""`plan` predicts Identity Center and Organizations changes: for each kind of change, the
prediction's finding ids and access edges equal those of a run after the same change is
made through sso-admin / identitystore / organizations calls (as Terraform's provider and
CloudFormation make them: a set changed is provisioned to every account it is in)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from iamdrift.changes.identity_center import (
    AccountAssignment,
    GroupMembership,
    PermissionSetChange,
    PermissionSetPolicy,
    Ref,
)
from iamdrift.changes.read import read_changes
from iamdrift.compare.identity_center import stable
from iamdrift.emulator import (
    ACCOUNT_B,
    ADMIN,
    DEMO,
    MANAGEMENT,
    READ_ONLY,
    allow,
    group_id,
    identity_center,
    set_arn,
)
from tests.test_plan import _write, tf_change, tf_plan

DENY_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}],
}


def _user_id(emu, name: str) -> str:
    _, store = identity_center(emu)
    return emu.sso("identitystore").get_user_id(
        IdentityStoreId=store,
        AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": name}
        },
    )["UserId"]


def _provision(emu, name: str) -> None:
    """What the provider does after changing a set: provision it where it is."""
    instance, _ = identity_center(emu)
    emu.sso().provision_permission_set(
        InstanceArn=instance,
        PermissionSetArn=set_arn(emu, name),
        TargetType="ALL_PROVISIONED_ACCOUNTS",
    )


def _assignment(emu, group: str, permission_set: str, account: str) -> dict:
    instance, _ = identity_center(emu)
    return {
        "instance_arn": instance,
        "permission_set_arn": set_arn(emu, permission_set),
        "principal_id": group_id(emu, group),
        "principal_type": "GROUP",
        "target_id": account,
        "target_type": "AWS_ACCOUNT",
    }


def _change_set(*changes: dict) -> dict:
    return {
        "StackId": f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stack/sso/1",
        "ChangeSetId": "cs",
        "Changes": [{"Type": "Resource", "ResourceChange": c} for c in changes],
    }


def _cfn(action: str, logical: str, rtype: str, before=None, after=None, **extra) -> dict:
    out = {"Action": action, "LogicalResourceId": logical, "ResourceType": rtype, **extra}
    if before is not None:
        out["BeforeContext"] = json.dumps({"Properties": before})
    if after is not None:
        out["AfterContext"] = json.dumps({"Properties": after})
    return out


# --- Terraform ---------------------------------------------------------------------------


def _new_admins_plan(emu) -> dict:
    """A new group, with bob in it, given AdministratorAccess in ACCOUNT_B (where the set is
    not provisioned yet): by reference, as Terraform plans a group it creates."""
    _instance, store = identity_center(emu)
    return tf_plan(
        tf_change(
            "aws_identitystore_group.ops",
            "aws_identitystore_group",
            ["create"],
            None,
            {"identity_store_id": store, "display_name": "Ops"},
            {"group_id": True, "id": True},
        ),
        tf_change(
            "aws_identitystore_group_membership.bob",
            "aws_identitystore_group_membership",
            ["create"],
            None,
            {"identity_store_id": store, "member_id": _user_id(emu, "bob")},
            {"group_id": True, "membership_id": True, "id": True},
        ),
        tf_change(
            "aws_ssoadmin_account_assignment.ops",
            "aws_ssoadmin_account_assignment",
            ["create"],
            None,
            {
                **_assignment(emu, "PlatformAdmins", "AdministratorAccess", ACCOUNT_B),
                "principal_id": None,
            },
            {"principal_id": True, "id": True},
        ),
        expressions={
            "aws_identitystore_group_membership.bob": {
                "group_id": {
                    "references": [
                        "aws_identitystore_group.ops.group_id",
                        "aws_identitystore_group.ops",
                    ]
                }
            },
            "aws_ssoadmin_account_assignment.ops": {
                "principal_id": {
                    "references": [
                        "aws_identitystore_group.ops.group_id",
                        "aws_identitystore_group.ops",
                    ]
                }
            },
        },
    )


def _new_admins(emu) -> None:
    instance, store = identity_center(emu)
    ids = emu.sso("identitystore")
    group = ids.create_group(IdentityStoreId=store, DisplayName="Ops")["GroupId"]
    ids.create_group_membership(
        IdentityStoreId=store, GroupId=group, MemberId={"UserId": _user_id(emu, "bob")}
    )
    emu.sso().create_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT_B,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=set_arn(emu, "AdministratorAccess"),
        PrincipalType="GROUP",
        PrincipalId=group,
    )


def _set_policies_plan(emu) -> dict:
    """SecurityAudit gains an AWS managed policy and an inline policy, its session is made
    longer; AdministratorAccess gets a boundary (each provisioned where the set is)."""
    instance, _ = identity_center(emu)
    audit, admin = set_arn(emu, "SecurityAudit"), set_arn(emu, "AdministratorAccess")
    base = {"instance_arn": instance, "permission_set_arn": audit}
    return tf_plan(
        tf_change(
            "aws_ssoadmin_managed_policy_attachment.audit_admin",
            "aws_ssoadmin_managed_policy_attachment",
            ["create"],
            None,
            {**base, "managed_policy_arn": ADMIN},
            {"id": True, "managed_policy_name": True},
        ),
        tf_change(
            "aws_ssoadmin_permission_set_inline_policy.audit",
            "aws_ssoadmin_permission_set_inline_policy",
            ["create"],
            None,
            {**base, "inline_policy": json.dumps(allow("sts:AssumeRole", "*"))},
            {"id": True},
        ),
        tf_change(
            "aws_ssoadmin_permission_set.audit",
            "aws_ssoadmin_permission_set",
            ["update"],
            {
                "name": "SecurityAudit",
                "instance_arn": instance,
                "arn": audit,
                "session_duration": "PT1H",
            },
            {
                "name": "SecurityAudit",
                "instance_arn": instance,
                "arn": audit,
                "session_duration": "PT2H",
            },
        ),
        tf_change(
            "aws_ssoadmin_permissions_boundary_attachment.admin",
            "aws_ssoadmin_permissions_boundary_attachment",
            ["create"],
            None,
            {
                "instance_arn": instance,
                "permission_set_arn": admin,
                "permissions_boundary": [
                    {"managed_policy_arn": READ_ONLY, "customer_managed_policy_reference": []}
                ],
            },
            {"id": True},
        ),
    )


def _set_policies(emu) -> None:
    instance, _ = identity_center(emu)
    sso = emu.sso()
    audit, admin = set_arn(emu, "SecurityAudit"), set_arn(emu, "AdministratorAccess")
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=audit, ManagedPolicyArn=ADMIN
    )
    sso.put_inline_policy_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=audit,
        InlinePolicy=json.dumps(allow("sts:AssumeRole", "*")),
    )
    sso.update_permission_set(InstanceArn=instance, PermissionSetArn=audit, SessionDuration="PT2H")
    sso.put_permissions_boundary_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=admin,
        PermissionsBoundary={"ManagedPolicyArn": READ_ONLY},
    )
    _provision(emu, "SecurityAudit")
    _provision(emu, "AdministratorAccess")


def _customer_policy_plan(emu) -> dict:
    """A customer managed policy no member has: provisioning fails, the roles keep the
    previous version (outdated)."""
    instance, _ = identity_center(emu)
    return tf_plan(
        tf_change(
            "aws_ssoadmin_customer_managed_policy_attachment.audit",
            "aws_ssoadmin_customer_managed_policy_attachment",
            ["create"],
            None,
            {
                "instance_arn": instance,
                "permission_set_arn": set_arn(emu, "SecurityAudit"),
                "customer_managed_policy_reference": [{"name": "TeamReader", "path": "/"}],
            },
            {"id": True},
        )
    )


def _customer_policy(emu) -> None:
    instance, _ = identity_center(emu)
    emu.sso().attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=set_arn(emu, "SecurityAudit"),
        CustomerManagedPolicyReference={"Name": "TeamReader", "Path": "/"},
    )
    _provision(emu, "SecurityAudit")


def _unassign_plan(emu) -> dict:
    """SecurityAuditors lose SecurityAudit in ACCOUNT_B (its last assignment there: the
    role goes), and alice joins PlatformAdmins (members declared: exact)."""
    _, store = identity_center(emu)
    return tf_plan(
        tf_change(
            "aws_ssoadmin_account_assignment.audit_b",
            "aws_ssoadmin_account_assignment",
            ["delete"],
            _assignment(emu, "SecurityAuditors", "SecurityAudit", ACCOUNT_B),
            None,
        ),
        tf_change(
            "aws_identitystore_group_membership.alice",
            "aws_identitystore_group_membership",
            ["create"],
            None,
            {
                "identity_store_id": store,
                "group_id": group_id(emu, "PlatformAdmins"),
                "member_id": _user_id(emu, "alice"),
            },
            {"membership_id": True, "id": True},
        ),
    )


def _unassign(emu) -> None:
    instance, store = identity_center(emu)
    emu.sso().delete_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT_B,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=set_arn(emu, "SecurityAudit"),
        PrincipalType="GROUP",
        PrincipalId=group_id(emu, "SecurityAuditors"),
    )
    emu.sso("identitystore").create_group_membership(
        IdentityStoreId=store,
        GroupId=group_id(emu, "PlatformAdmins"),
        MemberId={"UserId": _user_id(emu, "alice")},
    )


def _deletes_plan(emu) -> dict:
    """AdministratorAccess deleted with its assignment (its role goes from DEMO), bob leaves
    PlatformAdmins, SecurityAudit loses ReadOnlyAccess (provisioned again where it is), and
    a new user carol joins SecurityAuditors (by reference)."""
    instance, store = identity_center(emu)
    admin = set_arn(emu, "AdministratorAccess")
    audit = {"instance_arn": instance, "permission_set_arn": set_arn(emu, "SecurityAudit")}
    return tf_plan(
        tf_change(
            "aws_ssoadmin_account_assignment.admins",
            "aws_ssoadmin_account_assignment",
            ["delete"],
            _assignment(emu, "PlatformAdmins", "AdministratorAccess", DEMO),
            None,
        ),
        tf_change(
            "aws_ssoadmin_managed_policy_attachment.admin",
            "aws_ssoadmin_managed_policy_attachment",
            ["delete"],
            {"instance_arn": instance, "permission_set_arn": admin, "managed_policy_arn": ADMIN},
            None,
        ),
        tf_change(
            "aws_ssoadmin_permission_set.admin",
            "aws_ssoadmin_permission_set",
            ["delete"],
            {"name": "AdministratorAccess", "arn": admin, "session_duration": "PT8H"},
            None,
        ),
        tf_change(
            "aws_ssoadmin_managed_policy_attachment.audit",
            "aws_ssoadmin_managed_policy_attachment",
            ["delete"],
            {**audit, "managed_policy_arn": READ_ONLY},
            None,
        ),
        tf_change(
            "aws_identitystore_group_membership.bob",
            "aws_identitystore_group_membership",
            ["delete"],
            {"group_id": group_id(emu, "PlatformAdmins"), "member_id": _user_id(emu, "bob")},
            None,
        ),
        tf_change(
            "aws_identitystore_user.carol",
            "aws_identitystore_user",
            ["create"],
            None,
            {"identity_store_id": store, "user_name": "carol", "display_name": "carol"},
            {"user_id": True, "id": True},
        ),
        tf_change(
            "aws_identitystore_group_membership.carol",
            "aws_identitystore_group_membership",
            ["create"],
            None,
            {"identity_store_id": store, "group_id": group_id(emu, "SecurityAuditors")},
            {"member_id": True, "membership_id": True, "id": True},
        ),
        expressions={
            "aws_identitystore_group_membership.carol": {
                "member_id": {"references": ["aws_identitystore_user.carol.user_id"]}
            }
        },
    )


def _deletes(emu) -> None:
    instance, store = identity_center(emu)
    sso, ids = emu.sso(), emu.sso("identitystore")
    admin, audit = set_arn(emu, "AdministratorAccess"), set_arn(emu, "SecurityAudit")
    sso.delete_account_assignment(
        InstanceArn=instance,
        TargetId=DEMO,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=admin,
        PrincipalType="GROUP",
        PrincipalId=group_id(emu, "PlatformAdmins"),
    )
    sso.detach_managed_policy_from_permission_set(
        InstanceArn=instance, PermissionSetArn=admin, ManagedPolicyArn=ADMIN
    )
    sso.delete_permission_set(InstanceArn=instance, PermissionSetArn=admin)
    sso.detach_managed_policy_from_permission_set(
        InstanceArn=instance, PermissionSetArn=audit, ManagedPolicyArn=READ_ONLY
    )
    _provision(emu, "SecurityAudit")
    admins, bob = group_id(emu, "PlatformAdmins"), _user_id(emu, "bob")
    membership = ids.get_group_membership_id(
        IdentityStoreId=store, GroupId=admins, MemberId={"UserId": bob}
    )["MembershipId"]
    ids.delete_group_membership(IdentityStoreId=store, MembershipId=membership)
    carol = ids.create_user(
        IdentityStoreId=store,
        UserName="carol",
        DisplayName="carol",
        Name={"GivenName": "carol", "FamilyName": "Example"},
    )["UserId"]
    ids.create_group_membership(
        IdentityStoreId=store,
        GroupId=group_id(emu, "SecurityAuditors"),
        MemberId={"UserId": carol},
    )


# --- CloudFormation ----------------------------------------------------------------------


def _cfn_sets_plan(emu) -> dict:
    """A new set (not assigned), SecurityAudit's managed policies replaced, and
    SecurityAuditors given AdministratorAccess in ACCOUNT_B."""
    instance, _ = identity_center(emu)
    return _change_set(
        _cfn(
            "Add",
            "Ops",
            "AWS::SSO::PermissionSet",
            after={
                "InstanceArn": instance,
                "Name": "Ops",
                "SessionDuration": "PT4H",
                "ManagedPolicies": [READ_ONLY],
            },
        ),
        _cfn(
            "Modify",
            "Audit",
            "AWS::SSO::PermissionSet",
            before={
                "InstanceArn": instance,
                "Name": "SecurityAudit",
                "SessionDuration": "PT1H",
                "ManagedPolicies": [READ_ONLY],
            },
            after={
                "InstanceArn": instance,
                "Name": "SecurityAudit",
                "SessionDuration": "PT1H",
                "ManagedPolicies": [ADMIN],
            },
            PhysicalResourceId=set_arn(emu, "SecurityAudit"),
            Replacement="False",
        ),
        _cfn(
            "Add",
            "AuditorsAdmin",
            "AWS::SSO::Assignment",
            after={
                "InstanceArn": instance,
                "PermissionSetArn": set_arn(emu, "AdministratorAccess"),
                "PrincipalId": group_id(emu, "SecurityAuditors"),
                "PrincipalType": "GROUP",
                "TargetId": ACCOUNT_B,
                "TargetType": "AWS_ACCOUNT",
            },
        ),
    )


def _cfn_sets(emu) -> None:
    instance, _ = identity_center(emu)
    sso = emu.sso()
    ops = sso.create_permission_set(InstanceArn=instance, Name="Ops", SessionDuration="PT4H")
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=ops["PermissionSet"]["PermissionSetArn"],
        ManagedPolicyArn=READ_ONLY,
    )
    audit = set_arn(emu, "SecurityAudit")
    sso.detach_managed_policy_from_permission_set(
        InstanceArn=instance, PermissionSetArn=audit, ManagedPolicyArn=READ_ONLY
    )
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance, PermissionSetArn=audit, ManagedPolicyArn=ADMIN
    )
    _provision(emu, "SecurityAudit")
    sso.create_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT_B,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=set_arn(emu, "AdministratorAccess"),
        PrincipalType="GROUP",
        PrincipalId=group_id(emu, "SecurityAuditors"),
    )


def _cfn_scp_plan(emu) -> dict:
    """A service control policy denying IAM, attached to DEMO."""
    return {
        "StackId": f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stack/org/1",
        "ChangeSetId": "cs",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": _cfn(
                    "Add",
                    "DenyIam",
                    "AWS::Organizations::Policy",
                    after={
                        "Name": "DenyIam",
                        "Type": "SERVICE_CONTROL_POLICY",
                        "Content": DENY_IAM,
                        "TargetIds": [DEMO],
                    },
                ),
            }
        ],
    }


def _cfn_scp(emu) -> None:
    org = emu.client("organizations")
    policy = org.create_policy(
        Name="DenyIam", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(DENY_IAM)
    )
    org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=DEMO)


@dataclass
class Case:
    plan: Callable[[object], dict]
    apply: Callable[[object], None]
    drifts: bool = True


CASES = {
    "terraform: a new group given an administrator set": Case(_new_admins_plan, _new_admins),
    "terraform: a set's policies, session and boundary": Case(_set_policies_plan, _set_policies),
    "terraform: a customer managed policy the accounts lack": Case(
        _customer_policy_plan, _customer_policy
    ),
    "terraform: an assignment deleted, a member added": Case(_unassign_plan, _unassign),
    "terraform: a set, an assignment, a policy and a member deleted": Case(_deletes_plan, _deletes),
    "change set: sets and an assignment": Case(_cfn_sets_plan, _cfn_sets),
    "change set: a service control policy": Case(_cfn_scp_plan, _cfn_scp),
}


def _edges(rows: list[dict]) -> set[tuple[str, str]]:
    """(principal, role) with a provisioned role's suffix as `*`: AWS chooses it on apply."""
    live = ("expected", "unexpected", "conditions missing")
    return {
        (stable(a["principal"]), stable(a["role"]))
        for a in rows
        if a.get("status", "expected") in live
    }


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES)
def test_prediction_equals_reality(world, case):
    c = CASES[case]
    before = world.cli("run")
    assert before.code == 0, before.stdout[-2000:]
    plan_file = _write(world.tmp, c.plan(world.emu))
    out = world.tmp / "plan-out.json"
    reports = ["--report-dir", str(world.tmp / "reports")]
    predicted = world.cli("plan", plan_file, "--json", str(out), *reports)
    assert predicted.code == (1 if c.drifts else 0), predicted.stdout + predicted.stderr
    plan = json.loads(out.read_text())
    assert not any("unknown:" in f["id"] for f in plan["findings"]), plan["findings"]
    c.apply(world.emu)
    after = world.cli("run")
    assert after.code == (1 if c.drifts else 0), after.stdout[-3000:]
    ids = {f["id"] for f in after.summary["findings"]}
    assert {f["id"] for f in plan["findings"]} == ids, predicted.stdout
    assert _edges(plan["access"]) == _edges(after.summary["access"])
    assert _edges(plan["plan"]["access_gained"]) == _edges(after.summary["access"]) - _edges(
        before.summary["access"]
    )
    assert _edges(plan["plan"]["access_lost"]) == _edges(before.summary["access"]) - _edges(
        after.summary["access"]
    )


SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"


def _attach_plan(emu, policy: str) -> dict:
    instance, _ = identity_center(emu)
    return tf_plan(
        tf_change(
            "aws_ssoadmin_managed_policy_attachment.audit",
            "aws_ssoadmin_managed_policy_attachment",
            ["create"],
            None,
            {
                "instance_arn": instance,
                "permission_set_arn": set_arn(emu, "SecurityAudit"),
                "managed_policy_arn": policy,
            },
            {"id": True},
        )
    )


@pytest.mark.e2e
def test_a_plan_touching_only_identity_center_passes_when_it_matches(world):
    """identity_center.yaml already declares the policy the plan attaches: exit 0 (the
    drift it ends is resolved); a policy it does not declare: exit 1 naming the set's
    finding; never unknown."""
    baselines = world.baselines_copy()
    path = baselines / "identity_center.yaml"
    path.write_text(
        path.read_text().replace(
            "    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]",
            f"    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess, {SECURITY_AUDIT}]",
        )
    )
    assert world.cli("run", "--baselines", str(baselines)).code == 1  # the set lacks it
    args = ["--baselines", str(baselines), "--report-dir", str(world.tmp / "reports")]
    matching = world.cli("plan", _write(world.tmp, _attach_plan(world.emu, SECURITY_AUDIT)), *args)
    assert matching.code == 0, matching.stdout + matching.stderr
    assert "unknown:" not in matching.stdout
    shipped = ["--report-dir", str(world.tmp / "shipped")]  # identity_center.yaml as shipped
    other = world.cli(
        "plan", _write(world.tmp, _attach_plan(world.emu, ADMIN), "p2.json"), *shipped
    )
    assert other.code == 1 and "unknown:" not in other.stdout, other.stdout
    assert f"{MANAGEMENT}/permission_set/SecurityAudit/" in other.stdout


# --- reading, without AWS ----------------------------------------------------------------


def test_terraform_identity_center_resources_read_by_reference(tmp_path):
    plan = tf_plan(
        tf_change(
            "aws_ssoadmin_permission_set.ops",
            "aws_ssoadmin_permission_set",
            ["create"],
            None,
            {"name": "Ops", "session_duration": "PT2H"},
            {"arn": True},
        ),
        tf_change(
            "aws_ssoadmin_permission_set_inline_policy.ops",
            "aws_ssoadmin_permission_set_inline_policy",
            ["create"],
            None,
            {"inline_policy": json.dumps(allow("s3:*", "*"))},
            {"permission_set_arn": True},
        ),
        tf_change(
            "aws_ssoadmin_account_assignment.ops",
            "aws_ssoadmin_account_assignment",
            ["create"],
            None,
            {"principal_id": "g-1", "principal_type": "GROUP", "target_id": DEMO},
            {"permission_set_arn": True},
        ),
        tf_change(
            "aws_identitystore_group_membership.m",
            "aws_identitystore_group_membership",
            ["delete"],
            {"group_id": "g-1", "member_id": "u-1"},
            None,
        ),
        expressions={
            a: {"permission_set_arn": {"references": ["aws_ssoadmin_permission_set.ops.arn"]}}
            for a in (
                "aws_ssoadmin_permission_set_inline_policy.ops",
                "aws_ssoadmin_account_assignment.ops",
            )
        },
    )
    changes, _ignored = read_changes([_write(tmp_path, plan)], {}, None)
    ops = Ref(name="Ops")
    assert changes["organization"].effects == [
        PermissionSetChange(ops, {"session_duration": "PT2H"}, "aws_ssoadmin_permission_set.ops"),
        PermissionSetPolicy(
            ops,
            "inline_policy",
            allow("s3:*", "*"),
            True,
            "aws_ssoadmin_permission_set_inline_policy.ops",
        ),
        AccountAssignment(
            "GROUP", Ref(id="g-1"), ops, DEMO, True, "aws_ssoadmin_account_assignment.ops"
        ),
        GroupMembership(
            Ref(id="g-1"), Ref(id="u-1"), False, "aws_identitystore_group_membership.m"
        ),
    ]


@pytest.mark.parametrize(
    "rtype, after, unknown, attribute",
    [
        (
            "aws_ssoadmin_account_assignment",
            {"principal_type": "GROUP", "principal_id": "g", "target_id": DEMO},
            {"permission_set_arn": True},
            "permission_set_arn",
        ),
        (
            "aws_ssoadmin_account_assignment",
            {"principal_type": "GROUP", "permission_set_arn": "arn:p", "principal_id": "g"},
            {"target_id": True},
            "target_id",
        ),
        ("aws_identitystore_group_membership", {"group_id": "g"}, {"member_id": True}, "member_id"),
        (
            "aws_ssoadmin_permission_set_inline_policy",
            {"permission_set_arn": "arn:p"},
            {"inline_policy": True},
            "inline_policy",
        ),
    ],
)
def test_a_value_known_only_after_apply_is_unknown(tmp_path, rtype, after, unknown, attribute):
    plan = tf_plan(tf_change(f"{rtype}.x", rtype, ["create"], None, after, unknown))
    changes, _ = read_changes([_write(tmp_path, plan)], {}, None)
    (effect,) = changes["organization"].effects
    assert (effect.attribute, effect.address) == (attribute, f"{rtype}.x")


def test_change_set_organizations_policy_and_account():
    from iamdrift.changes.cloudformation import read_change_set
    from iamdrift.changes.organization import Parent, Scp, ScpTarget

    data = _change_set(
        _cfn(
            "Modify",
            "Deny",
            "AWS::Organizations::Policy",
            before={"Name": "Deny", "Content": DENY_IAM, "TargetIds": [DEMO]},
            after={"Name": "Deny", "Content": DENY_IAM, "TargetIds": [ACCOUNT_B]},
        ),
        _cfn(
            "Modify",
            "B",
            "AWS::Organizations::Account",
            before={"ParentIds": ["r-1"]},
            after={"ParentIds": ["ou-1"]},
            PhysicalResourceId=ACCOUNT_B,
        ),
        _cfn(
            "Add",
            "New",
            "AWS::Organizations::Account",
            after={"AccountName": "new", "Email": "a@b.c"},
        ),
    )
    changes, _ = read_change_set(data)
    effects = changes["organization"].effects
    assert effects[:3] == [
        ScpTarget("Deny", DEMO, False),
        ScpTarget("Deny", ACCOUNT_B, True),
        Parent(ACCOUNT_B, "ou-1"),
    ]
    assert effects[3].attribute == "id" and not any(isinstance(e, Scp) for e in effects)


@pytest.mark.e2e
def test_the_comment_shows_whom_a_widened_trust_admits(world):
    """Rendered as CommonMark (raw HTML allowed, as GitHub does): the finding's folded
    details name the principal the trust would admit, the diff and the accept command;
    nothing a plan holds becomes markup."""
    from markdown_it import MarkdownIt

    from tests.test_plan import CASES as IAM_CASES

    plan_file = _write(world.tmp, IAM_CASES["trust widened to an account"].plan())
    md = world.tmp / "comment.md"
    out = world.cli("plan", plan_file, "--markdown", str(md), "--report-dir", str(world.tmp / "r"))
    assert out.code == 1, out.stdout + out.stderr
    html = MarkdownIt("commonmark").enable("table").render(md.read_text())
    (world.tmp / "comment.html").write_text(html)
    details = html.split(f"{DEMO}/role/MemberReadOnlyAccess/trust_policy", 1)[1]
    details = details.split("</details>", 1)[0]
    assert "Would admit: <code>arn:aws:iam::123456789012:root</code>" in details, details
    assert "<pre>" in details and "+" in details and "--accept" in details
