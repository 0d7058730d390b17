"""Administrator as a judgement, and chains to it (pure): small worlds, table by table."""

from __future__ import annotations

import pytest

from iamdrift.access.edge import AccessRow
from iamdrift.access.evaluate import OrgContext
from iamdrift.access.local import local_edges
from iamdrift.access.reach import Reachability
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize

A = "111111111111"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
BODIES = {
    ADMIN: normalize({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    READ_ONLY: normalize(
        {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    ),
}
TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "sts:AssumeRole",
        }
    ]
}
DENY_IAM = normalize({"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]})
ALLOW_ALL = normalize({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
IAM_ONLY = f"arn:aws:iam::{A}:policy/IamOnly"
PUT_BOUNDARY = f"arn:aws:iam::{A}:policy/PutBoundary"
BOUNDARIES = {
    "IamOnly": {
        "document": {"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    },
    "PutBoundary": {
        "document": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:*", "iam:PutRolePermissionsBoundary"],
                    "Resource": "*",
                }
            ]
        }
    },
}


def _doc(action, resource="*", effect="Allow", **extra):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource, **extra}],
    }


def _role(**fields):
    return {"R": {"trust_policy": TRUST, **fields}}


# name: (account state, SCP levels, management account, is R / alice administrator)
CASES = {
    "AdministratorAccess": ({"roles": _role(managed_policies=[ADMIN])}, [], None, True),
    "read-only": ({"roles": _role(managed_policies=[READ_ONLY])}, [], None, False),
    "may put a policy on itself": (
        {
            "roles": _role(
                inline_policies={"P": _doc("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/R")}
            )
        },
        [],
        None,
        True,
    ),
    "may put a policy on another role only": (
        {
            "roles": _role(
                inline_policies={"P": _doc("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/Other")}
            )
        },
        [],
        None,
        False,
    ),
    "only under a condition": (
        {
            "roles": _role(
                inline_policies={
                    "P": _doc("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
                }
            )
        },
        [],
        None,
        False,
    ),
    "a boundary that is a ceiling": (
        {"roles": _role(managed_policies=[ADMIN], permissions_boundary=READ_ONLY)},
        [],
        None,
        False,
    ),
    "its own Deny on iam": (
        {
            "roles": _role(
                managed_policies=[ADMIN], inline_policies={"D": _doc("iam:*", effect="Deny")}
            )
        },
        [],
        None,
        False,
    ),
    "an SCP denying iam": (
        {"roles": _role(managed_policies=[ADMIN])},
        [[ALLOW_ALL, DENY_IAM]],
        None,
        False,
    ),
    "the management account is not bound by SCPs": (
        {"roles": _role(managed_policies=[ADMIN])},
        [[ALLOW_ALL, DENY_IAM]],
        A,
        True,
    ),
    # A boundary holds only while its principal may not lift it (IAM User Guide's delegation
    # example denies exactly these actions).
    "a boundary allowing iam:*, on a principal allowed everything": (
        {
            "roles": _role(managed_policies=[ADMIN], permissions_boundary=IAM_ONLY),
            "policies": BOUNDARIES,
        },
        [],
        None,
        True,
    ),
    "a boundary it may replace with a wider one": (
        {
            "roles": _role(managed_policies=[ADMIN], permissions_boundary=PUT_BOUNDARY),
            "policies": BOUNDARIES,
        },
        [],
        None,
        True,
    ),
    "a boundary allowing iam:* but its removal denied": (
        {
            "roles": _role(
                managed_policies=[ADMIN],
                permissions_boundary=IAM_ONLY,
                inline_policies={
                    "D": _doc(
                        ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"],
                        effect="Deny",
                    )
                },
            ),
            "policies": BOUNDARIES,
        },
        [],
        None,
        False,
    ),
    "a boundary it may lift, on a principal allowed little": (
        {
            "roles": _role(
                managed_policies=[READ_ONLY],
                permissions_boundary=IAM_ONLY,
                inline_policies={"B": _doc("iam:DeleteRolePermissionsBoundary")},
            ),
            "policies": BOUNDARIES,
        },
        [],
        None,
        False,
    ),
    "a user through its group": (
        {
            "users": {"alice": {"groups": ["Admins"]}},
            "groups": {"Admins": {"managed_policies": [ADMIN]}},
        },
        [],
        None,
        True,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_administrator_is_a_judgement(case):
    data, scps, management, expected = CASES[case]
    state = AccountState.model_validate(data)
    org = OrgContext(management=management, members={A}, scp_levels={A: scps} if scps else {})
    found, _ = local_edges(A, state, BODIES, org)
    assert bool(found) is expected, found


def _row(principal, role, status="expected"):
    return AccessRow(principal=principal, role=role, status=status, path=[f"{principal}->{role}"])


U = "arn:aws:iam::111111111111:user/u"
R2 = "arn:aws:iam::222222222222:role/Hop"
R3 = "arn:aws:iam::333333333333:role/Admin"
GONE = "arn:aws:iam::444444444444:role/Gone"


def test_chains_cross_accounts_hop_by_hop_to_administrator():
    g = Reachability([_row(U, R2), _row(R2, R3), _row(U, GONE, "missing")], [], [R3])
    reached = {c.target: c for c in g.reach(U)}
    assert set(reached) == {R2, R3, "admin@333333333333"}  # a missing edge leads nowhere
    chain = reached["admin@333333333333"]
    assert [(h.principal, h.target) for h in chain.hops] == [
        (U, R2),
        (R2, R3),
        (R3, "admin@333333333333"),
    ]
    assert {c.target for c in g.reach(U, max_hops=1)} == {R2}
    admin = {"admin@333333333333"}
    who = g.who_can_reach(admin, "admin@333333333333")
    assert [(c.start, len(c.hops)) for c in who] == [(R3, 1), (R2, 2), (U, 3)]
    assert [c.start for c in g.who_can_reach(admin, "admin@333333333333", max_hops=2)] == [R3, R2]


def test_the_shortest_chain_is_given():
    g = Reachability([_row(U, R2), _row(R2, R3), _row(U, R3)], [], [R3])
    assert len(next(c for c in g.reach(U) if c.target == "admin@333333333333").hops) == 2
