"""`plan FILE...`: what a Terraform plan or CloudFormation change set would do to the
organization's baselines and access, before it is applied.

Exit 0 when the change keeps the organization matching its baselines, 1 when it would
drift or cannot be judged (an account unreadable, a value known only after apply), 2 for
bad input.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, date, datetime
from pathlib import Path

from iamdrift.audit.auditor import Auditor
from iamdrift.audit.predict import predict, stored_part
from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.changes.read import read_changes
from iamdrift.compare.waivers import apply_waivers
from iamdrift.report import history
from iamdrift.report.plan import PlanReport, PlanSummary, markdown
from iamdrift.report.results import AccountSummary


def parse_providers(values: list[str]) -> dict[str, str]:
    """`aws.prod=222222222222` -> {"aws.prod": "222222222222"}; ValueError otherwise."""
    out = {}
    for value in values:
        alias, _, account = value.partition("=")
        if not alias or not (account.isdigit() and len(account) == 12):
            raise ValueError(f"expected --provider ALIAS=ACCOUNT_ID, got {value!r}")
        out[alias] = account
    return out


def run_plan(
    files: list[str],
    baselines: str,
    report_dir: str,
    providers: dict[str, str],
    account: str | None,
    concurrency: int = 8,
) -> tuple[PlanReport, int, Baseline]:
    """Read the files, predict, judge. Raises PlanError (bad input) or BaselineError."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    changes, ignored = read_changes(files, providers, account)
    # Only the touched accounts' files are parsed whole; the others by their header.
    baseline = load_baselines(baselines, only=set(changes))
    run_dir = history.latest_complete(Path(report_dir))
    part, basis = stored_part(run_dir.parent if run_dir else None, baseline)
    auditor = Auditor(baseline, workers=concurrency)
    try:
        prediction = predict(baseline, changes, auditor, part)
    finally:
        auditor.close()
    failing, waived = apply_waivers(prediction.new, baseline.waivers, date.today())
    summaries = [
        AccountSummary(
            id=a,
            name=baseline.accounts[a].name if a in baseline.accounts else a,
            status="error"
            if a in prediction.errors
            else ("drift" if any(f.account == a for f in failing) else "compliant"),
            error=prediction.errors.get(a),
            findings=sum(f.account == a for f in failing),
        )
        for a in sorted({*prediction.after, *prediction.errors} & set(baseline.accounts))
    ]
    judged = prediction.access_after
    report = PlanReport(
        run_id=f"plan-{started.replace(':', '').replace('-', '')[:15]}Z",
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        accounts=summaries,
        findings=failing,
        waived=waived,
        risks=prediction.risks_added,
        access=judged.rows if judged else [],
        rules=judged.rules if judged else [],
        plan=PlanSummary(
            files=[str(f) for f in files],
            addresses={a: c.addresses for a, c in sorted(changes.items())},
            ignored=dict(sorted(ignored.items())),
            basis=f"{basis.run_id} ({basis.started})" if basis else None,
            existing=prediction.existing,
            resolved=prediction.resolved,
            access_gained=prediction.gained,
            access_lost=prediction.lost,
            inside_gained=prediction.gained_inside,
            inside_lost=prediction.lost_inside,
            errors=prediction.errors,
            accept=shlex.join(
                [
                    "iamdrift",
                    "plan",
                    *files,
                    *(f"--provider={a}={n}" for a, n in sorted(providers.items())),
                    *([f"--account={account}"] if account else []),
                    f"--baselines={baselines}",
                    "--accept",
                ]
            ),
        ),
    )
    code = 1 if failing or prediction.errors else 0
    return report, code, baseline


def write_plan(
    report: PlanReport,
    code: int,
    baseline: Baseline,
    markdown_path: str | None,
    json_path: str | None,
    sarif_path: str | None,
) -> None:
    """The outputs asked for, each from the plan's one report."""
    if markdown_path:
        write_atomic(Path(markdown_path), markdown(report, code))
    if json_path:
        report.write(json_path)
    if sarif_path:
        from iamdrift.report.sarif import sarif_log

        write_atomic(Path(sarif_path), json.dumps(sarif_log(report, baseline), indent=1) + "\n")
