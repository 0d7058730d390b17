"""Waivers: a waived finding does not fail the run until the day after its expiry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO

pytestmark = pytest.mark.e2e
SESSION = f"{DEMO}/role/MemberReadOnlyAccess/max_session_duration"
EVE = f"{ACCOUNT_B}/user/eve/existence"
WAIVERS = f"""\
# Known drift, each with an owner and an end date.
waivers:
  - finding: {SESSION}
    reason: longer sessions while the batch job is migrated
    owner: alice@example.com
    expires: 2026-12-31
    ticket: SEC-101
  - finding: "{ACCOUNT_B}/user/*"     # a glob
    reason: contractor account, leaves at the end of the engagement
    owner: bob@example.com
    expires: 2026-12-10
  - finding: {DEMO}/role/Gone/trust_policy
    reason: names nothing any more
    owner: carol@example.com
    expires: 2027-06-30
"""


def _setup(world):
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    baselines = world.baselines_copy()
    (baselines / "waivers.yaml").write_text(WAIVERS)
    return baselines


def test_waived_findings_do_not_fail_until_their_waiver_expires(world):
    baselines = _setup(world)
    before = world.cli(
        "run", "--baselines", str(baselines), env=world.env(IAMDRIFT_TODAY="2026-12-01")
    )
    assert before.code == 0, before.stdout[-3000:]
    assert before.summary["findings"] == []
    waived = {f["id"]: f["waiver"] for f in before.summary["waived"]}
    assert set(waived) == {SESSION, EVE}
    assert waived[SESSION]["status"] == "active" and waived[SESSION]["ticket"] == "SEC-101"
    assert waived[EVE]["status"] == "expiring"  # due within 14 days
    statuses = {w["finding"]: w["status"] for w in before.summary["waivers"]}
    assert statuses[f"{DEMO}/role/Gone/trust_policy"] == "stale"
    assert before.account(DEMO)["status"] == "compliant" and before.account(DEMO)["waived"] == 1
    assert "2 waived finding(s)" in before.stdout
    assert "waiver stale" in before.stdout and "waiver expiring" in before.stdout
    junit = ET.parse(next((world.tmp / "reports").glob("*/junit.xml"))).getroot()
    skipped = [s.get("message", "") for s in junit.iter("skipped")]
    assert any("waived until 2026-12-31 by alice@example.com" in m for m in skipped)
    report = (world.tmp / "reports" / "latest" / "report.html").read_text()
    assert "Waivers (2 finding(s) waived)" in report

    # The day the waiver ends it still holds; the day after, the finding fails again.
    last_day = world.cli(
        "run", "--baselines", str(baselines), env=world.env(IAMDRIFT_TODAY="2026-12-10")
    )
    assert last_day.code == 0
    after = world.cli(
        "run", "--baselines", str(baselines), env=world.env(IAMDRIFT_TODAY="2026-12-11")
    )
    assert after.code == 1
    eve = after.finding(EVE)
    assert eve["waiver"]["status"] == "expired" and eve["waiver"]["expires"] == "2026-12-10"
    assert after.account(ACCOUNT_B)["status"] == "drift"
    assert [f["id"] for f in after.summary["waived"]] == [SESSION]
    assert "waiver expired" in after.stdout
    report = (world.tmp / "reports" / "latest" / "report.html").read_text()
    assert "expired after 2026-12-10 by bob@example.com" in report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "waivers:\n  - finding: x\n    reason: why not\n    owner: me\n",
            "waivers[0].expires: required key 'expires' is missing",
        ),
        (
            "waivers:\n  - finding: x\n    reason: why not\n    owner: me\n    expires: someday\n",
            "waivers[0].expires:",
        ),
        (
            "waivers:\n  - finding: x\n    reason: why not\n    expires: 2027-01-01\n",
            "waivers[0].owner: required key 'owner' is missing",
        ),
        (
            "waivers:\n  - finding: x\n    reason: why not\n    owner: me\n    expires: 2027-01-01\n    expiry: 2027-01-01\n",
            "waivers[0].expiry: unknown key 'expiry'; did you mean 'expires'?",
        ),
    ],
)
def test_broken_waivers_are_named_by_file_line_and_key(tmp_path, text, expected):
    import shutil

    from iamdrift.baselines.load import load_baselines
    from iamdrift.errors import BaselineError
    from tests.conftest import SHIPPED_BASELINES

    baselines = tmp_path / "b"
    shutil.copytree(SHIPPED_BASELINES, baselines)
    (baselines / "waivers.yaml").write_text(text)
    with pytest.raises(BaselineError) as exc:
        load_baselines(baselines)
    assert f"{baselines / 'waivers.yaml'}:" in str(exc.value)
    assert expected in str(exc.value)
