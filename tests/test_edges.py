"""Edges exactly right: conditions from both sides, what the principal itself decides, and
the least-conditioned way in winning. Small worlds of two accounts: the user `alice` in
A, with identity statements, and the role `R` in B, with trust statements."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamdrift.access.conditions import Facts, combine, decide, weakest
from iamdrift.access.evaluate import OrgContext
from iamdrift.access.graph import build_graph
from iamdrift.access.projection import project
from iamdrift.aws.iam import state_from_responses
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize

A, B = "111111111111", "222222222222"
ALICE = f"arn:aws:iam::{A}:user/ops/alice"
ROLE = f"arn:aws:iam::{B}:role/R"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "x-123"}}
IP = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}


def _allow(condition=None, resource=ROLE) -> dict:
    stmt = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}
    return {**stmt, "Condition": condition} if condition else stmt


def _trust(condition=None, principal=f"arn:aws:iam::{A}:root") -> dict:
    stmt = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return {**stmt, "Condition": condition} if condition else stmt


def edge(identity: list[dict], trust: list[dict], tags: dict | None = None, org_id=None):
    """The edge alice -> R, or None (`org_id`: the organization read, A and B its members)."""
    user = {
        "UserName": "alice",
        "Path": "/ops/",
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "UserPolicyList": [
            {"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": identity}}
        ],
    }
    source = state_from_responses([{"UserDetailList": [user]}], [])
    target = AccountState.model_validate(
        {"roles": {"R": {"trust_policy": {"Version": "2012-10-17", "Statement": trust}}}}
    )
    org = OrgContext(management="999999999999", members={A, B}, scp_levels={}, org_id=org_id)
    g = build_graph({A: project(A, source, {}), B: project(B, target, {})}, org)
    found = [e for e in g.edges if e.principal == ALICE and e.target == ROLE]
    return found[0] if found else None


def _canon(condition: dict) -> dict:
    return normalize({"Statement": [{"Effect": "Allow", "Action": "x:y", "Condition": condition}]})[
        "Statement"
    ][0]["Condition"]


# name: (identity statements, trust statements, user tags, the edge's conditions or None)
CASES = {
    "unconditional both sides": ([_allow()], [_trust()], None, {}),
    "identity MFA travels": ([_allow(MFA)], [_trust()], None, MFA),
    "trust ExternalId travels": ([_allow()], [_trust(EXTERNAL_ID)], None, EXTERNAL_ID),
    "both sides travel together": (
        [_allow(MFA)],
        [_trust(EXTERNAL_ID)],
        None,
        {**MFA, **EXTERNAL_ID},
    ),
    "an unconditional trust next to ExternalId: not required": (
        [_allow()],
        [_trust(EXTERNAL_ID), _trust()],
        None,
        {},
    ),
    "an unconditional allow next to MFA: not required": (
        [_allow(MFA), _allow()],
        [_trust()],
        None,
        {},
    ),
    "two conditional ways: only what both need": (
        [_allow({**MFA, **IP}), _allow(MFA)],
        [_trust()],
        None,
        MFA,
    ),
    "principal ARN on the trust, matching: decided": (
        [_allow()],
        [_trust({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/ops/*"}})],
        None,
        {},
    ),
    "principal ARN on the trust, not matching: no edge": (
        [_allow()],
        [_trust({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/*"}})],
        None,
        None,
    ),
    "an ARN wildcard does not cross a colon": (
        [_allow()],
        [_trust({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}})],
        None,
        None,
    ),
    "principal account on the identity side, other account: no edge": (
        [_allow({"StringEquals": {"aws:PrincipalAccount": B}})],
        [_trust()],
        None,
        None,
    ),
    "StringNotEquals on the principal's ARN: decided true": (
        [_allow({"StringNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/bob"}})],
        [_trust()],
        None,
        {},
    ),
    "a user's tag matches: decided": (
        [_allow({"StringEquals": {"aws:PrincipalTag/Team": "ops"}})],
        [_trust()],
        {"Team": "ops"},
        {},
    ),
    "a user's tag differs: no edge": (
        [_allow({"StringEquals": {"aws:PrincipalTag/Team": "ops"}})],
        [_trust()],
        {"Team": "dev"},
        None,
    ),
    "a user without the tag: no edge": (
        [_allow({"StringEquals": {"aws:PrincipalTag/Team": "ops"}})],
        [_trust()],
        {},
        None,
    ),
    "a policy variable: left to the request": (
        [_allow({"StringEquals": {"aws:PrincipalTag/Team": "${aws:username}"}})],
        [_trust()],
        {},
        {"StringEquals": {"aws:PrincipalTag/Team": "${aws:username}"}},
    ),
    "a Deny on the principal's own tag: denied": (
        [
            _allow(),
            {
                "Effect": "Deny",
                "Action": "sts:AssumeRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "ops"}},
            },
        ],
        [_trust()],
        {"Team": "ops"},
        None,
    ),
    "a Deny on the request: the edge stays (errs towards access)": (
        [
            _allow(),
            {
                "Effect": "Deny",
                "Action": "sts:AssumeRole",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            },
        ],
        [_trust()],
        None,
        {},
    ),
    "conflicting ExternalIds on the two sides: no request meets both": (
        [_allow({"StringEquals": {"sts:ExternalId": "a"}})],
        [_trust({"StringEquals": {"sts:ExternalId": "b"}})],
        None,
        None,
    ),
    "brackets in a resource are literal": (
        [_allow(resource=f"arn:aws:iam::{B}:role/[RS]")],
        [_trust()],
        None,
        None,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_edge_conditions(case):
    identity, trust, tags, expected = CASES[case]
    found = edge(identity, trust, tags)
    if expected is None:
        assert found is None, found
    else:
        assert found is not None
        assert found.conditions == _canon(expected) if expected else found.conditions == {}


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}


@pytest.mark.parametrize(
    ("org_id", "expected"),
    [("o-abc123", {}), ("o-other", None), (None, ORG)],
    ids=["its organization: decided", "another organization: no edge", "unknown: travels"],
)
def test_principal_org_id_is_decided_for_the_organization_read(org_id, expected):
    found = edge([_allow()], [_trust(ORG, principal="*")], org_id=org_id)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.conditions == (_canon(expected) if expected else {})


def test_the_path_names_the_weakest_trust_statement():
    found = edge([_allow()], [_trust(EXTERNAL_ID), _trust()])
    assert found.path[-1] == "trust statement 1 of R admits its account"


def test_unknown_tags_decide_nothing():
    facts = Facts(f"arn:aws:iam::{A}:role/X", "role", None)
    cond = _canon({"StringEquals": {"aws:PrincipalTag/Team": "ops"}})
    assert decide(cond, facts) == cond


TEAM_OPS = {"StringEquals": {"aws:PrincipalTag/Team": "ops"}}
TAG_SESSION = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}


@pytest.mark.parametrize(
    ("trust", "tags", "expected"),
    [
        # Without sts:TagSession in its trust, a session's tags are the role's own ("Passing
        # session tags in AWS STS"): decided by them.
        ([_trust()], {"Team": "dev"}, None),
        ([_trust()], {"Team": "ops"}, {}),
        ([_trust()], {}, None),
        # Whoever assumes it may tag the session: the condition travels.
        ([TAG_SESSION], {"Team": "dev"}, TEAM_OPS),
        ([{**TAG_SESSION, "Action": "sts:*"}], {"Team": "dev"}, TEAM_OPS),
    ],
    ids=["own tag differs", "own tag matches", "untagged", "TagSession allowed", "sts:*"],
)
def test_a_role_sessions_principal_tags(trust, tags, expected):
    """The role X in A (its trust `trust`, its tags `tags`) may assume R in B when its
    session's aws:PrincipalTag/Team is ops."""
    x = {
        "RoleName": "X",
        "Path": "/",
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": trust},
        "RolePolicyList": [
            {
                "PolicyName": "P",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [_allow(TEAM_OPS)]},
            }
        ],
    }
    source = state_from_responses([{"RoleDetailList": [x]}], [{"Roles": [{"RoleName": "X"}]}])
    target = AccountState.model_validate(
        {"roles": {"R": {"trust_policy": {"Version": "2012-10-17", "Statement": [_trust()]}}}}
    )
    org = OrgContext(management="999999999999", members={A, B}, scp_levels={})
    g = build_graph({A: project(A, source, {}), B: project(B, target, {})}, org)
    found = [e for e in g.edges if e.principal == f"arn:aws:iam::{A}:role/X"]
    if expected is None:
        assert found == []
    else:
        assert [e.conditions for e in found] == [_canon(expected) if expected else {}]


# Property: the edge's conditions are exactly what every way in (a trust statement with an
# identity statement) needs, computed here by brute force over small condition blocks.
KEYS = ["sts:externalid", "aws:multifactorauthpresent", "aws:sourceip"]
BLOCK = st.dictionaries(
    st.sampled_from(KEYS),
    st.lists(st.sampled_from("ab"), min_size=1, max_size=2, unique=True),
    max_size=2,
).map(lambda pairs: {"StringEquals": {k: sorted(v) for k, v in pairs.items()}} if pairs else {})


def _requires(ways: list[dict], op: str, key: str, value_set: frozenset) -> bool:
    """Does every way require `key` to be in a set within `value_set`?"""
    return all(key in w.get(op, {}) and set(w[op][key]) <= value_set for w in ways)


@given(st.lists(BLOCK, min_size=1, max_size=3), st.lists(BLOCK, min_size=1, max_size=3))
def test_conditions_are_what_every_way_needs(trusts, identities):
    ways = [w for t, i in itertools.product(trusts, identities) if (w := combine(t, i)) is not None]
    found = edge([_allow(i or None) for i in identities], [_trust(t or None) for t in trusts])
    if not ways:
        assert found is None
        return
    assert found is not None
    for key in KEYS:
        on_edge = found.conditions.get("StringEquals", {}).get(key)
        if on_edge is None:  # not required: some way does without it
            assert not all(key in w.get("StringEquals", {}) for w in ways)
        else:  # required, with the values any way accepts
            assert _requires(ways, "StringEquals", key, frozenset(on_edge))
            assert set(on_edge) == set().union(*(w["StringEquals"][key] for w in ways))
    assert weakest(ways) == found.conditions


def test_an_expected_edge_whose_required_conditions_are_gone_is_reported():
    from iamdrift.access.declared import diff_access
    from iamdrift.access.graph import Graph
    from iamdrift.baselines.access_file import AccessFile

    required = AccessFile.model_validate(
        {"edges": [{"principal": ALICE, "role": ROLE, "conditions": EXTERNAL_ID}]}
    )
    org = OrgContext(management="999999999999", members={A, B}, scp_levels={})
    kept = edge([_allow()], [_trust(EXTERNAL_ID)])
    gone = edge([_allow()], [_trust(EXTERNAL_ID), _trust()])  # a second way in, without it
    assert diff_access(required, Graph([kept], []), org)[0] == []
    findings, rows = diff_access(required, Graph([gone], []), org)
    assert [(f.aspect, f.change, f.severity) for f in findings] == [
        ("conditions", "changed", "high")
    ]
    assert rows[0].status == "conditions missing"
