"""What a run found, typed from the first check to every output.

`CheckResult` is what one check (a test item) found; it travels from an xdist worker
with its report. `RunCollector` gathers them while the session runs. `RunReport` is the
run, built once at the end: the findings JSON is its serialization, and the HTML
report, JUnit extras, SARIF, OCSF, the history index, the notification, the terminal
summary and `accept` all read it. A previous run's findings JSON comes back in as a
`RunReport` (`RunReport.read`), the one place its JSON is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from iamdrift.access.edge import AccessRow, Edge
from iamdrift.access.rules import RuleResult
from iamdrift.audit.outcome import AccountOutcome, Status, status_of
from iamdrift.baselines.waivers import Waiver
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.changes.events import EventFact
from iamdrift.compare.findings import SEVERITY_ORDER, Finding, WaiverStatus, sort_findings
from iamdrift.compare.waivers import waiver_for, waiver_status
from iamdrift.errors import problem_text


class CheckResult(BaseModel):
    """What one check found. `outcome` rides on the first check of an account in a
    process: the account's counts and projection, which the organization-wide steps need."""

    account: str
    name: str
    check: str
    findings: list[Finding] = []
    risks: list[Finding] = []
    waived: list[Finding] = []  # findings an unexpired waiver names: reported, not failing
    error: str | None = None
    elsewhere: bool = False  # failed because of other accounts' errors, recorded on them
    access: list[AccessRow] | None = None
    rules: list[RuleResult] | None = None
    local: list[Edge] | None = None  # Identity Center's memberships (the access check)
    outcome: AccountOutcome | None = None


class AccountSummary(BaseModel):
    """One account's line in the run: `accounts[]` of the findings JSON."""

    id: str
    name: str
    status: Status
    error: str | None = None
    findings: int = 0
    waived: int = 0
    by_severity: dict[str, int] = {}
    checked: dict[str, int] = {}
    ou: str | None = None  # its OU path (`Root/Prod`), where the organization was read
    # On an event run, an account it did not read: when the reading it carries was made.
    read_at: str | None = None

    @model_serializer(mode="wrap")
    def _json(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("read_at") is None:
            data.pop("read_at", None)
        return data


class WaiverState(Waiver):
    """A waiver with what it named this run: active, expiring (within two weeks), expired,
    stale (names nothing), or unjudged (not every account read)."""

    model_config = ConfigDict(extra="ignore")
    status: WaiverStatus
    findings: list[str] = []


class HistorySummary(BaseModel):
    previous_run: str | None = None
    new: int = 0
    persisting: int = 0
    resolved: int = 0


class RunReport(BaseModel):
    """One run, typed; `as_json()` is the findings JSON of the command-line contract."""

    run_id: str | None = None
    started: str = ""
    finished: str = ""
    accounts: list[AccountSummary] = []
    findings: list[Finding] = []
    risks: list[Finding] = []  # warnings unless access.yaml says fail
    waived: list[Finding] = []  # not failing, until their waiver expires
    waivers: list[WaiverState] = []
    access: list[AccessRow] = []
    checks: dict[str, int] = {}
    history: HistorySummary = HistorySummary()
    resolved: list[Finding] = []
    # Principals that can do anything in their account (see access/admin.py): with
    # access[], what `iamdrift access` answers reviewers' questions from.
    administrators: list[str] = []
    # The ways in inside each account (role chaining, IAM take-over, administrators' reach;
    # see access/local.py): with access[], the graph reachability walks.
    local_access: list[Edge] = []
    rules: list[RuleResult] = []  # each reachability rule of access.yaml, with its violations
    # A run an event set off (`watch`): "event", and the CloudTrail events it judged.
    trigger: str | None = None
    events: list[EventFact] = []
    # An event run that heard no change of the organization judges by the latest run's read
    # of it: when that read was made.
    organization_read_at: str | None = None

    @model_serializer(mode="wrap")
    def _json(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for key in ("trigger", "events", "organization_read_at"):
            if not data.get(key):
                data.pop(key, None)
        return data

    @property
    def status(self) -> Status:
        """The run's status: its worst account's."""
        statuses = {a.status for a in self.accounts}
        return "error" if "error" in statuses else ("drift" if "drift" in statuses else "compliant")

    def errors(self) -> dict[str, str]:
        return {a.id: a.error or "" for a in self.accounts if a.status == "error"}

    def new_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.history == "new"]

    def by_severity(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def write(self, path: str | Path) -> None:
        # pydantic's serializer: a thousand accounts' JSON in a tenth of json.dumps' time.
        write_atomic(Path(path), self.model_dump_json(indent=1) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> RunReport:
        """A findings JSON written by a run (raises ValueError, one line, for anything else)."""
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except ValidationError as exc:
            raise ValueError(problem_text(exc)) from None


def judge_history(
    previous: RunReport | None, findings: list[Finding], now: set[str], read: set[str]
) -> tuple[list[Finding], HistorySummary, list[Finding]]:
    """Mark findings new or persisting against the previous run; list its resolved ones.

    A finding only counts as resolved when its account was read this run: an account
    that errored, or was not selected, has unknown findings, not resolved ones.
    `now` is every id this run found (waived ones included).
    """
    before = {f.id: f for f in previous.findings} if previous else {}
    marked = [
        f.model_copy(update={"history": "persisting" if f.id in before else "new"})
        for f in findings
    ]
    resolved = [f for fid, f in sorted(before.items()) if fid not in now and f.account in read]
    new = sum(f.history == "new" for f in marked)
    summary = HistorySummary(
        previous_run=previous.run_id if previous else None,
        new=new,
        persisting=len(marked) - new,
        resolved=len(resolved),
    )
    return marked, summary, resolved


@dataclass
class _Account:
    id: str
    name: str
    error: str | None = None
    findings: dict[str, Finding] = field(default_factory=dict)
    risks: dict[str, Finding] = field(default_factory=dict)
    waived: dict[str, Finding] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return status_of(self.error, bool(self.findings))

    def summary(self, ou: str | None, read_at: str | None = None) -> AccountSummary:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in self.findings.values():
            counts[f.severity] += 1
        return AccountSummary(
            id=self.id,
            name=self.name,
            status=self.status,
            error=self.error,
            findings=len(self.findings),
            waived=len(self.waived),
            by_severity=counts,
            checked=self.checked,
            ou=ou,
            read_at=read_at,
        )


@dataclass
class RunCollector:
    """Gathers check results (also from xdist workers) while the session runs."""

    run_id: str | None = None
    previous: RunReport | None = None
    waivers: list[Waiver] = field(default_factory=list)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    complete: bool = True  # every account selected: a waiver naming nothing is stale
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    accounts: dict[str, _Account] = field(default_factory=dict)
    access: list[AccessRow] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    local: list[Edge] = field(default_factory=list)
    outcomes: dict[str, AccountOutcome] = field(default_factory=dict)  # as read, per account
    checks: dict[str, int] = field(default_factory=dict)  # tests passed / failed / error
    ous: dict[str, str] = field(default_factory=dict)  # account -> OU path, when known
    events: list[EventFact] = field(default_factory=list)  # what set off an event run
    organization_read_at: str | None = None  # the organization's read, carried by an event run

    def count(self, outcome: str) -> None:
        self.checks[outcome] = self.checks.get(outcome, 0) + 1

    def account(self, account: str, name: str = "") -> _Account:
        tally = self.accounts.setdefault(account, _Account(account, name))
        tally.name = tally.name or name
        return tally

    def error(self, account: str, name: str, reason: str) -> None:
        tally = self.account(account, name)
        tally.error = tally.error or reason

    def record(self, result: CheckResult) -> None:
        # A finding belongs to the account it names (the access check spans accounts).
        for f in result.findings:
            self.account(f.account).findings[f.id] = f
        for f in result.risks:
            self.account(f.account).risks[f.id] = f
        for f in result.waived:
            self.account(f.account).waived[f.id] = f
        if result.error:
            self.error(result.account, result.name, result.error)
        else:
            self.account(result.account, result.name)
        if result.access is not None:
            self.access = list(result.access)
        if result.rules is not None:
            self.rules = list(result.rules)
        if result.local is not None:
            self.local = list(result.local)
        if result.outcome is not None:
            self.account(result.account).checked = dict(result.outcome.checked)
            self.outcomes[result.account] = result.outcome

    def _all(self, kind: str) -> list[Finding]:
        return sort_findings([f for a in self.accounts.values() for f in getattr(a, kind).values()])

    def _waiver_states(self) -> list[WaiverState]:
        named = [
            f.id
            for a in self.accounts.values()
            for kind in (a.findings, a.risks, a.waived)
            for f in kind.values()
        ]
        whole = self.complete and all(a.status != "error" for a in self.accounts.values())
        out = []
        for w in self.waivers:
            ids = sorted(i for i in named if waiver_for(i, [w]) is w)
            status = waiver_status(w, self.today, bool(ids) if whole else (True if ids else None))
            out.append(WaiverState(**w.model_dump(), status=status, findings=ids))
        return out

    def report(self) -> RunReport:
        """The run, built once everything is in."""
        waived = self._all("waived")
        now = {f.id for f in [*self._all("findings"), *waived]}
        read = {a.id for a in self.accounts.values() if a.status != "error"}
        findings, history, resolved = judge_history(self.previous, self._all("findings"), now, read)
        return RunReport(
            run_id=self.run_id,
            started=self.started,
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            accounts=[
                a.summary(self.ous.get(a.id), getattr(self.outcomes.get(a.id), "read_at", None))
                for a in sorted(self.accounts.values(), key=lambda a: a.id)
            ],
            findings=findings,
            risks=self._all("risks"),
            waived=waived,
            waivers=self._waiver_states(),
            access=list(self.access),
            rules=list(self.rules),
            checks=dict(self.checks),
            history=history,
            resolved=resolved,
            administrators=sorted(
                arn
                for o in self.outcomes.values()
                if o.projection is not None
                for arn in o.projection.administrators
            ),
            local_access=[
                *self.local,
                *(
                    edge
                    for _, o in sorted(self.outcomes.items())
                    if o.projection is not None
                    for edge in o.projection.local
                ),
            ],
            trigger="event" if self.events else None,
            events=list(self.events),
            organization_read_at=self.organization_read_at,
        )
