"""Reachability rules of access.yaml (access/rules.py): forbid and only over small graphs,
and their validation (file:line, exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iamdrift.access.edge import AccessRow
from iamdrift.access.reach import Reachability
from iamdrift.access.rules import Accounts, check_rules
from iamdrift.baselines.access_file import AccessFile

SANDBOX, PROD, SHARED_SVC = "111111111111", "222222222222", "333333333333"
DEV = f"arn:aws:iam::{SANDBOX}:user/dev"
SECOPS = f"arn:aws:iam::{SHARED_SVC}:role/SecOps"
HOP = f"arn:aws:iam::{SHARED_SVC}:role/Hop"
ADMIN = f"arn:aws:iam::{PROD}:role/Admin"
READER = f"arn:aws:iam::{PROD}:role/Reader"
ACCOUNTS = Accounts(
    names={SANDBOX: "sandbox", PROD: "prod", SHARED_SVC: "shared"},
    ous={SANDBOX: "Root/Sandbox/Dev", PROD: "Root/Prod", SHARED_SVC: "Root/Shared"},
)


def _row(principal, role):
    return AccessRow(principal=principal, role=role, status="expected", path=["a statement"])


def _graph(*rows):
    return Reachability(list(rows), [], [ADMIN])


def _rules(*rules):
    return AccessFile.model_validate({"rules": list(rules)}).rules


FORBID = {
    "name": "no-sandbox-to-prod-admin",
    "forbid": {"from": {"ou": "Root/Sandbox/*"}, "to": {"ou": "Root/Prod/*", "admin": True}},
}
ONLY = {
    "name": "only-secops",
    "only": {
        "from": [{"principal": SECOPS}, {"principal": ADMIN}],
        "to": {"account": "prod", "admin": True},
    },
}

# name: (rule, edges, expected violators (start, target))
CASES = {
    "forbid: a chain through another account": (
        FORBID,
        [_row(DEV, HOP), _row(HOP, ADMIN)],
        {(DEV, f"admin@{PROD}")},
    ),
    "forbid: reaching a role that is not administrator": (FORBID, [_row(DEV, READER)], set()),
    "forbid: nobody in the sandbox reaches": (FORBID, [_row(SECOPS, ADMIN)], set()),
    "only: the listed principals": (ONLY, [_row(SECOPS, ADMIN)], set()),
    "only: anyone else, however far": (
        ONLY,
        [_row(DEV, HOP), _row(HOP, SECOPS), _row(SECOPS, ADMIN)],
        {(DEV, f"admin@{PROD}"), (HOP, f"admin@{PROD}")},
    ),
    "forbid any principal of an account, from outside it only": (
        {"name": "r", "forbid": {"from": {"principal": "*"}, "to": {"account": PROD}}},
        [_row(DEV, READER), _row(ADMIN, READER)],
        {(DEV, PROD)},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_rule_violations(case):
    rule, rows, expected = CASES[case]
    findings, results = check_rules(_rules(rule), _graph(*rows), ACCOUNTS)
    got = {(f.actual["start"], f.actual["target"]) for f in findings}
    assert got == expected
    assert sorted(results[0].violations) == sorted(f.id for f in findings)
    for f in findings:
        assert f.id.startswith(f"{PROD}/reach/") and f.id.endswith(f"/rule:{rule['name']}")
        assert f.severity == ("critical" if "admin@" in f.actual["target"] else "high")
        assert f.actual["hops"][0]["principal"] == f.actual["start"]


def test_an_ou_unknown_to_the_run_matches_nothing():
    findings, _ = check_rules(
        _rules(FORBID), _graph(_row(DEV, ADMIN)), Accounts(names=ACCOUNTS.names)
    )
    assert findings == []


def test_violation_ids_are_stable_across_runs():
    first, _ = check_rules(_rules(FORBID), _graph(_row(DEV, HOP), _row(HOP, ADMIN)), ACCOUNTS)
    again, _ = check_rules(
        _rules(FORBID), _graph(_row(DEV, ADMIN), _row(DEV, HOP), _row(HOP, ADMIN)), ACCOUNTS
    )
    assert [f.id for f in first] == [f.id for f in again]  # a shorter chain, the same finding


def _validate(tmp_path: Path, rules_yaml: str, demo: Path) -> subprocess.CompletedProcess:
    target = tmp_path / "baselines"
    subprocess.run(["cp", "-r", str(demo), str(target)], check=True)
    access = target / "access.yaml"
    access.write_text(access.read_text() + rules_yaml)
    return subprocess.run(
        [sys.executable, "runner.py", "validate", "--baselines", str(target)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=60,
    )


BAD = {
    "an unknown account": (
        "rules:\n  - name: r\n    forbid:\n      from: {account: Nowhere}\n"
        "      to: {account: DEMO, admin: true}\n",
        "account",
        "Nowhere",
    ),
    "an unknown OU": (
        "rules:\n  - name: r\n    only:\n      from: [{account: DEMO}]\n"
        "      to: {ou: Root/Prod/*, admin: true}\n",
        "ou",
        "Root/Prod/*",
    ),
    "admin on the from side": (
        "rules:\n  - name: r\n    forbid:\n      from: {admin: true}\n      to: {account: DEMO}\n",
        "forbid",
        "admin selects targets",
    ),
    "neither forbid nor only": ("rules:\n  - name: r\n", "rules[0]", "either forbid or only"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_rule_naming_what_does_not_exist_is_refused(tmp_path, case):
    text, key, said = BAD[case]
    demo = Path(__file__).parents[1] / "baselines"
    result = _validate(tmp_path, text, demo)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "access.yaml:" in result.stderr and key in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr


def test_a_valid_rule_validates(tmp_path):
    demo = Path(__file__).parents[1] / "baselines"
    text = (
        "rules:\n  - name: ok\n    forbid:\n      from: {account: '123456789012'}\n"
        "      to: [{ou: 'Root/*', admin: true}]\n"
    )
    result = _validate(tmp_path, text, demo)
    assert result.returncode == 0, result.stderr
