"""`watch`: changes heard from their CloudTrail events (put on the emulator's bus in the
shape CloudTrail documents, routed by an EventBridge rule to an SQS queue) are judged as a
run right after would judge them, each finding with who made the change."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from iamdrift.emulator import ACCOUNT_B, ADMIN, ASSUME, DEMO, MANAGEMENT, allow, trust
from iamdrift.emulator.events import event_queue, put_event, record
from iamdrift.emulator.seed import assign, group_id, set_arn
from tests.conftest import PROJECT, RUNNER

pytestmark = pytest.mark.e2e
DEPLOYER = f"arn:aws:sts::{MANAGEMENT}:assumed-role/PlatformDeploy/ci-run-42"
MALLORY = f"arn:aws:iam::{DEMO}:user/mallory"


def _latest(world) -> dict:
    return json.loads((world.tmp / "reports" / "latest" / "findings.json").read_text())


def _watch(world, queue: str, *extra: str):
    return world.cli(
        "watch", "--queue", queue, "--report-dir", str(world.tmp / "reports"), "--once", *extra
    )


def widen_trust(emu, actor: str) -> None:
    """DEMO's MemberReadOnlyAccess trusts the management account's root, and the event says
    `actor` did it."""
    emu.iam(DEMO).update_assume_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
    )
    put_event(
        emu,
        record(DEMO, "iam", "UpdateAssumeRolePolicy", {"roleName": "MemberReadOnlyAccess"}, actor),
    )


def _changes(emu) -> None:
    """Each kind of change a run catches, made with boto3, and its CloudTrail record put on
    the bus by whoever made it."""
    iam_demo, iam_mgmt, iam_b = emu.iam(DEMO), emu.iam(), emu.iam(ACCOUNT_B)
    widened = trust(f"arn:aws:iam::{MANAGEMENT}:root")
    iam_demo.update_assume_role_policy(
        RoleName="MemberReadOnlyAccess", PolicyDocument=json.dumps(widened)
    )
    put_event(
        emu,
        record(
            DEMO, "iam", "UpdateAssumeRolePolicy", {"roleName": "MemberReadOnlyAccess"}, MALLORY
        ),
    )
    hop = json.dumps(allow(ASSUME, "*"))
    iam_mgmt.put_user_policy(UserName="demo1", PolicyName="Hop", PolicyDocument=hop)
    put_event(
        emu,
        record(
            MANAGEMENT, "iam", "PutUserPolicy", {"userName": "demo1", "policyName": "Hop"}, DEPLOYER
        ),
    )
    iam_mgmt.add_user_to_group(UserName="userA", GroupName="CrossAccountReaders")
    put_event(
        emu,
        record(
            MANAGEMENT,
            "iam",
            "AddUserToGroup",
            {"userName": "userA", "groupName": "CrossAccountReaders"},
            DEPLOYER,
        ),
    )
    iam_b.attach_role_policy(RoleName="SecurityReadOnlyRole", PolicyArn=ADMIN)
    put_event(
        emu,
        record(
            ACCOUNT_B,
            "iam",
            "AttachRolePolicy",
            {"roleName": "SecurityReadOnlyRole", "policyArn": ADMIN},
            DEPLOYER,
        ),
    )
    arn = iam_demo.create_policy(PolicyName="Team", PolicyDocument=hop)["Policy"]["Arn"]
    iam_demo.create_policy_version(PolicyArn=arn, PolicyDocument=hop, SetAsDefault=True)
    put_event(emu, record(DEMO, "iam", "CreatePolicyVersion", {"policyArn": arn}, MALLORY))
    assign(emu, set_arn(emu, "AdministratorAccess"), group_id(emu, "SecurityAuditors"), [DEMO])
    put_event(
        emu,
        record(
            MANAGEMENT,
            "sso",
            "CreateAccountAssignment",
            {"targetId": DEMO, "targetType": "AWS_ACCOUNT"},
            DEPLOYER,
        ),
    )
    org = emu.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}],
    }
    scp = org.create_policy(
        Name="NoUsers", Description="d", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny)
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=DEMO)
    put_event(
        emu,
        record(
            MANAGEMENT,
            "organizations",
            "AttachPolicy",
            {"policyId": scp, "targetId": DEMO},
            DEPLOYER,
        ),
    )
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    org.move_account(AccountId=ACCOUNT_B, SourceParentId=root, DestinationParentId=ou["Id"])
    put_event(
        emu,
        record(
            MANAGEMENT,
            "organizations",
            "MoveAccount",
            {"accountId": ACCOUNT_B, "destinationParentId": ou["Id"]},
            DEPLOYER,
        ),
    )


def test_watch_reports_what_a_run_right_after_reports_with_who_made_each_change(world):
    assert world.cli("run").code == 0
    queue, dlq = event_queue(world.emu, max_receives=2)
    _changes(world.emu)
    # Events that change nothing: a read, a refused call, another service's; and a body that
    # is not an event at all.
    put_event(world.emu, record(DEMO, "iam", "GetRole", {"roleName": "X"}, MALLORY, read_only=True))
    put_event(
        world.emu,
        record(
            DEMO,
            "iam",
            "DeleteRole",
            {"roleName": "MemberReadOnlyAccess"},
            MALLORY,
            error="AccessDenied",
        ),
    )
    world.emu.client("sqs").send_message(QueueUrl=queue, MessageBody="not an event {")

    watched = _watch(world, queue, "--debounce", "1", "--visibility", "1")
    assert watched.code == 0, watched.stderr[-3000:]
    counts = json.loads(watched.stderr.rsplit("watch stopped: ", 1)[1].splitlines()[0])
    assert counts["ignored"] == 2 and counts["malformed"] >= 1 and counts["events judged"] == 8
    # Where the event run's time went, in watch's log (the child's): it read accounts.
    split = re.search(r"event run \S+: reading (\d+\.\d)s, judging \d+\.\ds", watched.stderr)
    assert split and float(split[1]) > 0, watched.stderr[-3000:]
    event_run = _latest(world)
    assert event_run["trigger"] == "event" and len(event_run["events"]) == 8
    html = (world.tmp / "reports" / "latest" / "report.html").read_text()
    assert "Changed by" in html and "user/mallory" in html and 'id="iamdrift-events"' in html
    after = world.cli("run")
    assert after.code == 1
    ids = {f["id"] for f in event_run["findings"]}
    assert ids == {f["id"] for f in after.summary["findings"]}
    new = [f for f in event_run["findings"] if f.get("history") == "new"]
    assert len(new) >= 8, [f["id"] for f in new]
    for f in new:  # every finding the changes made names who made them
        assert f.get("events"), f["id"]
    trust_finding = next(
        f for f in new if f["id"] == f"{DEMO}/role/MemberReadOnlyAccess/trust_policy"
    )
    (event,) = trust_finding["events"]
    assert event["actor"] == MALLORY and event["event"] == "UpdateAssumeRolePolicy"
    assert event["source_ip"] and event["request_id"]
    inline = next(f for f in new if f["id"] == f"{MANAGEMENT}/user/demo1/inline_policy:Hop")
    assert inline["events"][0]["issuer"] == f"arn:aws:iam::{MANAGEMENT}:role/PlatformDeploy"

    # The body that is not an event was left on the queue; the redrive policy moves it to the
    # dead-letter queue once it has been received twice. The loop went on meanwhile.
    sqs = world.emu.client("sqs")
    for _ in range(3):
        dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        if dead:
            break
        time.sleep(1.2)  # its visibility runs out
        assert _watch(world, queue, "--debounce", "0.2", "--visibility", "1").code == 0
    assert [m["Body"] for m in dead] == ["not an event {"]


@pytest.mark.slow
def test_a_killed_watch_loses_no_event_and_sigterm_stops_it_cleanly(world):
    assert world.cli("run").code == 0
    queue, _ = event_queue(world.emu)
    widen_trust(world.emu, MALLORY)
    reports = world.tmp / "reports"
    argv = [
        sys.executable,
        str(RUNNER),
        "watch",
        "--queue",
        queue,
        "--report-dir",
        str(reports),
        "--debounce",
        "0.2",
        "--visibility",
        "3",
    ]
    watcher = subprocess.Popen(
        argv,
        env=world.env(),
        cwd=PROJECT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(reports.glob(".*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until its event run has begun
    os.killpg(watcher.pid, signal.SIGKILL)  # the machine dies mid-judgement
    watcher.wait()
    time.sleep(3.5)  # the message's visibility runs out: it is back on the queue
    again = _watch(world, queue, "--debounce", "0.2")
    assert again.code == 0, again.stderr[-3000:]
    event_run = _latest(world)
    found = next(f for f in event_run["findings"] if f["id"].endswith("/trust_policy"))
    assert found["events"][0]["actor"] == MALLORY
    # Only the account the event changed was read; the others carried, with their time.
    read_at = {a["id"]: a.get("read_at") for a in event_run["accounts"]}
    assert read_at[DEMO] is None and read_at[MANAGEMENT] and read_at[ACCOUNT_B]

    # SIGTERM: a clean stop, exit 0, within 30 s, even in the middle of a long poll.
    watcher = subprocess.Popen(argv, env=world.env(), cwd=PROJECT, stderr=subprocess.PIPE)
    time.sleep(3)
    started = time.monotonic()
    watcher.send_signal(signal.SIGTERM)
    assert watcher.wait(timeout=30) == 0
    assert time.monotonic() - started < 30


def test_an_event_run_reads_what_its_events_touched_and_carries_the_rest(world):
    """An IAM change in one account: that account is read and tested; the others and the
    organization are judged as the latest run left them (their drift kept, their checks
    counted as carried, the time of each reading said). What no event told of waits for
    the next full run."""
    iam_b = world.emu.iam(ACCOUNT_B)
    iam_b.attach_role_policy(RoleName="SecurityReadOnlyRole", PolicyArn=ADMIN)  # no event
    assert world.cli("run").code == 1
    queue, _ = event_queue(world.emu)
    org = world.emu.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Quiet")["OrganizationalUnit"]
    org.move_account(AccountId=ACCOUNT_B, SourceParentId=root, DestinationParentId=ou["Id"])
    widen_trust(world.emu, MALLORY)
    assert _watch(world, queue, "--debounce", "0.2").code == 0
    event_run = _latest(world)
    ids = {f["id"] for f in event_run["findings"]}
    attached = f"{ACCOUNT_B}/role/SecurityReadOnlyRole/managed_policies"
    assert {attached, f"{DEMO}/role/MemberReadOnlyAccess/trust_policy"} <= ids
    assert event_run["checks"]["carried"] == 2 * 5  # MANAGEMENT's and ACCOUNT_B's tests
    assert event_run["checks"]["passed"] + event_run["checks"]["failed"] < 10
    junit = (world.tmp / "reports" / "latest" / "junit.xml").read_text()
    assert DEMO in junit and ACCOUNT_B not in junit
    full = json.loads(sorted((world.tmp / "reports").glob("2*/findings.json"))[0].read_text())
    assert event_run["organization_read_at"] == full["started"]
    html = (world.tmp / "reports" / "latest" / "report.html").read_text()
    carried = html.split('id="iamdrift-carried"', 1)[1].split("</table>", 1)[0]
    assert attached in carried and "MemberReadOnlyAccess" not in carried
    assert "10 carried" in html

    after = world.cli("run")  # reads the organization: the quiet move is found now
    moved = {f["id"] for f in after.summary["findings"]} - ids
    assert f"{MANAGEMENT}/account/{ACCOUNT_B}/ou" in moved
    assert after.summary.get("organization_read_at") is None


def test_watch_checks_headers_at_start_and_each_file_whole_when_its_account_is_read(world):
    """A file without a header stops watch at start (exit 2, the file named, no
    traceback); a file whose body is broken fails the event run that reads its account,
    and its event stays on the queue (for the redrive policy), not judged as a pass."""
    assert world.cli("run").code == 0
    queue, _ = event_queue(world.emu)
    baselines = world.baselines_copy()
    stray = baselines / "accounts" / "stray.yaml"
    stray.write_text("users: {}\n")
    started = _watch(world, queue, "--baselines", str(baselines))
    assert started.code == 2 and "stray.yaml" in started.stderr, started.stderr[-2000:]
    assert "Traceback" not in started.stderr
    stray.unlink()
    demo = next((baselines / "accounts").glob(f"{DEMO}-*.yaml"))
    demo.write_text(demo.read_text() + "roles:\n  Extra:\n    trust: not-a-policy\n")
    widen_trust(world.emu, MALLORY)
    judged = _watch(world, queue, "--baselines", str(baselines), "--visibility", "1")
    assert judged.code == 1 and demo.name in judged.stderr, judged.stderr[-2000:]
    assert "Traceback" not in judged.stderr
    time.sleep(1.5)  # its visibility runs out: the event is back on the queue
    left = world.emu.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert len(left.get("Messages", [])) == 1
