"""A finding: one difference between what is declared and what is live, with a stable id.

Every finding is made by `finding()`, which names the place it is about once:

>>> where = Place("222222222222", "role", "R", "Account 222222222222 (DEMO)")
>>> finding(where, "max_session_duration", "changed", "medium", "lasts longer",
...         expected=3600, actual=7200).id
'222222222222/role/R/max_session_duration'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, SerializerFunctionWrapHandler, computed_field, model_serializer

from iamdrift.changes.events import EventFact
from iamdrift.compare.aspects import KINDS, remediation

Change = Literal["missing", "unexpected", "changed"]
WaiverStatus = Literal["active", "expiring", "expired", "stale", "unjudged"]
Severity = Literal["critical", "high", "medium", "low"]
History = Literal["new", "persisting"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class WaiverNote(BaseModel):
    """A waiver as a finding carries it (in the findings JSON, the report, JUnit)."""

    finding: str
    reason: str
    owner: str
    expires: date
    ticket: str | None = None
    status: WaiverStatus

    @classmethod
    def of(cls, waiver: Any, status: WaiverStatus) -> WaiverNote:
        return cls(**waiver.model_dump(), status=status)

    def text(self) -> str:
        ticket = f", {self.ticket}" if self.ticket else ""
        when = "expired after" if self.status == "expired" else "until"
        return f"waived {when} {self.expires} by {self.owner}{ticket}: {self.reason}"


class Finding(BaseModel):
    """One difference; `id` is ACCOUNT/TYPE/NAME/ASPECT (see DESIGN.md)."""

    account: str
    resource_type: str
    resource: str
    aspect: str
    change: Change
    severity: Severity
    expected: Any = None
    actual: Any = None
    message: str
    # The live value as a baseline file writes it (not normalized): what `accept` writes.
    live: Any = None
    waiver: WaiverNote | None = None  # the waiver that names it (waived, or expired)
    # Against the previous run: set on a run's failing findings (and kept on the resolved
    # ones as that run had them); absent elsewhere.
    history: History | None = None
    # The CloudTrail events that touched its resource, on a run an event set off (watch):
    # who did it, which call, when, from where. Absent elsewhere.
    events: list[EventFact] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        return f"{self.account}/{self.resource_type}/{self.resource}/{self.aspect}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remediation(self) -> str:
        return remediation(
            self.account, self.resource_type, self.resource, self.aspect, self.change
        )

    @model_serializer(mode="wrap")
    def _json(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The id first, as people read it; `history` only where it was judged, `events`
        only where an event explains it."""
        data = handler(self)
        if data.get("history") is None:
            data.pop("history", None)
        if not data.get("events"):
            data.pop("events", None)
        return {"id": data.pop("id"), **data}

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Place:
    """What a finding is about: an account's entity (`role R`), and how messages name the
    context (`Account 222222222222 (DEMO)`, `Organization of 111111111111`)."""

    account: str
    kind: str
    name: str
    context: str


def finding(
    where: Place,
    aspect: str,
    change: Change,
    severity: Severity,
    what: str,
    expected: Any = None,
    actual: Any = None,
    live: Any = None,
) -> Finding:
    """The one way to make a finding; its message is `<context>: <kind> <name> <what>.`

    `expected` and `actual` are normalized, to compare; `live` is the live value as a
    baseline file writes it, which `accept` writes.
    """
    named = KINDS[where.kind].file != "access"  # edges and chains say what they are
    title = KINDS[where.kind].title or where.kind.replace("_", " ")
    subject = f"{title} {where.name}" if named else ""
    text = f"{subject} {what}".strip()
    return Finding(
        account=where.account,
        resource_type=where.kind,
        resource=where.name,
        aspect=aspect,
        change=change,
        severity=severity,
        expected=expected,
        actual=actual,
        message=f"{where.context}: {text}.",
        live=live,
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.id))
