"""What a run found, account by account: the findings JSON of the command-line contract."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iamdrift.findings import SEVERITY_ORDER
from iamdrift.history import compare
from iamdrift.yamlio import write_atomic


@dataclass
class AccountOutcome:
    id: str
    name: str
    error: str | None = None
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    risks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "drift" if self.findings else "compliant"


@dataclass
class RunResults:
    """Filled from test reports (also across xdist workers), written once at the end."""

    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    accounts: dict[str, AccountOutcome] = field(default_factory=dict)
    run_id: str | None = None
    previous: dict[str, Any] | None = None  # the last completed run's findings JSON
    access: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        account: str,
        name: str,
        findings: list[dict[str, Any]],
        error: str | None,
        risks: list[dict[str, Any]] = (),
        access: list[dict[str, Any]] = (),
    ) -> None:
        outcome = self.accounts.setdefault(account, AccountOutcome(account, name))
        outcome.name = outcome.name or name
        # A finding belongs to the account it names (the access check spans accounts).
        for kind, items in (("findings", findings), ("risks", risks)):
            for f in items:
                owner = self.accounts.setdefault(f["account"], AccountOutcome(f["account"], ""))
                getattr(owner, kind)[f["id"]] = f
        if error and not outcome.error:
            outcome.error = error
        if access:
            self.access = list(access)

    def findings(self, kind: str = "findings") -> list[dict[str, Any]]:
        every = [f for a in self.accounts.values() for f in getattr(a, kind).values()]
        return sorted(every, key=lambda f: (SEVERITY_ORDER[f["severity"]], f["id"]))

    def severity_counts(self, account: AccountOutcome) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for f in account.findings.values():
            counts[f["severity"]] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        """The findings JSON; with a previous run, findings are marked new or persisting."""
        data = {
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
                    "by_severity": self.severity_counts(a),
                }
                for a in sorted(self.accounts.values(), key=lambda a: a.id)
            ],
            "findings": self.findings(),
            "risks": self.findings("risks"),  # warnings: reported, not failing (see access.yaml)
            "access": self.access,
        }
        history = compare(self.previous, data)
        data["history"] = {
            "previous_run": (self.previous or {}).get("run_id"),
            **{k: history[k] for k in ("new", "persisting", "resolved")},
        }
        data["resolved"] = history["resolved_findings"]
        return data

    def write(self, path: str | Path) -> None:
        write_atomic(Path(path), json.dumps(self.as_json(), indent=2) + "\n")
