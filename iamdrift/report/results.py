"""What a run found: filled check by check (also from xdist workers), written once as the
findings JSON of the command-line contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from iamdrift.access.graph import AccessRow
from iamdrift.audit.outcome import AccountOutcome, Status, status_of
from iamdrift.baselines.models import Waiver
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.findings import SEVERITY_ORDER, Finding
from iamdrift.compare.waivers import waiver_for, waiver_status
from iamdrift.report.history import compare


class CheckRecord(BaseModel):
    """What one check (a test item) found; it travels from an xdist worker with its report.

    `outcome` rides on the first check of an account in a process: the account's status,
    counts and projection, which the organization-wide steps need.
    """

    account: str
    name: str
    check: str
    findings: list[Finding] = []
    risks: list[Finding] = []
    waived: list[Finding] = []  # findings an unexpired waiver names: reported, not failing
    error: str | None = None
    elsewhere: bool = False  # failed because of other accounts' errors, recorded on them
    access: list[AccessRow] | None = None
    outcome: AccountOutcome | None = None


@dataclass
class AccountReport:
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

    def by_severity(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in self.findings.values():
            counts[f.severity] += 1
        return counts


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.id))


@dataclass
class RunResults:
    """The run, account by account: filled from check records, read by the report and the
    command line."""

    run_id: str | None = None
    previous: dict[str, Any] | None = None  # the last completed run's findings JSON
    waivers: list[Waiver] = field(default_factory=list)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    complete: bool = True  # every account selected: a waiver naming nothing is stale
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    accounts: dict[str, AccountReport] = field(default_factory=dict)
    access: list[AccessRow] = field(default_factory=list)
    outcomes: dict[str, AccountOutcome] = field(default_factory=dict)  # as read, per account
    checks: dict[str, int] = field(default_factory=dict)  # tests passed / failed / error

    def count(self, outcome: str) -> None:
        self.checks[outcome] = self.checks.get(outcome, 0) + 1

    def account(self, account: str, name: str = "") -> AccountReport:
        report = self.accounts.setdefault(account, AccountReport(account, name))
        report.name = report.name or name
        return report

    def record(self, rec: CheckRecord) -> None:
        outcome = self.account(rec.account, rec.name)
        # A finding belongs to the account it names (the access check spans accounts).
        for f in rec.findings:
            self.account(f.account).findings[f.id] = f
        for f in rec.risks:
            self.account(f.account).risks[f.id] = f
        for f in rec.waived:
            self.account(f.account).waived[f.id] = f
        if rec.error and not outcome.error:
            outcome.error = rec.error
        if rec.access is not None:
            self.access = list(rec.access)
        if rec.outcome is not None:
            outcome.checked = dict(rec.outcome.checked)
            self.outcomes[rec.account] = rec.outcome

    def findings(self) -> list[Finding]:
        return _sorted([f for a in self.accounts.values() for f in a.findings.values()])

    def risks(self) -> list[Finding]:
        return _sorted([f for a in self.accounts.values() for f in a.risks.values()])

    def waived(self) -> list[Finding]:
        return _sorted([f for a in self.accounts.values() for f in a.waived.values()])

    def waiver_report(self) -> list[dict[str, Any]]:
        """Each waiver with what it named this run and its state: active, expiring (within
        two weeks), expired, stale (names nothing), or unjudged (not every account read)."""
        named = [f.id for a in self.accounts.values() for kind in (a.findings, a.risks, a.waived)
                 for f in kind.values()]  # fmt: skip
        whole = self.complete and all(a.status != "error" for a in self.accounts.values())
        out = []
        for w in self.waivers:
            ids = sorted(i for i in named if waiver_for(i, [w]) is w)
            status = waiver_status(w, self.today, bool(ids) if whole else (True if ids else None))
            out.append({**w.model_dump(mode="json"), "status": status, "findings": ids})
        return out

    @property
    def status(self) -> Status:
        """The run's status: its worst account's."""
        statuses = {a.status for a in self.accounts.values()}
        return "error" if "error" in statuses else ("drift" if "drift" in statuses else "compliant")

    def as_json(self) -> dict[str, Any]:
        """The findings JSON; with a previous run, findings are marked new or persisting."""
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "accounts": [
                {
                    "id": a.id,
                    "name": a.name,
                    "status": a.status,
                    "error": a.error,
                    "findings": len(a.findings),
                    "waived": len(a.waived),
                    "by_severity": a.by_severity(),
                    "checked": a.checked,
                }
                for a in sorted(self.accounts.values(), key=lambda a: a.id)
            ],
            "findings": [f.as_json() for f in self.findings()],
            "risks": [f.as_json() for f in self.risks()],  # warnings unless access.yaml says fail
            "waived": [f.as_json() for f in self.waived()],  # not failing, until they expire
            "waivers": self.waiver_report(),
            "access": [r.model_dump() for r in self.access],
            "checks": dict(self.checks),
        }
        history = compare(self.previous, data)
        data["history"] = {
            "previous_run": (self.previous or {}).get("run_id"),
            **{k: history[k] for k in ("new", "persisting", "resolved")},
        }
        data["resolved"] = history["resolved_findings"]
        return data

    def write(self, path: str | Path) -> dict[str, Any]:
        data = self.as_json()
        write_atomic(Path(path), json.dumps(data, indent=1) + "\n")
        return data
