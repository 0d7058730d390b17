"""Collection: every page, fail closed on anything incomplete, same model as baselines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from iamdrift.aws.iam import IncompleteRead, collect_account, read_iam, state_from_responses
from iamdrift.errors import AccountUnreadable

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:user/demo1"},
            "Action": "sts:AssumeRole",
        }
    ],
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def role(name: str) -> dict:
    return {
        "RoleName": name,
        "Path": "/",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "CreateDate": NOW,
        "Arn": f"arn:aws:iam::222222222222:role/{name}",
        "AssumeRolePolicyDocument": quote(json.dumps(TRUST)),
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
    }


def user(name: str) -> dict:
    return {
        "UserName": name,
        "Path": "/",
        "UserId": "AIDAEXAMPLEEXAMPLE01",
        "CreateDate": NOW,
        "Arn": f"arn:aws:iam::222222222222:user/{name}",
        "GroupList": ["Readers"],
    }


def list_role(name: str, duration: int = 3600) -> dict:
    r = role(name)
    del r["RolePolicyList"], r["AttachedManagedPolicies"]
    return {**r, "MaxSessionDuration": duration}


@pytest.fixture
def iam():
    client = boto3.client("iam", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    with Stubber(client) as stub:
        yield client, stub


GAAD = {"Filter": ["User", "Group", "Role", "LocalManagedPolicy"]}


def test_every_page_is_read(iam):
    client, stub = iam
    stub.add_response(
        "get_account_authorization_details",
        {"UserDetailList": [user("a")], "IsTruncated": True, "Marker": "m1"},
        GAAD,
    )
    stub.add_response(
        "get_account_authorization_details",
        {
            "UserDetailList": [user("b")],
            "RoleDetailList": [role("R")],
            "IsTruncated": True,
            "Marker": "m2",
        },
        {**GAAD, "Marker": "m1"},
    )
    stub.add_response(
        "get_account_authorization_details",
        {"UserDetailList": [user("c")], "IsTruncated": False},
        {**GAAD, "Marker": "m2"},
    )
    stub.add_response(
        "list_roles", {"Roles": [list_role("R", 7200)], "IsTruncated": True, "Marker": "r1"}, {}
    )
    stub.add_response("list_roles", {"Roles": [], "IsTruncated": False}, {"Marker": "r1"})
    state = read_iam(client)
    stub.assert_no_pending_responses()
    assert sorted(state.users) == ["a", "b", "c"]
    assert state.roles["R"].max_session_duration == 7200
    assert state.users["a"].groups == ["Readers"]


def test_a_failed_page_fails_the_account(iam):
    client, stub = iam
    stub.add_response(
        "get_account_authorization_details",
        {"UserDetailList": [user("a")], "IsTruncated": True, "Marker": "m1"},
        GAAD,
    )
    stub.add_client_error("get_account_authorization_details", "ServiceFailure", "boom", 500)
    with pytest.raises(Exception, match="ServiceFailure"):
        read_iam(client)


def test_a_last_page_that_says_it_is_truncated_is_incomplete(iam):
    client, stub = iam
    stub.add_response(
        "get_account_authorization_details",
        {"UserDetailList": [user("a")], "IsTruncated": True},
        GAAD,
    )
    with pytest.raises(IncompleteRead):
        read_iam(client)


def test_a_role_missing_from_list_roles_is_incomplete():
    with pytest.raises(IncompleteRead, match="R"):
        state_from_responses([{"RoleDetailList": [role("R")]}], [{"Roles": []}])


def test_url_encoded_documents_and_customer_policies():
    r = role("R")  # its trust policy URL-encoded, as IAM sends it
    policy = {
        "PolicyName": "Custom",
        "Arn": "arn:aws:iam::222222222222:policy/team/Custom",
        "Path": "/team/",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "Document": {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
                "IsDefaultVersion": False,
            },
            {
                "VersionId": "v2",
                "Document": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                "IsDefaultVersion": True,
            },
        ],
    }
    aws_policy = {**policy, "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "PolicyName": "RO"}
    state = state_from_responses(
        [{"RoleDetailList": [r], "Policies": [policy, aws_policy]}], [{"Roles": [list_role("R")]}]
    )
    assert state.roles["R"].trust_policy.as_json()["Statement"][0]["Action"] == "sts:AssumeRole"
    assert list(state.policies) == ["Custom"]  # AWS managed bodies are not collected
    assert state.policies["Custom"].document.Statement[0].Effect == "Allow"
    assert state.policies["Custom"].path == "/team/"
    assert state.policies["Custom"].dormant_versions["v1"].Statement[0].Effect == "Deny"


def test_unreadable_account_names_account_role_and_error():
    from botocore.config import Config

    from iamdrift.aws.session import guarded_session

    # Nothing listens on the endpoint the autouse fixture sets; don't retry it 8 times.
    iam = guarded_session().create_client(
        "iam", config=Config(retries={"total_max_attempts": 1}, connect_timeout=2)
    )
    with pytest.raises(AccountUnreadable) as exc:
        collect_account(iam, "222222222222", "arn:aws:iam::222222222222:role/Audit")
    text = str(exc.value)
    assert "222222222222" in text and "role/Audit" in text


def test_one_botocore_session_serves_every_account(world, monkeypatch):
    """Service models are loaded once: clients in other accounts come from the hub's session."""
    from iamdrift.aws.session import Clients

    monkeypatch.setenv("AWS_ENDPOINT_URL", world.emu.endpoint)
    import botocore.loaders

    clients = Clients()
    reads = []
    original = botocore.loaders.JSONFileLoader.load_file
    monkeypatch.setattr(
        botocore.loaders.JSONFileLoader,
        "load_file",
        lambda self, path: reads.append(path) or original(self, path),
    )
    for account in ("222222222222", "333333333333"):
        iam = clients.assumed(
            "iam", f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "iamdrift-test"
        )
        assert "OrganizationAccountAccessRole" in collect_account(iam, account, None).roles
    iam_models = [p for p in reads if p.endswith("/iam/2010-05-08/service-2")]
    assert len(iam_models) == 1, reads
