"""Organization structure after a snapshot: new accounts, moves and SCPs are findings."""

from __future__ import annotations

import json

import pytest

from iamdrift.emulator import DEMO, MANAGEMENT

pytestmark = pytest.mark.e2e
DENY_ASSUME = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
)


def _root(org):
    return org.list_roots()["Roots"][0]["Id"]


def new_account(emu):
    emu.client("organizations").create_account(AccountName="Shadow", Email="shadow@example.com")


def move_demo(emu):
    org = emu.client("organizations")
    ou = org.create_organizational_unit(ParentId=_root(org), Name="Sandbox")["OrganizationalUnit"][
        "Id"
    ]
    org.move_account(AccountId=DEMO, SourceParentId=_root(org), DestinationParentId=ou)


def attach_scp(emu):
    org = emu.client("organizations")
    pid = org.create_policy(
        Name="NoAssume", Description="x", Type="SERVICE_CONTROL_POLICY", Content=DENY_ASSUME
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=pid, TargetId=DEMO)


def detach_full_access(emu):
    emu.client("organizations").detach_policy(PolicyId="p-FullAWSAccess", TargetId=DEMO)


CHANGES = {
    "a new account": (new_account, "account", "membership", "unexpected"),
    "an account moved to another OU": (move_demo, "account", "ou", "changed"),
    "an SCP created and attached to a member": (attach_scp, "scp", "existence", "unexpected"),
    "an SCP detached": (detach_full_access, "scp", "targets", "changed"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_structure_changes_after_a_snapshot_are_findings(world, change):
    target = world.tmp / "snap"
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    assert (target / "structure.yaml").exists() and (target / "access.yaml").exists()
    clean = world.cli("run", "--baselines", str(target))
    assert clean.code == 0, clean.stdout[-3000:]
    mutate, kind, aspect, change_kind = CHANGES[change]
    mutate(world.emu)
    result = world.cli("run", "--baselines", str(target))
    assert result.code == 1, result.stdout[-3000:]
    found = [
        f
        for f in result.summary["findings"]
        if f["resource_type"] == kind and f["aspect"] == aspect
    ]
    assert found and found[0]["change"] == change_kind and found[0]["account"] == MANAGEMENT, (
        result.summary["findings"]
    )


def test_snapshot_access_baseline_lists_the_seed_edges(world):
    target = world.tmp / "snap"
    assert world.cli("snapshot", "--baselines", str(target)).code == 0
    text = (target / "access.yaml").read_text()
    assert text.count("principal:") == 4
    assert "user/demo1" in text and "role/MemberReadOnlyAccess" in text
