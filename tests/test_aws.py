"""Read-only by construction: the guard refuses every operation but reads and AssumeRole."""

from __future__ import annotations

import pytest

from iamdrift.aws.session import guarded_session, is_read_only, session_name
from iamdrift.errors import ReadOnlyViolation

ALLOWED = [
    ("iam", "GetAccountAuthorizationDetails"),
    ("iam", "ListRoles"),
    ("sts", "AssumeRole"),
    ("sts", "GetCallerIdentity"),
    ("organizations", "ListAccounts"),
    ("organizations", "DescribeOrganization"),
]
REFUSED = [
    ("iam", "DeleteRole"),
    ("iam", "UpdateAssumeRolePolicy"),
    ("iam", "PutRolePolicy"),
    ("iam", "CreateUser"),
    ("iam", "AttachRolePolicy"),
    ("sts", "AssumeRoleWithSAML"),
    ("organizations", "CreateAccount"),
    ("iam", "TagRole"),
    ("s3", "PutObject"),
]


@pytest.mark.parametrize(("service", "operation"), ALLOWED + REFUSED)
def test_only_reads_and_assume_role_are_allowed(service, operation):
    assert is_read_only(service, operation) is ((service, operation) in ALLOWED)


@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("iam", "delete_role", {"RoleName": "MemberReadOnlyAccess"}),
        ("iam", "update_assume_role_policy", {"RoleName": "R", "PolicyDocument": "{}"}),
        ("organizations", "create_account", {"AccountName": "x", "Email": "x@example.com"}),
    ],
)
def test_guard_refuses_writes_before_anything_is_sent(service, call, kwargs):
    sent = []
    session = guarded_session()
    session.register("before-send", lambda **kw: sent.append(kw))
    client = session.create_client(service)
    with pytest.raises(ReadOnlyViolation, match="refuses"):
        getattr(client, call)(**kwargs)
    assert sent == []


def test_guard_lets_reads_through_to_the_endpoint(world, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.emu.endpoint)
    client = guarded_session().create_client("iam")
    assert {u["UserName"] for u in client.list_users()["Users"]} == {"demo1", "userA"}


def test_session_names_are_recognisable_and_valid():
    name = session_name("iamdrift")
    assert name.startswith("iamdrift-") and len(name) <= 64
