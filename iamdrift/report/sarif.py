"""Findings as SARIF 2.1.0 (what GitHub code scanning reads), each located at the line of the
baseline that declares what it is about (`compare.aspects.location`), one rule per aspect."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any

from iamdrift.baselines.baseline import FILES, Baseline
from iamdrift.baselines.yamlio import load_yaml_text
from iamdrift.compare.aspects import location, rule
from iamdrift.compare.findings import Finding
from iamdrift.report.results import RunReport

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def version() -> str:
    try:
        return _dist_version("iamdrift")
    except PackageNotFoundError:
        return "0"


class _Locator:
    """The file and line of the baseline that declares what a finding is about."""

    def __init__(self, baseline: Baseline):
        self.baseline = baseline
        self._lines: dict[Path, Any] = {}

    def _line(self, path: Path, keys: tuple[str, ...]) -> int:
        if path not in self._lines:
            try:
                self._lines[path] = load_yaml_text(path.read_text(encoding="utf-8"), str(path))[1]
            except Exception:  # a file gone or changed since the run: point at its top
                self._lines[path] = {}
        lines = self._lines[path]
        candidates = [keys[:n] for n in range(len(keys), 0, -1)] or [()]
        return next((lines[c] for c in candidates if c in lines), 1)

    def locate(self, f: Finding) -> tuple[Path, int]:
        root = self.baseline.directory
        file, keys = location(f.account, f.resource_type, f.resource, f.aspect)
        acct = self.baseline.accounts.get(f.account)
        if file == "account" and acct is None:
            file, keys = "organization", ()
        path = Path(acct.file) if file == "account" else root / FILES[file]  # type: ignore[union-attr]
        return path, self._line(path, keys)


def _rule(f: Finding) -> dict[str, Any]:
    rule_id, name, short = rule(f.resource_type, f.aspect)
    family = rule_id.rsplit("/", 1)[-1]
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {
            "text": f"Drift or risk in the {family} of an IAM {f.resource_type}, against its "
            "baseline."
        },
        "help": {"text": f.remediation},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "tags": ["security", "iam"],
            "security-severity": SECURITY_SEVERITY[f.severity],
        },
    }


def sarif_log(report: RunReport, baseline: Baseline) -> dict[str, Any]:
    """The run's findings as SARIF 2.1.0; waived ones as suppressed results."""
    locator = _Locator(baseline)
    rules: dict[str, dict[str, Any]] = {}
    results = []
    entries = [(f, False) for f in [*report.findings, *report.risks]]
    for f, waived in [*entries, *((f, True) for f in report.waived)]:
        rule_id = rule(f.resource_type, f.aspect)[0]
        if rule_id not in rules:
            rules[rule_id] = _rule(f)
        path, line = locator.locate(f)
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "level": LEVEL[f.severity],
            "message": {"text": f"{f.message} {f.remediation}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(path)},
                        "region": {"startLine": max(line, 1)},
                    }
                }
            ],
            "partialFingerprints": {"iamdriftFindingId/v1": f.id},
            "properties": {"findingId": f.id, "severity": f.severity},
        }
        if waived and f.waiver:
            w = f.waiver
            result["suppressions"] = [
                {
                    "kind": "external",
                    "justification": f"{w.reason} (owner {w.owner}, until {w.expires})",
                }
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "iamdrift",
                        "version": version(),
                        "rules": sorted(rules.values(), key=lambda r: r["id"]),
                    }
                },
                "results": results,
            }
        ],
    }


def _uri(path: Path) -> str:
    """Relative to where the command runs (a baselines repository's root), as code
    scanning resolves it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()
