"""A finding: one difference between a baseline and live IAM, with a stable id."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, computed_field

from iamdrift.remediation import remediation

Change = Literal["missing", "unexpected", "changed"]
Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_ORDER: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}


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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        return f"{self.account}/{self.resource_type}/{self.resource}/{self.aspect}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remediation(self) -> str:
        return remediation(
            self.resource_type, self.resource, self.aspect, self.change, self.account
        )

    def as_json(self) -> dict[str, Any]:
        data = self.model_dump()
        return {"id": data.pop("id"), **data}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.id))
