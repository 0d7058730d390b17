"""CloudTrail's events on the emulator, delivered as AWS delivers them: a rule on the bus
matching "AWS API Call via CloudTrail" for IAM, Identity Center, the identity store and
Organizations, targeting an SQS queue with a dead-letter queue (moto routes put events to
SQS targets). moto records no CloudTrail events, so a test or the demo makes the change
with boto3 and puts the record of it, in the shape CloudTrail documents ("CloudTrail
record contents"), on the bus. Nothing here is used against real AWS.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from iamdrift.emulator.server import Emulator

SOURCES = ("aws.iam", "aws.sso", "aws.identitystore", "aws.organizations")
DETAIL_TYPE = "AWS API Call via CloudTrail"


def event_queue(
    emu: Emulator, name: str = "iamdrift-events", max_receives: int = 3
) -> tuple[str, str]:
    """(queue URL, dead-letter queue URL): the rule, the queue and its redrive policy."""
    sqs = emu.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = _arn(sqs, dlq)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
    queue = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)})[
        "QueueUrl"
    ]
    bus = emu.client("events")
    pattern = {"detail-type": [DETAIL_TYPE], "source": list(SOURCES)}
    bus.put_rule(Name=name, EventPattern=json.dumps(pattern))
    bus.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": _arn(sqs, queue)}])
    return queue, dlq


def _arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def user_identity(arn: str) -> dict[str, Any]:
    """CloudTrail's userIdentity for an IAM user, or for a role's session (with its issuer)."""
    account = arn.split(":")[4]
    if ":assumed-role/" in arn:
        role_name = arn.split("/")[1]
        return {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{arn.rsplit('/', 1)[-1]}",
            "arn": arn,
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": f"arn:aws:iam::{account}:role/{role_name}",
                    "accountId": account,
                    "userName": role_name,
                },
                "attributes": {"creationDate": _now(), "mfaAuthenticated": "false"},
            },
        }
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLE",
        "arn": arn,
        "accountId": account,
        "accessKeyId": "AKIAEXAMPLE",
        "userName": arn.rsplit("/", 1)[-1],
    }


def record(
    account: str,
    service: str,
    name: str,
    params: dict[str, Any],
    actor: str,
    error: str | None = None,
    read_only: bool = False,
) -> dict[str, Any]:
    """A CloudTrail management event record of a call `name` to `service` (`iam`, `sso`,
    `identitystore`, `organizations`) made in `account` by `actor`."""
    out: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": user_identity(actor),
        "eventTime": _now(),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": params,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        out.update(errorCode=error, errorMessage=f"{error}: not allowed")
    return out


def put_event(emu: Emulator, detail: dict[str, Any]) -> None:
    """The record on the bus, as CloudTrail's integration puts it there."""
    put_events(emu, [detail])


def put_events(emu: Emulator, details: list[dict[str, Any]]) -> None:
    """Records on the bus, ten to a call (PutEvents takes "up to 10 entries" per request:
    Amazon EventBridge API Reference, PutEvents)."""
    bus = emu.client("events")
    for i in range(0, len(details), 10):
        entries = [
            {
                "Source": f"aws.{d['eventSource'].split('.', 1)[0]}",
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(d),
            }
            for d in details[i : i + 10]
        ]
        answer = bus.put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"the emulator's bus refused an event: {answer['Entries']}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
