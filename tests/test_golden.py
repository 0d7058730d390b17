"""The outputs users' scripts read stay what they were: findings JSON, JUnit, SARIF and OCSF
of two runs of one scenario (drift, a waiver, an unexpected edge, then one change undone and
another made), compared with the outputs recorded before the run path was reshaped.

Only what differs from run to run is left out (times, run ids, temporary paths), and
fields added since the recording are allowed (add, never rename or drop).
Regenerate after a deliberate change: IAMDRIFT_GOLDEN=write python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO, MANAGEMENT, allow, trust

pytestmark = pytest.mark.e2e
GOLDEN = Path(__file__).parent / "data" / "golden"
VOLATILE = {"run_id", "started", "finished", "time", "previous_run", "timestamp", "hostname"}


def _scrub(value: Any, tmp: str) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, tmp) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_scrub(v, tmp) for v in value]
    if isinstance(value, str):
        return value.replace(tmp, "TMP").replace(Path(tmp).as_uri(), "TMP")
    return value


def _holds(recorded: Any, now: Any) -> bool:
    """Is every field recorded still there with its value? Fields added since may be new
    (the contract: add, never rename or drop)."""
    if isinstance(recorded, dict):
        return isinstance(now, dict) and all(
            k in now and _holds(v, now[k]) for k, v in recorded.items()
        )
    if isinstance(recorded, list):
        return (
            isinstance(now, list)
            and len(now) == len(recorded)
            and all(_holds(r, n) for r, n in zip(recorded, now, strict=True))
        )
    return recorded == now


def _junit(path: Path) -> list[dict[str, Any]]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = [{"tag": c.tag, "message": c.get("message")} for c in case]
        cases.append(
            {"name": case.get("name"), "classname": case.get("classname"), "outcome": outcome}
        )
    return sorted(cases, key=lambda c: (c["classname"], c["name"]))


def _outputs(world, baselines: Path, label: str) -> dict[str, Any]:
    ocsf, sarif = world.tmp / f"{label}.ocsf.json", world.tmp / f"{label}.sarif"
    result = world.cli(
        "run", "--baselines", str(baselines), "--ocsf", str(ocsf), "--sarif", str(sarif)
    )
    assert result.code == 1, result.stdout[-2000:] + result.stderr[-2000:]
    junit = (world.tmp / "reports" / "latest" / "junit.xml").resolve()
    tmp = str(world.tmp.resolve())
    return {
        "findings.json": _scrub(result.summary, tmp),
        "junit.xml": _scrub(_junit(junit), tmp),
        "sarif": _scrub(json.loads(sarif.read_text()), tmp),
        "ocsf": _scrub(json.loads(ocsf.read_text()), tmp),
    }


def test_outputs_match_those_recorded_before(world):
    baselines = world.baselines_copy()
    (baselines / "waivers.yaml").write_text(
        f"waivers:\n  - finding: {ACCOUNT_B}/user/eve/existence\n    reason: contractor\n"
        "    owner: bob\n    expires: 2099-01-01\n"
    )
    iam, demo = world.emu.iam(), world.emu.iam(DEMO)
    demo.update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=7200)
    world.emu.iam(ACCOUNT_B).create_user(UserName="eve")
    demo.update_assume_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
    )
    first = _outputs(world, baselines, "first")
    demo.update_role(RoleName="MemberReadOnlyAccess", MaxSessionDuration=3600)
    iam.put_user_policy(
        UserName="demo1", PolicyName="Extra", PolicyDocument=json.dumps(allow("s3:*", "*"))
    )
    second = _outputs(world, baselines, "second")
    runs = {"first": first, "second": second}
    if os.environ.get("IAMDRIFT_GOLDEN") == "write":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for run, outputs in runs.items():
            for name, data in outputs.items():
                path = GOLDEN / f"{run}.{name}.json"
                path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    for run, outputs in runs.items():
        for name, data in outputs.items():
            recorded = json.loads((GOLDEN / f"{run}.{name}.json").read_text())
            assert _holds(recorded, data), f"{run} run: {name} differs from the recorded output"
