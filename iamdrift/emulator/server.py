"""A local AWS for the demo and the tests: moto's server on 127.0.0.1 and clients of it.

Nothing here is used against real AWS; `iamdrift` itself only reads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3

from iamdrift.emulator import authorization
from iamdrift.emulator import sso as emulator_sso

MANAGEMENT = "123456789012"  # moto's default account: the hub's credentials act in it
DEMO = "222222222222"
ACCOUNT_B = "333333333333"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ASSUME = "sts:AssumeRole"
EMULATED_MANAGED_POLICIES = {
    "ReadOnlyAccess",
    "AdministratorAccess",
    "SecurityAudit",
    "ViewOnlyAccess",
    "IAMFullAccess",
}


def emulator_env(endpoint: str) -> dict[str, str]:
    """Environment that points boto3 at the emulator and away from any real profile."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server on 127.0.0.1 (a free port) and yield its URL."""
    # AWS managed policies (ReadOnlyAccess, ...) exist in moto only when loaded.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    import moto.iam.models as moto_iam

    # moto parses its ~1,300 AWS managed policies again for every account it creates;
    # keeping the few this world attaches makes a fresh account cheap.
    import moto.ssoadmin.models as moto_sso
    from moto.server import ThreadedMotoServer

    every = json.loads(moto_iam.aws_managed_policies_data)
    kept = json.dumps({k: v for k, v in every.items() if k in EMULATED_MANAGED_POLICIES})
    moto_iam.aws_managed_policies_data = moto_sso.aws_managed_policies_data = kept

    emulator_sso.install()  # Identity Center's provisioning, which moto lacks
    authorization.install()  # SQS's batch operations granted by their actions
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def pinned_account_ids(ids: list[str]) -> Iterator[None]:
    """Make moto's Organizations hand out these ids, so shipped baselines apply.

    Real AWS assigns account ids; moto draws random ones. The seed's baselines
    name fixed ids, so the demo pins them. Only the emulator is touched.
    """
    from moto.organizations import utils

    original = utils.make_random_account_id
    queue = iter(ids)
    utils.make_random_account_id = lambda: next(queue)
    try:
        yield
    finally:
        utils.make_random_account_id = original


@dataclass
class Emulator:
    """Clients against the emulator, as the hub or inside a member account."""

    endpoint: str
    # Clients made once per service and account: building one reloads botocore's models.
    _clients: dict = field(default_factory=dict, repr=False, compare=False)

    def session(self, account: str | None = None) -> boto3.Session:
        env = emulator_env(self.endpoint)
        hub = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        if account is None or account == MANAGEMENT:
            return hub
        creds = hub.client("sts", endpoint_url=self.endpoint).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="emulator-admin",
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        )

    def client(self, service: str, account: str | None = None, region: str | None = None):
        key = (service, account or MANAGEMENT, region)
        if key not in self._clients:
            self._clients[key] = self.session(account).client(
                service, endpoint_url=self.endpoint, region_name=region
            )
        return self._clients[key]

    def sso(self, service: str = "sso-admin"):
        """The management account's client of Identity Center (`sso-admin` or
        `identitystore`), in the region its instance lives in."""
        return self.client(service, region=emulator_sso.HOME["region"])

    def iam(self, account: str | None = None):
        return self.client("iam", account)


def trust(*principals: str, conditions: dict | None = None) -> dict:
    stmt: dict = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": ASSUME}
    if conditions:
        stmt["Condition"] = conditions
    return {"Version": "2012-10-17", "Statement": [stmt]}


def allow(action: str, resource: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }
