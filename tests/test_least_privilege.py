"""The documented permissions, enforced: moto checks every request against the caller's
IAM policies (`/moto-api/reset-auth`), the audit roles come from the shipped
CloudFormation template, and the hub user holds exactly the shipped hub policy.
With them the run is clean; without any one documented action something is an error
that names it, so every documented action is needed.
"""

from __future__ import annotations

import copy
import json
import shutil
import urllib.request

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO, MANAGEMENT
from tests.conftest import PROJECT

pytestmark = pytest.mark.e2e
EXAMPLES = PROJECT / "examples" / "audit-role"
HUB_USER = "iamdrift-hub"
AUDIT_ROLE = "IamDriftAudit"


def _authorization(endpoint: str, enforced: bool) -> None:
    """moto checks request authorization from now on (or stops checking)."""
    body = b"0" if enforced else str(10**18).encode()
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would not reach moto
    )
    urllib.request.urlopen(req, timeout=30).close()


def _deploy(world) -> dict:
    """The audit role in every account from the template; the hub user with the policy;
    in DEMO, a help desk that may give one user a password or keys (so that whether it
    would succeed is read: GetLoginProfile, ListAccessKeys)."""
    demo = world.emu.iam(DEMO)
    for user in ("helpdesk", "operator"):
        demo.create_user(UserName=user)
    demo.put_user_policy(
        UserName="helpdesk",
        PolicyName="Reset",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:CreateLoginProfile", "iam:CreateAccessKey"],
                        "Resource": f"arn:aws:iam::{DEMO}:user/operator",
                    }
                ],
            }
        ),
    )
    hub_arn = f"arn:aws:iam::{MANAGEMENT}:user/{HUB_USER}"
    iam = world.emu.iam()
    iam.create_user(UserName=HUB_USER)
    iam.put_user_policy(
        UserName=HUB_USER,
        PolicyName="iamdrift-hub",
        PolicyDocument=(EXAMPLES / "hub-policy.json").read_text(),
    )
    key = iam.create_access_key(UserName=HUB_USER)["AccessKey"]
    template = (EXAMPLES / "audit-role.yaml").read_text()
    for account in (MANAGEMENT, DEMO, ACCOUNT_B):  # a StackSet would do the members
        world.emu.client("cloudformation", account).create_stack(
            StackName="iamdrift-audit-role",
            TemplateBody=template,
            Parameters=[{"ParameterKey": "HubPrincipalArn", "ParameterValue": hub_arn}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        _store_as_text(account)
    return key


def _store_as_text(account: str) -> None:
    """moto's CloudFormation keeps a role's inline policy as a dict, where its IAM keeps
    text, and GetAccountAuthorizationDetails then fails; the same document, as text."""
    from moto.iam.models import iam_backends

    role = iam_backends[account]["global"].get_role(AUDIT_ROLE)
    for name, document in role.policies.items():
        if not isinstance(document, str):
            role.policies[name] = json.dumps(document)


def _baselines(world, name: str = "audit-baselines"):
    """Baselines of the world as it now is, read through the audit role everywhere."""
    target = world.tmp / name
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    org = target / "organization.yaml"
    org.write_text(org.read_text().replace("OrganizationAccountAccessRole", AUDIT_ROLE))
    management = next((target / "accounts").glob(f"{MANAGEMENT}-*.yaml"))
    management.write_text(management.read_text() + f"read_via: {AUDIT_ROLE}\n")
    return target


def _hub_env(world, key: dict) -> dict:
    env = world.env(
        AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"]
    )
    env.pop("AWS_SESSION_TOKEN")
    return env


def _errors(result) -> str:
    assert result.summary, result.stdout[-3000:] + result.stderr
    return " ".join(a["error"] or "" for a in result.summary["accounts"])


@pytest.mark.slow
def test_documented_permissions_are_enough_and_each_is_needed(world):
    key = _deploy(world)
    baselines = _baselines(world)
    hub_policy = json.loads((EXAMPLES / "hub-policy.json").read_text())
    role_actions = [
        "iam:GetAccountAuthorizationDetails",
        "iam:ListRoles",
        "iam:GetLoginProfile",
        "iam:ListAccessKeys",
    ]
    hub_actions = [
        (i, a)
        for i, s in enumerate(hub_policy["Statement"])
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if a not in BY_SHAPE
    ]
    env = _hub_env(world, key)
    missed = []
    try:
        _authorization(world.emu.endpoint, enforced=True)
        clean = world.cli("run", "--baselines", str(baselines), env=env)
        assert clean.code == 0, clean.stdout[-3000:]
        assert {a["status"] for a in clean.summary["accounts"]} == {"compliant"}

        for index, action in hub_actions:
            _authorization(world.emu.endpoint, enforced=False)
            reduced = copy.deepcopy(hub_policy)
            stmt = reduced["Statement"][index]
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            stmt["Action"] = [a for a in actions if a != action] or ["iam:GetUser"]
            world.emu.iam().put_user_policy(
                UserName=HUB_USER, PolicyName="iamdrift-hub", PolicyDocument=json.dumps(reduced)
            )
            _authorization(world.emu.endpoint, enforced=True)
            result = world.cli("run", "--baselines", str(baselines), env=env)
            if result.code != 1 or action not in _errors(result):
                missed.append((action, result.code, _errors(result)[:500]))
            if action.startswith(("sso:", "identitystore:")):
                # A first snapshot (no identity_center.yaml yet) is never silent either.
                fresh = shutil.copytree(baselines, world.tmp / action)
                (fresh / "identity_center.yaml").unlink()
                first = world.cli("snapshot", "--baselines", str(fresh), env=env)
                if first.code != 1 or action.split(":")[1] not in first.stderr:
                    missed.append(("snapshot " + action, first.code, first.stderr[-500:]))
        _authorization(world.emu.endpoint, enforced=False)
        world.emu.iam().put_user_policy(
            UserName=HUB_USER, PolicyName="iamdrift-hub", PolicyDocument=json.dumps(hub_policy)
        )
        for action in role_actions:
            _authorization(world.emu.endpoint, enforced=False)
            left = [a for a in role_actions if a != action]
            document = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": left, "Resource": "*"}],
            }
            for account in (MANAGEMENT, DEMO, ACCOUNT_B):
                world.emu.iam(account).put_role_policy(
                    RoleName=AUDIT_ROLE,
                    PolicyName="IamDriftRead",
                    PolicyDocument=json.dumps(document),
                )
            _authorization(world.emu.endpoint, enforced=True)
            result = world.cli("run", "--baselines", str(baselines), env=env)
            if result.code != 1 or action not in _errors(result):
                missed.append((action, result.code, _errors(result)[:500]))
        _authorization(world.emu.endpoint, enforced=False)
        for account in (MANAGEMENT, DEMO, ACCOUNT_B):
            world.emu.iam(account).put_role_policy(
                RoleName=AUDIT_ROLE,
                PolicyName="IamDriftRead",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": role_actions, "Resource": "*"}],
                    }
                ),
            )
        missed += _needed_by_shape(world, env, hub_policy)
    finally:
        _authorization(world.emu.endpoint, enforced=False)
    assert missed == []


# Needed only where the organization's shape makes them the cheaper reads: checked in a
# shape that does.
BY_SHAPE = {"sso:ListAccountAssignmentsForPrincipal"}


def _needed_by_shape(world, env, hub_policy: dict) -> list:
    """More sets provisioned than there are principals: assignments are read per principal
    (aws/identity_center.plan_reads), which then needs its action."""
    from iamdrift.emulator import READ_ONLY, assign, group_id, permission_set

    group = group_id(world.emu, "PlatformAdmins")
    for n in range(3):
        assign(
            world.emu, permission_set(world.emu, f"Extra{n}", [READ_ONLY]), group, [DEMO, ACCOUNT_B]
        )
    baselines = _baselines(world, "shaped-baselines")
    missed = []
    for action in sorted(BY_SHAPE):
        reduced = copy.deepcopy(hub_policy)
        for stmt in reduced["Statement"]:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            stmt["Action"] = [a for a in actions if a != action]
        for policy, needed in ((hub_policy, False), (reduced, True)):
            _authorization(world.emu.endpoint, enforced=False)
            world.emu.iam().put_user_policy(
                UserName=HUB_USER, PolicyName="iamdrift-hub", PolicyDocument=json.dumps(policy)
            )
            _authorization(world.emu.endpoint, enforced=True)
            result = world.cli("run", "--baselines", str(baselines), env=env)
            if result.code != int(needed) or needed != (action in _errors(result)):
                missed.append((action, needed, result.code, _errors(result)[:500]))
    return missed


@pytest.mark.slow
def test_watch_needs_exactly_the_documented_queue_permissions(world):
    """The hub with its policy and central.yaml's WatchPolicy (on the queue) judges an event;
    without any one of the three queue actions, watch says which call was refused."""
    import yaml

    from iamdrift.emulator.events import event_queue
    from tests.test_examples import _CfnLoader
    from tests.test_watch import widen_trust

    key = _deploy(world)
    baselines = _baselines(world)
    env = _hub_env(world, key)
    assert world.cli("run", "--baselines", str(baselines), env=env).code == 0
    central = (PROJECT / "examples" / "event-driven" / "central.yaml").read_text()
    doc = yaml.load(central, Loader=_CfnLoader)["Resources"]["WatchPolicy"]["Properties"]
    (grant,) = doc["PolicyDocument"]["Statement"]
    actions = grant["Action"]
    reports = str(world.tmp / "reports")
    missed = []
    try:
        for n, left_out in enumerate([None, *actions]):
            _authorization(world.emu.endpoint, enforced=False)
            queue, _ = event_queue(world.emu, name=f"events-{n}")  # each its own events
            queue_arn = f"arn:aws:sqs:us-east-1:{MANAGEMENT}:events-{n}"
            statement = {
                **grant,
                "Resource": queue_arn,
                "Action": [a for a in actions if a != left_out],
            }
            world.emu.iam().put_user_policy(
                UserName=HUB_USER,
                PolicyName="iamdrift-watch",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            widen_trust(world.emu, f"arn:aws:iam::{DEMO}:user/x")
            _authorization(world.emu.endpoint, enforced=True)
            result = world.cli(
                "watch",
                "--queue",
                queue,
                "--baselines",
                str(baselines),
                "--report-dir",
                reports,
                "--once",
                "--debounce",
                "0.2",
                "--visibility",
                "3",
                env=env,
            )
            if left_out is None:
                # Judged, and its message deleted: a refused delete is only a warning.
                if (
                    result.code != 0
                    or '"events judged": 1' not in result.stderr
                    or "cannot " in result.stderr
                ):
                    missed.append(("all granted", result.code, result.stderr[-1500:]))
            elif left_out.split(":")[1] not in result.stderr:
                missed.append((left_out, result.code, result.stderr[-1500:]))
    finally:
        _authorization(world.emu.endpoint, enforced=False)
    assert missed == []


@pytest.mark.parametrize(
    "granted, allowed",
    [
        (["sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], True),
        (["sqs:ReceiveMessage"], False),
    ],
)
def test_the_emulator_grants_sqs_batch_calls_by_their_single_actions(world, granted, allowed):
    """IAM has no actions for SQS's batch calls: DeleteMessage and ChangeMessageVisibility
    grant DeleteMessageBatch and ChangeMessageVisibilityBatch (Amazon SQS Developer Guide,
    "Amazon SQS batch actions"); moto asked for the batch names, the emulator does not."""
    import boto3
    from botocore.exceptions import ClientError

    sqs = world.emu.client("sqs")
    queue = sqs.create_queue(QueueName=f"batch-{int(allowed)}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    (message,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=60)["Messages"]
    iam = world.emu.iam()
    iam.create_user(UserName="consumer")
    statement = {"Effect": "Allow", "Action": granted, "Resource": "*"}
    iam.put_user_policy(
        UserName="consumer",
        PolicyName="queue",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    key = iam.create_access_key(UserName="consumer")["AccessKey"]
    consumer = boto3.client(
        "sqs",
        endpoint_url=world.emu.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    entry = {"Id": "0", "ReceiptHandle": message["ReceiptHandle"]}
    _authorization(world.emu.endpoint, enforced=True)
    try:
        for call, extra in (
            (consumer.change_message_visibility_batch, {"VisibilityTimeout": 30}),
            (consumer.delete_message_batch, {}),
        ):
            try:
                call(QueueUrl=queue, Entries=[{**entry, **extra}])
                refused = None
            except ClientError as exc:
                refused = exc.response["Error"]["Code"]
            assert (refused is None) == allowed, (call, refused)
    finally:
        _authorization(world.emu.endpoint, enforced=False)
