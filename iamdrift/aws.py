"""Reaching accounts: hub session, refreshing assumed-role sessions, and a read-only guard.

Credentials come from boto3's standard chain; `AWS_ENDPOINT_URL` is honoured by
botocore itself. Every session made here refuses operations that could write.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from iamdrift.errors import ReadOnlyViolation

# Standard retry mode backs off on throttling and transient errors; AWS_MAX_ATTEMPTS
# (botocore's own variable) tunes how long a throttled account is retried.
BOTO_CONFIG = Config(
    retries={
        "mode": "standard",
        "total_max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS", "8")),
    },
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=32,
)

_READ_PREFIXES = ("Get", "List", "Describe")
_ALLOWED_WRITES = {("sts", "AssumeRole")}


def is_read_only(service: str, operation: str) -> bool:
    """The only operations iamdrift may send.

    >>> is_read_only("iam", "GetAccountAuthorizationDetails"), is_read_only("iam", "DeleteRole")
    (True, False)
    """
    return operation.startswith(_READ_PREFIXES) or (service, operation) in _ALLOWED_WRITES


def _guard(model, **_kwargs) -> None:
    service = model.service_model.endpoint_prefix
    if not is_read_only(service, model.name):
        raise ReadOnlyViolation(f"iamdrift refuses to call {service}:{model.name}: it only reads")


def _guarded(core: botocore.session.Session) -> boto3.Session:
    core.register("before-call", _guard, unique_id="iamdrift-read-only-guard")
    return boto3.Session(botocore_session=core)


def hub_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """The session whose credentials read the hub's own account and assume roles elsewhere."""
    core = botocore.session.Session(profile=profile)
    if region:
        core.set_config_variable("region", region)
    elif not core.get_config_variable("region"):
        core.set_config_variable("region", "us-east-1")  # IAM and STS are global
    return _guarded(core)


def session_name(prefix: str) -> str:
    """A recognisable RoleSessionName: `iamdrift-20261129T052000Z` (CloudTrail shows it)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return re.sub(r"[^\w+=,.@-]", "-", f"{prefix}-{stamp}")[:64]


def assumed_session(
    hub: boto3.Session, role_arn: str, name: str, external_id: str | None = None
) -> boto3.Session:
    """A session in another account whose credentials refresh before they expire.

    Nothing is sent until the first call, so an AssumeRole failure surfaces there.
    """
    source = hub._session  # boto3 exposes no public handle on its botocore session
    extra = {"RoleSessionName": name, "DurationSeconds": 3600}
    if external_id:
        extra["ExternalId"] = external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda *a, **kw: source.create_client(*a, config=BOTO_CONFIG, **kw),
        source_credentials=source.get_credentials(),
        role_arn=role_arn,
        extra_args=extra,
    )
    core = botocore.session.Session()
    core.set_config_variable("region", source.get_config_variable("region"))
    core._credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return _guarded(core)


def caller_account(hub: boto3.Session) -> str:
    return hub.client("sts", config=BOTO_CONFIG).get_caller_identity()["Account"]
