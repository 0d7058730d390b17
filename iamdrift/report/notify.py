"""Tell a webhook about a run with new drift or errors; never fail the run for it.

The JSON carries a plain `text` field, which Slack-compatible webhooks display.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from iamdrift.report.results import RunReport
from iamdrift.report.text import changed_by

log = logging.getLogger("iamdrift.notify")


def message(report: RunReport, run_dir: Path) -> dict[str, Any]:
    new = report.new_findings()
    errors = report.errors()
    kind = "event run" if report.trigger == "event" else "run"
    lines = [
        f"iamdrift {kind} {report.run_id}: {len(new)} new finding(s), "
        f"{report.history.resolved} resolved, "
        f"{len(errors)} unreadable account(s), {len(report.findings)} finding(s) in all."
    ]
    for f in new[:10]:
        lines.append(f"- [{f.severity}] {f.message}")
        lines += [f"  changed by {changed_by(x)}" for x in f.events[:3]]
    lines += [f"- error: {reason}" for reason in list(errors.values())[:10]]
    lines.append(f"Report: {run_dir / 'report.html'}")
    return {
        "text": "\n".join(lines),
        "run_id": report.run_id,
        "report": str(run_dir / "report.html"),
        "new": [
            f.model_dump(mode="json", include={"id", "severity", "change", "message", "events"})
            for f in new
        ],
        "errors": errors,
        "history": report.history.model_dump(),
    }


def notify(
    url: str,
    report: RunReport,
    run_dir: Path,
    attempts: int = 3,
    backoff: float = 1.0,
    timeout: float = 10.0,
) -> bool:
    """POST the message; retry a few times; log and return False when it cannot be sent."""
    body = json.dumps(message(report, run_dir)).encode()
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                log.info("notification sent to %s (HTTP %s)", url, resp.status)
                return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("notification attempt %d/%d to %s failed: %s", attempt, attempts, url, exc)
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))
    log.error("notification to %s not sent after %d attempts; the run is unaffected", url, attempts)
    return False
