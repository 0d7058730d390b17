"""Reaching accounts: one shared botocore session, clients into each account, a read-only guard.

Credentials come from botocore's standard chain; `AWS_ENDPOINT_URL` is honoured by
botocore itself. Every client is made from one botocore session, so service models
are loaded from disk once per process rather than once per account, and every
client refuses operations that could write.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.config import Config

from iamdrift.aws.quota import Quotas
from iamdrift.aws.redact import remember
from iamdrift.errors import ReadOnlyViolation

# Standard retry mode backs off on throttling and transient errors; AWS_MAX_ATTEMPTS
# (botocore's own variable) tunes how long a throttled account is retried.
_ATTEMPTS = int(os.environ.get("AWS_MAX_ATTEMPTS", "8"))
BOTO_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": _ATTEMPTS},
    connect_timeout=10,
    read_timeout=30,
    max_pool_connections=32,
)

# Behind the limiters (aws/quota.py): botocore slows down on throttling by itself too.
ADAPTIVE = Config(retries={"mode": "adaptive", "total_max_attempts": _ATTEMPTS})

_READ_PREFIXES = ("Get", "List", "Describe")
# `watch` consumes its queue: receiving, deleting what it judged, and keeping a message
# hidden while it is judged are the only calls it makes beyond reading (on that queue
# only, README "Event-driven detection"), ten messages to a call; IAM grants the batch
# calls by sqs:DeleteMessage and sqs:ChangeMessageVisibility (runs/watch.py).
_ALLOWED_WRITES = {
    ("sts", "AssumeRole"),
    ("sqs", "ReceiveMessage"),
    ("sqs", "DeleteMessageBatch"),
    ("sqs", "ChangeMessageVisibilityBatch"),
}
ASSUMED_SESSION_SECONDS = 3600


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


def guarded_session(profile: str | None = None) -> botocore.session.Session:
    """A botocore session whose clients refuse every write (IAM and STS are global: the
    region defaults to us-east-1)."""
    core = botocore.session.Session(profile=profile)
    if not core.get_config_variable("region"):
        core.set_config_variable("region", "us-east-1")
    core.register("before-call", _guard, unique_id="iamdrift-read-only-guard")
    # Nothing iamdrift judges is a timestamp (CreateDate of every entity, LastUsed...), and
    # botocore parses each one with dateutil: a fifth of a run's CPU at 200 accounts (py-spy
    # --gil over bench_org.py). Kept as the strings AWS sent; credential providers parse
    # their own expiry from a string as well.
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    return core


def session_name(prefix: str) -> str:
    """A recognisable RoleSessionName: `iamdrift-20261129T052000Z` (CloudTrail shows it)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return re.sub(r"[^\w+=,.@-]", "-", f"{prefix}-{stamp}")[:64]


class Clients:
    """Clients made from one guarded botocore session: the hub's own (cached per service),
    and clients in other accounts from assumed-role credentials.

    botocore clients are thread-safe, so the hub's clients are shared by every reader.
    """

    def __init__(self, core: botocore.session.Session | None = None, config: Config = BOTO_CONFIG):
        self.core = core or guarded_session()
        self.config = config
        self.quotas = Quotas()
        self._hub: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def region(self) -> str:
        """The hub's region (the session's)."""
        return self.core.get_config_variable("region")

    def hub(self, service: str, region: str | None = None):
        """The hub's client for a service (in `region`, else the session's). A service with
        a documented quota gets its limiter and botocore's adaptive retries."""
        with self._lock:
            key = (service, region or self.region)
            if key not in self._hub:
                limited = service in self.quotas.quotas
                config = self.config.merge(ADAPTIVE) if limited else self.config
                client = self.core.create_client(service, region_name=key[1], config=config)
                self.quotas.attach(client, service)
                self._hub[key] = client
            return self._hub[key]

    def assumed(
        self,
        service: str,
        role_arn: str,
        name: str,
        external_id: str | None = None,
        config: Config | None = None,
    ):
        """A client acting as `role_arn`; the session lasts an hour, longer than any read."""
        extra = {"ExternalId": external_id} if external_id else {}
        creds = self.hub("sts").assume_role(
            RoleArn=role_arn,
            RoleSessionName=name,
            DurationSeconds=ASSUMED_SESSION_SECONDS,
            **extra,
        )["Credentials"]
        remember(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        return self.core.create_client(
            service,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=config or self.config,
        )
