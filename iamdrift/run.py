"""`runner.py run`: the checks under pytest, with the HTML report and findings JSON.

Exit codes (the command-line contract): 0 every account read and matching,
1 drift or an account that could not be read, 2 invalid baselines or arguments.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iamdrift.baseline import load_baselines

PROJECT = Path(__file__).resolve().parent.parent
CHECKS = PROJECT / "checks"

EXIT_OK, EXIT_DRIFT, EXIT_INVALID = 0, 1, 2


@dataclass
class RunOutput:
    exit_code: int
    report: Path | None
    findings_json: Path | None
    summary: dict | None


def run_checks(
    baselines: str,
    report_dir: str = "reports",
    json_path: str | None = None,
    accounts: list[str] | None = None,
    concurrency: int = 8,
    pytest_args: list[str] | None = None,
) -> RunOutput:
    """Validate baselines, run checks/ under pytest, write report + JSON atomically.

    Raises BaselineError for invalid baselines or an unknown account id.
    """
    baseline = load_baselines(baselines)
    baseline.select(accounts)  # unknown ids are an argument error before anything runs

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = Path(report_dir) / stamp
    with tempfile.TemporaryDirectory(prefix="iamdrift-") as tmp:
        tmp_html, tmp_json, tmp_junit = (
            Path(tmp) / n for n in ("report.html", "findings.json", "junit.xml")
        )
        args = [
            str(CHECKS),
            f"--rootdir={PROJECT}",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfE",
            f"--baselines={baselines}",
            f"--iamdrift-json={tmp_json}",
            f"--iamdrift-concurrency={concurrency}",
            f"--html={tmp_html}",
            "--self-contained-html",
            f"--junitxml={tmp_junit}",
        ]
        if accounts:
            args.append(f"--accounts={','.join(accounts)}")
        code = int(pytest.main([*args, *(pytest_args or [])]))
        if not tmp_json.exists():
            # pytest stopped before the end of the session: nothing is known.
            return RunOutput(EXIT_INVALID if code == 4 else EXIT_DRIFT, None, None, None)
        run_dir.mkdir(parents=True, exist_ok=True)
        for src in (tmp_html, tmp_json, tmp_junit):
            if src.exists():
                shutil.move(src, run_dir / f".{src.name}.tmp")
                os.replace(run_dir / f".{src.name}.tmp", run_dir / src.name)
    summary = json.loads((run_dir / "findings.json").read_text())
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / "findings.json", f"{json_path}.tmp")
        os.replace(f"{json_path}.tmp", json_path)
    return RunOutput(
        _exit_code(code, summary), run_dir / "report.html", run_dir / "findings.json", summary
    )


def _exit_code(pytest_code: int, summary: dict) -> int:
    if pytest_code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_INVALID
    if pytest_code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return EXIT_INVALID  # a selection that matches nothing is a wrong argument
    statuses = {a["status"] for a in summary["accounts"]}
    if pytest_code == pytest.ExitCode.OK and statuses <= {"compliant"} and summary["accounts"]:
        return EXIT_OK
    return EXIT_DRIFT  # drift, an unreadable account, or anything short of a clean pass


def summary_lines(summary: dict) -> list[str]:
    """Short human summary: one line per account, then the most severe findings."""
    lines = []
    for a in summary["accounts"]:
        sev = ", ".join(f"{n} {s}" for s, n in a["by_severity"].items() if n)
        detail = a["error"] if a["status"] == "error" else (sev or "matches its baseline")
        lines.append(f"  {a['id']} ({a['name']}): {a['status'].upper()}: {detail}")
    for f in summary["findings"][:10]:
        lines.append(f"  [{f['severity']}] {f['id']} ({f['change']}): {f['message']}")
    if len(summary["findings"]) > 10:
        lines.append(f"  ... and {len(summary['findings']) - 10} more in the report")
    return lines
