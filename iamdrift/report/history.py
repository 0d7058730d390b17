"""Run history under the report directory: one folder per run, an index, a `latest` link.

    reports/
      20261129T020000Z/   report.html  findings.json  junit.xml  run.json  accounts.gz
      20261130T020000Z/   ...
      latest -> 20261130T020000Z
      index.html          every run with its status and counts, and a trend chart

A run is built in a hidden `.<id>.partial/` folder and renamed into place when
complete, so a folder named like a run is always a whole run.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.findings import SEVERITY_ORDER
from iamdrift.report.results import RunReport

RUN_META = "run.json"
FINDINGS = "findings.json"
ACCOUNTS = "accounts.gz"  # the run's part: each account's outcome and projection, the organization
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
PARTIAL_MAX_AGE = 24 * 3600


def new_run_id(report_dir: Path) -> str:
    """`20261129T020000Z`, with `-1`, `-2`... when a run already started that second."""
    base = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = base, 0
    while (report_dir / run_id).exists() or partial_dir(report_dir, run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def partial_dir(report_dir: Path, run_id: str) -> Path:
    return report_dir / f".{run_id}.partial"


@dataclass
class HistoryEntry:
    """One run as the history index shows it (also `run.json` in the run's folder)."""

    id: str
    status: str  # compliant | drift | error | failed
    exit_code: int | None
    started: str
    finished: str
    accounts: int = 0
    findings: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    new: int = 0
    resolved: int = 0
    errors: int = 0
    reason: str | None = None
    trigger: str | None = None  # "event": a run `watch` made, of the accounts a change touched

    @classmethod
    def of(cls, run_id: str, exit_code: int, report: RunReport) -> HistoryEntry:
        return cls(
            id=run_id,
            status=report.status,
            exit_code=exit_code,
            started=report.started,
            finished=report.finished,
            accounts=len(report.accounts),
            findings=len(report.findings),
            by_severity=report.by_severity(),
            new=report.history.new,
            resolved=report.history.resolved,
            errors=len(report.errors()),
            trigger=report.trigger,
        )


def runs(report_dir: Path) -> list[HistoryEntry]:
    """Every complete run (and every run recorded as failed), oldest first."""
    out = []
    for path in sorted(report_dir.glob("*")):
        meta = path / RUN_META
        if _RUN_ID.match(path.name) and meta.exists():
            try:
                out.append(HistoryEntry(**json.loads(meta.read_text())))
            except (ValueError, TypeError):
                continue  # a run.json from another version: not worth failing the index for
    return out


def latest_complete(report_dir: Path) -> Path | None:
    """The findings JSON of the last completed run (failed runs found nothing)."""
    for record in reversed(runs(report_dir)):
        path = report_dir / record.id / FINDINGS
        if record.status != "failed" and path.exists():
            return path
    return None


def run_report(report_dir: Path, run_id: str | None) -> RunReport:
    """Run `run_id`, or the latest completed one; ValueError saying why there is none."""
    path = report_dir / run_id / FINDINGS if run_id else latest_complete(report_dir)
    if path is None or not path.exists():
        which = f"no run {run_id} with findings" if run_id else "no completed run"
        raise ValueError(f"{report_dir}: {which}")
    try:
        return RunReport.read(path)
    except ValueError as exc:
        raise ValueError(f"{path}: not a findings JSON this version reads ({exc})") from None


def finish_run(report_dir: Path, run_id: str, record: HistoryEntry, keep: int) -> Path:
    """Put a complete run in place, point `latest` at it, rewrite the index, prune."""
    staging = partial_dir(report_dir, run_id)
    write_atomic(staging / RUN_META, json.dumps(asdict(record), indent=2) + "\n")
    final = report_dir / run_id
    os.rename(staging, final)
    update_latest(report_dir, run_id)
    settle(report_dir, keep)
    return final


def record_failed_run(
    report_dir: Path, run_id: str, reason: str, exit_code: int | None, started: str, keep: int
) -> None:
    """A run that crashed, hung or was stopped: it stays visible in the history."""
    staging = partial_dir(report_dir, run_id)
    if staging.exists():
        shutil.rmtree(staging)  # whatever the run left is not a report
    staging.mkdir(parents=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = HistoryEntry(
        id=run_id,
        status="failed",
        exit_code=exit_code,
        started=started,
        finished=now,
        reason=reason,
    )
    write_atomic(staging / RUN_META, json.dumps(asdict(record), indent=2) + "\n")
    os.rename(staging, report_dir / run_id)
    settle(report_dir, keep)


def update_latest(report_dir: Path, run_id: str) -> None:
    link = report_dir / "latest"
    tmp = report_dir / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


def settle(report_dir: Path, keep: int) -> None:
    """Rewrite the index for the newest `keep` runs, then drop the older ones.

    Each step leaves the history whole if the process dies right after it: the index
    stops naming a run before the run goes, and a run goes by one rename out of sight
    (to a hidden folder) before it is deleted.
    """
    doomed = runs(report_dir)[:-keep] if keep > 0 else []
    write_index(report_dir, skip={r.id for r in doomed})
    for record in doomed:
        hidden = report_dir / f".{record.id}.pruned"
        os.rename(report_dir / record.id, hidden)
        shutil.rmtree(hidden, ignore_errors=True)
    for stale in [*report_dir.glob(".*.partial"), *report_dir.glob(".*.pruned")]:
        if stale.suffix == ".pruned" or time.time() - stale.stat().st_mtime > PARTIAL_MAX_AGE:
            shutil.rmtree(stale, ignore_errors=True)


_STATUS_COLOUR = {
    "compliant": "#2e7d32",
    "drift": "#e65100",
    "error": "#b71c1c",
    "failed": "#6a1b9a",
}


def trend_svg(records: list[HistoryEntry], width: int = 720, height: int = 160) -> str:
    """Inline SVG: findings per run as bars, coloured by the run's status."""
    if not records:
        return ""
    top = max([r.findings for r in records] + [1])
    step = min(width / len(records), 40)
    bars = []
    for i, r in enumerate(records):
        h = (r.findings / top) * (height - 30) if r.findings else 2
        x, y = i * step + 2, height - 20 - h
        title = html.escape(
            f"{r.id}: {r.status}, {r.findings} finding(s), {r.new} new, {r.resolved} resolved"
        )
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 4, 1):.1f}" '
            f'height="{h:.1f}" fill="{_STATUS_COLOUR.get(r.status, "#555")}">'
            f"<title>{title}</title></rect>"
        )
    labels = (
        f'<text x="2" y="{height - 4}" font-size="11">{html.escape(records[0].id)}</text>'
        f'<text x="{width - 2}" y="{height - 4}" font-size="11" text-anchor="end">'
        f"{html.escape(records[-1].id)}</text>"
        f'<text x="2" y="12" font-size="11">max {top} finding(s)</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="findings per run">{"".join(bars)}{labels}</svg>'
    )


def write_index(report_dir: Path, skip: set[str] = frozenset()) -> None:
    records = [r for r in runs(report_dir) if r.id not in skip]
    rows = []
    for r in reversed(records):
        link = (
            f'<a href="{html.escape(r.id)}/report.html">{html.escape(r.id)}</a>'
            if r.status != "failed"
            else html.escape(r.id)
        )
        sev = " / ".join(str(r.by_severity.get(s, 0)) for s in SEVERITY_ORDER)
        cells = [
            link,
            f'<span style="color:{_STATUS_COLOUR.get(r.status, "#555")}">'
            f"{html.escape(r.status)}</span>",
            html.escape(str(r.exit_code)),
            str(r.accounts),
            str(r.findings),
            sev,
            str(r.new),
            str(r.resolved),
            str(r.errors),
            html.escape(r.reason or ""),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Run (UTC)",
            "Status",
            "Exit",
            "Accounts",
            "Findings",
            "critical / high / medium / low",
            "New",
            "Resolved",
            "Errors",
            "Reason",
        )
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>iamdrift runs</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}</style></head>
<body><h1>iamdrift runs</h1>
<p>{len(records)} run(s). <a href="latest/report.html">Latest report</a>.</p>
<h2>Findings per run</h2>{trend_svg(records)}
<h2>Runs</h2><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
    write_atomic(report_dir / "index.html", page)
