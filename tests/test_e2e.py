"""End to end: `runner.py` as a subprocess against moto's server seeded with the seed's org."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from iamdrift.emulator import ACCOUNT_B, ADMIN, DEMO, MANAGEMENT, READ_ONLY, allow, trust

pytestmark = pytest.mark.e2e
MGMT_ROOT = f"arn:aws:iam::{MANAGEMENT}:root"
DEMO1 = f"arn:aws:iam::{MANAGEMENT}:user/demo1"


def test_shipped_baselines_match_the_seed_organization(world):
    result = world.cli("run", "--baselines", "baselines")
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    assert result.summary["findings"] == []
    assert {a["status"] for a in result.summary["accounts"]} == {"compliant"}
    assert {a["id"] for a in result.summary["accounts"]} == {MANAGEMENT, DEMO, ACCOUNT_B}
    report = next((world.tmp / "reports").glob("*/report.html")).read_text()
    assert "iamdrift" in report and "MemberReadOnlyAccess" in report


def _delete_user(emu, account, user, group):
    iam = emu.iam(account)
    iam.remove_user_from_group(UserName=user, GroupName=group)
    iam.delete_user(UserName=user)


def _delete_role(emu, account, role):
    iam = emu.iam(account)
    iam.detach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    iam.delete_role(RoleName=role)


def _delete_group(emu):
    iam = emu.iam()
    iam.remove_user_from_group(UserName="userA", GroupName="SecurityAuditors")
    iam.detach_group_policy(GroupName="SecurityAuditors", PolicyArn=READ_ONLY)
    iam.delete_group_policy(GroupName="SecurityAuditors", PolicyName="AssumeAnyRole")
    iam.delete_group(GroupName="SecurityAuditors")


def _trust(emu, doc):
    emu.iam(DEMO).update_assume_role_policy(
        RoleName="MemberReadOnlyAccess", PolicyDocument=json.dumps(doc)
    )


CHANGES = {
    "user added to a group": (
        lambda e: e.iam().add_user_to_group(UserName="demo1", GroupName="SecurityAuditors"),
        f"{MANAGEMENT}/user/demo1/groups",
        "high",
    ),
    "user inline policy": (
        lambda e: e.iam().put_user_policy(
            UserName="demo1",
            PolicyName="Extra",
            PolicyDocument=json.dumps(allow("sts:AssumeRole", "*")),
        ),
        f"{MANAGEMENT}/user/demo1/inline_policy:Extra",
        "high",
    ),
    "user managed policy": (
        lambda e: e.iam().attach_user_policy(UserName="userA", PolicyArn=ADMIN),
        f"{MANAGEMENT}/user/userA/managed_policies",
        "high",
    ),
    "group inline policy widened": (
        lambda e: e.iam().put_group_policy(
            GroupName="CrossAccountReaders",
            PolicyName="AssumeMemberReadOnly",
            PolicyDocument=json.dumps(allow("sts:AssumeRole", "*")),
        ),
        f"{MANAGEMENT}/group/CrossAccountReaders/inline_policy:AssumeMemberReadOnly",
        "high",
    ),
    "group managed policy detached": (
        lambda e: e.iam().detach_group_policy(GroupName="CrossAccountReaders", PolicyArn=READ_ONLY),
        f"{MANAGEMENT}/group/CrossAccountReaders/managed_policies",
        "low",
    ),
    "trust principal widened to the account": (
        lambda e: _trust(e, trust(MGMT_ROOT)),
        f"{DEMO}/role/MemberReadOnlyAccess/trust_policy",
        "critical",
    ),
    "trust principal added": (
        lambda e: _trust(e, trust(DEMO1, f"arn:aws:iam::{MANAGEMENT}:user/userA")),
        f"{DEMO}/role/MemberReadOnlyAccess/trust_policy",
        "critical",
    ),
    "trust condition added": (
        lambda e: _trust(
            e, trust(DEMO1, conditions={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
        ),
        f"{DEMO}/role/MemberReadOnlyAccess/trust_policy",
        "medium",
    ),
    "trust action added": (
        lambda e: _trust(
            e,
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": DEMO1},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ],
            },
        ),
        f"{DEMO}/role/MemberReadOnlyAccess/trust_policy",
        "critical",
    ),
    "role permissions": (
        lambda e: e.iam(DEMO).attach_role_policy(RoleName="MemberReadOnlyAccess", PolicyArn=ADMIN),
        f"{DEMO}/role/MemberReadOnlyAccess/managed_policies",
        "high",
    ),
    "role inline policy": (
        lambda e: e.iam(ACCOUNT_B).put_role_policy(
            RoleName="SecurityReadOnlyRole",
            PolicyName="S3",
            PolicyDocument=json.dumps(allow("s3:*", "*")),
        ),
        f"{ACCOUNT_B}/role/SecurityReadOnlyRole/inline_policy:S3",
        "high",
    ),
    "max session duration": (
        lambda e: e.iam(DEMO).update_role(
            RoleName="MemberReadOnlyAccess", MaxSessionDuration=43200
        ),
        f"{DEMO}/role/MemberReadOnlyAccess/max_session_duration",
        "medium",
    ),
    "permissions boundary": (
        lambda e: e.iam(DEMO).put_role_permissions_boundary(
            RoleName="MemberReadOnlyAccess", PermissionsBoundary=READ_ONLY
        ),
        f"{DEMO}/role/MemberReadOnlyAccess/permissions_boundary",
        "low",
    ),
    "new user": (
        lambda e: e.iam(DEMO).create_user(UserName="eve"),
        f"{DEMO}/user/eve/existence",
        "high",
    ),
    "deleted user": (
        lambda e: _delete_user(e, MANAGEMENT, "demo1", "CrossAccountReaders"),
        f"{MANAGEMENT}/user/demo1/existence",
        "medium",
    ),
    "new group": (
        lambda e: e.iam(ACCOUNT_B).create_group(GroupName="Admins"),
        f"{ACCOUNT_B}/group/Admins/existence",
        "medium",
    ),
    "deleted group": (_delete_group, f"{MANAGEMENT}/group/SecurityAuditors/existence", "medium"),
    "new role trusting another account": (
        lambda e: e.iam(ACCOUNT_B).create_role(
            RoleName="Backdoor", AssumeRolePolicyDocument=json.dumps(trust("444444444444"))
        ),
        f"{ACCOUNT_B}/role/Backdoor/existence",
        "critical",
    ),
    "deleted role": (
        lambda e: _delete_role(e, ACCOUNT_B, "SecurityReadOnlyRole"),
        f"{ACCOUNT_B}/role/SecurityReadOnlyRole/existence",
        "medium",
    ),
    "new customer managed policy": (
        lambda e: e.iam(DEMO).create_policy(
            PolicyName="Wide", PolicyDocument=json.dumps(allow("*", "*"))
        ),
        f"{DEMO}/policy/Wide/existence",
        "medium",
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_any_one_change_is_drift_named_by_account_and_resource(world, change):
    mutate, finding_id, severity = CHANGES[change]
    mutate(world.emu)
    result = world.cli("run")
    assert result.code == 1, result.stdout[-3000:] + result.stderr
    finding = result.finding(finding_id)
    account, _kind, resource, _aspect = finding_id.split("/")
    assert (finding["account"], finding["resource"]) == (account, resource)
    assert finding["severity"] == severity
    assert finding["message"].endswith(".")
    assert result.account(account)["status"] == "drift"


def test_a_rewrite_that_only_changes_form_is_not_drift(world):
    # Same meaning as the baselines: object vs list, case of actions, account id vs
    # root ARN, order, duplicates, Sid.
    _trust(
        world.emu,
        {
            "Version": "2012-10-17",
            "Statement": {
                "Sid": "Demo1",
                "Effect": "Allow",
                "Principal": {"AWS": [DEMO1, DEMO1]},
                "Action": ["sts:AssumeRole", "sts:AssumeRole"],
            },
        },
    )
    world.emu.iam().put_group_policy(
        GroupName="CrossAccountReaders",
        PolicyName="AssumeMemberReadOnly",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "A",
                        "Effect": "Allow",
                        "Action": ["sts:assumerole"],
                        "Resource": [f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess"],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess",
                    },
                ],
            }
        ),
    )
    world.emu.iam(ACCOUNT_B).update_assume_role_policy(
        RoleName="SecurityReadOnlyRole",
        PolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:user/userA"},
                    }
                ],
                "Version": "2012-10-17",
            }
        ),
    )
    result = world.cli("run")
    assert result.code == 0, result.stdout[-3000:]
    assert result.summary["findings"] == []


def test_unreadable_account_errors_and_the_others_are_checked(world):
    world.emu.iam(DEMO).create_user(UserName="eve")  # drift elsewhere is still found
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"deny_assume": [ACCOUNT_B]}))
    result = world.cli("run", "--", "-p", "tests.faults", env=env)
    assert result.code == 1
    b = result.account(ACCOUNT_B)
    assert b["status"] == "error"
    assert "AccessDenied" in b["error"]
    assert f"arn:aws:iam::{ACCOUNT_B}:role/OrganizationAccountAccessRole" in b["error"]
    assert result.account(MANAGEMENT)["status"] == "compliant"
    assert result.account(DEMO)["status"] == "drift"
    result.finding(f"{DEMO}/user/eve/existence")
    # Every test of the unreadable account errors; none passes.
    cases = _junit_cases(world, ACCOUNT_B)
    assert len(cases) == 5, cases  # users, groups, roles, policies, risks
    assert all(outcome == "error" for outcome in cases.values()), cases
    assert f"ERROR checks/test_roles.py::test_roles_match_baseline[{ACCOUNT_B}]" in result.stdout


def test_throttling_is_retried_by_botocore(world):
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"throttle_gaad": 2}))
    result = world.cli("run", "--", "-p", "tests.faults", env=env)
    assert result.code == 0, result.stdout[-3000:]


def test_throttling_past_retries_is_an_error_not_a_pass(world):
    env = world.env(
        IAMDRIFT_FAULTS=json.dumps({"throttle_gaad": 1, "throttle_always": True}),
        AWS_MAX_ATTEMPTS="2",
    )
    result = world.cli("run", "--", "-p", "tests.faults", env=env)
    assert result.code == 1
    assert {a["status"] for a in result.summary["accounts"]} == {"error"}
    assert all("Throttling" in a["error"] for a in result.summary["accounts"])


def test_no_credentials_is_an_error_for_every_account(world):
    env = world.env(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_SESSION_TOKEN="")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key)
    result = world.cli("run", env=env)
    assert result.code == 1
    assert {a["status"] for a in result.summary["accounts"]} == {"error"}


def test_broken_baseline_exits_2_with_file_line_and_key(world):
    baselines = world.baselines_copy()
    demo = baselines / "accounts" / "222222222222-demo.yaml"
    demo.write_text(
        demo.read_text().replace(
            "max_session_duration: 3600", "max_session_duration: 3600\n    max_sesion: 1"
        )
    )
    result = world.cli("run", "--baselines", str(baselines))
    assert result.code == 2
    assert f"{demo}:14: roles.MemberReadOnlyAccess.max_sesion: unknown key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.summary is None


def test_unknown_account_selection_exits_2(world):
    result = world.cli("run", "--accounts", "999999999999")
    assert result.code == 2
    assert "999999999999" in result.stderr


def test_account_and_entity_selection_give_the_ids_of_a_whole_run(world):
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    _trust(world.emu, trust(MGMT_ROOT))
    whole = world.cli("run")
    assert whole.code == 1
    member = f"{DEMO}/role/MemberReadOnlyAccess/trust_policy"
    assert {member, f"{ACCOUNT_B}/user/eve/existence"} <= {
        f["id"] for f in whole.summary["findings"]
    }

    one_account = world.cli("run", "--accounts", DEMO)
    assert [a["id"] for a in one_account.summary["accounts"]] == [DEMO]
    assert [f["id"] for f in one_account.summary["findings"]] == [member]

    one_entity = world.cli("run", "--entity", "MemberReadOnlyAccess")
    assert one_entity.code == 1
    assert [f["id"] for f in one_entity.summary["findings"]] == [member]
    assert one_entity.account(DEMO)["checked"]["roles"] == 1

    by_keyword = world.cli("run", "--entity", "role/Member*", "--", "-k", "DEMO and roles")
    assert "1 failed" in by_keyword.stdout
    assert [f["id"] for f in by_keyword.summary["findings"]] == [member]


def test_snapshot_then_run_finds_nothing_then_finds_a_change(world):
    target = world.tmp / "snap"
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    assert (target / "organization.yaml").exists()
    assert len(list((target / "accounts").glob("*.yaml"))) == 3
    result = world.cli("run", "--baselines", str(target))
    assert result.code == 0, result.stdout[-3000:]
    assert result.summary["findings"] == []
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    result = world.cli("run", "--baselines", str(target))
    assert result.code == 1
    result.finding(f"{DEMO}/role/MemberReadOnlyAccess/max_session_duration")


def test_snapshot_over_existing_baselines_keeps_defaults_written_once(world):
    baselines = world.baselines_copy()
    world.emu.iam(DEMO).create_user(UserName="eve")
    snap = world.cli("snapshot", "--baselines", str(baselines))
    assert snap.code == 0, snap.stderr
    demo = (baselines / "accounts" / "222222222222-demo.yaml").read_text()
    assert "eve" in demo
    assert "OrganizationAccountAccessRole" not in demo  # still from member_baseline
    result = world.cli("run", "--baselines", str(baselines))
    assert result.code == 0, result.stdout[-3000:]


def test_new_account_in_the_organization_is_a_finding(world):
    world.emu.client("organizations").create_account(
        AccountName="Shadow", Email="shadow@example.com"
    )
    result = world.cli("run")
    assert result.code == 1
    finding = next(f for f in result.summary["findings"] if f["resource_type"] == "account")
    assert finding["change"] == "unexpected" and finding["account"] == MANAGEMENT


def test_validate_touches_no_aws(tmp_path):
    import subprocess
    import sys

    from tests.conftest import RUNNER

    proc = subprocess.run(
        [sys.executable, str(RUNNER), "validate"],
        capture_output=True,
        text=True,
        cwd=RUNNER.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 account baseline(s) valid" in proc.stdout


def test_report_escapes_strings_from_aws_and_baselines(world):
    baselines = world.baselines_copy()
    demo = baselines / "accounts" / "222222222222-demo.yaml"
    demo.write_text(demo.read_text().replace("name: DEMO", 'name: "<img src=x onerror=alert(1)>"'))
    _trust(
        world.emu,
        trust(
            DEMO1,
            conditions={
                "StringEquals": {
                    "sts:ExternalId": '<script>alert(2)</script>"><a href="javascript:alert(3)">'
                }
            },
        ),
    )
    result = world.cli("run", "--baselines", str(baselines))
    assert result.code == 1
    report = next((world.tmp / "reports").glob("*/report.html")).read_text()
    for raw in ("<img src=x", "<script>alert", '<a href="javascript'):
        assert raw not in report
    assert "alert(1)" in report and "alert(2)" in report  # present, as text


def test_xdist_workers_read_each_account_once_and_report_the_same(world):
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    single = world.cli("run")
    reads = world.tmp / "reads"
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"trace_reads": str(reads)}))
    result = world.cli("run", "--", "-p", "tests.faults", "-n", "2", "--dist", "loadgroup", env=env)
    assert result.code == 1, result.stdout[-3000:]
    assert [f["id"] for f in result.summary["findings"]] == [
        f"{DEMO}/role/MemberReadOnlyAccess/max_session_duration"
    ]
    assert {a["id"]: a["status"] for a in result.summary["accounts"]} == {
        MANAGEMENT: "compliant",
        DEMO: "drift",
        ACCOUNT_B: "compliant",
    }
    # The access graph is judged on the controller from what the workers sent: the same.
    assert result.summary["access"] == single.summary["access"]
    assert "test_cross_account_access_matches_baseline" in result.stdout + _junit(world)
    # Each account was read once, by the one worker its tests went to.
    assert len(reads.read_text().splitlines()) == 3


def test_a_crashed_xdist_worker_leaves_its_account_an_error(world):
    crashed = f"test_roles_match_baseline[{ACCOUNT_B}]"
    env = world.env(
        IAMDRIFT_FAULTS=json.dumps(
            {"crash_check": crashed, "crash_marker": str(world.tmp / "crashed")}
        )
    )
    result = world.cli("run", "--", "-p", "tests.faults", "-n", "2", "--dist", "loadgroup", env=env)
    assert (world.tmp / "crashed").exists()  # the worker was killed
    assert result.code == 1, result.stdout[-3000:]
    b = result.account(ACCOUNT_B)
    assert b["status"] == "error" and crashed in b["error"] and "crashed" in b["error"], b
    assert result.account(DEMO)["status"] == "compliant"  # the others are still checked
    # xdist runs the crashed check again on a fresh worker; the crash stays on record.
    root = ET.parse(world.tmp / "reports" / "latest" / "junit.xml").getroot()
    tags = [c.tag for case in root.iter("testcase") if crashed in case.get("name") for c in case]
    assert "error" in tags, tags
    report = next((world.tmp / "reports").glob("*/report.html")).read_text()
    assert crashed in report


def _junit_cases(world, account: str) -> dict[str, str]:
    """The latest run's JUnit test cases naming `account`: name -> passed, failure, error
    or skipped."""
    root = ET.parse(world.tmp / "reports" / "latest" / "junit.xml").getroot()
    return {
        case.get("name"): next((c.tag for c in case if c.tag != "system-out"), "passed")
        for case in root.iter("testcase")
        if account in case.get("name", "")
    }


def _junit(world) -> str:
    return "".join(p.read_text() for p in (world.tmp / "reports").glob("*/junit.xml"))


def test_demo_runs_as_intended(tmp_path):
    import subprocess
    import sys

    from tests.conftest import RUNNER

    proc = subprocess.run(
        [sys.executable, str(RUNNER), "demo", "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        cwd=RUNNER.parent,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Demo ran as intended" in proc.stdout
    assert (  # step 3: the administrator set assigned to another group, in Identity Center
        "[critical] NEW 222222222222/assignment/AdministratorAccess:group:SecurityAuditors"
        "/existence" in proc.stdout
    )
    assert "[critical] NEW 222222222222/role/MemberReadOnlyAccess/trust_policy" in proc.stdout
    # The seed's admin path (userA may assume any role; OAAR without MFA) is called out.
    assert "[high] 123456789012/group/SecurityAuditors/risk:assume_any_role" in proc.stdout
    assert "222222222222/role/OrganizationAccountAccessRole/risk:admin_without_mfa" in proc.stdout
    # step 4: a change heard from its CloudTrail event, by watch, with who made it
    assert "changed by arn:aws:iam::222222222222:user/mallory: PutRolePolicy" in proc.stdout
    assert len(list((tmp_path / "r").glob("2*/report.html"))) == 4
    assert (tmp_path / "r" / "index.html").exists()


def test_shards_merged_are_the_run_a_single_process_makes(world):
    """Shard-and-merge: the same finding ids, statuses and access edges as one process."""
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    _trust(world.emu, trust(MGMT_ROOT))  # a new edge: userA into MemberReadOnlyAccess
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    single = world.cli("run")
    assert single.code == 1
    parts = [str(world.tmp / f"part-{i}.gz") for i in (1, 2, 3)]
    shard_accounts = []
    for i, part in enumerate(parts, start=1):
        shard = world.cli("run", "--shard", f"{i}/3", "--part", part)
        assert shard.code in (0, 1), shard.stdout[-2000:] + shard.stderr
        shard_accounts += [a["id"] for a in shard.summary["accounts"]]
    assert sorted(shard_accounts) == [MANAGEMENT, DEMO, ACCOUNT_B]  # each account once
    merged = world.cli("merge", *parts)
    assert merged.code == single.code
    for key in ("findings", "risks"):
        assert [f["id"] for f in merged.summary[key]] == [f["id"] for f in single.summary[key]]
    assert merged.summary["access"] == single.summary["access"]
    statuses = {a["id"]: a["status"] for a in single.summary["accounts"]}
    assert {a["id"]: a["status"] for a in merged.summary["accounts"]} == statuses
    assert (world.tmp / "reports" / "latest" / "report.html").exists()

    # A shard left out: its accounts are errors, never passes.
    partial = world.cli("merge", *parts[:2])
    assert partial.code == 1
    missing = [a for a in partial.summary["accounts"] if a["status"] == "error"]
    assert missing and all("no part file holds it" in a["error"] for a in missing)


def test_merge_refuses_parts_of_other_baselines(world, tmp_path):
    part = str(tmp_path / "part.gz")
    assert world.cli("run", "--shard", "1/1", "--part", part).code == 0
    baselines = world.baselines_copy()
    demo = baselines / "accounts" / "222222222222-demo.yaml"
    demo.write_text(
        demo.read_text().replace("max_session_duration: 3600", "max_session_duration: 7200")
    )
    result = world.cli("merge", part, "--baselines", str(baselines))
    assert result.code == 2
    assert f"{part}:0: baselines: checked against other baselines" in result.stderr
    assert "Traceback" not in result.stderr
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"not a part")
    result = world.cli("merge", str(garbage))
    assert result.code == 2 and "not a readable iamdrift part file" in result.stderr


def test_snapshot_then_run_is_clean_on_a_standalone_account(moto_endpoint, tmp_path):
    """No organization at all: snapshot writes no organization.yaml, and the run is clean."""
    import urllib.request

    from iamdrift.emulator import Emulator
    from tests.conftest import World

    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).close()
    world = World(Emulator(moto_endpoint), tmp_path)
    world.emu.iam().create_user(UserName="solo")
    target = tmp_path / "snap"
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    assert not (target / "organization.yaml").exists()
    result = world.cli("run", "--baselines", str(target))
    assert result.code == 0, result.stdout[-3000:]
    assert [a["status"] for a in result.summary["accounts"]] == ["compliant"]


def test_snapshot_then_run_is_clean_from_a_member_account(world, tmp_path):
    """A hub in a member account may describe its organization but not list it."""
    iam = world.emu.iam(DEMO)
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    env = world.env(
        AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"]
    )
    env.pop("AWS_SESSION_TOKEN")
    target = tmp_path / "member"
    snap = world.cli("snapshot", "--baselines", str(target), env=env)
    assert snap.code == 0, snap.stderr
    assert [p.name for p in (target / "accounts").glob("*.yaml")] == [f"{DEMO}-hub.yaml"]
    result = world.cli("run", "--baselines", str(target), env=env)
    assert result.code == 0, result.stdout[-3000:]
    assert [a["id"] for a in result.summary["accounts"]] == [DEMO]
    # DEMO's OrganizationAccountAccessRole trusts the management account, which the
    # organization names: inside it, whatever the hub may list.
    outside = {"risk:trust_outside_organization", "risk:third_party_without_external_id"}
    assert not [r["id"] for r in result.summary["risks"] if r["aspect"] in outside]
    assert not [f["id"] for f in result.summary["findings"] if "/access/" in f["id"]]
    (target / "organization.yaml").write_text(
        f'management_account: "{MANAGEMENT}"\ndiscover_accounts: false\n'
    )
    named = world.cli("run", "--baselines", str(target), env=env)
    assert named.code == 0, named.stdout[-3000:] + named.stderr


def test_who_can_become_administrator_answered_from_the_run(world):
    assert world.cli("run").code == 0
    reports = ["--report-dir", str(world.tmp / "reports")]
    who = world.cli("access", "who-can-reach", "admin@DEMO", "--json", *reports)
    assert who.code == 0, who.stderr
    chains = {c["start"]: c for c in json.loads(who.stdout)["chains"]}
    user_a, demo1 = f"arn:aws:iam::{MANAGEMENT}:user/userA", DEMO1
    oaar = f"arn:aws:iam::{DEMO}:role/OrganizationAccountAccessRole"
    sso_admin = next(c for c in chains if "AWSReservedSSO_AdministratorAccess_" in c)
    # the administrator roles themselves, userA through OAAR, bob through PlatformAdmins
    assert set(chains) == {
        oaar,
        user_a,
        sso_admin,
        "identitycenter:group/PlatformAdmins",
        "identitycenter:user/bob",
    }
    assert [h["kind"] for h in chains["identitycenter:user/bob"]["hops"]] == [
        "member",
        "sign-in",
        "admin",
    ]
    assert [h["role"] for h in chains[user_a]["hops"]] == [oaar, f"admin@{DEMO}"]
    assert [h["kind"] for h in chains[user_a]["hops"]] == ["assume", "admin"]
    assert "group SecurityAuditors inline policy AssumeAnyRole" in chains[user_a]["hops"][0]["path"]
    reached = world.cli("access", "reach", user_a, "--json", *reports)
    targets = {c["target"]: c for c in json.loads(reached.stdout)["chains"]}
    for member in (DEMO, ACCOUNT_B):  # administrator of each member, through its OAAR
        assert [h["role"] for h in targets[f"admin@{member}"]["hops"]] == [
            f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
            f"admin@{member}",
        ]
    reach = world.cli("access", "reach", demo1, *reports)
    assert (
        reach.code == 0 and "admin@" not in reach.stdout and "MemberReadOnlyAccess" in reach.stdout
    )
    report = (world.tmp / "reports" / "latest" / "report.html").read_text()
    # userA; bob and PlatformAdmins, through Identity Center
    assert "Paths to administrator (3 principal(s))" in report and user_a in report
    assert "identitycenter:group/PlatformAdmins -&gt; role/aws-reserved/" in report
    bad = world.cli("access", "who-can-reach", "admin@Nowhere", *reports)
    assert bad.code == 2 and "not an account" in bad.stderr and "Traceback" not in bad.stderr


def test_who_can_reach_an_ou(world):
    org = world.emu.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Sandbox")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=ACCOUNT_B, SourceParentId=root, DestinationParentId=ou)
    run = world.cli("run")
    assert run.account(ACCOUNT_B)["ou"] == "Root/Sandbox" and run.account(DEMO)["ou"] == "Root"
    reports = ["--report-dir", str(world.tmp / "reports")]
    who = world.cli("access", "who-can-reach", "Root/Sandbox", "--json", *reports)
    assert who.code == 0, who.stderr
    chains = json.loads(who.stdout)["chains"]  # each principal once, by its shortest chain
    assert [c["start"] for c in chains] == [
        f"arn:aws:iam::{MANAGEMENT}:user/userA",
        "identitycenter:group/SecurityAuditors",  # its read-only set is assigned there
        "identitycenter:user/alice",
    ]
    assert chains[0]["hops"][0]["role"].startswith(f"arn:aws:iam::{ACCOUNT_B}:role/")
    assert world.cli("access", "who-can-reach", "Root/Prod", *reports).code == 2


def test_a_reachability_rule_broken_by_a_change_and_kept_when_it_is_reverted(world):
    baselines = world.baselines_copy()
    access = baselines / "access.yaml"
    access.write_text(
        access.read_text() + "rules:\n"
        "  - name: only-userA-administers-demo\n"
        "    only:\n"
        f"      from: [{{principal: 'arn:aws:iam::{MANAGEMENT}:user/userA'}},\n"
        "             {principal: 'arn:aws:iam::*:role/OrganizationAccountAccessRole'},\n"
        "             {principal: 'identitycenter:*'},\n"
        "             {principal: 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*'}]\n"
        "      to: {account: DEMO, admin: true}\n"
    )
    run = ["run", "--baselines", str(baselines)]
    kept = world.cli(*run)
    assert kept.code == 0, kept.stdout[-3000:]
    assert kept.summary["rules"] == [
        {
            "name": "only-userA-administers-demo",
            "kind": "only",
            "description": None,
            "violations": [],
        }
    ]
    iam = world.emu.iam()
    iam.add_user_to_group(UserName="demo1", GroupName="SecurityAuditors")
    broken = world.cli(*run)
    assert broken.code == 1
    rule_id = f"{DEMO}/reach/{MANAGEMENT}:user:demo1->admin@{DEMO}/rule:only-userA-administers-demo"
    found = broken.finding(rule_id)
    assert found["severity"] == "critical"
    assert [h["role"] for h in found["actual"]["hops"]] == [
        f"arn:aws:iam::{DEMO}:role/OrganizationAccountAccessRole",
        f"admin@{DEMO}",
    ]
    assert broken.summary["rules"][0]["violations"] == [rule_id]
    report = (world.tmp / "reports" / "latest" / "report.html").read_text()
    assert "Reachability rules (1 of 1 broken)" in report
    reports = ["--report-dir", str(world.tmp / "reports")]
    refused = world.cli("accept", rule_id, "--baselines", str(baselines), *reports)
    assert refused.code == 2 and "change the rule by hand" in refused.stderr
    iam.remove_user_from_group(UserName="demo1", GroupName="SecurityAuditors")
    again = world.cli(*run)
    assert again.code == 0, again.stdout[-3000:]
    assert again.summary["rules"][0]["violations"] == []
