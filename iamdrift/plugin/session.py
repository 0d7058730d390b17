"""One pytest session's state: the baselines, where outcomes come from (AWS or part files),
and the run being collected; plus the hooks of the session's life (collection, the start
of reading, the end: findings JSON, part file, terminal summary).

Judgement lives in the library (`audit.organization`, `compare`); this hands it what it
needs and keeps what it returns.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from iamdrift.audit.auditor import Auditor
from iamdrift.audit.carried import CarriedSource
from iamdrift.audit.identity_center import judge_identity_center
from iamdrift.audit.organization import (
    Judgement,
    judge_access,
    organization_findings,
)
from iamdrift.audit.outcome import (
    AccountOutcome,
    OrganizationRead,
    OutcomeSource,
    Part,
    PartsSource,
    parse_shard,
    read_part,
    select,
)
from iamdrift.aws import quota
from iamdrift.baselines.baseline import AccountBaseline, Baseline
from iamdrift.baselines.load import load_baselines
from iamdrift.changes.events import EventBatch
from iamdrift.compare.diff import Selection
from iamdrift.compare.events import explain
from iamdrift.compare.findings import Finding
from iamdrift.compare.waivers import apply_waivers
from iamdrift.errors import BaselineError
from iamdrift.plugin.targets import ACCOUNT_CHECKS, Target, account_groups, targets
from iamdrift.report.progress import Progress
from iamdrift.report.results import CheckResult, RunCollector, RunReport

RESULT = pytest.StashKey[CheckResult]()  # what the running test found
FRAGMENT = pytest.StashKey[str]()  # its report HTML beyond the findings (the access matrix)
SHARED_BASELINE = "iamdrift_baseline"
log = logging.getLogger("iamdrift")


def target_of(item: pytest.Item) -> Target | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return next((p for p in params.values() if isinstance(p, Target)), None)


@dataclass(eq=False)  # registered with pytest, which keeps plugins in sets
class Preloaded:
    """What the command line hands the plugin: the baselines it loaded and the reads it
    started (`pytest.main(..., plugins=[Preloaded(...)])`); the session is put back here."""

    baseline: Baseline | None = None
    source: OutcomeSource | None = None
    session: Session | None = None
    carried: Part | None = None  # an event run's latest part, read once by the command line


class Session:
    """Per-session state: baselines, the source of outcomes, and the run being collected.

    `baseline` and `source` may be handed in by the command line, which loaded the
    baselines and started reading before pytest began.
    """

    def __init__(
        self,
        config: pytest.Config,
        baseline: Baseline | None = None,
        source: OutcomeSource | None = None,
        carried: Part | None = None,
    ):
        self.config = config
        self._baseline = baseline
        self._source = source
        self._carried = carried
        self.is_worker = hasattr(config, "workerinput")
        if self.is_worker:  # each xdist worker keeps its share of AWS's request quotas
            quota.PROCESSES["count"] = int(config.workerinput.get("workercount", 1))
        self.collector = RunCollector(run_id=config.getoption("iamdrift_run_id"))
        self._report: RunReport | None = None
        previous = config.getoption("iamdrift_previous")
        if previous and Path(previous).exists():
            try:
                self.collector.previous = RunReport.read(previous)
            except ValueError as exc:
                log.warning("%s: not a findings JSON this version reads (%s)", previous, exc)
        # Ids of the previous run's findings, to mark each failing check's findings (None:
        # no previous run to compare with).
        self.previous_ids = (
            {f.id for f in self.collector.previous.findings} if self.collector.previous else None
        )
        self.batch: EventBatch | None = None
        events = config.getoption("iamdrift_events")
        if events:
            try:
                self.batch = EventBatch.read(Path(events))
            except ValueError as exc:
                raise pytest.UsageError(f"--iamdrift-events: {exc}") from None
            self.collector.events = self.batch.events
        patterns = tuple(config.getoption("entity") or ())
        self.selection = Selection(patterns) if patterns else None
        try:
            self.shard = parse_shard(config.getoption("shard"))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.terminal = None
        self._sent: set[str] = set()  # accounts whose outcome went out with a check result
        self._groups: dict[str, list[str]] | None = None
        self._carried_ids: list[str] | None = None
        self.collector.today = _today()
        self.tested_at: float | None = None  # when the tests ended (Outputs), for the log

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

    @property
    def source(self) -> OutcomeSource:
        """Where outcomes come from: part files (merge), or AWS through the auditor."""
        if self._source is None:
            files = self.config.getoption("iamdrift_parts")
            fresh = self.config.getoption("iamdrift_fresh")
            try:
                parts = [self._carried] if self._carried else [read_part(Path(p)) for p in files]
            except ValueError as exc:
                pytest.exit(str(exc), returncode=2)
            if parts and fresh is None:
                self._source = PartsSource(parts)
            else:
                auditor = Auditor(
                    self.baseline,
                    workers=self.config.getoption("iamdrift_concurrency"),
                    account_timeout=self.config.getoption("account_timeout"),
                    selection=self.selection,
                )
                ids = [a for a in (fresh or "").split(",") if a]
                org = self.batch is None or self.batch.organization  # touched by the events
                self._source = CarriedSource(auditor, parts[0], ids, org) if parts else auditor
        return self._source

    # --- what is checked -------------------------------------------------------------

    def selected(self) -> list[AccountBaseline]:
        raw = self.config.getoption("accounts")
        ids = [a.strip() for a in raw.split(",") if a.strip()] if raw else None
        try:
            return select(self.baseline, ids, self.shard)
        except BaselineError as exc:
            pytest.exit(str(exc), returncode=2)

    def whole_organization(self) -> bool:
        """Organization and access checks need every account and no entity filter."""
        return (
            not self.config.getoption("accounts") and self.shard is None and self.selection is None
        )

    def carried(self) -> list[str]:
        """The accounts an event run carries from the latest run: judged from their stored
        outcomes at the end, without tests of their own (their tests ran when they were
        read; a thousand carried accounts' tests would be most of an event run's time)."""
        if self._carried_ids is None:
            source = self.source if self.config.getoption("iamdrift_fresh") is not None else None
            self._carried_ids = (
                [a.id for a in self.selected() if not source.reads(a)]
                if isinstance(source, CarriedSource)
                else []
            )
        return self._carried_ids

    def tested(self) -> list[str]:
        """The selected accounts that have tests: all but the carried ones."""
        carried = set(self.carried())
        return [a.id for a in self.selected() if a.id not in carried]

    def groups(self) -> dict[str, list[str]]:
        if self._groups is None:
            size = self.config.getoption("iamdrift_concurrency")
            self._groups = account_groups(self.tested(), size)
        return self._groups

    def targets(self, check: str) -> list[Target]:
        size = self.config.getoption("iamdrift_concurrency")
        return targets(self.baseline, check, self.tested(), size, self.whole_organization())

    def judge(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(failing, waived) under waivers.yaml, as of today; on an event run, each with the
        events that explain it."""
        findings = explain(findings, self.collector.events)
        return apply_waivers(findings, self.baseline.waivers, self.collector.today)

    def account_check(self, check: str, outcome: AccountOutcome) -> CheckResult:
        """What one account's check finds (a kind of entity, or its risks), judged: risks
        are warnings unless access.yaml says they fail."""
        result = CheckResult(account=outcome.id, name=outcome.name, check=check)
        if check != "risks":
            result.findings, result.waived = self.judge(outcome.of_kind(check))
        elif self.risks_fail:
            result.findings, result.waived = self.judge(outcome.risks)
        else:
            result.risks, result.waived = self.judge(outcome.risks)
        return result

    def _record_carried(self) -> None:
        """The carried accounts' checks, into the run as their tests would have put them."""
        if not self.carried():
            return
        assert isinstance(self.source, CarriedSource)
        for account in self.carried():
            outcome = self.source.held(account)
            for n, check in enumerate(ACCOUNT_CHECKS):
                result = self.account_check(check, outcome)
                result.outcome = None if n else outcome
                self.collector.record(result)
                self.collector.count("carried")

    @property
    def risks_fail(self) -> bool:
        return self.baseline.access is not None and self.baseline.access.risks == "fail"

    # --- what a test finds ------------------------------------------------------------

    def begin(self, request: pytest.FixtureRequest) -> AccountBaseline:
        """The account a test is about; what the test finds is recorded on it from here on."""
        target: Target = request.param
        acct = self.baseline.accounts[target.account]
        request.node.stash[RESULT] = CheckResult(
            account=acct.id, name=acct.name, check=target.check
        )
        return acct

    def account_outcome(
        self, request: pytest.FixtureRequest
    ) -> tuple[AccountBaseline, AccountOutcome]:
        acct = self.begin(request)
        if self.is_worker:  # read the rest of this worker's group while waiting for this one
            group = self.groups().get(request.param.group, [])
            self.source.start(self.baseline.accounts[a] for a in group)
        outcome = self.source.outcome(acct, on_wait=self.show_progress)
        self.show_progress(waiting=False)
        result = request.node.stash[RESULT]
        if acct.id not in self._sent:  # the first check of an account carries its outcome
            self._sent.add(acct.id)
            result.outcome = outcome
        if outcome.error:
            result.error = outcome.error
            pytest.fail(outcome.error, pytrace=False)
        return acct, outcome

    def organization(self) -> OrganizationRead:
        return self.source.organization()

    def organization_findings(self) -> tuple[list[Finding], str | None]:
        return organization_findings(self.baseline, self.organization())

    def judgement(self, check: str, outcomes: Mapping[str, AccountOutcome]) -> Judgement:
        """A check over every account (`access`, `identity_center`), from their outcomes."""
        judge = judge_access if check == "access" else judge_identity_center
        return judge(self.baseline, self.organization(), self.selected(), outcomes)

    def wait_for_all(self) -> dict[str, AccountOutcome]:
        """Every selected account's outcome, waited for (the graph needs them all)."""
        outcomes = {
            a.id: self.source.outcome(a, on_wait=self.show_progress) for a in self.selected()
        }
        self.show_progress(waiting=False)
        return outcomes

    def report(self) -> RunReport:
        """The run, built once (the HTML summary and the findings JSON read the same one)."""
        if self._report is None:
            self._record_carried()
            self.collector.waivers = self.baseline.waivers if self._source is not None else []
            self.collector.complete = self.whole_organization()
            org = self._source.organization_read() if self._source is not None else None
            if org is not None and org.structure is not None:
                self.collector.ous = {a: m.ou for a, m in org.structure.accounts.items()}
            self.collector.organization_read_at = org.read_at if org is not None else None
            self._report = self.collector.report()
        return self._report

    @property
    def read_span(self) -> tuple[float, float] | None:
        """When the reads began and ended (None when nothing was read: a merge)."""
        return getattr(self._source, "read_span", None)

    def close(self) -> None:
        """The end of reading: the last progress shown, the readers stopped."""
        if self._source is not None:
            self.show_progress(waiting=False)
            self._source.close()

    # --- progress ---------------------------------------------------------------------

    def show_progress(self, waiting: bool = True) -> None:
        # Tests run with output captured; progress is for the person watching, so past it.
        progress = getattr(self._source, "listener", None)
        if not isinstance(progress, Progress) or self.terminal is None:
            return
        if not progress.has_output(waiting):
            return
        capman = self.config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            progress.render(self.terminal, waiting)


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
