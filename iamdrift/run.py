"""`runner.py run`: the checks under pytest, writing one run into the report history.

Exit codes (the command-line contract): 0 every account read and matching,
1 drift or an account that could not be read, 2 invalid baselines or arguments.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iamdrift import history
from iamdrift.baseline import load_baselines
from iamdrift.notify import notify

PROJECT = Path(__file__).resolve().parent.parent
CHECKS = PROJECT / "checks"

EXIT_OK, EXIT_DRIFT, EXIT_INVALID = 0, 1, 2
log = logging.getLogger("iamdrift")


@dataclass
class RunOutput:
    exit_code: int
    run_dir: Path | None
    summary: dict | None

    @property
    def report(self) -> Path | None:
        return self.run_dir / "report.html" if self.run_dir else None


def run_checks(
    baselines: str,
    report_dir: str = "reports",
    json_path: str | None = None,
    accounts: list[str] | None = None,
    concurrency: int = 8,
    pytest_args: list[str] | None = None,
    run_id: str | None = None,
    keep: int = 60,
    notify_url: str | None = None,
) -> RunOutput:
    """Validate baselines, run checks/ under pytest, file the run in the history.

    Raises BaselineError for invalid baselines or an unknown account id.
    """
    baseline = load_baselines(baselines)
    baseline.select(accounts)  # unknown ids are an argument error before anything runs

    reports = Path(report_dir)
    reports.mkdir(parents=True, exist_ok=True)
    run_id = run_id or history.new_run_id(reports)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    staging = history.partial_dir(reports, run_id)
    staging.mkdir(parents=True, exist_ok=True)
    previous = history.previous_findings(reports)
    findings = staging / history.FINDINGS
    args = [
        # The project's own test settings (addopts) are not the checks' settings.
        str(CHECKS),
        f"--rootdir={PROJECT}",
        "-o",
        "addopts=",
        "-o",
        "render_collapsed=passed",
        "-o",
        "initial_sort=result",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        f"--baselines={baselines}",
        f"--iamdrift-json={findings}",
        f"--iamdrift-run-id={run_id}",
        f"--iamdrift-concurrency={concurrency}",
        f"--html={staging / 'report.html'}",
        "--self-contained-html",
        f"--junitxml={staging / 'junit.xml'}",
    ]
    if previous:
        args.append(f"--iamdrift-previous={reports / previous[0] / history.FINDINGS}")
    if accounts:
        args.append(f"--accounts={','.join(accounts)}")
    code = int(pytest.main([*args, *(pytest_args or [])]))

    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutput(EXIT_INVALID, None, None)  # a selection that matches nothing
    if not findings.exists():
        # pytest stopped before the end of its session: nothing is known.
        history.record_failed_run(
            reports,
            run_id,
            f"pytest ended with exit code {code} before writing findings",
            code,
            started,
            keep,
        )
        return RunOutput(EXIT_DRIFT, None, None)
    summary = json.loads(findings.read_text())
    exit_code = _exit_code(code, summary)
    record = history.RunRecord.from_summary(run_id, exit_code, summary)
    run_dir = history.finish_run(reports, run_id, record, keep)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / history.FINDINGS, f"{json_path}.tmp")
        os.replace(f"{json_path}.tmp", json_path)
    if notify_url and (summary["history"]["new"] or record.errors):
        notify(notify_url, summary, run_dir)
    return RunOutput(exit_code, run_dir, summary)


def _exit_code(pytest_code: int, summary: dict) -> int:
    statuses = {a["status"] for a in summary["accounts"]}
    if pytest_code == pytest.ExitCode.OK and statuses <= {"compliant"} and summary["accounts"]:
        return EXIT_OK
    return EXIT_DRIFT  # drift, an unreadable account, or anything short of a clean pass


def summary_lines(summary: dict) -> list[str]:
    """Short human summary: one line per account, what changed, the most severe findings."""
    lines = []
    for a in summary["accounts"]:
        sev = ", ".join(f"{n} {s}" for s, n in a["by_severity"].items() if n)
        detail = a["error"] if a["status"] == "error" else (sev or "matches its baseline")
        lines.append(f"  {a['id']} ({a['name']}): {a['status'].upper()}: {detail}")
    h = summary.get("history", {})
    if h.get("previous_run"):
        lines.append(
            f"  since run {h['previous_run']}: {h['new']} new, {h['resolved']} resolved, "
            f"{h['persisting']} persisting"
        )
    for f in summary["findings"][:10]:
        mark = " NEW" if f.get("history") == "new" and h.get("previous_run") else ""
        lines.append(f"  [{f['severity']}]{mark} {f['id']} ({f['change']}): {f['message']}")
    if len(summary["findings"]) > 10:
        lines.append(f"  ... and {len(summary['findings']) - 10} more in the report")
    risks = summary.get("risks", [])
    if risks:
        lines.append(f"  risky access, reported as warnings ({len(risks)}):")
        lines += [f"    [{f['severity']}] {f['id']}" for f in risks[:5]]
    return lines
