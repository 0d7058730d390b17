"""`plan`: a Terraform plan or CloudFormation change set judged before apply. The acceptance
is that prediction equals reality: each change is written as a plan, checked with `plan`,
then applied to the emulator with boto3 and checked with `run`: the same finding ids and
the same access edges."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from iamdrift.changes.effects import Attached, Entity, Inline, Member, Unknown
from iamdrift.changes.organization import Scp, ScpTarget
from iamdrift.changes.read import read_changes
from iamdrift.changes.references import PlanError
from iamdrift.emulator import ACCOUNT_B, ADMIN, DEMO, MANAGEMENT, READ_ONLY, allow, trust

ASSUME = "sts:AssumeRole"
MEMBER_READ = f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess"


def tf_change(
    address: str,
    rtype: str,
    actions: list[str],
    before: dict | None,
    after: dict | None,
    unknown: dict | None = None,
) -> dict:
    """One resource_changes entry, as `terraform show -json` writes it."""
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": address.rsplit(".", 1)[-1].split("[")[0],
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": unknown or {},
            "before_sensitive": {},
            "after_sensitive": {},
        },
    }


def tf_plan(*changes: dict, expressions: dict | None = None, provider: str = "aws") -> dict:
    resources = [
        {
            "address": _config_address(c["address"]),
            "mode": "managed",
            "type": c["type"],
            "name": c["name"],
            "provider_config_key": provider,
            "expressions": (expressions or {}).get(c["address"], {}),
        }
        for c in changes
    ]
    root: dict = {"resources": [r for r in resources if not r["address"].startswith("module.")]}
    modules = [r for r in resources if r["address"].startswith("module.")]
    if modules:
        name = modules[0]["address"].split(".")[1]
        inner = [{**r, "address": r["address"].split(".", 2)[2]} for r in modules]
        root["module_calls"] = {name: {"source": "./iam", "module": {"resources": inner}}}
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "resource_changes": list(changes),
        "configuration": {"provider_config": {"aws": {"name": "aws"}}, "root_module": root},
    }


def _config_address(address: str) -> str:
    import re

    return re.sub(r"\[[^\]]*\]", "", address)


def _role(name: str, account: str, doc: dict, **extra) -> dict:
    return {
        "name": name,
        "path": "/",
        "arn": f"arn:aws:iam::{account}:role/{name}",
        "assume_role_policy": json.dumps(doc),
        "max_session_duration": 3600,
        "permissions_boundary": None,
        **extra,
    }


def _write(tmp: Path, plan: dict, name: str = "plan.json") -> str:
    path = tmp / name
    path.write_text(json.dumps(plan))
    return str(path)


# --- reading plans (pure) ---------------------------------------------------------------

READS = {
    "trust widened (update)": (
        tf_plan(
            tf_change(
                "aws_iam_role.r",
                "aws_iam_role",
                ["update"],
                _role("R", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/a")),
                _role("R", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/b")),
            )
        ),
        {},
        None,
        {DEMO: [Entity]},
    ),
    "a new role, its ARN unknown: the name says it all": (
        tf_plan(
            tf_change(
                "aws_iam_role.r",
                "aws_iam_role",
                ["create"],
                None,
                {
                    k: v
                    for k, v in _role("N", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/a")).items()
                    if k != "arn"
                },
                {"arn": True, "id": True},
            )
        ),
        {},
        DEMO,
        {DEMO: [Entity]},
    ),
    "an attachment to a role created in the same plan, by reference": (
        tf_plan(
            tf_change(
                "aws_iam_role.r",
                "aws_iam_role",
                ["create"],
                None,
                {
                    "name": "N",
                    "path": "/",
                    "assume_role_policy": json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:user/a")),
                },
                {"arn": True, "id": True},
            ),
            tf_change(
                "aws_iam_role_policy_attachment.a",
                "aws_iam_role_policy_attachment",
                ["create"],
                None,
                {"policy_arn": ADMIN},
                {"role": True},
            ),
            expressions={
                "aws_iam_role_policy_attachment.a": {
                    "role": {"references": ["aws_iam_role.r.id", "aws_iam_role.r"]}
                }
            },
        ),
        {},
        DEMO,
        {DEMO: [Entity, Attached]},
    ),
    "a policy known only after apply": (
        tf_plan(
            tf_change(
                "aws_iam_role_policy.p",
                "aws_iam_role_policy",
                ["create"],
                None,
                {"role": "R", "name": "P"},
                {"policy": True},
            )
        ),
        {},
        DEMO,
        {DEMO: [Unknown]},
    ),
    "in a module, with for_each, by provider alias": (
        tf_plan(
            tf_change(
                'module.iam.aws_iam_user_group_membership.m["x"]',
                "aws_iam_user_group_membership",
                ["create"],
                None,
                {"user": "demo1", "groups": ["G"]},
            ),
            provider="aws.mgmt",
        ),
        {"aws.mgmt": MANAGEMENT},
        None,
        {MANAGEMENT: [Member]},
    ),
    "replace: delete, then create": (
        tf_plan(
            tf_change(
                "aws_iam_role_policy.p",
                "aws_iam_role_policy",
                ["delete", "create"],
                {"role": "R", "name": "P", "policy": json.dumps(allow("s3:*", "*"))},
                {"role": "R", "name": "Q", "policy": json.dumps(allow("s3:*", "*"))},
            )
        ),
        {},
        DEMO,
        {DEMO: [Inline, Inline]},
    ),
    "an SCP and its attachment, by reference, in the organization's changes": (
        tf_plan(
            tf_change(
                "aws_organizations_policy.p",
                "aws_organizations_policy",
                ["create"],
                None,
                {"name": "P", "content": json.dumps(allow("s3:*", "*"))},
                {"id": True},
            ),
            tf_change(
                "aws_organizations_policy_attachment.a",
                "aws_organizations_policy_attachment",
                ["create"],
                None,
                {"target_id": DEMO},
                {"policy_id": True},
            ),
            expressions={
                "aws_organizations_policy_attachment.a": {
                    "policy_id": {"references": ["aws_organizations_policy.p.id"]}
                }
            },
        ),
        {},
        None,
        {"organization": [Scp, ScpTarget]},
    ),
    "a new account: unknown": (
        tf_plan(
            tf_change(
                "aws_organizations_account.new",
                "aws_organizations_account",
                ["create"],
                None,
                {"name": "new", "email": "n@example.com"},
                {"id": True},
            )
        ),
        {},
        None,
        {"organization": [Unknown]},
    ),
    "a provider's account told by another resource's ARN": (
        tf_plan(
            tf_change(
                "aws_iam_role.old",
                "aws_iam_role",
                ["delete"],
                _role("Old", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/a")),
                None,
            ),
            tf_change(
                "aws_iam_user_policy_attachment.a",
                "aws_iam_user_policy_attachment",
                ["create"],
                None,
                {"user": "demo1", "policy_arn": ADMIN},
            ),
        ),
        {},
        None,
        {DEMO: [Entity, Attached]},
    ),
    "a list of roles known only after apply": (
        tf_plan(
            tf_change(
                "aws_iam_policy_attachment.a",
                "aws_iam_policy_attachment",
                ["create"],
                None,
                {"name": "a", "policy_arn": ADMIN, "users": [], "groups": []},
                {"roles": True},
            )
        ),
        {},
        DEMO,
        {DEMO: [Unknown]},
    ),
    "other resource types are counted and left alone": (
        tf_plan(tf_change("aws_s3_bucket.b", "aws_s3_bucket", ["create"], None, {"bucket": "b"})),
        {},
        None,
        {},
    ),
}


@pytest.mark.parametrize("case", READS)
def test_reading_terraform_plans(tmp_path, case):
    plan, providers, default, expected = READS[case]
    found, ignored = read_changes([_write(tmp_path, plan)], providers, default)
    assert {a: [type(e) for e in c.effects] for a, c in found.items()} == expected
    if not expected:
        assert ignored == {"aws_s3_bucket": 1}


BAD = {
    "not JSON": ("{nope", "not JSON"),
    "neither format": (json.dumps({"hello": 1}), "neither a Terraform JSON plan"),
    "an unknown format_version": (
        json.dumps({"format_version": "2.0", "resource_changes": []}),
        "format_version '2.0'",
    ),
    "a change set without property values": (
        json.dumps(
            {
                "StackId": f"arn:aws:cloudformation:us-east-1:{DEMO}:stack/s/1",
                "ChangeSetId": "x",
                "Changes": [
                    {
                        "Type": "Resource",
                        "ResourceChange": {
                            "Action": "Add",
                            "LogicalResourceId": "Role",
                            "ResourceType": "AWS::IAM::Role",
                        },
                    }
                ],
            }
        ),
        "--include-property-values",
    ),
    "an account nobody can tell": (
        json.dumps(
            tf_plan(tf_change("aws_iam_user.u", "aws_iam_user", ["create"], None, {"name": "u"}))
        ),
        "aws_iam_user.u: which account",
    ),
    "a list": ("[]", "expected a JSON object"),
    "two accounts for one provider": (
        json.dumps(
            tf_plan(
                tf_change(
                    "aws_iam_role.a", "aws_iam_role", ["delete"], _role("A", DEMO, trust("*")), None
                ),
                tf_change(
                    "aws_iam_role.b",
                    "aws_iam_role",
                    ["delete"],
                    _role("B", ACCOUNT_B, trust("*")),
                    None,
                ),
            )
        ),
        f"provider aws acts in two accounts: {DEMO} (from aws_iam_role.a) and {ACCOUNT_B} (from aws_iam_role.b)",
    ),
    "a policy that is not one": (
        json.dumps(
            tf_plan(
                tf_change(
                    "aws_iam_role.r",
                    "aws_iam_role",
                    ["create"],
                    None,
                    _role("R", DEMO, {"Statement": "x"}),
                )
            )
        ),
        "aws_iam_role.r: not a policy document",
    ),
}


def test_a_providers_account_told_by_prior_state_and_caller_identity(tmp_path):
    """No ARN in the change itself: the account comes from what the plan says of its
    provider elsewhere (`prior_state`, `data.aws_caller_identity`)."""
    for prior in (
        {
            "address": "aws_iam_role.kept",
            "mode": "managed",
            "type": "aws_iam_role",
            "values": {"arn": f"arn:aws:iam::{ACCOUNT_B}:role/kept"},
        },
        {
            "address": "data.aws_caller_identity.me",
            "mode": "data",
            "type": "aws_caller_identity",
            "values": {
                "account_id": ACCOUNT_B,
                "arn": f"arn:aws:sts::{ACCOUNT_B}:assumed-role/ci/x",
            },
        },
    ):
        plan = tf_plan(tf_change("aws_iam_user.u", "aws_iam_user", ["create"], None, {"name": "u"}))
        plan["configuration"]["root_module"]["resources"].append(
            {
                "address": prior["address"],
                "mode": prior["mode"],
                "type": prior["type"],
                "name": "x",
                "provider_config_key": "aws",
            }
        )
        plan["prior_state"] = {"values": {"root_module": {"resources": [prior]}}}
        found, _ = read_changes([_write(tmp_path, plan)], {}, None)
        assert list(found) == [ACCOUNT_B]
        with pytest.raises(
            PlanError, match=f"--provider aws={DEMO}, but the plan tells {ACCOUNT_B}"
        ):
            read_changes([_write(tmp_path, plan)], {"aws": DEMO}, None)


def test_a_change_set_value_known_after_apply_is_unknown(tmp_path):
    """`{{changeSet:KNOWN_AFTER_APPLY}}`: a policy whose Roles name a role being replaced."""
    doc = allow("sqs:SendMessage", "*")
    change_set = {
        "StackId": f"arn:aws:cloudformation:us-east-1:{DEMO}:stack/s/1",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Modify",
                    "LogicalResourceId": "Pol",
                    "ResourceType": "AWS::IAM::Policy",
                    "PhysicalResourceId": "x",
                    "Replacement": "False",
                    "BeforeContext": json.dumps(
                        {"Properties": {"PolicyName": "P", "PolicyDocument": doc, "Roles": ["old"]}}
                    ),
                    "AfterContext": json.dumps(
                        {
                            "Properties": {
                                "PolicyName": "P",
                                "PolicyDocument": doc,
                                "Roles": ["{{changeSet:KNOWN_AFTER_APPLY}}"],
                            }
                        }
                    ),
                },
            }
        ],
    }
    found, _ = read_changes([_write(tmp_path, change_set)], {}, None)
    unknown = found[DEMO].unknowns
    assert [(u.entity, u.attribute, u.address) for u in unknown] == [("Pol", "Roles", "Pol")]
    assert all(
        "KNOWN_AFTER_APPLY" not in json.dumps(getattr(e, "entity", "")) for e in found[DEMO].effects
    )


def test_a_state_the_plan_leaves_incomplete_is_unknown_not_invalid():
    from iamdrift.baselines.models import AccountState
    from iamdrift.changes.effects import predict_state

    live = AccountState.model_validate(
        {"roles": {"R": {"trust_policy": trust(f"arn:aws:iam::{MANAGEMENT}:root")}}}
    )
    effects = [
        Entity("roles", "R", {"path": "/"}, "aws_iam_role.r"),
        Entity("roles", "New", {"path": "/"}, "aws_iam_role.new"),
    ]
    after, unknown = predict_state(live, effects)
    assert sorted(after.roles) == ["R"]  # R keeps its live trust; the new one is left out
    assert [(u.entity, u.attribute, u.address) for u in unknown] == [
        ("New", "trust_policy", "aws_iam_role.new")
    ]
    with pytest.raises(ValueError, match=r"^aws_iam_role\.r: max_session_duration: .*3600"):
        predict_state(live, [Entity("roles", "R", {"max_session_duration": 60}, "aws_iam_role.r")])


@pytest.mark.parametrize("case", BAD)
def test_bad_plans_are_one_line(tmp_path, case):
    text, said = BAD[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PlanError, match=re.escape(said)):
        read_changes([str(path)], {}, None)


# --- prediction equals reality, end to end ------------------------------------------------


@dataclass
class Case:
    plan: Callable[[], dict]  # the plan (or change set) of the change
    apply: Callable  # the same change, made with boto3 on the emulator
    args: tuple[str, ...] = ()
    drifts: bool = True


DENY_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}],
}


def _attach_scp(emu) -> None:
    org = emu.client("organizations")
    policy = org.create_policy(
        Name="DenyIam", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(DENY_IAM)
    )
    org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=DEMO)


def _detach_all(iam, role: str) -> None:
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=p["PolicyArn"])


CASES = {
    "trust widened to an account": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role.member_read",
                "aws_iam_role",
                ["update"],
                _role("MemberReadOnlyAccess", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/demo1")),
                _role("MemberReadOnlyAccess", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:root")),
            )
        ),
        lambda emu: emu.iam(DEMO).update_assume_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
        ),
    ),
    "a new cross-account role": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role.audit",
                "aws_iam_role",
                ["create"],
                None,
                {
                    "name": "NewAudit",
                    "path": "/",
                    "max_session_duration": 3600,
                    "assume_role_policy": json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
                },
                {"arn": True, "id": True, "unique_id": True},
            ),
            provider="aws.b",
        ),
        lambda emu: emu.iam(ACCOUNT_B).create_role(
            RoleName="NewAudit",
            AssumeRolePolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
        ),
        ("--provider", f"aws.b={ACCOUNT_B}"),
    ),
    "a user added to a group whose inline policy allows AssumeRole": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_user_group_membership.demo1",
                "aws_iam_user_group_membership",
                ["create"],
                None,
                {"user": "demo1", "groups": ["SecurityAuditors"]},
            )
        ),
        lambda emu: emu.iam().add_user_to_group(UserName="demo1", GroupName="SecurityAuditors"),
        ("--account", MANAGEMENT),
    ),
    "a managed policy attached": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role_policy_attachment.admin",
                "aws_iam_role_policy_attachment",
                ["create"],
                None,
                {"role": "MemberReadOnlyAccess", "policy_arn": ADMIN},
            )
        ),
        lambda emu: emu.iam(DEMO).attach_role_policy(
            RoleName="MemberReadOnlyAccess", PolicyArn=ADMIN
        ),
        ("--account", DEMO),
    ),
    "a role deleted, with its attachment": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role_policy_attachment.ro",
                "aws_iam_role_policy_attachment",
                ["delete"],
                {"role": "SecurityReadOnlyRole", "policy_arn": READ_ONLY},
                None,
            ),
            tf_change(
                "aws_iam_role.sec",
                "aws_iam_role",
                ["delete"],
                _role(
                    "SecurityReadOnlyRole",
                    ACCOUNT_B,
                    trust(f"arn:aws:iam::{MANAGEMENT}:user/userA"),
                ),
                None,
            ),
        ),
        lambda emu: (
            _detach_all(emu.iam(ACCOUNT_B), "SecurityReadOnlyRole"),
            emu.iam(ACCOUNT_B).delete_role(RoleName="SecurityReadOnlyRole"),
        ),
        ("--account", ACCOUNT_B),
    ),
    "an inline policy in a module, by count": Case(
        lambda: tf_plan(
            tf_change(
                "module.iam.aws_iam_role_policy.extra[0]",
                "aws_iam_role_policy",
                ["create"],
                None,
                {
                    "role": "MemberReadOnlyAccess",
                    "name": "Extra",
                    "policy": json.dumps(allow("s3:*", "*")),
                },
            )
        ),
        lambda emu: emu.iam(DEMO).put_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyName="Extra",
            PolicyDocument=json.dumps(allow("s3:*", "*")),
        ),
        ("--account", DEMO),
    ),
    "a role's trust replaced by CloudFormation": Case(
        lambda: {
            "StackId": f"arn:aws:cloudformation:us-east-1:{DEMO}:stack/iam/1",
            "ChangeSetId": "cs",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Ops",
                        "ResourceType": "AWS::IAM::Role",
                        "AfterContext": json.dumps(
                            {
                                "Properties": {
                                    "RoleName": "Ops",
                                    "AssumeRolePolicyDocument": trust(
                                        f"arn:aws:iam::{MANAGEMENT}:user/userA"
                                    ),
                                    "ManagedPolicyArns": [ADMIN],
                                }
                            }
                        ),
                    },
                }
            ],
        },
        lambda emu: (
            emu.iam(DEMO).create_role(
                RoleName="Ops",
                AssumeRolePolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:user/userA")),
            ),
            emu.iam(DEMO).attach_role_policy(RoleName="Ops", PolicyArn=ADMIN),
        ),
    ),
    "an inline user policy allowing AssumeRole": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_user_policy.p",
                "aws_iam_user_policy",
                ["create"],
                None,
                {"user": "demo1", "name": "Hop", "policy": json.dumps(allow(ASSUME, "*"))},
            )
        ),
        lambda emu: emu.iam().put_user_policy(
            UserName="demo1", PolicyName="Hop", PolicyDocument=json.dumps(allow(ASSUME, "*"))
        ),
        ("--account", MANAGEMENT),
    ),
    "a group's managed policy detached": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_group_policy_attachment.ro",
                "aws_iam_group_policy_attachment",
                ["delete"],
                {"group": "SecurityAuditors", "policy_arn": READ_ONLY},
                None,
            )
        ),
        lambda emu: emu.iam().detach_group_policy(
            GroupName="SecurityAuditors", PolicyArn=READ_ONLY
        ),
        ("--account", MANAGEMENT),
    ),
    "a group's members made exactly these": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_group_membership.auditors",
                "aws_iam_group_membership",
                ["update"],
                {"name": "m", "group": "SecurityAuditors", "users": ["userA"]},
                {"name": "m", "group": "SecurityAuditors", "users": ["demo1"]},
            )
        ),
        lambda emu: (
            emu.iam().remove_user_from_group(UserName="userA", GroupName="SecurityAuditors"),
            emu.iam().add_user_to_group(UserName="demo1", GroupName="SecurityAuditors"),
        ),
        ("--account", MANAGEMENT),
    ),
    "a boundary set on a role": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role.member_read",
                "aws_iam_role",
                ["update"],
                _role("MemberReadOnlyAccess", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/demo1")),
                _role(
                    "MemberReadOnlyAccess",
                    DEMO,
                    trust(f"arn:aws:iam::{MANAGEMENT}:user/demo1"),
                    permissions_boundary=READ_ONLY,
                ),
            )
        ),
        lambda emu: emu.iam(DEMO).put_role_permissions_boundary(
            RoleName="MemberReadOnlyAccess", PermissionsBoundary=READ_ONLY
        ),
    ),
    "a new managed policy, attached by reference": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_policy.hop",
                "aws_iam_policy",
                ["create"],
                None,
                {"name": "Hop", "path": "/", "policy": json.dumps(allow(ASSUME, "*"))},
                {"arn": True, "id": True, "policy_id": True},
            ),
            tf_change(
                "aws_iam_user_policy_attachment.hop",
                "aws_iam_user_policy_attachment",
                ["create"],
                None,
                {"user": "demo1"},
                {"policy_arn": True},
            ),
            expressions={
                "aws_iam_user_policy_attachment.hop": {
                    "policy_arn": {"references": ["aws_iam_policy.hop.arn", "aws_iam_policy.hop"]}
                }
            },
        ),
        lambda emu: (
            emu.iam().create_policy(
                PolicyName="Hop", PolicyDocument=json.dumps(allow(ASSUME, "*"))
            ),
            emu.iam().attach_user_policy(
                UserName="demo1", PolicyArn=f"arn:aws:iam::{MANAGEMENT}:policy/Hop"
            ),
        ),
        ("--account", MANAGEMENT),
    ),
    "a policy attached exclusively across principals": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_policy_attachment.ro",
                "aws_iam_policy_attachment",
                ["create"],
                None,
                {
                    "name": "ro",
                    "policy_arn": READ_ONLY,
                    "users": ["demo1"],
                    "groups": [],
                    "roles": [],
                },
            )
        ),
        lambda emu: (
            emu.iam().attach_user_policy(UserName="demo1", PolicyArn=READ_ONLY),
            emu.iam().detach_group_policy(GroupName="SecurityAuditors", PolicyArn=READ_ONLY),
            emu.iam().detach_group_policy(GroupName="CrossAccountReaders", PolicyArn=READ_ONLY),
        ),
        ("--account", MANAGEMENT),
    ),
    "a role's managed policies made exactly these": Case(
        lambda: tf_plan(
            tf_change(
                "aws_iam_role_policy_attachments_exclusive.m",
                "aws_iam_role_policy_attachments_exclusive",
                ["create"],
                None,
                {"role_name": "OrganizationAccountAccessRole", "policy_arns": [READ_ONLY]},
            )
        ),
        lambda emu: (
            emu.iam(ACCOUNT_B).detach_role_policy(
                RoleName="OrganizationAccountAccessRole", PolicyArn=ADMIN
            ),
            emu.iam(ACCOUNT_B).attach_role_policy(
                RoleName="OrganizationAccountAccessRole", PolicyArn=READ_ONLY
            ),
        ),
        ("--account", ACCOUNT_B),
    ),
    "an SCP created and attached to a member": Case(
        lambda: tf_plan(
            tf_change(
                "aws_organizations_policy.deny",
                "aws_organizations_policy",
                ["create"],
                None,
                {
                    "name": "DenyIam",
                    "type": "SERVICE_CONTROL_POLICY",
                    "content": json.dumps(DENY_IAM),
                },
                {"id": True, "arn": True},
            ),
            tf_change(
                "aws_organizations_policy_attachment.demo",
                "aws_organizations_policy_attachment",
                ["create"],
                None,
                {"target_id": DEMO},
                {"policy_id": True, "id": True},
            ),
            expressions={
                "aws_organizations_policy_attachment.demo": {
                    "policy_id": {
                        "references": [
                            "aws_organizations_policy.deny.id",
                            "aws_organizations_policy.deny",
                        ]
                    }
                }
            },
        ),
        _attach_scp,
    ),
    "a change set adding a user to a group, and a managed policy attached to a user": Case(
        lambda: {
            "StackId": f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stack/iam/2",
            "ChangeSetId": "cs",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Auditors",
                        "ResourceType": "AWS::IAM::UserToGroupAddition",
                        "AfterContext": json.dumps(
                            {"Properties": {"GroupName": "SecurityAuditors", "Users": ["demo1"]}}
                        ),
                    },
                },
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Hop",
                        "ResourceType": "AWS::IAM::ManagedPolicy",
                        "AfterContext": json.dumps(
                            {
                                "Properties": {
                                    "ManagedPolicyName": "Hop",
                                    "PolicyDocument": allow(ASSUME, "*"),
                                    "Users": ["userA"],
                                }
                            }
                        ),
                    },
                },
            ],
        },
        lambda emu: (
            emu.iam().add_user_to_group(UserName="demo1", GroupName="SecurityAuditors"),
            emu.iam().create_policy(
                PolicyName="Hop", PolicyDocument=json.dumps(allow(ASSUME, "*"))
            ),
            emu.iam().attach_user_policy(
                UserName="userA", PolicyArn=f"arn:aws:iam::{MANAGEMENT}:policy/Hop"
            ),
        ),
    ),
    "a change set replacing an inline role policy": Case(
        lambda: {
            "StackId": f"arn:aws:cloudformation:us-east-1:{DEMO}:stack/iam/3",
            "ChangeSetId": "cs",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Extra",
                        "ResourceType": "AWS::IAM::RolePolicy",
                        "AfterContext": json.dumps(
                            {
                                "Properties": {
                                    "RoleName": "MemberReadOnlyAccess",
                                    "PolicyName": "Extra",
                                    "PolicyDocument": allow("iam:*", "*"),
                                }
                            }
                        ),
                    },
                }
            ],
        },
        lambda emu: emu.iam(DEMO).put_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyName="Extra",
            PolicyDocument=json.dumps(allow("iam:*", "*")),
        ),
    ),
    "nothing of IAM": Case(
        lambda: tf_plan(
            tf_change("aws_s3_bucket.b", "aws_s3_bucket", ["create"], None, {"bucket": "b"})
        ),
        lambda emu: None,
        drifts=False,
    ),
}


def _live_edges(summary: dict) -> set[tuple[str, str]]:
    live = ("expected", "unexpected", "conditions missing")
    return {(a["principal"], a["role"]) for a in summary["access"] if a["status"] in live}


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES)
def test_prediction_equals_reality(world, case):
    c = CASES[case]
    before = world.cli("run")
    assert before.code == 0, before.stdout[-2000:]
    plan_file = _write(world.tmp, c.plan())
    out = world.tmp / "plan-out.json"
    reports = ["--report-dir", str(world.tmp / "reports")]
    predicted = world.cli("plan", plan_file, *c.args, "--json", str(out), *reports)
    assert predicted.code == (1 if c.drifts else 0), predicted.stdout + predicted.stderr
    plan = json.loads(out.read_text())
    c.apply(world.emu)
    after = world.cli("run")
    assert after.code == (1 if c.drifts else 0), after.stdout[-3000:]
    ids = {f["id"] for f in after.summary["findings"]}
    assert {f["id"] for f in plan["findings"]} == ids
    assert _live_edges(plan) == _live_edges(after.summary)
    gained = {(a["principal"], a["role"]) for a in plan["plan"]["access_gained"]}
    lost = {(a["principal"], a["role"]) for a in plan["plan"]["access_lost"]}
    assert gained == _live_edges(after.summary) - _live_edges(before.summary)
    assert lost == _live_edges(before.summary) - _live_edges(after.summary)


@pytest.mark.e2e
def test_accept_then_apply_then_run_is_clean(world):
    baselines = world.baselines_copy()
    assert world.cli("run", "--baselines", str(baselines)).code == 0
    c = CASES["a managed policy attached"]
    plan_file = _write(world.tmp, c.plan())
    reports = ["--report-dir", str(world.tmp / "reports")]
    accepted = world.cli(
        "plan", plan_file, *c.args, "--baselines", str(baselines), "--accept", *reports
    )
    assert accepted.code == 1 and "accepted" in accepted.stdout, accepted.stdout + accepted.stderr
    again = world.cli("plan", plan_file, *c.args, "--baselines", str(baselines), *reports)
    assert again.code == 0, again.stdout
    c.apply(world.emu)
    assert world.cli("run", "--baselines", str(baselines)).code == 0


@pytest.mark.e2e
def test_unknown_is_never_clean_and_markdown_says_so(world):
    plan = tf_plan(
        tf_change(
            "aws_iam_role_policy.p",
            "aws_iam_role_policy",
            ["create"],
            None,
            {"role": "MemberReadOnlyAccess", "name": "Later"},
            {"policy": True},
        )
    )
    md = world.tmp / "comment.md"
    out = world.cli(
        "plan",
        _write(world.tmp, plan),
        "--account",
        DEMO,
        "--markdown",
        str(md),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert out.code == 1, out.stdout + out.stderr
    assert f"{DEMO}/role/MemberReadOnlyAccess/unknown:policy" in out.stdout
    text = md.read_text()
    assert "would drift" in text and "unknown:policy" in text and "<details>" in text


@pytest.mark.e2e
def test_a_trust_known_only_after_apply_is_an_unknown_finding(world):
    """A GitHub OIDC provider and the role trusting it in one plan: the trust is known only
    after apply. The role's unknown:assume_role_policy, at its address, everywhere; never
    a validation message."""
    provider = tf_change(
        "aws_iam_openid_connect_provider.gh",
        "aws_iam_openid_connect_provider",
        ["create"],
        None,
        {"url": "https://token.actions.githubusercontent.com"},
        {"arn": True},
    )
    role = tf_change(
        'module.ci.aws_iam_role.deploy["app"]',
        "aws_iam_role",
        ["create"],
        None,
        {"name": "deploy-app", "path": "/"},
        {"arn": True, "assume_role_policy": True, "id": True},
    )
    attach = tf_change(
        'module.ci.aws_iam_role_policy_attachment.admin["app"]',
        "aws_iam_role_policy_attachment",
        ["create"],
        None,
        {"role": "deploy-app", "policy_arn": ADMIN},
    )
    md, out, sarif = world.tmp / "c.md", world.tmp / "p.json", world.tmp / "p.sarif"
    result = world.cli(
        "plan",
        _write(world.tmp, tf_plan(provider, role, attach)),
        "--account",
        DEMO,
        "--markdown",
        str(md),
        "--json",
        str(out),
        "--sarif",
        str(sarif),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert result.code == 1, result.stdout + result.stderr
    finding = f"{DEMO}/role/deploy-app/unknown:assume_role_policy"
    said = [result.stdout, result.stderr, md.read_text(), out.read_text(), sarif.read_text()]
    for text in said:
        assert "pydantic" not in text and "validation error" not in text
    assert all(finding in text for text in said[:1] + said[2:])
    assert "module.ci.aws_iam_role.deploy[" in said[0]  # the message names its address


@pytest.mark.e2e
def test_bad_input_exits_2(world):
    path = world.tmp / "x.json"
    path.write_text('{"format_version": "0.1", "resource_changes": []}')
    out = world.cli("plan", str(path))
    assert out.code == 2 and "format_version" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.e2e
def test_a_policys_new_version_predicted_as_iam_keeps_versions(world):
    """An updated aws_iam_policy is a new default version; the one in force until then
    stays as a non-default version, which a run sees."""
    iam = world.emu.iam(DEMO)
    iam.create_policy(PolicyName="Ops", PolicyDocument=json.dumps(allow(ASSUME, "*")))
    baselines = world.tmp / "snap"
    assert world.cli("snapshot", "--baselines", str(baselines)).code == 0
    run = ["run", "--baselines", str(baselines)]
    assert world.cli(*run).code == 0
    narrow = allow("s3:GetObject", "*")
    arn = f"arn:aws:iam::{DEMO}:policy/Ops"
    plan = tf_plan(
        tf_change(
            "aws_iam_policy.ops",
            "aws_iam_policy",
            ["update"],
            {"name": "Ops", "path": "/", "arn": arn, "policy": json.dumps(allow(ASSUME, "*"))},
            {"name": "Ops", "path": "/", "arn": arn, "policy": json.dumps(narrow)},
        )
    )
    out = world.tmp / "plan-out.json"
    predicted = world.cli(
        "plan",
        _write(world.tmp, plan),
        "--baselines",
        str(baselines),
        "--json",
        str(out),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert predicted.code == 1, predicted.stdout + predicted.stderr
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(narrow), SetAsDefault=True)
    after = world.cli(*run)
    ids = {f["id"] for f in after.summary["findings"]}
    assert ids and {f["id"] for f in json.loads(out.read_text())["findings"]} == ids


def test_the_organizations_changes_applied_by_its_ids():
    from iamdrift.baselines.structure import Structure
    from iamdrift.changes.organization import Parent, apply_structure, scope

    org = Structure.model_validate(
        {
            "accounts": {
                DEMO: {"name": "DEMO", "ou": "Root"},
                ACCOUNT_B: {"name": "B", "ou": "Root/Sandbox"},
            },
            "service_control_policies": {
                "Full": {"document": allow("*", "*"), "targets": ["Root"]}
            },
        }
    )
    ids = {"r-1": "Root", "ou-1": "Root/Sandbox", "p-full": "Full"}
    after = apply_structure(
        org,
        ids,
        [
            Scp("Deny", allow("s3:*", "*")),
            ScpTarget("Deny", "ou-1", True),
            ScpTarget("p-full", "r-1", False),
            Parent(DEMO, "ou-1"),
        ],
    )
    assert after.service_control_policies["Deny"].targets == ["Root/Sandbox"]
    assert after.service_control_policies["Full"].targets == []
    assert after.accounts[DEMO].ou == "Root/Sandbox"
    assert scope(after, "Root/Sandbox") == {DEMO, ACCOUNT_B}
    with pytest.raises(ValueError, match="ou-none"):
        apply_structure(org, ids, [ScpTarget("Full", "ou-none", True)])


@pytest.mark.e2e
def test_a_planned_state_iam_would_refuse_cannot_be_judged(world):
    member = _role("MemberReadOnlyAccess", DEMO, trust(f"arn:aws:iam::{MANAGEMENT}:user/demo1"))
    plan = tf_plan(
        tf_change(
            "aws_iam_role.r",
            "aws_iam_role",
            ["update"],
            member,
            {**member, "max_session_duration": 60},
        )
    )
    out = world.cli("plan", _write(world.tmp, plan), "--report-dir", str(world.tmp / "reports"))
    assert out.code == 1, out.stdout + out.stderr
    assert "not valid IAM" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.e2e
def test_an_account_the_latest_run_could_not_read_is_read_now(world):
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"deny_assume": [ACCOUNT_B]}))
    assert world.cli("run", "--", "-p", "tests.faults", env=env).code == 1
    c = CASES["a managed policy attached"]
    out = world.tmp / "plan-out.json"
    predicted = world.cli(
        "plan",
        _write(world.tmp, c.plan()),
        *c.args,
        "--json",
        str(out),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert predicted.code == 1 and ": cannot be judged:" not in predicted.stdout, predicted.stdout
    plan = json.loads(out.read_text())
    assert plan["plan"]["errors"] == {} and plan["access"]


def test_the_comment_escapes_what_a_pull_request_wrote():
    from iamdrift.report.plan import PlanReport, PlanSummary, markdown
    from iamdrift.report.results import AccountSummary

    hostile = 'aws_iam_role.r["<img src=x onerror=alert(1)>`"]'
    report = PlanReport(
        run_id="plan-x",
        started="2026-12-01T00:00:00+00:00",
        finished="",
        accounts=[AccountSummary(id=DEMO, name="DEMO", status="drift")],
        plan=PlanSummary(files=["p.json"], addresses={DEMO: [hostile]}, ignored={}),
    )
    text = markdown(report, 1)
    assert "<img" not in text and "&lt;img src=x" in text


@pytest.mark.e2e
@pytest.mark.parametrize(
    "plan",
    [
        tf_plan(
            tf_change(
                "aws_ssoadmin_account_assignment.admins",
                "aws_ssoadmin_account_assignment",
                ["create"],
                None,
                {"target_id": DEMO, "principal_type": "GROUP"},
            )
        ),
        {
            "StackId": f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stack/sso/1",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Admins",
                        "ResourceType": "AWS::SSO::Assignment",
                        "AfterContext": "{}",
                    },
                }
            ],
        },
    ],
    ids=["terraform", "change set"],
)
def test_identity_center_changes_that_cannot_be_told_are_never_passed_unseen(world, plan):
    """An assignment whose set or account the plan does not tell fails as unknown, naming
    the value and the resource, rather than passing a new administrator unseen."""
    out = world.cli(
        "plan",
        _write(world.tmp, plan),
        "--account",
        DEMO,
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert out.code == 1, out.stdout + out.stderr
    assert f"{MANAGEMENT}/account/{MANAGEMENT}/unknown:" in out.stdout
    assert "admins" in out.stdout.lower()
