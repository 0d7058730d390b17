"""Comparison of expected and live state: findings, ids, changes, severities (pure)."""

from __future__ import annotations

import pytest

from iamdrift.baselines.models import AccountState, IgnoreRules
from iamdrift.compare.diff import diff_account

ACCT = "222222222222"
RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def trust(principal: str, **condition) -> dict:
    s = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        s["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [s]}


def state(**kinds) -> AccountState:
    return AccountState.model_validate(kinds)


ROLE = {"trust_policy": trust("arn:aws:iam::111111111111:user/demo1"), "managed_policies": [RO]}
BASE = state(
    users={"demo1": {"groups": ["Readers"]}},
    groups={"Readers": {"managed_policies": [RO]}},
    roles={"Reader": ROLE},
)


def with_(kind: str, name: str, **changes) -> AccountState:
    data = BASE.model_dump()
    data[kind].setdefault(name, {}).update(changes)
    return state(**data)


CASES = {
    "no change": (BASE, []),
    "trust widened to account root": (
        with_("roles", "Reader", trust_policy=trust("111111111111")),
        [("role/Reader/trust_policy", "changed", "critical")],
    ),
    "trust narrowed with a condition": (
        with_(
            "roles",
            "Reader",
            trust_policy=trust(
                "arn:aws:iam::111111111111:user/demo1", Bool={"aws:MultiFactorAuthPresent": "true"}
            ),
        ),
        [("role/Reader/trust_policy", "changed", "medium")],
    ),
    "admin attached to a role": (
        with_("roles", "Reader", managed_policies=[RO, ADMIN]),
        [("role/Reader/managed_policies", "changed", "high")],
    ),
    "policy detached from a group": (
        with_("groups", "Readers", managed_policies=[]),
        [("group/Readers/managed_policies", "changed", "low")],
    ),
    "inline policy added to a user": (
        with_(
            "users",
            "demo1",
            inline_policies={
                "X": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            },
        ),
        [("user/demo1/inline_policy:X", "unexpected", "high")],
    ),
    "longer sessions": (
        with_("roles", "Reader", max_session_duration=43200),
        [("role/Reader/max_session_duration", "changed", "medium")],
    ),
    "boundary removed": (
        None,  # built below: expected has a boundary, live has none
        [("role/Reader/permissions_boundary", "missing", "high")],
    ),
    "unexpected role trusting another account": (
        with_("roles", "Backdoor", trust_policy=trust("444444444444")),
        [("role/Backdoor/existence", "unexpected", "critical")],
    ),
    "unexpected role trusting its own account": (
        with_("roles", "Local", trust_policy=trust(f"arn:aws:iam::{ACCT}:root")),
        [("role/Local/existence", "unexpected", "high")],
    ),
    "user gone": (
        state(groups=BASE.model_dump()["groups"], roles=BASE.model_dump()["roles"]),
        [("user/demo1/existence", "missing", "medium")],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_findings(case):
    live, expected = CASES[case]
    want = BASE
    if live is None:  # the boundary case: the baseline has one, live has none
        want, live = with_("roles", "Reader", permissions_boundary=RO), BASE
    found = diff_account(ACCT, want, live, label=f"{ACCT} (DEMO)")
    assert [(f.id.split("/", 1)[1], f.change, f.severity) for f in found] == expected
    for f in found:
        assert f.account == ACCT and f.message.endswith(".")
        assert f"{ACCT} (DEMO)" in f.message and f.resource in f.message


def test_service_linked_roles_are_ignored_unless_named():
    slr = {
        "path": "/aws-service-role/support.amazonaws.com/",
        "trust_policy": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "support.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
    }
    live = with_("roles", "AWSServiceRoleForSupport", **slr)
    ignore = IgnoreRules(roles=["/aws-service-role/*"])
    assert diff_account(ACCT, BASE, live, ignore) == []
    named = with_("roles", "AWSServiceRoleForSupport", **{**slr, "managed_policies": [RO]})
    found = diff_account(ACCT, named, live, ignore)
    assert [f.aspect for f in found] == ["managed_policies"]


def test_expected_and_actual_are_normalized():
    live = with_("roles", "Reader", trust_policy=trust("111111111111"))
    (finding,) = diff_account(ACCT, BASE, live)
    assert finding.actual["Statement"][0]["Principal"] == {
        "AWS": ["arn:aws:iam::111111111111:root"]
    }
    assert finding.expected["Statement"][0]["Action"] == ["sts:assumerole"]
    assert finding.id == f"{ACCT}/role/Reader/trust_policy"


def _policy(default: dict, **versions: dict) -> dict:
    return {"policies": {"Team": {"document": default, "dormant_versions": versions}}}


S3_READ = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ASSUME_ANY = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


@pytest.mark.parametrize(
    ("declared", "live", "expected"),
    [
        ({}, {"v2": EVERYTHING}, [("dormant_version:v2", "critical")]),
        ({}, {"v2": ASSUME_ANY}, [("dormant_version:v2", "high")]),
        (
            {},
            {
                "v1": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*",
                        }
                    ]
                }
            },
            [],
        ),
        ({"v2": EVERYTHING}, {"v2": EVERYTHING}, []),
        (
            {"v3": EVERYTHING},
            {"v2": {"Statement": {"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}}},
            [],
        ),
    ],
)
def test_dormant_policy_versions_that_grant_more(declared, live, expected):
    want = AccountState.model_validate(_policy(S3_READ, **declared))
    have = AccountState.model_validate(_policy(S3_READ, **live))
    found = [(f.aspect, f.severity) for f in diff_account("222222222222", want, have)]
    assert found == expected
