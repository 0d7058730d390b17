"""Run history: new / resolved / persisting between runs, the index, retention, JUnit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from iamdrift.compare.findings import Place, finding
from iamdrift.emulator import DEMO, MANAGEMENT, trust
from iamdrift.report import history
from iamdrift.report.results import RunReport, judge_history

MEMBER_TRUST = f"{DEMO}/role/MemberReadOnlyAccess/trust_policy"
# Widening the trust to the management account lets userA (AssumeRole on "*") in too.
USER_A_EDGE = f"{DEMO}/access/{MANAGEMENT}:user:userA->{DEMO}:MemberReadOnlyAccess/edge"


def _widen(emu):
    emu.iam(DEMO).update_assume_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
    )


def _restore(emu):
    emu.iam(DEMO).update_assume_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:user/demo1")),
    )


@pytest.mark.e2e
def test_new_then_resolved_across_three_runs(world):
    first = world.cli("run")
    assert first.code == 0 and first.summary["history"]["previous_run"] is None
    _widen(world.emu)
    second = world.cli("run")
    assert second.code == 1
    assert second.finding(MEMBER_TRUST)["history"] == "new"
    assert second.finding(USER_A_EDGE)["history"] == "new"
    assert second.summary["history"] == {
        "previous_run": first.summary["run_id"],
        "new": 2,
        "persisting": 0,
        "resolved": 0,
    }
    fourth_change = world.cli("run")  # nothing changed: the finding persists
    assert fourth_change.finding(MEMBER_TRUST)["history"] == "persisting"
    _restore(world.emu)
    third = world.cli("run")
    assert third.code == 0
    assert sorted(f["id"] for f in third.summary["resolved"]) == sorted([MEMBER_TRUST, USER_A_EDGE])
    assert third.summary["history"]["resolved"] == 2

    reports = world.tmp / "reports"
    runs = history.runs(reports)
    assert [r.status for r in runs] == ["compliant", "drift", "drift", "compliant"]
    assert (reports / "latest").resolve() == (reports / third.summary["run_id"]).resolve()
    index = (reports / "index.html").read_text()
    for r in runs:
        assert f'href="{r.id}/report.html"' in index
    assert index.count("<rect") == 4 and "<svg" in index
    html = (reports / third.summary["run_id"] / "report.html").read_text()
    assert "Resolved since the previous run" in html
    assert not list(reports.glob(".*.partial"))


@pytest.mark.e2e
def test_junit_lists_the_same_failures_as_the_html(world):
    _widen(world.emu)
    world.emu.iam(DEMO).create_user(UserName="eve")
    result = world.cli("run")
    run_dir = world.tmp / "reports" / result.summary["run_id"]
    suite = ET.parse(run_dir / "junit.xml").getroot()
    failed = sorted(
        f"{c.get('classname').replace('.', '/')}.py::{c.get('name')}"
        for c in suite.iter("testcase")
        if c.find("failure") is not None
    )
    blob = re.search(r'data-jsonblob="([^"]*)"', (run_dir / "report.html").read_text()).group(1)
    import html as html_lib

    data = json.loads(html_lib.unescape(blob))
    html_failed = sorted(
        test_id
        for test_id, entries in data["tests"].items()
        if any(e["result"] == "Failed" for e in entries)
    )
    assert failed == html_failed
    assert len(failed) == 3  # the role, the unexpected user, and the new access edge


def _finding(finding_id: str):
    account, kind, name, aspect = finding_id.split("/")
    return finding(Place(account, kind, name, account), aspect, "changed", "high", "differs")


def test_history_counts_resolved_only_for_accounts_read():
    prev = RunReport(
        run_id="r1",
        findings=[_finding(f"{a}/role/{a.lower()}/trust_policy") for a in ("A", "B", "C")],
    )
    now = [_finding("A/user/new/existence")]
    marked, summary, resolved = judge_history(prev, now, {f.id for f in now}, read={"A"})
    assert [f.id for f in resolved] == ["A/role/a/trust_policy"]  # B errored, C not selected
    assert summary.new == 1 and summary.resolved == 1 and summary.previous_run == "r1"
    assert [f.history for f in marked] == ["new"]
    again, summary, _ = judge_history(RunReport(run_id="r2", findings=marked), now, set(), {"A"})
    assert [f.history for f in again] == ["persisting"] and summary.persisting == 1


def _fake_run(reports, run_id, status="compliant"):
    d = reports / run_id
    d.mkdir(parents=True)
    (d / "run.json").write_text(
        json.dumps(
            {"id": run_id, "status": status, "exit_code": 0, "started": "s", "finished": "f"}
        )
    )


def test_retention_keeps_the_newest_runs(tmp_path):
    for i in range(5):
        _fake_run(tmp_path, f"2026010{i}T000000Z")
    history.settle(tmp_path, keep=2)
    assert "20260101T000000Z" not in (tmp_path / "index.html").read_text()
    assert [r.id for r in history.runs(tmp_path)] == ["20260103T000000Z", "20260104T000000Z"]


def test_index_escapes_and_renders_failed_runs(tmp_path):
    _fake_run(tmp_path, "20260101T000000Z")
    history.record_failed_run(
        tmp_path, "20260102T000000Z", "<script>alert(1)</script>", 70, "s", keep=10
    )
    index = (tmp_path / "index.html").read_text()
    assert "<script>alert" not in index and "&lt;script&gt;alert(1)" in index
    assert [r.status for r in history.runs(tmp_path)] == ["compliant", "failed"]


def test_run_ids_do_not_collide(tmp_path):
    first = history.new_run_id(tmp_path)
    (tmp_path / first).mkdir()
    second = history.new_run_id(tmp_path)
    assert second != first and second > first
