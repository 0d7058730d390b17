"""A change heard from its own CloudTrail event, as EventBridge delivers it to a queue (pure).

EventBridge wraps each CloudTrail management event in its envelope (`detail-type` "AWS API
Call via CloudTrail", `source` `aws.iam`, ...), the record itself under `detail`. The
account a change was made in is the record's `recipientAccountId`: the envelope's
`account` is the bus's that delivered it, a central bus's when the event was forwarded.

What an event says is read here: which account it changed (or the organization), which
entity, and who did it. What it changed is not: the account is read again, so an event
that is late, out of order or one of many tells only where to look.

>>> e = read_event(json.dumps({"detail-type": "AWS API Call via CloudTrail",
...     "source": "aws.iam", "account": "999999999999", "detail": {
...     "eventSource": "iam.amazonaws.com", "eventName": "UpdateAssumeRolePolicy",
...     "recipientAccountId": "222222222222", "eventTime": "2026-12-03T09:00:00Z",
...     "userIdentity": {"arn": "arn:aws:iam::222222222222:user/mallory"},
...     "requestParameters": {"roleName": "Audit"}}}))
>>> e.accounts, e.resource, e.fact.actor
(['222222222222'], ('role', 'Audit'), 'arn:aws:iam::222222222222:user/mallory')
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from iamdrift.errors import problem_text

DETAIL_TYPE = "AWS API Call via CloudTrail"
# The services whose changes decide who may assume what, by CloudTrail's eventSource.
SOURCES = {
    "iam.amazonaws.com": "iam",
    "sso.amazonaws.com": "sso",
    "identitystore.amazonaws.com": "identitystore",
    "organizations.amazonaws.com": "organizations",
}
# IAM's request parameters that name the entity a call changed, the most specific first:
# AddUserToGroup names a user and a group, and changes the user's memberships.
_IAM_NAMES = (("userName", "user"), ("roleName", "role"), ("groupName", "group"))
# Identity Center calls that change what one account holds (its assignments, the role a set
# provisions there): the account is their `targetId` (AWS_ACCOUNT targets).
_SSO_ACCOUNT_CALLS = {
    "CreateAccountAssignment",
    "DeleteAccountAssignment",
    "ProvisionPermissionSet",
}
# Read calls logged as management events, by the prefixes IAM gives them.
_READ_PREFIXES = ("Get", "List", "Describe", "Generate", "Simulate")


class MalformedEvent(ValueError):
    """A message that is not an event: left on the queue for its redrive policy."""


class EventFact(BaseModel):
    """Who changed what, as a responder asks first; carried by the findings it explains."""

    actor: str  # userIdentity's ARN (or its type, for a service or an anonymous caller)
    issuer: str | None = None  # for an assumed role's session: the role that issued it
    event: str  # eventName
    source: str  # eventSource
    time: str  # eventTime
    source_ip: str | None = None
    request_id: str | None = None
    account: str  # recipientAccountId: the account the change was made in
    resource: str | None = None  # KIND/NAME of the entity it names, when it names one


class ChangeEvent(BaseModel):
    """An event that may change access: the accounts to read again (none when it changes
    only the organization: its structure, SCPs, Identity Center's sets and groups)."""

    fact: EventFact
    accounts: list[str]
    resource: tuple[str, str] | None = None  # (kind, name) in fact.account
    organization: bool = False  # the organization's own checks are touched


class Ignored(BaseModel):
    """A well-formed event that changes nothing: read-only, failed, or another service's."""

    reason: str


def read_event(body: str) -> ChangeEvent | Ignored:
    """The change a queue message tells of; Ignored when it changes nothing. Raises
    MalformedEvent for a body that is not an EventBridge event of a CloudTrail record."""
    try:
        envelope = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("detail"), dict):
        raise MalformedEvent("not an EventBridge event: no `detail` object")
    if envelope.get("detail-type") != DETAIL_TYPE:
        return Ignored(reason=f"detail-type {envelope.get('detail-type')!r}")
    detail: dict[str, Any] = envelope["detail"]
    source = detail.get("eventSource")
    name = detail.get("eventName")
    account = detail.get("recipientAccountId")
    if not isinstance(name, str) or not isinstance(account, str) or not account.isdigit():
        raise MalformedEvent("a CloudTrail record without eventName or recipientAccountId")
    service = SOURCES.get(str(source))
    if service is None:
        return Ignored(reason=f"eventSource {source!r}")
    if detail.get("errorCode"):
        return Ignored(reason=f"failed call ({detail['errorCode']})")
    if detail.get("readOnly") is True or name.startswith(_READ_PREFIXES):
        return Ignored(reason="read-only call")
    params = detail.get("requestParameters")
    params = params if isinstance(params, dict) else {}
    resource = _iam_resource(params) if service == "iam" else None
    fact = EventFact(
        actor=_actor(detail.get("userIdentity")),
        issuer=_issuer(detail.get("userIdentity")),
        event=name,
        source=str(source),
        time=str(detail.get("eventTime") or envelope.get("time") or ""),
        source_ip=_text(detail.get("sourceIPAddress")),
        request_id=_text(detail.get("requestID")),
        account=account,
        resource="/".join(resource) if resource else None,
    )
    if service == "iam":
        return ChangeEvent(fact=fact, accounts=[account], resource=resource)
    accounts = []
    target = params.get("targetId")
    if service == "sso" and name in _SSO_ACCOUNT_CALLS and _is_account(target):
        accounts = [str(target)]
    return ChangeEvent(fact=fact, accounts=accounts, organization=True)


def _iam_resource(params: dict[str, Any]) -> tuple[str, str] | None:
    for key, kind in _IAM_NAMES:
        if isinstance(params.get(key), str):
            return kind, params[key]
    # A customer managed policy's own calls (CreatePolicyVersion, SetDefaultPolicyVersion,
    # DeletePolicy) name it by ARN; attaching one names the principal above.
    arn = params.get("policyArn")
    if isinstance(arn, str) and ":policy/" in arn and arn.split(":")[4:5] != ["aws"]:
        return "policy", arn.rsplit("/", 1)[-1]
    if isinstance(params.get("policyName"), str):
        return "policy", params["policyName"]
    return None


def _actor(identity: Any) -> str:
    if not isinstance(identity, dict):
        return "unknown"
    return str(
        identity.get("arn") or identity.get("invokedBy") or identity.get("type") or "unknown"
    )


def _issuer(identity: Any) -> str | None:
    if not isinstance(identity, dict):
        return None
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    return _text(issuer.get("arn")) if isinstance(issuer, dict) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and value != "" else None


def _is_account(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) == 12


class EventBatch(BaseModel):
    """What `watch` hands the run it starts: the accounts to read again, and the events."""

    accounts: list[str] = []
    events: list[EventFact] = []
    # Did an event change the organization (Organizations, Identity Center)? Then it is read
    # again; else the latest run's read of it stands. Unsaid: read again.
    organization: bool = True

    def write(self) -> str:
        return self.model_dump_json(indent=1)

    @classmethod
    def read(cls, path: Path) -> EventBatch:
        """Raises ValueError, one line, for a file that is not a batch."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            text = problem_text(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ValueError(f"{path}: {text}") from None
