"""Findings where security pipelines read them: OCSF Detection Findings (what Prowler emits
and AWS Security Lake ingests, built with py-ocsf-models) and SARIF 2.1.0 (what GitHub
code scanning reads), located at the baseline line that should change."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.detection_finding import (
    DetectionFinding,
    DetectionFindingTypeID,
    Remediation,
    ResourceDetails,
    StatusID,
)
from py_ocsf_models.events.findings.finding import FindingInformation
from py_ocsf_models.objects.account import TypeID
from py_ocsf_models.objects.cloud import Account, Cloud
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product

from iamdrift.baselines.load import ACCESS_FILE, ORGANIZATION_FILE, STRUCTURE_FILE, Baseline
from iamdrift.baselines.yamlio import load_yaml_text

_SEVERITY = {"critical": 5, "high": 4, "medium": 3, "low": 2}
_RESOURCE_TYPES = {
    "user": "AWS::IAM::User",
    "group": "AWS::IAM::Group",
    "role": "AWS::IAM::Role",
    "policy": "AWS::IAM::ManagedPolicy",
    "account": "AWS::Organizations::Account",
    "scp": "AWS::Organizations::Policy",
    "access": "AWS::IAM::Role",
}


def _version() -> str:
    try:
        return version("iamdrift")
    except PackageNotFoundError:
        return "0"


def _arn(f: dict[str, Any]) -> str:
    kind, account, name = f["resource_type"], f["account"], f["resource"]
    if kind in ("user", "group", "role", "policy"):
        return f"arn:aws:iam::{account}:{kind}/{name}"
    if kind == "access":
        return f"arn:aws:iam::{account}:role/{name.rsplit(':', 1)[-1]}"
    return f"{kind}/{name}"


def ocsf_findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of a run (failing, waived, resolved, risks) as an OCSF Detection Finding."""
    when = int(datetime.fromisoformat(data["finished"]).timestamp() * 1000)
    entries = [(f, f.get("history") == "persisting", StatusID.New) for f in data["findings"]]
    entries = [(f, seen, StatusID.InProgress if seen else s) for f, seen, s in entries]
    entries += [(f, True, StatusID.Suppressed) for f in data.get("waived", [])]
    entries += [(f, True, StatusID.New) for f in data.get("risks", [])]
    entries += [(f, True, StatusID.Resolved) for f in data.get("resolved", [])]
    product = Product(name="iamdrift", vendor_name="iamdrift", version=_version())
    names = {a["id"]: a["name"] for a in data["accounts"]}
    out = []
    for f, seen, status in entries:
        activity = (
            ActivityID.Close
            if status == StatusID.Resolved
            else (ActivityID.Update if seen else ActivityID.Create)
        )
        event = DetectionFinding(
            metadata=Metadata(product=product, event_code=f["aspect"], version="1.1.0"),
            severity_id=_SEVERITY[f["severity"]],
            severity=f["severity"].capitalize(),
            activity_id=activity,
            activity_name=activity.name,
            type_uid=DetectionFindingTypeID(200400 + activity.value),
            finding_info=FindingInformation(
                uid=f["id"],
                title=f"{f['resource_type']} {f['resource']}: {f['aspect']} {f['change']}",
                desc=f["message"],
                types=[f["change"]],
            ),
            status_id=status,
            status=status.name,
            time=when,
            message=f["message"],
            cloud=Cloud(
                provider="AWS",
                account=Account(
                    uid=f["account"], name=names.get(f["account"], ""), type_id=TypeID.AWS_Account
                ),
                region="us-east-1",
            ),
            resources=[
                ResourceDetails(
                    uid=_arn(f),
                    name=f["resource"],
                    type=_RESOURCE_TYPES.get(f["resource_type"], f["resource_type"]),
                    region="us-east-1",
                    cloud_partition="aws",
                    data={"expected": f.get("expected"), "actual": f.get("actual")},
                )
            ],
            remediation=Remediation(desc=f["remediation"]),
            unmapped={"iamdrift": {"waiver": f.get("waiver"), "history": f.get("history")}},
        )
        out.append(event.model_dump(mode="json", exclude_none=True))
    return out


class _Locator:
    """The file and line of the baseline that declares what a finding is about."""

    def __init__(self, baseline: Baseline):
        self.baseline = baseline
        self._lines: dict[Path, Any] = {}

    def _line(self, path: Path, *candidates: tuple) -> int:
        if path not in self._lines:
            try:
                self._lines[path] = load_yaml_text(path.read_text(encoding="utf-8"), str(path))[1]
            except Exception:  # a file gone or changed since the run: point at its top
                self._lines[path] = {}
        lines = self._lines[path]
        return next((lines[c] for c in candidates if c in lines), 1)

    def locate(self, f: dict[str, Any]) -> tuple[Path, int]:
        root = self.baseline.directory
        kind, name, aspect = f["resource_type"], f["resource"], f["aspect"]
        if kind == "access":
            return root / ACCESS_FILE, self._line(root / ACCESS_FILE, ("edges",))
        if kind == "scp" or aspect in ("membership", "ou", "name"):
            section = "service_control_policies" if kind == "scp" else "accounts"
            path = root / STRUCTURE_FILE
            return path, self._line(path, (section, name, aspect), (section, name), (section,))
        acct = self.baseline.accounts.get(f["account"] if kind != "account" else name)
        if kind == "account" or acct is None:
            return root / ORGANIZATION_FILE, self._line(root / ORGANIZATION_FILE, ())
        plural = {"user": "users", "group": "groups", "role": "roles", "policy": "policies"}[kind]
        field = aspect.split(":", 1)
        keys = {"inline_policy": "inline_policies", "dormant_version": "dormant_versions"}
        if aspect.startswith("risk:"):
            at: tuple = ("trust_policy",) if kind == "role" else ("inline_policies",)
        else:
            at = (keys[field[0]], field[1]) if len(field) == 2 else (aspect,)
        path = Path(acct.file)
        return path, self._line(path, (plural, name, *at), (plural, name), (plural,))


def sarif_log(data: dict[str, Any], baseline: Baseline) -> dict[str, Any]:
    """The run's findings as SARIF 2.1.0; waived ones as suppressed results."""
    locator = _Locator(baseline)
    rules: dict[str, dict[str, Any]] = {}
    results = []
    entries = [(f, None) for f in [*data["findings"], *data.get("risks", [])]]
    entries += [(f, f["waiver"]) for f in data.get("waived", [])]
    for f, waiver in entries:
        family = f["aspect"].split(":")[0] if not f["aspect"].startswith("risk:") else f["aspect"]
        rule_id = f"iamdrift/{f['resource_type']}/{family}"
        level = (
            "error"
            if f["severity"] in ("critical", "high")
            else ("warning" if f["severity"] == "medium" else "note")
        )
        rules.setdefault(
            rule_id,
            {
                "id": rule_id,
                "name": f"{f['resource_type']}-{family}".replace(":", "-").replace("_", "-"),
                "shortDescription": {"text": f"{f['resource_type']} {family.replace('_', ' ')}"},
                "fullDescription": {"text": f"Drift or risk in the {family} of an IAM "
                                            f"{f['resource_type']}, against its baseline."},
                "help": {"text": f["remediation"]},
                "defaultConfiguration": {"level": level},
                "properties": {
                    "tags": ["security", "iam"],
                    "security-severity": {"critical": "9.5", "high": "8.0", "medium": "5.5",
                                          "low": "2.0"}[f["severity"]],
                },
            },
        )  # fmt: skip
        path, line = locator.locate(f)
        result = {
            "ruleId": rule_id,
            "level": level,
            "message": {"text": f"{f['message']} {f['remediation']}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(path)},
                        "region": {"startLine": max(line, 1)},
                    }
                }
            ],
            "partialFingerprints": {"iamdriftFindingId/v1": f["id"]},
            "properties": {"findingId": f["id"], "severity": f["severity"]},
        }
        if waiver:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "justification": f"{waiver['reason']} (owner {waiver['owner']}, "
                    f"until {waiver['expires']})",
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
                        "version": _version(),
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
