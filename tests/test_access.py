"""The access graph (pure): both sides must allow, Deny and SCPs remove access, NotAction adds it."""

from __future__ import annotations

import json

import moto.iam.aws_managed_policies as moto_policies
import pytest

from iamdrift.access.declared import canonical_conditions, diff_access
from iamdrift.access.evaluate import OrgContext
from iamdrift.access.graph import build_graph
from iamdrift.access.projection import project
from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.models import AccountState
from iamdrift.compare.policy import normalize
from tests.conftest import SHIPPED_BASELINES

MGMT, DEMO, B = "123456789012", "222222222222", "333333333333"
_DATA = json.loads(moto_policies.aws_managed_policies_data)
BODIES = {
    f"arn:aws:iam::aws:policy/{n}": normalize(_DATA[n]["Document"])
    for n in ("ReadOnlyAccess", "AdministratorAccess")
}
SEED_EDGES = {
    f"{MGMT}:user:demo1->{DEMO}:MemberReadOnlyAccess",
    f"{MGMT}:user:userA->{B}:SecurityReadOnlyRole",
    f"{MGMT}:user:userA->{DEMO}:OrganizationAccountAccessRole",
    f"{MGMT}:user:userA->{B}:OrganizationAccountAccessRole",
}


def seed() -> dict[str, dict]:
    baseline = load_baselines(SHIPPED_BASELINES)
    return {
        k: v.expected.model_dump(mode="json", exclude_none=True)
        for k, v in baseline.accounts.items()
    }


def graph(data: dict[str, dict], scps: dict | None = None):
    states = {k: AccountState.model_validate(v) for k, v in data.items()}
    org = OrgContext(management=MGMT, members=set(states), scp_levels=scps or {})
    return build_graph({k: project(k, s, BODIES) for k, s in states.items()}, org)


def trust(principal: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
        ],
    }


def statement(effect: str, **kw) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, **kw}]}


def ids(g) -> set[str]:
    return {e.id for e in g.edges}


def test_the_seed_organization_has_exactly_its_four_edges():
    assert ids(graph(seed())) == SEED_EDGES


def test_widening_a_trust_to_the_account_adds_every_assume_anything_principal():
    data = seed()
    data[DEMO]["roles"]["MemberReadOnlyAccess"]["trust_policy"] = trust(f"arn:aws:iam::{MGMT}:root")
    g = graph(data)
    added = ids(g) - SEED_EDGES
    assert added == {f"{MGMT}:user:userA->{DEMO}:MemberReadOnlyAccess"}
    edge = next(e for e in g.edges if e.id in added)
    assert edge.kind == "assume" and edge.path == [
        "group SecurityAuditors inline policy AssumeAnyRole",
        "trust statement 0 of MemberReadOnlyAccess admits its account",
    ]


def _member_source(data, policy: dict, boundary: str | None = None):
    """A user in DEMO whose policy is `policy`, and a role in B that trusts DEMO's root."""
    data[DEMO]["users"] = {
        "ops": {
            "inline_policies": {"P": policy},
            **({"permissions_boundary": boundary} if boundary else {}),
        }
    }
    data[B]["roles"]["Target"] = {"trust_policy": trust(DEMO)}
    return f"{DEMO}:user:ops->{B}:Target"


ROLE_B = f"arn:aws:iam::{B}:role/Target"
CASES = {
    "allowed by the identity policy": (
        statement("Allow", Action="sts:AssumeRole", Resource=ROLE_B),
        None,
        None,
        True,
    ),
    "resource does not match": (
        statement("Allow", Action="sts:AssumeRole", Resource=f"arn:aws:iam::{B}:role/Other"),
        None,
        None,
        False,
    ),
    "wildcard resource in the role's account": (
        statement("Allow", Action="sts:Assume*", Resource=f"arn:aws:iam::{B}:role/*"),
        None,
        None,
        True,
    ),
    "a Deny in the user's policy removes it": (
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"},
            ],
        },
        None,
        None,
        False,
    ),
    "NotAction everything but iam:* adds it": (
        statement("Allow", NotAction="iam:*", Resource="*"),
        None,
        None,
        True,
    ),
    "NotAction sts:* does not": (
        statement("Allow", NotAction="sts:*", Resource="*"),
        None,
        None,
        False,
    ),
    "NotResource excluding the role": (
        statement("Allow", Action="sts:AssumeRole", NotResource=ROLE_B),
        None,
        None,
        False,
    ),
    "an SCP denying sts:AssumeRole on the source account removes it": (
        statement("Allow", Action="sts:AssumeRole", Resource="*"),
        {
            DEMO: [
                [
                    normalize(statement("Allow", Action="*", Resource="*")),
                    normalize(statement("Deny", Action="sts:AssumeRole", Resource="*")),
                ]
            ]
        },
        None,
        False,
    ),
    "an SCP that allows only s3 removes it": (
        statement("Allow", Action="sts:AssumeRole", Resource="*"),
        {DEMO: [[normalize(statement("Allow", Action="s3:*", Resource="*"))]]},
        None,
        False,
    ),
    "a boundary without sts removes it": (
        statement("Allow", Action="*", Resource="*"),
        None,
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        False,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_both_sides_must_allow(case):
    policy, scps, boundary, present = CASES[case]
    data = seed()
    edge = _member_source(data, policy, boundary)
    assert (edge in ids(graph(data, scps))) is present


def test_scps_do_not_bind_the_management_account():
    deny = {MGMT: [[normalize(statement("Deny", Action="sts:AssumeRole", Resource="*"))]]}
    assert ids(graph(seed(), deny)) == SEED_EDGES


def test_principals_outside_the_audit_are_nodes_with_their_conditions():
    data = seed()
    t = trust("444444444444")
    t["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "vendor-123"}}
    t["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    data[B]["roles"]["Vendor"] = {"trust_policy": t}
    g = graph(data)
    vendor = next(e for e in g.edges if e.id == f"444444444444->{B}:Vendor")
    node = next(p for p in g.principals if p.key == vendor.principal)
    assert node.kind == "account" and not node.audited
    assert vendor.conditions == {"StringEquals": {"sts:externalid": ["vendor-123"]}}
    # An AWS service assuming a role serves the role's own account: not cross-account access.
    assert not any(e.id.startswith("service:") for e in g.edges)


def test_access_baseline_missing_unexpected_and_conditions():
    g = graph(seed())
    expected = AccessFile.model_validate(
        {
            "edges": [
                {
                    "principal": f"arn:aws:iam::{MGMT}:user/demo1",
                    "role": f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess",
                    "conditions": {"Bool": {"aws:MultiFactorAuthPresent": True}},
                },
                {
                    "principal": f"arn:aws:iam::{MGMT}:user/demo1",
                    "role": f"arn:aws:iam::{B}:role/SecurityReadOnlyRole",
                },
            ]
        }
    )
    findings, rows = diff_access(expected, g, OrgContext(management=MGMT, members={MGMT, DEMO, B}))
    got = {(f.resource, f.aspect, f.change) for f in findings}
    assert (f"{MGMT}:user:demo1->{DEMO}:MemberReadOnlyAccess", "conditions", "changed") in got
    assert (f"{MGMT}:user:demo1->{B}:SecurityReadOnlyRole", "edge", "missing") in got
    assert (f"{MGMT}:user:userA->{B}:SecurityReadOnlyRole", "edge", "unexpected") in got
    assert {r.status for r in rows} == {"conditions missing", "missing", "unexpected"}
    assert canonical_conditions({"Bool": {"aws:MultiFactorAuthPresent": True}}) == {
        "Bool": {"aws:multifactorauthpresent": ["true"]}
    }
