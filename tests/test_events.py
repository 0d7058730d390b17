"""CloudTrail events as EventBridge delivers them, read (pure): which account and entity a
change touched, who made it; what changes nothing; what is not an event at all."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamdrift.changes.events import ChangeEvent, EventFact, Ignored, MalformedEvent, read_event
from iamdrift.compare.events import explain
from iamdrift.compare.findings import Place, finding
from iamdrift.emulator.events import DETAIL_TYPE, record

A, B, M = "222222222222", "333333333333", "123456789012"
USER = f"arn:aws:iam::{A}:user/mallory"
SESSION = f"arn:aws:sts::{M}:assumed-role/Deploy/ci"


def _body(detail: dict, detail_type: str = DETAIL_TYPE, source: str = "aws.iam") -> str:
    # The envelope's account is the bus's: a central bus's when forwarded.
    return json.dumps(
        {
            "version": "0",
            "id": "e",
            "detail-type": detail_type,
            "source": source,
            "account": "999999999999",
            "time": "t",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }
    )


CHANGES = {
    # name: (service, call, params, accounts read, resource, organization)
    "trust widened": (
        "iam",
        "UpdateAssumeRolePolicy",
        {"roleName": "R"},
        [A],
        ("role", "R"),
        False,
    ),
    "user joins a group": (
        "iam",
        "AddUserToGroup",
        {"userName": "u", "groupName": "g"},
        [A],
        ("user", "u"),
        False,
    ),
    "group policy": (
        "iam",
        "PutGroupPolicy",
        {"groupName": "g", "policyName": "p"},
        [A],
        ("group", "g"),
        False,
    ),
    "policy attached to a role": (
        "iam",
        "AttachRolePolicy",
        {"roleName": "R", "policyArn": "arn:aws:iam::aws:policy/X"},
        [A],
        ("role", "R"),
        False,
    ),
    "policy version": (
        "iam",
        "CreatePolicyVersion",
        {"policyArn": f"arn:aws:iam::{A}:policy/path/P"},
        [A],
        ("policy", "P"),
        False,
    ),
    "policy created": ("iam", "CreatePolicy", {"policyName": "P"}, [A], ("policy", "P"), False),
    "no entity named": ("iam", "UpdateAccountPasswordPolicy", {}, [A], None, False),
    "assignment": (
        "sso",
        "CreateAccountAssignment",
        {"targetId": B, "targetType": "AWS_ACCOUNT"},
        [B],
        None,
        True,
    ),
    "set changed": (
        "sso",
        "PutInlinePolicyToPermissionSet",
        {"permissionSetArn": "x"},
        [],
        None,
        True,
    ),
    "group member": ("identitystore", "CreateGroupMembership", {"groupId": "g"}, [], None, True),
    "account moved": ("organizations", "MoveAccount", {"accountId": B}, [], None, True),
    "SCP attached": (
        "organizations",
        "AttachPolicy",
        {"policyId": "p-1", "targetId": B},
        [],
        None,
        True,
    ),
}


@pytest.mark.parametrize("case", CHANGES)
def test_a_change_names_the_accounts_to_read_and_who_made_it(case):
    service, call, params, accounts, resource, organization = CHANGES[case]
    event = read_event(_body(record(A, service, call, params, SESSION), source=f"aws.{service}"))
    assert isinstance(event, ChangeEvent)
    assert (event.accounts, event.resource, event.organization) == (
        accounts,
        resource,
        organization,
    )
    assert event.fact.account == A and event.fact.event == call
    assert event.fact.actor == SESSION and event.fact.issuer == f"arn:aws:iam::{M}:role/Deploy"
    assert event.fact.source_ip and event.fact.request_id


@pytest.mark.parametrize(
    "detail, detail_type, reason",
    [
        (
            record(A, "iam", "GetRole", {"roleName": "R"}, USER, read_only=True),
            DETAIL_TYPE,
            "read-only",
        ),
        (record(A, "iam", "ListRoles", {}, USER), DETAIL_TYPE, "read-only"),
        (
            record(A, "iam", "DeleteRole", {"roleName": "R"}, USER, error="AccessDenied"),
            DETAIL_TYPE,
            "failed",
        ),
        (record(A, "s3", "PutBucketPolicy", {}, USER), DETAIL_TYPE, "eventSource"),
        (
            {"eventName": "x", "recipientAccountId": A},
            "EC2 Instance State-change Notification",
            "detail-type",
        ),
    ],
)
def test_what_changes_nothing_is_ignored_with_its_reason(detail, detail_type, reason):
    read = read_event(_body(detail, detail_type))
    assert isinstance(read, Ignored) and reason in read.reason


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json {",
        "[]",
        "null",
        json.dumps({"detail": "x"}),
        "[" * 100_000,
        _body({"eventSource": "iam.amazonaws.com", "eventName": "CreateRole"}),
        _body({"eventSource": "iam.amazonaws.com", "recipientAccountId": A}),
    ],
)
def test_a_body_that_is_not_an_event_is_refused_in_one_line(body):
    with pytest.raises(MalformedEvent) as exc:
        read_event(body)
    assert "\n" not in str(exc.value)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=30,
    )
)
def test_any_json_body_is_an_event_ignored_or_refused_never_a_crash(detail):
    for body in (
        json.dumps(detail),
        _body(detail) if isinstance(detail, dict) else json.dumps(detail),
    ):
        try:
            read = read_event(body)
        except MalformedEvent:
            continue
        assert isinstance(read, ChangeEvent | Ignored)


def _fact(resource: str | None, source: str = "iam.amazonaws.com", account: str = A) -> EventFact:
    return EventFact(
        actor=USER, event="E", source=source, time="t", account=account, resource=resource
    )


def _finding(account: str, kind: str, name: str, aspect: str = "existence"):
    return finding(Place(account, kind, name, "Account"), aspect, "unexpected", "high", "x")


@pytest.mark.parametrize(
    "fact, f, explained",
    [
        (_fact("role/R"), _finding(A, "role", "R", "trust_policy"), True),
        (_fact("role/R"), _finding(B, "role", "R", "trust_policy"), False),  # another account's R
        (_fact("role/R"), _finding(A, "role", "S"), False),
        (
            _fact("role/R"),
            _finding(A, "access", f"{M}:user:u->{A}:R", "edge"),
            True,
        ),  # an edge into it
        (
            _fact("user/u", account=M),
            _finding(A, "access", f"{M}:user:u->{A}:R", "edge"),
            True,
        ),  # out of it
        (_fact("user/v", account=M), _finding(A, "access", f"{M}:user:u->{A}:R", "edge"), False),
        (_fact(None), _finding(A, "user", "u"), True),  # a call naming no entity: the account's
        (_fact(None), _finding(A, "scp", "p"), False),
        (_fact(None, "organizations.amazonaws.com", M), _finding(M, "account", B, "ou"), True),
        (_fact(None, "organizations.amazonaws.com", M), _finding(A, "role", "R"), False),
        (_fact(None, "sso.amazonaws.com", M), _finding(B, "assignment", "S:group:G"), True),
    ],
)
def test_an_event_explains_the_findings_about_what_it_changed(fact, f, explained):
    (out,) = explain([f], [fact])
    assert bool(out.events) is explained
    assert out.id == f.id  # the finding is the same one, with its events


def test_an_event_run_or_a_plan_carries_only_a_whole_run_of_these_baselines(tmp_path):
    """A run narrowed by --entity stored outcomes without the other entities' findings, and
    a run of other baselines judged by other rules: neither is carried (every account is
    read), or a change elsewhere would pass unseen."""
    import shutil

    from iamdrift.audit.outcome import Part, baselines_digest, write_part
    from iamdrift.audit.predict import stored_part
    from iamdrift.baselines.load import load_baselines
    from tests.conftest import SHIPPED_BASELINES

    directory = shutil.copytree(SHIPPED_BASELINES, tmp_path / "baselines")
    baseline = load_baselines(directory)
    digest = baselines_digest([*directory.rglob("*.y*ml")])
    run = tmp_path / "run"
    run.mkdir()
    for part, carried in [
        (Part(baselines=digest, started="t"), True),
        (Part(baselines=digest, started="t", selection=["role/*"]), False),
        (Part(baselines="0" * 16, started="t"), False),
    ]:
        write_part(run / "accounts.gz", part)
        assert (stored_part(run, baseline)[0] is not None) is carried
