"""`run` and `merge`: the checks under pytest, writing one run into the history.

`run` reads AWS; `run --shard I/N` reads a share of the accounts and writes a part
file instead of a run; `merge PARTS...` checks the outcomes in the parts, as one
process would have, and writes the run.

Exit codes (the command-line contract): 0 every account read and matching,
1 drift or an account that could not be read, 2 invalid baselines or arguments.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from iamdrift.audit.auditor import Auditor
from iamdrift.audit.outcome import Part, baselines_digest, parse_shard, read_part, select
from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.diff import Selection
from iamdrift.errors import BaselineError, Problem
from iamdrift.report import history
from iamdrift.report.notify import notify
from iamdrift.report.progress import Progress
from iamdrift.report.results import RunReport
from iamdrift.resources import checks_dir
from iamdrift.runs.event_run import event_args, log_phases, read_batch

if TYPE_CHECKING:
    from iamdrift.plugin.session import Session

CHECKS = checks_dir()

EXIT_OK, EXIT_DRIFT, EXIT_INVALID = 0, 1, 2
# pytest's exit codes (pytest.ExitCode), named here: pytest and the plugin are imported only
# once the accounts are being read, so that their import overlaps the reads.
PYTEST_OK, PYTEST_INTERRUPTED, PYTEST_USAGE_ERROR, PYTEST_NO_TESTS = 0, 2, 4, 5
log = logging.getLogger("iamdrift")


@dataclass
class RunOutput:
    exit_code: int
    run_dir: Path | None
    report: RunReport | None = None

    @property
    def html(self) -> Path | None:
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
    # An event run (watch): the batch of events, whose accounts are read again; the others
    # are carried from the latest run.
    event_batch: str | None = None


def _start_reading(baseline: Baseline, opts: RunOptions) -> Auditor | None:
    """The reads, under way before pytest starts: when nothing in the pytest arguments can
    narrow or distribute the tests (`-k`, `-m`, `-n`, node ids), every selected account
    will be read, so reading starts now, alongside pytest's own start (None otherwise)."""
    if opts.parts or opts.pytest_args or opts.event_batch:
        return None  # an event run's accounts: the plugin's, most of them carried
    selection = Selection(tuple(opts.entities)) if opts.entities else None
    auditor = Auditor(
        baseline,
        workers=opts.concurrency,
        account_timeout=opts.account_timeout,
        selection=selection,
    )
    accounts = select(baseline, opts.accounts, parse_shard(opts.shard))
    tty = sys.stdout.isatty() and not os.environ.get("CI")
    auditor.listener = Progress(len(accounts), tty=tty)
    auditor.start(accounts)
    return auditor


XDIST_OPTIONS = ("-n", "--numprocesses", "--dist", "--tx", "-d", "--maxprocesses")


def plugin_args(user_args: list[str]) -> list[str]:
    """`-p` for the plugins a run uses: ours, pytest-html (and pytest-metadata, which it
    reads), and pytest-xdist when the user's arguments ask for workers.

    >>> plugin_args(["-k", "DEMO"])
    ['-p', 'iamdrift.plugin', '-p', 'metadata', '-p', 'html']
    >>> plugin_args(["-n", "2", "--dist", "loadgroup"])[-2:]
    ['-p', 'xdist']
    """
    names = ["iamdrift.plugin", "metadata", "html"]
    if any(a.split("=", 1)[0] in XDIST_OPTIONS or re.fullmatch(r"-n\S+", a) for a in user_args):
        names.append("xdist")
    return [arg for name in names for arg in ("-p", name)]


def _pytest_args(opts: RunOptions) -> list[str]:
    args = [
        # The project's own test settings (addopts) are not the checks' settings.
        str(CHECKS),
        # Test ids read checks/test_roles.py::... in a clone and installed alike.
        f"--rootdir={CHECKS.parent}",
        "--import-mode=importlib",
        # The plugins the checks need, and only those (plus a user's own `-p`): loading every
        # pytest plugin installed alongside (hypothesis's imports hypothesis at the summary) and
        # assertion-rewriting their distributions cost seconds of a run that reads for a second.
        "--disable-plugin-autoload",
        "--assert=plain",  # the checks fail through pytest.fail, never a bare assert
        *plugin_args(opts.pytest_args),
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


def _pytest(
    args: list[str],
    opts: RunOptions,
    baseline: Baseline,
    source: Auditor | None,
    carried: Part | None = None,
) -> tuple[int, Session | None]:
    """pytest's exit code, and the run's session (None when pytest stopped before it)."""
    import pytest

    from iamdrift.plugin.session import Preloaded

    given = Preloaded(baseline, source, carried=carried)
    code = int(pytest.main([*args, *opts.pytest_args], plugins=[given]))
    return code, given.session


def run_shard(opts: RunOptions) -> RunOutput:
    """One CI job's share of the accounts: its outcomes go to a part file, not the history."""
    baseline = load_baselines(opts.baselines)
    baseline.select(opts.accounts)
    part = Path(opts.part or Path(opts.report_dir) / f"part-{opts.shard.replace('/', '-of-')}.gz")
    part.parent.mkdir(parents=True, exist_ok=True)
    source = _start_reading(baseline, opts)
    args = [*_pytest_args(opts), f"--shard={opts.shard}", f"--iamdrift-part-out={part}"]
    if opts.json_path:
        args.append(f"--iamdrift-json={opts.json_path}")
    code, session = _pytest(args, opts, baseline, source)
    report = session.report() if session else None
    if code in (PYTEST_USAGE_ERROR, PYTEST_INTERRUPTED) or not part.exists():
        return RunOutput(EXIT_INVALID if code == PYTEST_USAGE_ERROR else EXIT_DRIFT, None)
    print(f"shard {opts.shard}: wrote {part}; merge the parts with `runner.py merge`")
    if code == PYTEST_NO_TESTS:
        return RunOutput(EXIT_OK, None, report)  # no account hashed to this shard
    return RunOutput(_exit_code(code, report), None, report)


def run_checks(opts: RunOptions) -> RunOutput:
    """Validate baselines, run checks/ under pytest, file the run in the history.

    Raises BaselineError for invalid baselines, an unknown account id, or unusable parts.
    """
    if opts.shard:
        return run_shard(opts)
    batch = read_batch(opts.event_batch) if opts.event_batch else None
    # An event run parses the baselines of the accounts it reads; the others are known by
    # their header until it is clear they are carried (event_args).
    baseline = load_baselines(opts.baselines, only=set(batch.accounts) if batch else None)
    baseline.select(opts.accounts)  # unknown ids are an argument error before anything runs
    if opts.parts:
        check_parts(baseline, opts.parts)
    source = _start_reading(baseline, opts)

    reports = Path(opts.report_dir)
    reports.mkdir(parents=True, exist_ok=True)
    run_id = opts.run_id or history.new_run_id(reports)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    staging = history.partial_dir(reports, run_id)
    staging.mkdir(parents=True, exist_ok=True)
    findings = staging / history.FINDINGS
    args = [
        *_pytest_args(opts),
        f"--iamdrift-json={findings}",
        f"--iamdrift-run-id={run_id}",
        f"--html={staging / 'report.html'}",
        "--self-contained-html",
        f"--junitxml={staging / 'junit.xml'}",
        # What `plan` judges the accounts a change does not touch by, without reading them.
        f"--iamdrift-part-out={staging / history.ACCOUNTS}",
    ]
    previous = history.latest_complete(reports)
    if previous:
        args.append(f"--iamdrift-previous={previous}")
    carried = None
    if batch is not None and opts.event_batch:
        more, carried = event_args(baseline, batch, opts.event_batch, previous)
        args += more
    code, session = _pytest(args, opts, baseline, source, carried)
    report = session.report() if session else None

    if code in (PYTEST_USAGE_ERROR, PYTEST_NO_TESTS):
        shutil.rmtree(staging, ignore_errors=True)
        return RunOutput(EXIT_INVALID, None)  # a selection that matches nothing
    if not findings.exists() or report is None:
        # pytest stopped before the end of its session: nothing is known.
        history.record_failed_run(
            reports,
            run_id,
            f"pytest ended with exit code {code} before writing findings",
            code,
            started,
            opts.keep,
        )
        return RunOutput(EXIT_DRIFT, None)
    exit_code = _exit_code(code, report)
    entry = history.HistoryEntry.of(run_id, exit_code, report)
    run_dir = history.finish_run(reports, run_id, entry, opts.keep)
    write_outputs(report, baseline, opts)
    if opts.event_batch and session is not None:
        log_phases(run_id, session)
    # An event run tells of a change: what it made new or resolved.
    events = report.history.new or report.history.resolved
    if opts.notify_url and (events if opts.event_batch else report.history.new or report.errors()):
        notify(opts.notify_url, report, run_dir)
    return RunOutput(exit_code, run_dir, report)


def write_outputs(report: RunReport, baseline: Baseline, opts: RunOptions) -> None:
    """The outputs asked for, each from the run's one report (OCSF's models load only when
    asked for: they cost a tenth of a second to import)."""
    if opts.json_path:
        report.write(opts.json_path)
    if opts.ocsf:
        from iamdrift.report.ocsf import ocsf_findings

        write_atomic(Path(opts.ocsf), json.dumps(ocsf_findings(report), indent=1) + "\n")
    if opts.sarif:
        from iamdrift.report.sarif import sarif_log

        write_atomic(Path(opts.sarif), json.dumps(sarif_log(report, baseline), indent=1) + "\n")


def _exit_code(pytest_code: int, report: RunReport | None) -> int:
    if (
        pytest_code == PYTEST_OK
        and report is not None
        and report.accounts
        and report.status == "compliant"
    ):
        return EXIT_OK
    return EXIT_DRIFT  # drift, an unreadable account, or anything short of a clean pass
