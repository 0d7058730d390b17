"""A thousand accounts' report opens in a real browser: small, folded, failing first. How
long it takes to open is measured by bench/bench_report.py, not asserted here: a time
budget fails on a busy machine, and CI runs on shared ones.

The run is built by `runner.py merge` from a part file of a synthetic organization (no
AWS needed): a thousand accounts, each with three hundred entities compared, a role
that the management account's operators may assume, and drift in fifty of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iamdrift.access.edge import Edge
from iamdrift.access.projection import AccountProjection, Grant, Source, TrustingRole
from iamdrift.audit.outcome import AccountOutcome, Part, baselines_digest, write_part
from iamdrift.compare.findings import Place, finding
from tests.conftest import RUNNER
from tests.test_browser import browse

pytestmark = pytest.mark.e2e
MANAGEMENT = "100000000000"
OPERATOR = f"arn:aws:iam::{MANAGEMENT}:user/operator"
ASSUME_OPS = [
    {"Effect": "Allow", "Action": ["sts:assumerole"], "Resource": ["arn:aws:iam::*:role/ops"]}
]


def _outcome(account: str, drift: bool, admin: bool = False) -> AccountOutcome:
    trust = [{"Effect": "Allow", "Action": ["sts:assumerole"], "Principal": {"AWS": [OPERATOR]}}]
    ops = f"arn:aws:iam::{account}:role/ops"
    projection = AccountProjection(
        account=account,
        roles=[TrustingRole(arn=ops, name="ops", trust=trust)],
        administrators=[ops] if admin else [],
        local=[
            Edge(
                principal=ops, target=f"admin@{account}", kind="admin", path=["AdministratorAccess"]
            )
        ]
        if admin
        else [],
    )
    if account == MANAGEMENT:
        grant = Grant(label="user operator inline policy Ops", policy="ops")
        projection = AccountProjection(
            account=account,
            sources=[Source(arn=OPERATOR, kind="user", grants=[grant])],
            policies={"ops": ASSUME_OPS},
        )
    findings = []
    if drift:
        where = Place(account, "role", "ops", f"Account {account} (member {account})")
        findings = [
            finding(
                where, "max_session_duration", "changed", "medium", "lasts longer", 3600, 43200
            ),
            finding(where, "trust_policy", "changed", "critical", "trusts more", {}, {"x": 1}),
        ]
    risks = (
        []
        if account == MANAGEMENT
        else [
            finding(
                Place(account, "role", "OrganizationAccountAccessRole", f"Account {account}"),
                "risk:admin_without_mfa",
                "unexpected",
                "high",
                "can be assumed without MFA",
            )
        ]
    )  # the same risk on every member, as the seed's OrganizationAccountAccessRole has it
    return AccountOutcome(
        id=account,
        name=f"member {account}",
        findings=findings,
        risks=risks,
        checked={"users": 90, "groups": 30, "roles": 150, "policies": 30},
        projection=projection,
    )


def _merge(tmp_path: Path, accounts: int, drifting: int, rules: str = "") -> tuple[Path, dict]:
    baselines = tmp_path / "baselines"
    (baselines / "accounts").mkdir(parents=True)
    ids = [MANAGEMENT] + [f"{200000000000 + n}" for n in range(accounts - 1)]
    for account in ids:
        (baselines / "accounts" / f"{account}.yaml").write_text(
            f'account: "{account}"\nname: member {account}\n'
        )
    edges = [{"principal": OPERATOR, "role": f"arn:aws:iam::{a}:role/ops"} for a in ids[1:]]
    (baselines / "access.yaml").write_text(json.dumps({"edges": edges, "rules": rules or []}))
    part = Part(
        baselines=baselines_digest([*baselines.rglob("*.y*ml")]),
        started="2026-11-29T02:00:00+00:00",
        accounts=[
            _outcome(a, n < drifting, admin=bool(rules) and a != MANAGEMENT)
            for n, a in enumerate(reversed(ids))
        ],
    )
    write_part(tmp_path / "part.gz", part)
    reports = tmp_path / "reports"
    cmd = [
        sys.executable,
        str(RUNNER),
        "merge",
        str(tmp_path / "part.gz"),
        "--baselines",
        str(baselines),
        "--report-dir",
        str(reports),
        "--json",
        str(tmp_path / "f.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    failing = drifting or bool(rules)
    assert proc.returncode == (1 if failing else 0), proc.stdout[-3000:] + proc.stderr[-3000:]
    return (reports / "latest").resolve(), json.loads((tmp_path / "f.json").read_text())


def test_a_thousand_clean_accounts_make_a_small_report_that_opens(tmp_path):
    run_dir, summary = _merge(tmp_path, 1000, 0)
    report = run_dir / "report.html"
    assert report.stat().st_size < 10 * 2**20
    assert (run_dir / "findings.json").stat().st_size < 10 * 2**20
    assert (run_dir / "junit.xml").stat().st_size < 10 * 2**20
    assert {a["status"] for a in summary["accounts"]} == {"compliant"}
    assert len(summary["access"]) == 999
    dom = browse(report.as_uri(), tmp_path / "report.png")
    assert "1000 compliant account(s)" in dom and "300000 entities compared" in dom
    assert "Every account was read and matches its baseline." in dom
    # One risk on 999 roles: one entry each in the JSON, one row in the report.
    assert len(summary["risks"]) == 999
    rows = _rows(dom, "iamdrift-risks")
    assert len(rows) == 1 and "999" in rows[0] and "OrganizationAccountAccessRole" in rows[0]


def _rows(dom: str, table_id: str) -> list[str]:
    """The body rows of the summary's table `table_id`, as HTML."""
    start = dom.index(f'id="{table_id}"')
    body = dom[dom.index("<tbody>", start) : dom.index("</tbody>", start)]
    return body.split("<tr>")[1:]


def test_drift_in_fifty_accounts_reads_failing_first_by_account(tmp_path):
    run_dir, summary = _merge(tmp_path, 1000, 50)
    report = run_dir / "report.html"
    assert report.stat().st_size < 10 * 2**20
    assert sum(a["status"] == "drift" for a in summary["accounts"]) == 50
    assert len(summary["findings"]) == 100
    dom = browse(report.as_uri(), tmp_path / "report.png")
    # The summary lists the fifty drifting accounts, most findings first, and the
    # compliant ones are counted; every finding is in the failing rows below it.
    summary_part = dom[dom.index("iamdrift summary") : dom.index('id="iamdrift-compliant"')]
    assert summary_part.count("badge") >= 50 and "950 compliant account(s)" in dom
    for f in summary["findings"]:
        assert f["id"] in dom
    assert dom.index("iamdrift summary") < dom.index("col-testId")
    # One change rolled out to fifty accounts: a row for each aspect, the worst first.
    repeated = _rows(dom, "iamdrift-repeated")
    assert len(repeated) == 2 and all(">50<" in row for row in repeated), repeated
    assert "trust_policy" in repeated[0] and "max_session_duration" in repeated[1]


def test_chains_and_rules_over_a_thousand_accounts_fold_into_one_row_each(tmp_path):
    """The operator administers 999 members, which a rule forbids: one row in the paths,
    the rule's first violations listed, every one in the JSON."""
    rule = {
        "name": "no-operator-admin",
        "forbid": {"from": {"principal": "*operator"}, "to": {"admin": True}},
    }
    run_dir, summary = _merge(tmp_path, 1000, 0, [rule])
    report = run_dir / "report.html"
    assert report.stat().st_size < 10 * 2**20
    assert summary["rules"][0]["name"] == "no-operator-admin"
    assert len(summary["rules"][0]["violations"]) == 999
    dom = browse(report.as_uri(), tmp_path / "report.png")
    paths = _rows(dom, "iamdrift-admin-paths")
    assert len(paths) == 1 and OPERATOR in paths[0] and ">999<" in paths[0]
    rules = _rows(dom, "iamdrift-rules")
    assert len(rules) == 1 and "999 violation(s)" in rules[0] and "and 949 more" in rules[0]
