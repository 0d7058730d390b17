"""`accept`: exactly the reviewed findings go into the baselines; everything else stays."""

from __future__ import annotations

import difflib
import json

import pytest

from iamdrift.emulator import ACCOUNT_B, ADMIN, DEMO, MANAGEMENT, READ_ONLY, allow, trust

pytestmark = pytest.mark.e2e
MEMBER = f"{DEMO}/role/MemberReadOnlyAccess"
DEMO1 = f"arn:aws:iam::{MANAGEMENT}:user/demo1"


def _changed_lines(before: dict, after: dict) -> list[str]:
    out = []
    for name in sorted(before.keys() | after.keys()):
        diff = difflib.unified_diff(
            before.get(name, "").splitlines(), after.get(name, "").splitlines(), lineterm="", n=0
        )
        out += [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return out


def _texts(baselines) -> dict[str, str]:
    return {str(p.relative_to(baselines)): p.read_text() for p in sorted(baselines.rglob("*.yaml"))}


def test_accept_one_of_three_findings(world):
    baselines = world.baselines_copy()
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    world.emu.iam(ACCOUNT_B).update_assume_role_policy(
        RoleName="SecurityReadOnlyRole",
        PolicyDocument=json.dumps(
            trust(
                f"arn:aws:iam::{MANAGEMENT}:user/userA",
                conditions={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            )
        ),
    )
    first = world.cli("run", "--baselines", str(baselines))
    ids = {f["id"] for f in first.summary["findings"]}
    accepted = f"{MEMBER}/max_session_duration"
    assert {
        accepted,
        f"{ACCOUNT_B}/user/eve/existence",
        f"{ACCOUNT_B}/role/SecurityReadOnlyRole/trust_policy",
    } <= ids
    before = _texts(baselines)
    result = world.cli(
        "accept",
        accepted,
        "--baselines",
        str(baselines),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert result.code == 0, result.stderr
    assert f"accepted {accepted}" in result.stdout
    # The baselines' diff is that one line; comments and layout elsewhere are untouched.
    assert _changed_lines(before, _texts(baselines)) == [
        "-    max_session_duration: 3600",
        "+    max_session_duration: 7200",
    ]
    second = world.cli("run", "--baselines", str(baselines))
    assert {f["id"] for f in second.summary["findings"]} == ids - {accepted}


def _role_policy(emu, name: str, document: dict):
    emu.iam(DEMO).put_role_policy(
        RoleName="MemberReadOnlyAccess", PolicyName=name, PolicyDocument=json.dumps(document)
    )


def _dormant(emu):
    iam = emu.iam(DEMO)
    arn = iam.create_policy(
        PolicyName="Team", PolicyDocument=json.dumps(allow("s3:GetObject", "*"))
    )
    iam.create_policy_version(
        PolicyArn=arn["Policy"]["Arn"],
        PolicyDocument=json.dumps(allow("*", "*")),
        SetAsDefault=False,
    )


def _scp(emu):
    org = emu.client("organizations")
    policy = org.create_policy(
        Name="DenyLeave",
        Type="SERVICE_CONTROL_POLICY",
        Description="x",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ),
    )
    root = org.list_roots()["Roots"][0]["Id"]
    org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=root)


def _move_account(emu):
    org = emu.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=ACCOUNT_B, SourceParentId=root, DestinationParentId=ou)


CASES = {
    "a new user": (
        lambda e: e.iam(ACCOUNT_B).create_user(UserName="eve"),
        f"{ACCOUNT_B}/user/eve/existence",
    ),
    "a deleted user": (
        lambda e: (
            e.iam().remove_user_from_group(UserName="demo1", GroupName="CrossAccountReaders"),
            e.iam().delete_user(UserName="demo1"),
        ),
        f"{MANAGEMENT}/user/demo1/existence",
    ),
    "a new role": (
        lambda e: e.iam(DEMO).create_role(
            RoleName="Ops", AssumeRolePolicyDocument=json.dumps(trust(DEMO1))
        ),
        f"{DEMO}/role/Ops/existence",
    ),
    "a trust policy": (
        lambda e: e.iam(DEMO).update_assume_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyDocument=json.dumps(trust(DEMO1, f"arn:aws:iam::{MANAGEMENT}:user/userA")),
        ),
        f"{MEMBER}/trust_policy",
    ),
    "an inline policy added": (
        lambda e: _role_policy(e, "S3", allow("s3:GetObject", "*")),
        f"{MEMBER}/inline_policy:S3",
    ),
    "a group's inline policy changed": (
        lambda e: e.iam().put_group_policy(
            GroupName="CrossAccountReaders",
            PolicyName="AssumeMemberReadOnly",
            PolicyDocument=json.dumps(
                allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT_B}:role/SecurityReadOnlyRole")
            ),
        ),
        f"{MANAGEMENT}/group/CrossAccountReaders/inline_policy:AssumeMemberReadOnly",
    ),
    "an inline policy removed": (
        lambda e: e.iam().delete_group_policy(
            GroupName="SecurityAuditors", PolicyName="AssumeAnyRole"
        ),
        f"{MANAGEMENT}/group/SecurityAuditors/inline_policy:AssumeAnyRole",
    ),
    "managed policies": (
        lambda e: e.iam(DEMO).attach_role_policy(RoleName="MemberReadOnlyAccess", PolicyArn=ADMIN),
        f"{MEMBER}/managed_policies",
    ),
    "group membership": (
        lambda e: e.iam().add_user_to_group(UserName="demo1", GroupName="SecurityAuditors"),
        f"{MANAGEMENT}/user/demo1/groups",
    ),
    "session duration": (
        lambda e: e.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200),
        f"{MEMBER}/max_session_duration",
    ),
    "boundary": (
        lambda e: e.iam(DEMO).put_role_permissions_boundary(
            RoleName="MemberReadOnlyAccess", PermissionsBoundary=READ_ONLY
        ),
        f"{MEMBER}/permissions_boundary",
    ),
    "a member_baseline role in one account": (
        lambda e: e.iam(ACCOUNT_B).update_role(
            RoleName="OrganizationAccountAccessRole", MaxSessionDuration=7200
        ),
        f"{ACCOUNT_B}/role/OrganizationAccountAccessRole/max_session_duration",
    ),
    "a dormant policy version": (_dormant, f"{DEMO}/policy/Team/dormant_version:v2"),
    "an access edge": (
        lambda e: e.iam(DEMO).update_assume_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyDocument=json.dumps(trust(DEMO1, f"arn:aws:iam::{MANAGEMENT}:user/userA")),
        ),
        f"{DEMO}/access/{MANAGEMENT}:user:userA->{DEMO}:MemberReadOnlyAccess/edge",
    ),
    "an SCP created": (_scp, f"{MANAGEMENT}/scp/DenyLeave/existence"),
    "an account moved": (_move_account, f"{MANAGEMENT}/account/{ACCOUNT_B}/ou"),
}


@pytest.mark.parametrize("case", CASES)
def test_accept_each_kind_of_finding(world, case):
    mutate, accepted = CASES[case]
    baselines = world.baselines_copy()
    if case == "a dormant policy version":  # the policy itself is declared; its v2 is not
        mutate(world.emu)
        assert (
            world.cli(
                "accept",
                f"{DEMO}/policy/Team/existence",
                "--baselines",
                str(baselines),
                "--report-dir",
                str(world.tmp / "reports"),
            ).code
            == 2
        )  # no run yet
        world.cli("run", "--baselines", str(baselines))
        assert (
            world.cli(
                "accept",
                f"{DEMO}/policy/Team/existence",
                "--baselines",
                str(baselines),
                "--report-dir",
                str(world.tmp / "reports"),
            ).code
            == 0
        )
    else:
        mutate(world.emu)
    first = world.cli("run", "--baselines", str(baselines))
    ids = {f["id"] for f in first.summary["findings"]}
    assert accepted in ids, sorted(ids)
    comments = [
        line
        for p in baselines.rglob("*.yaml")
        for line in p.read_text().splitlines()
        if line.lstrip().startswith("#")
    ]
    result = world.cli(
        "accept",
        accepted,
        "--baselines",
        str(baselines),
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert result.code == 0, result.stderr
    after = [
        line
        for p in baselines.rglob("*.yaml")
        for line in p.read_text().splitlines()
        if line.lstrip().startswith("#")
    ]
    assert sorted(after) == sorted(comments)  # none lost (an entity moved may move its own)
    second = world.cli("run", "--baselines", str(baselines))
    assert {f["id"] for f in second.summary["findings"]} == ids - {accepted}, second.stdout[-2000:]


def test_accept_refuses_what_it_cannot_know(world):
    baselines = world.baselines_copy()
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"deny_assume": [DEMO]}))
    world.emu.iam(DEMO).create_user(UserName="mallory")
    world.cli("run", "--baselines", str(baselines), "--", "-p", "tests.faults", env=env)
    before = _texts(baselines)
    reports = ["--baselines", str(baselines), "--report-dir", str(world.tmp / "reports")]
    unknown = world.cli("accept", f"{DEMO}/user/nobody/existence", *reports)
    assert unknown.code == 2 and "no finding of run" in unknown.stderr
    risk = world.cli(
        "accept", f"{MANAGEMENT}/group/SecurityAuditors/risk:assume_any_role", *reports
    )
    assert risk.code == 2 and "waive it" in risk.stderr
    both = world.cli("accept", f"{ACCOUNT_B}/user/eve/existence", f"{DEMO}/user/nobody/*", *reports)
    assert both.code == 2  # nothing is written when any part cannot be accepted
    assert _texts(baselines) == before
    assert "Traceback" not in unknown.stderr + risk.stderr + both.stderr


def test_accept_a_glob_takes_the_drift_and_names_the_risks_it_skips(world):
    baselines = world.baselines_copy()
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    first = world.cli("run", "--baselines", str(baselines))
    assert first.code == 1 and first.summary["risks"], first.stdout[-2000:]
    reports = ["--baselines", str(baselines), "--report-dir", str(world.tmp / "reports")]
    result = world.cli("accept", "*", *reports)
    assert result.code == 0, result.stderr
    for f in first.summary["findings"]:
        assert f"accepted {f['id']}" in result.stdout
    for risk in first.summary["risks"]:
        assert f"skipped {risk['id']}: a risk, not drift" in result.stdout
    second = world.cli("run", "--baselines", str(baselines))
    assert second.code == 0 and second.summary["findings"] == [], second.stdout[-2000:]
