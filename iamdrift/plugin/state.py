"""One pytest session's state: the baselines, where outcomes come from (AWS or part files),
what the run found, and the hooks that carry it into the report.

Under pytest-xdist each worker reads the accounts of the tests it is given and sends
each account's outcome to the controller with a test report; the access graph, which
needs every account, is judged on the controller after the workers finish.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest import TestReport

from iamdrift.access.evaluate import OrgContext
from iamdrift.access.graph import AccessRow, build_graph, diff_access, risky_role_arns
from iamdrift.audit.auditor import Auditor
from iamdrift.audit.outcome import (
    AccountOutcome,
    OrganizationRead,
    Part,
    PartsSource,
    baselines_digest,
    in_shard,
    read_part,
    write_part,
)
from iamdrift.baselines.load import AccountBaseline, Baseline, load_baselines
from iamdrift.compare.diff import Selection
from iamdrift.compare.findings import Finding, sort_findings
from iamdrift.compare.organization import diff_membership, diff_structure
from iamdrift.compare.waivers import apply_waivers
from iamdrift.errors import BaselineError
from iamdrift.plugin.checks import CHECKS, Target, account_groups
from iamdrift.plugin.html import HtmlReport
from iamdrift.plugin.reports import Record, emit_report
from iamdrift.report.html import access_html, findings_html
from iamdrift.report.progress import Progress
from iamdrift.report.results import CheckRecord, RunResults
from iamdrift.report.text import waiver_lines

RECORD = pytest.StashKey[Record]()
SHARED_BASELINE = "iamdrift_baseline"
ACCESS_NODE = "iamdrift_access_node"


@dataclass
class AccessResult:
    findings: list[Finding] = field(default_factory=list)
    rows: list[AccessRow] = field(default_factory=list)
    html: str = ""
    error: str | None = None
    elsewhere: bool = False  # the error is other accounts', recorded on them


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`2/8` -> (2, 8); raises ValueError for anything else."""
    if not text:
        return None
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"expected --shard I/N with 1 <= I <= N, got {text!r}")
    return int(index), int(count)


class State:
    """Per-session state: baselines, the source of outcomes, and what the run found."""

    def __init__(self, config: pytest.Config, baseline: Baseline | None = None):
        self.config = config
        self._baseline = baseline
        self._source: Auditor | PartsSource | None = None
        self.is_worker = hasattr(config, "workerinput")
        self.results = RunResults(run_id=config.getoption("iamdrift_run_id"))
        previous = config.getoption("iamdrift_previous")
        if previous and Path(previous).exists():
            self.results.previous = json.loads(Path(previous).read_text())
        patterns = tuple(config.getoption("entity") or ())
        self.selection = Selection(patterns) if patterns else None
        try:
            self.shard = parse_shard(config.getoption("shard"))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.html_extras = config.pluginmanager.hasplugin("html")
        self.terminal = None
        self._sent: set[str] = set()  # accounts whose outcome went out with a report
        self._access_node: dict[str, Any] | None = None
        self._account_groups: dict[str, list[str]] | None = None
        self._shared: Path | None = None  # the baselines handed to xdist workers
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.today = _today()
        self.results.today = self.today
        if self.html_extras:
            config.pluginmanager.register(HtmlReport(self), "iamdrift-html")

    @property
    def baseline(self) -> Baseline:
        """Loaded on first use, so pytest sessions without checks never read baselines. An
        xdist worker takes those its controller loaded rather than parse every file again."""
        if self._baseline is None:
            shared = getattr(self.config, "workerinput", {}).get(SHARED_BASELINE)
            if shared:
                self._baseline = pickle.loads(Path(shared).read_bytes())
                gc.freeze()  # alive for the whole session: out of the collector's way
                return self._baseline
            try:
                self._baseline = load_baselines(self.config.getoption("baselines"))
            except BaselineError as exc:
                pytest.exit(f"invalid baselines:\n{exc}", returncode=2)
        return self._baseline

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """Hand the loaded baselines to each xdist worker (a private file, read once)."""
        if self._shared is None:
            self._shared = Path(tempfile.mkdtemp(prefix="iamdrift-")) / "baseline.pickle"
            self._shared.write_bytes(pickle.dumps(self.baseline))
        node.workerinput[SHARED_BASELINE] = str(self._shared)

    @property
    def source(self) -> Auditor | PartsSource:
        """Where outcomes come from: part files (merge), or AWS through the auditor."""
        if self._source is None:
            files = self.config.getoption("iamdrift_parts")
            if files:
                try:
                    self._source = PartsSource([read_part(Path(p)) for p in files])
                except ValueError as exc:
                    pytest.exit(str(exc), returncode=2)
            else:
                self._source = Auditor(
                    self.baseline,
                    workers=self.config.getoption("iamdrift_concurrency"),
                    account_timeout=self.config.getoption("account_timeout"),
                    selection=self.selection,
                )
        return self._source

    # --- what is checked -------------------------------------------------------------

    def selected(self) -> list[AccountBaseline]:
        raw = self.config.getoption("accounts")
        ids = [a.strip() for a in raw.split(",") if a.strip()] if raw else None
        try:
            accounts = self.baseline.select(ids)
        except BaselineError as exc:
            pytest.exit(str(exc), returncode=2)
        if self.shard:
            accounts = [a for a in accounts if in_shard(a.id, *self.shard)]
        return accounts

    def whole_organization(self) -> bool:
        """Organization and access checks need every account and no entity filter."""
        return (
            not self.config.getoption("accounts") and self.shard is None and self.selection is None
        )

    def judge(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(failing, waived) under waivers.yaml, as of today."""
        return apply_waivers(findings, self.baseline.waivers, self.today)

    @property
    def risks_fail(self) -> bool:
        return self.baseline.access is not None and self.baseline.access.risks == "fail"

    # --- what a test finds ------------------------------------------------------------

    def begin(self, request: pytest.FixtureRequest) -> AccountBaseline:
        """The account a test is about; what the test finds is recorded on it from here on."""
        target: Target = request.param
        acct = self.baseline.accounts[target.account]
        request.node.stash[RECORD] = Record(account=acct.id, name=acct.name, check=target.check)
        return acct

    def account_outcome(
        self, request: pytest.FixtureRequest
    ) -> tuple[AccountBaseline, AccountOutcome]:
        acct = self.begin(request)
        if self.is_worker:  # read the rest of this worker's group while waiting for this one
            group = request.param.group
            self.source.start(self.baseline.accounts[a] for a in self._groups().get(group, []))
        outcome = self.source.outcome(acct, on_wait=self.show_progress)
        self.show_progress(waiting=False)
        record = request.node.stash[RECORD]
        if acct.id not in self._sent:
            self._sent.add(acct.id)
            record.outcome = outcome
        if outcome.error:
            record.error = outcome.error
            pytest.fail(outcome.error, pytrace=False)
        return acct, outcome

    def _groups(self) -> dict[str, list[str]]:
        if self._account_groups is None:
            self._account_groups = account_groups(self)
        return self._account_groups

    def organization(self) -> OrganizationRead:
        return self.source.organization()

    def org_context(self) -> OrgContext:
        return OrgContext.of(
            self.baseline.management_account,
            self.organization().structure,
            set(self.baseline.accounts),
        )

    def organization_findings(self) -> tuple[list[Finding], str | None]:
        org = self.organization()
        if org.error:
            return [], org.error
        if org.structure is None:
            return [], "the hub credentials may not read the organization"
        management = self.baseline.management_account or ""
        declared = {a.id: a.name for a in self.baseline.accounts.values()}
        live = {a: m.name for a, m in org.structure.accounts.items()}
        findings = diff_membership(management, declared, live)
        if self.baseline.structure is not None:
            findings += diff_structure(management, self.baseline.structure, org.structure)
        return sort_findings(findings), None

    def access_outcomes(self) -> list[AccountOutcome | None]:
        """Every selected account's outcome, waited for (the graph needs them all)."""
        outcomes = [self.source.outcome(a, on_wait=self.show_progress) for a in self.selected()]
        self.show_progress(waiting=False)
        return list(outcomes)

    def access_result(self, outcomes: list[AccountOutcome | None]) -> AccessResult:
        """The access check, from every selected account's outcome (None: none arrived)."""
        missing = [a.label for a, o in zip(self.selected(), outcomes, strict=True) if o is None]
        unread = [o.id for o in outcomes if o is not None and (o.error or o.projection is None)]
        if missing or unread:
            why = "no outcome arrived for" if missing else "these could not be read:"
            return AccessResult(
                error=f"the access graph needs every account; {why} {', '.join(missing or unread)}",
                elsewhere=True,
            )
        org = self.organization()
        if org.error:
            return AccessResult(error=f"the access graph could not be built: {org.error}")
        ctx = self.org_context()
        projections = {o.id: o.projection for o in outcomes if o and o.projection}
        findings, rows = diff_access(self.baseline.access, build_graph(projections, ctx), ctx)
        risky = set().union(
            *(risky_role_arns(p, o.risks) for o in outcomes if o and (p := o.projection))
        )
        return AccessResult(findings, rows, access_html(rows, risky))

    # --- progress ---------------------------------------------------------------------

    def show_progress(self, waiting: bool = True) -> None:
        # Tests run with output captured; progress is for the person watching, so past it.
        progress = getattr(self._source, "progress", None)
        if progress is None or self.terminal is None or not progress.has_output(waiting):
            return
        capman = self.config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            progress.render(self.terminal, waiting)

    # --- hooks ------------------------------------------------------------------------

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """The account's name is a keyword too (`-k DEMO`). An xdist worker cannot judge the
        access graph (its accounts are some of them): the controller does, afterwards."""
        empty = [i for i in items if _target(i) is None and _is_check(i)]
        if empty:  # a check with nothing to check (no organization declared): left out
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]
        for item in items:
            target = _target(item)
            if target is not None and target.account in self.baseline.accounts:
                item.extra_keyword_matches.add(self.baseline.accounts[target.account].name)
        if not self.is_worker:
            return
        graph = [i for i in items if (_target(i) or Target("", "")).check == "access"]
        if graph:
            item = graph[0]
            config.workeroutput[ACCESS_NODE] = {
                "account": _target(item).account,
                "nodeid": item.nodeid,
                "location": list(item.location),
                "keywords": {k: 1 for k in item.keywords},
            }
            items[:] = [i for i in items if i not in graph]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start reading every account the selected tests need, before the first test runs."""
        if session.config.option.collectonly or self.config.getoption("iamdrift_parts"):
            return
        if self.is_worker or self.config.pluginmanager.has_plugin("dsession"):
            return  # under xdist each worker reads the groups of accounts it is given
        needed = {t.account for i in session.items if (t := _target(i)) is not None}
        if any((_target(i) or Target("", "")).check == "access" for i in session.items):
            needed |= {a.id for a in self.selected()}
        if not needed:
            return
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            self.terminal = tr
            self.source.progress = Progress(
                len(needed), tty=bool(tr.isatty()) and not os.environ.get("CI")
            )
        self.source.start(a for a in self.selected() if a.id in needed)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        record = item.stash.get(RECORD, None)
        if record is None:
            return report
        if report.failed and not (record.error or record.findings or record.elsewhere):
            # A check that broke without a finding leaves the account unknown: an error.
            last = (report.longreprtext or "check failed").strip().splitlines()[-1]
            record.error = f"check {item.nodeid} could not complete: {last}"
        if report.when == "call" or report.failed:
            self._attach(report, record)
        if report.when == "teardown":
            del item.stash[RECORD]  # what it found is on the reports now; items live on
        return report

    def _attach(self, report: TestReport, record: Record) -> None:
        fragments = [record.html]
        previous = self.results.previous
        ids = {f["id"] for f in previous["findings"]} if previous else None
        if record.waived:
            fragments.insert(0, "<h3>Waived</h3>" + findings_html(record.waived, ids))
        if record.findings:
            fragments.insert(0, findings_html(record.findings, ids))
        # An xdist worker sends it to the controller with the report, so as plain JSON.
        report.iamdrift = (
            record.model_dump(mode="json", exclude={"html"}) if self.is_worker else record
        )
        if self.html_extras and any(fragments):
            extra = {
                "name": "findings",
                "format_type": "html",
                "extension": "html",
                "mime_type": None,
                "content": "".join(fragments),
            }
            report.extras = [*getattr(report, "extras", []), extra]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: TestReport) -> None:
        data = getattr(report, "iamdrift", None)
        if data is None or self.is_worker:
            return
        if report.when == "call" or not report.passed:
            self.results.count(report.outcome if report.when == "call" else "error")
        if isinstance(data, dict):  # from an xdist worker: typed again before anyone reads it
            data = report.iamdrift = CheckRecord.model_validate(data)
        self.results.record(data)
        if report.passed and data.access is None:
            report.iamdrift = None  # recorded; pytest keeps every report until the end

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        access = getattr(node, "workeroutput", {}).get(ACCESS_NODE)
        if access:
            self._access_node = access

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        result = yield
        if self._access_node is not None and not session.shouldfail:
            self._judge_access_on_controller(self._access_node)
        return result

    def _judge_access_on_controller(self, node: dict[str, Any]) -> None:
        """The access check of an xdist run, from the outcomes the workers sent."""
        result = self.access_result([self.results.outcomes.get(a.id) for a in self.selected()])
        emit_report(self, node, result)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._shared is not None:
            shutil.rmtree(self._shared.parent, ignore_errors=True)
        if self._source is not None:
            self.show_progress(waiting=False)
            self._source.close()
        if self.is_worker:
            return
        self.results.waivers = self.baseline.waivers if self._source is not None else []
        self.results.complete = self.whole_organization()
        path = self.config.getoption("iamdrift_json")
        if path:
            self.results.write(path)
        part = self.config.getoption("iamdrift_part_out")
        if part:
            self.write_part(Path(part))

    def write_part(self, path: Path) -> None:
        files = [*self.baseline.directory.rglob("*.y*ml")]
        outcomes = [
            self.results.outcomes[a.id] for a in self.selected() if a.id in self.results.outcomes
        ]
        shard = f"{self.shard[0]}/{self.shard[1]}" if self.shard else "1/1"
        org = self.organization() if isinstance(self.source, Auditor) else self.source.org
        write_part(
            path,
            Part(
                shard=shard,
                baselines=baselines_digest(files),
                started=self.started,
                organization=org,
                accounts=outcomes,
            ),
        )

    def pytest_terminal_summary(self, terminalreporter) -> None:
        accounts = self.results.accounts
        if not accounts:
            return
        terminalreporter.section("iamdrift")
        clean = 0
        for a in sorted(accounts.values(), key=lambda a: a.id):
            if a.status == "compliant":
                clean += 1
                continue
            counts = a.by_severity()
            detail = a.error or ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            terminalreporter.write_line(f"{a.id} ({a.name}): {a.status}: {detail}")
        terminalreporter.write_line(f"{clean} of {len(accounts)} account(s) compliant")
        for line in waiver_lines(len(self.results.waived()), self.results.waiver_report()):
            terminalreporter.write_line(line)


def _today() -> date:
    """The day waivers are judged on: today in UTC, or IAMDRIFT_TODAY (YYYY-MM-DD), which
    replays a run as of another day (and gives the tests a fixed clock)."""
    fixed = os.environ.get("IAMDRIFT_TODAY")
    if fixed:
        try:
            return date.fromisoformat(fixed)
        except ValueError:
            raise pytest.UsageError(f"IAMDRIFT_TODAY: expected YYYY-MM-DD, got {fixed!r}") from None
    return datetime.now(UTC).date()


def _is_check(item: pytest.Item) -> bool:
    return bool(set(getattr(item, "fixturenames", ())) & set(CHECKS))


def _target(item: pytest.Item) -> Target | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return next((p for p in params.values() if isinstance(p, Target)), None)
