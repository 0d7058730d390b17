"""`runner.py run` and `merge`: the checks under pytest, writing one run into the history.

`run` reads AWS; `run --shard I/N` reads a share of the accounts and writes a part
file instead of a run; `merge PARTS...` checks the outcomes in the parts, as one
process would have, and writes the run.

Exit codes (the command-line contract): 0 every account read and matching,
1 drift or an account that could not be read, 2 invalid baselines or arguments.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iamdrift.audit.outcome import baselines_digest, read_part
from iamdrift.baselines.load import Baseline, load_baselines
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.errors import BaselineError, Problem
from iamdrift.plugin.state import State
from iamdrift.report import history
from iamdrift.report.exports import ocsf_findings, sarif_log
from iamdrift.report.notify import notify
from iamdrift.report.results import RunResults
from iamdrift.report.text import waiver_lines
from iamdrift.resources import checks_dir

CHECKS = checks_dir()

EXIT_OK, EXIT_DRIFT, EXIT_INVALID = 0, 1, 2
log = logging.getLogger("iamdrift")


@dataclass
class RunOutput:
    exit_code: int
    run_dir: Path | None
    summary: dict | None
    results: RunResults | None = None

    @property
    def report(self) -> Path | None:
        return self.run_dir / "report.html" if self.run_dir else None


@dataclass
class RunOptions:
    baselines: str = "baselines"
    report_dir: str = "reports"
    json_path: str | None = None
    accounts: list[str] | None = None
    concurrency: int = 8
    account_timeout: float = 180.0
    entities: list[str] = field(default_factory=list)
    pytest_args: list[str] = field(default_factory=list)
    run_id: str | None = None
    keep: int = 60
    notify_url: str | None = None
    shard: str | None = None  # "I/N": read a share of the accounts, write a part
    part: str | None = None  # where a shard's part goes
    parts: list[str] = field(default_factory=list)  # merge these instead of reading AWS
    ocsf: str | None = None  # write the findings as OCSF Detection Findings (JSON)
    sarif: str | None = None  # write the findings as SARIF 2.1.0


class _Preloaded:
    """Hands the baselines the command line already loaded to the plugin (loaded once)."""

    def __init__(self, baseline: Baseline):
        self.baseline = baseline
        self.state: State | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        self.state = State(config, self.baseline)
        config.pluginmanager.register(self.state, "iamdrift-state")


def _pytest_args(opts: RunOptions) -> list[str]:
    args = [
        # The project's own test settings (addopts) are not the checks' settings.
        str(CHECKS),
        # Test ids read checks/test_roles.py::... in a clone and installed alike.
        f"--rootdir={CHECKS.parent}",
        "--import-mode=importlib",
        "-p",
        "iamdrift.plugin",
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
        f"--baselines={opts.baselines}",
        f"--iamdrift-concurrency={opts.concurrency}",
        f"--account-timeout={opts.account_timeout}",
    ]
    if opts.accounts:
        args.append(f"--accounts={','.join(opts.accounts)}")
    args += [f"--entity={p}" for p in opts.entities]
    args += [f"--iamdrift-parts={p}" for p in opts.parts]
    return args


def check_parts(baseline: Baseline, parts: list[str]) -> None:
    """Parts must exist, be parts, and have been checked against these same baselines."""
    digest = baselines_digest([*baseline.directory.rglob("*.y*ml")])
    problems = []
    for path in parts:
        try:
            part = read_part(Path(path))
        except ValueError as exc:
            problems.append(Problem(path, 0, "", str(exc).removeprefix(f"{path}: ")))
            continue
        if part.baselines != digest:
            problems.append(
                Problem(
                    path,
                    0,
                    "baselines",
                    f"checked against other baselines (digest {part.baselines}, these are "
                    f"{digest}); run every shard and the merge on one commit",
                )
            )
    if problems:
        raise BaselineError(problems)


def run_shard(opts: RunOptions) -> RunOutput:
    """One CI job's share of the accounts: its outcomes go to a part file, not the history."""
    baseline = load_baselines(opts.baselines)
    baseline.select(opts.accounts)
    part = Path(opts.part or Path(opts.report_dir) / f"part-{opts.shard.replace('/', '-of-')}.gz")
    part.parent.mkdir(parents=True, exist_ok=True)
    holder = _Preloaded(baseline)
    args = [*_pytest_args(opts), f"--shard={opts.shard}", f"--iamdrift-part-out={part}"]
    if opts.json_path:
        args.append(f"--iamdrift-json={opts.json_path}")
    code = int(pytest.main([*args, *opts.pytest_args], plugins=[holder]))
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED) or not part.exists():
        return RunOutput(
            EXIT_INVALID if code == pytest.ExitCode.USAGE_ERROR else EXIT_DRIFT, None, None
        )
    results = holder.state.results if holder.state else None
    print(f"shard {opts.shard}: wrote {part}; merge the parts with `runner.py merge`")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return RunOutput(EXIT_OK, None, None, results)  # no account hashed to this shard
    return RunOutput(_exit_code(code, results), None, None, results)


def run_checks(opts: RunOptions) -> RunOutput:
    """Validate baselines, run checks/ under pytest, file the run in the history.

    Raises BaselineError for invalid baselines, an unknown account id, or unusable parts.
    """
    if opts.shard:
        return run_shard(opts)
    baseline = load_baselines(opts.baselines)
    baseline.select(opts.accounts)  # unknown ids are an argument error before anything runs
    if opts.parts:
        check_parts(baseline, opts.parts)

    reports = Path(opts.report_dir)
    reports.mkdir(parents=True, exist_ok=True)
    run_id = opts.run_id or history.new_run_id(reports)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    staging = history.partial_dir(reports, run_id)
    staging.mkdir(parents=True, exist_ok=True)
    previous = history.previous_findings(reports)
    findings = staging / history.FINDINGS
    args = [
        *_pytest_args(opts),
        f"--iamdrift-json={findings}",
        f"--iamdrift-run-id={run_id}",
        f"--html={staging / 'report.html'}",
        "--self-contained-html",
        f"--junitxml={staging / 'junit.xml'}",
    ]
    if previous:
        args.append(f"--iamdrift-previous={reports / previous[0] / history.FINDINGS}")
    holder = _Preloaded(baseline)
    code = int(pytest.main([*args, *opts.pytest_args], plugins=[holder]))

    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutput(EXIT_INVALID, None, None)  # a selection that matches nothing
    if not findings.exists() or holder.state is None:
        # pytest stopped before the end of its session: nothing is known.
        history.record_failed_run(
            reports,
            run_id,
            f"pytest ended with exit code {code} before writing findings",
            code,
            started,
            opts.keep,
        )
        return RunOutput(EXIT_DRIFT, None, None)
    results = holder.state.results
    summary = json.loads(findings.read_text())
    exit_code = _exit_code(code, results)
    record = history.RunRecord.from_summary(run_id, exit_code, results.status, summary)
    run_dir = history.finish_run(reports, run_id, record, opts.keep)
    if opts.json_path:
        write_atomic(Path(opts.json_path), (run_dir / history.FINDINGS).read_bytes())
    if opts.ocsf:
        write_atomic(Path(opts.ocsf), json.dumps(ocsf_findings(summary), indent=1) + "\n")
    if opts.sarif:
        write_atomic(Path(opts.sarif), json.dumps(sarif_log(summary, baseline), indent=1) + "\n")
    if opts.notify_url and (summary["history"]["new"] or record.errors):
        notify(opts.notify_url, summary, run_dir)
    return RunOutput(exit_code, run_dir, summary, results)


def _exit_code(pytest_code: int, results: RunResults | None) -> int:
    if (
        pytest_code == pytest.ExitCode.OK
        and results is not None
        and results.accounts
        and results.status == "compliant"
    ):
        return EXIT_OK
    return EXIT_DRIFT  # drift, an unreadable account, or anything short of a clean pass


def summary_lines(summary: dict) -> list[str]:
    """Short human summary: the accounts that need attention, what changed, the most severe
    findings; compliant accounts are counted, not listed, when there are many."""
    lines = []
    accounts = summary["accounts"]
    listed = [a for a in accounts if a["status"] != "compliant" or len(accounts) <= 20]
    for a in listed[:50]:
        sev = ", ".join(f"{n} {s}" for s, n in a["by_severity"].items() if n)
        detail = a["error"] if a["status"] == "error" else (sev or "matches its baseline")
        lines.append(f"  {a['id']} ({a['name']}): {a['status'].upper()}: {detail}")
    if len(listed) > 50:
        lines.append(f"  ... and {len(listed) - 50} more accounts that need attention")
    clean = sum(a["status"] == "compliant" for a in accounts)
    if len(accounts) > 20:
        lines.append(f"  {clean} of {len(accounts)} accounts compliant")
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
    waivers = waiver_lines(len(summary.get("waived", [])), summary.get("waivers", []))
    lines += [f"  {line}" for line in waivers]
    risks = summary.get("risks", [])
    if risks:
        lines.append(f"  risky access, reported as warnings ({len(risks)}):")
        lines += [f"    [{f['severity']}] {f['id']}" for f in risks[:5]]
    return lines
