"""Findings as OCSF Detection Findings (class 2004): what Prowler emits and AWS Security Lake
ingests, built and validated with py-ocsf-models. Imported only when `--ocsf` asks for it."""

from __future__ import annotations

from datetime import datetime
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

from iamdrift.compare.aspects import KINDS
from iamdrift.report.results import RunReport
from iamdrift.report.sarif import version

_SEVERITY = {"critical": 5, "high": 4, "medium": 3, "low": 2}


def ocsf_findings(report: RunReport) -> list[dict[str, Any]]:
    """Every finding of a run (failing, waived, resolved, risks) as an OCSF Detection Finding."""
    when = int(datetime.fromisoformat(report.finished).timestamp() * 1000)
    entries = [(f, f.history == "persisting", StatusID.New) for f in report.findings]
    entries = [(f, seen, StatusID.InProgress if seen else s) for f, seen, s in entries]
    entries += [(f, True, StatusID.Suppressed) for f in report.waived]
    entries += [(f, True, StatusID.New) for f in report.risks]
    entries += [(f, True, StatusID.Resolved) for f in report.resolved]
    product = Product(name="iamdrift", vendor_name="iamdrift", version=version())
    names = {a.id: a.name for a in report.accounts}
    out = []
    for f, seen, status in entries:
        kind = KINDS[f.resource_type]
        activity = (
            ActivityID.Close
            if status == StatusID.Resolved
            else (ActivityID.Update if seen else ActivityID.Create)
        )
        event = DetectionFinding(
            metadata=Metadata(product=product, event_code=f.aspect, version="1.1.0"),
            severity_id=_SEVERITY[f.severity],
            severity=f.severity.capitalize(),
            activity_id=activity,
            activity_name=activity.name,
            type_uid=DetectionFindingTypeID(200400 + activity.value),
            finding_info=FindingInformation(
                uid=f.id,
                title=f"{f.resource_type} {f.resource}: {f.aspect} {f.change}",
                desc=f.message,
                types=[f.change],
            ),
            status_id=status,
            status=status.name,
            time=when,
            message=f.message,
            cloud=Cloud(
                provider="AWS",
                account=Account(
                    uid=f.account, name=names.get(f.account, ""), type_id=TypeID.AWS_Account
                ),
                region="us-east-1",
            ),
            resources=[
                ResourceDetails(
                    uid=kind.arn(f.account, f.resource),
                    name=f.resource,
                    type=kind.cloudformation,
                    region="us-east-1",
                    cloud_partition="aws",
                    data={"expected": f.expected, "actual": f.actual},
                )
            ],
            remediation=Remediation(desc=f.remediation),
            unmapped={
                "iamdrift": {
                    "waiver": f.waiver.model_dump(mode="json") if f.waiver else None,
                    "history": f.history,
                }
            },
        )
        out.append(event.model_dump(mode="json", exclude_none=True))
    return out
