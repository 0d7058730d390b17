"""Each risk finding, produced on moto's server by a change, and absent without it."""

from __future__ import annotations

import json

import pytest

from iamdrift.access.evaluate import OrgContext
from iamdrift.access.projection import aws_policies_attached
from iamdrift.access.risks import find_risks
from iamdrift.audit.account import read_account
from iamdrift.aws.hub import Hub
from iamdrift.baselines.load import load_baselines
from iamdrift.emulator import ACCOUNT_B, DEMO, MANAGEMENT
from tests.conftest import SHIPPED_BASELINES

pytestmark = pytest.mark.e2e
OUTSIDE = "444444444444"


def trust(principal, condition=None):
    stmt = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


def new_role(principal, condition=None):
    return lambda emu: emu.iam(DEMO).create_role(
        RoleName="Probe", AssumeRolePolicyDocument=trust(principal, condition)
    )


def oaar_trust(principals, condition=None):
    return lambda emu: emu.iam(DEMO).update_assume_role_policy(
        RoleName="OrganizationAccountAccessRole", PolicyDocument=trust(principals, condition)
    )


def nothing(emu):
    return None


PROBE = f"{DEMO}/role/Probe/risk:"
OAAR = f"{DEMO}/role/OrganizationAccountAccessRole/risk:"
MGMT_ROOT = f"arn:aws:iam::{MANAGEMENT}:root"
CASES = {
    "account root without condition": (
        new_role(f"arn:aws:iam::{ACCOUNT_B}:root"),
        PROBE + "trust_account_root",
        True,
    ),
    "its own account's root": (
        new_role(f"arn:aws:iam::{DEMO}:root"),
        PROBE + "trust_account_root",
        False,
    ),
    "account root narrowed by PrincipalArn": (
        new_role(
            f"arn:aws:iam::{ACCOUNT_B}:root",
            {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT_B}:role/Ops"}},
        ),
        PROBE + "trust_account_root",
        False,
    ),
    "Principal *": (new_role("*"), PROBE + "trust_anyone", True),
    "a named principal": (
        new_role(f"arn:aws:iam::{ACCOUNT_B}:role/OrganizationAccountAccessRole"),
        PROBE + "trust_anyone",
        False,
    ),
    "an account outside the organization": (
        new_role(f"arn:aws:iam::{OUTSIDE}:root", {"StringEquals": {"sts:ExternalId": "x"}}),
        PROBE + "trust_outside_organization",
        True,
    ),
    "a declared third party": ("third-party", PROBE + "trust_outside_organization", False),
    "a third party without ExternalId": (
        new_role(f"arn:aws:iam::{OUTSIDE}:root"),
        PROBE + "third_party_without_external_id",
        True,
    ),
    "a third party with ExternalId": (
        new_role(f"arn:aws:iam::{OUTSIDE}:root", {"StringEquals": {"sts:ExternalId": "x"}}),
        PROBE + "third_party_without_external_id",
        False,
    ),
    "an administrator role without MFA": (nothing, OAAR + "admin_without_mfa", True),
    "an administrator role requiring MFA": (
        oaar_trust(MGMT_ROOT, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        OAAR + "admin_without_mfa",
        False,
    ),
    "a bare unique id (deleted principal)": (
        new_role("AIDAJQABLZS4A3QDU576Q"),
        PROBE + "trust_deleted_principal",
        True,
    ),
    "a principal ARN": (
        new_role(f"arn:aws:iam::{MANAGEMENT}:user/demo1"),
        PROBE + "trust_deleted_principal",
        False,
    ),
    "AssumeRole on *": (nothing, f"{MANAGEMENT}/group/SecurityAuditors/risk:assume_any_role", True),
    "AssumeRole on one role ARN": (
        nothing,
        f"{MANAGEMENT}/group/CrossAccountReaders/risk:assume_any_role",
        False,
    ),
    "OrganizationAccountAccessRole trusting another account": (
        oaar_trust([MGMT_ROOT, f"arn:aws:iam::{ACCOUNT_B}:root"]),
        OAAR + "oaar_trusts_other",
        True,
    ),
    "OrganizationAccountAccessRole trusting the management account": (
        nothing,
        OAAR + "oaar_trusts_other",
        False,
    ),
}


def risks_of(world, third_parties):
    baseline = load_baselines(SHIPPED_BASELINES)
    hub = Hub()
    states = {a.id: read_account(hub, a) for a in baseline.accounts.values()}
    org = OrgContext.of(MANAGEMENT, hub.structure(), set(states))
    return {
        f.id
        for account, state in states.items()
        for f in find_risks(
            account, state, org, third_parties, hub.aws_policy_bodies(aws_policies_attached(state))
        )
    }


@pytest.mark.parametrize("case", CASES)
def test_risk(world, monkeypatch, case):
    mutate, risk_id, present = CASES[case]
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.emu.endpoint)
    third_parties = {}
    if mutate == "third-party":
        new_role(f"arn:aws:iam::{OUTSIDE}:root", {"StringEquals": {"sts:ExternalId": "x"}})(
            world.emu
        )
        third_parties = {OUTSIDE: "Vendor"}
    else:
        mutate(world.emu)
    found = risks_of(world, third_parties)
    assert (risk_id in found) is present, sorted(found)
