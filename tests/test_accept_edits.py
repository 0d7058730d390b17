"""accept's edits without AWS: each finding written where the aspect registry says it lives,
in the shape the file already used, and nothing else in the file touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iamdrift.baselines.edit import Edits
from iamdrift.baselines.load import load_baselines
from iamdrift.compare.accept import accept_finding
from iamdrift.compare.findings import Place, finding
from iamdrift.errors import Refused
from iamdrift.report.results import RunReport
from iamdrift.runs.accept import choose

SHIPPED = Path(__file__).resolve().parent.parent / "baselines"
DEMO, MGMT = "222222222222", "123456789012"
DEMO1 = f"arn:aws:iam::{MGMT}:user/demo1"


def _f(account, kind, name, aspect, change="changed", live=None):
    return finding(
        Place(account, kind, name, account), aspect, change, "high", "differs", live=live
    )


def _statement(principal):
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}


@pytest.fixture
def baselines(tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "b")
    return tmp_path / "b"


def _edit(baselines, *findings):
    """The text of each file the findings change, after the change."""
    edits = Edits(load_baselines(baselines))
    for f in findings:
        accept_finding(edits, f)
    return {p.name: f.text() for p, f in edits.files.items()}


# (finding, file, lines that must be in it after, text that must be gone)
CASES = {
    "scalar": (
        _f(DEMO, "role", "MemberReadOnlyAccess", "max_session_duration", live=7200),
        "222222222222-demo.yaml",
        ["    max_session_duration: 7200"],
        ["3600"],
    ),
    "a flow list keeps its flow": (
        _f(
            DEMO,
            "role",
            "MemberReadOnlyAccess",
            "managed_policies",
            live=[
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::aws:policy/SecurityAudit",
            ],
        ),
        "222222222222-demo.yaml",
        [
            "    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess, "
            "arn:aws:iam::aws:policy/SecurityAudit]"
        ],
        [],
    ),
    "a principal written as a string stays a string": (
        _f(
            DEMO,
            "role",
            "MemberReadOnlyAccess",
            "trust_policy",
            live={
                "Version": "2012-10-17",
                "Statement": [_statement([f"arn:aws:iam::{MGMT}:user/userA"])],
            },
        ),
        "222222222222-demo.yaml",
        [
            "          Principal: {AWS: arn:aws:iam::123456789012:user/userA}",
            "# DEMO member: read-only access for demo1 of the management account.",
        ],
        ["user/demo1"],
    ),
    "an inline policy added under the entity": (
        _f(
            MGMT,
            "user",
            "demo1",
            "inline_policy:Extra",
            "unexpected",
            live={
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
        ),
        "123456789012-management.yaml",
        ["    inline_policies:", "      Extra:"],
        [],
    ),
    "the last inline policy removed takes its section": (
        _f(MGMT, "group", "SecurityAuditors", "inline_policy:AssumeAnyRole", "missing"),
        "123456789012-management.yaml",
        ["  SecurityAuditors:", "  CrossAccountReaders:"],
        ["AssumeAnyRole:", "# as the seed's policy generator"],
    ),
    "a member_baseline role gets the account's own copy": (
        _f(
            "333333333333",
            "role",
            "OrganizationAccountAccessRole",
            "max_session_duration",
            live=7200,
        ),
        "333333333333-accountb.yaml",
        [
            "  OrganizationAccountAccessRole:",
            "    max_session_duration: 7200",
            "    managed_policies:",
        ],
        [],
    ),
    "a new entity": (
        _f(DEMO, "user", "eve", "existence", "unexpected", live={"path": "/"}),
        "222222222222-demo.yaml",
        ["users:", "  eve:", "    path: /"],
        [],
    ),
    "an edge": (
        _f(
            DEMO,
            "access",
            f"{MGMT}:user:userA->{DEMO}:MemberReadOnlyAccess",
            "edge",
            "unexpected",
            live={
                "principal": f"arn:aws:iam::{MGMT}:user/userA",
                "role": f"arn:aws:iam::{DEMO}:role/MemberReadOnlyAccess",
                "conditions": {},
            },
        ),
        "access.yaml",
        [
            "  - principal: arn:aws:iam::123456789012:user/userA\n"
            "    role: arn:aws:iam::222222222222:role/MemberReadOnlyAccess\n"
        ],
        [],
    ),
    "an account moved": (
        _f(MGMT, "account", "333333333333", "ou", live="Root/Sandbox"),
        "structure.yaml",
        ["    ou: Root/Sandbox"],
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_accept_writes_where_the_aspect_lives(baselines, case):
    f, name, present, gone = CASES[case]
    before = (next(baselines.rglob(name))).read_text()
    after = _edit(baselines, f)[name]
    lines = after.splitlines()
    for text in present:  # whole lines (or blocks of them)
        assert f"\n{text}" in f"\n{after}\n", after
    for text in gone:
        assert text in before and text not in after, after
    # Everything else stays: comments and lines that have nothing to do with the finding.
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert all(c in lines for c in kept if not any(g in c for g in gone))


def test_a_risk_is_refused_with_the_reason(baselines):
    risk = _f(MGMT, "group", "SecurityAuditors", "risk:assume_any_role", "unexpected")
    with pytest.raises(Refused, match="waive it"):
        _edit(baselines, risk)


def test_globs_choose_drift_and_skip_risks_an_exact_id_names_them():
    drift = _f(DEMO, "role", "R", "trust_policy")
    risk = _f(DEMO, "role", "R", "risk:admin_without_mfa", "unexpected")
    run = RunReport(run_id="r", findings=[drift], risks=[risk])
    chosen, skipped = choose(run, ["*"])
    assert list(chosen) == [drift.id] and [f.id for f in skipped] == [risk.id]
    chosen, skipped = choose(run, [risk.id])  # named exactly: chosen, so that it is refused
    assert list(chosen) == [risk.id] and skipped == []
    with pytest.raises(Refused, match="no finding of run r"):
        choose(run, ["999999999999/*"])
