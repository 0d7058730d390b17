"""HTML fragments for the pytest-html report. pytest-html inserts them raw, so every
value that came from AWS or a baseline goes through `e()` here.
"""

from __future__ import annotations

import html
from typing import Any

from iamdrift.findings import SEVERITY_ORDER
from iamdrift.render import unified

SEVERITY_COLOUR = {
    "critical": "#b71c1c",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#546e7a",
    "error": "#6a1b9a",
}
STATUS_COLOUR = {"compliant": "#2e7d32", "drift": "#e65100", "error": "#6a1b9a"}

STYLE = """<style>
.iamdrift table{border-collapse:collapse;margin:4px 0 12px}
.iamdrift th,.iamdrift td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
.iamdrift .badge{color:#fff;border-radius:3px;padding:0 5px;font-weight:bold}
.iamdrift pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;margin:2px 0}
.iamdrift .add{color:#1b5e20}.iamdrift .del{color:#b71c1c}
</style>"""


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(label: str, colour_map: dict[str, str] = SEVERITY_COLOUR) -> str:
    colour = colour_map.get(label, "#555")
    return f'<span class="badge" style="background:{colour}">{e(label)}</span>'


def _table(head: list[str], rows: list[list[str]], table_id: str = "") -> str:
    ident = f' id="{e(table_id)}"' if table_id else ""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{ident}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def diff_html(expected: Any, actual: Any) -> str:
    lines = []
    for line in unified(expected, actual).splitlines():
        cls = "add" if line.startswith("+") else ("del" if line.startswith("-") else "")
        lines.append(f'<span class="{cls}">{e(line)}</span>' if cls else e(line))
    return "<pre>" + "\n".join(lines) + "</pre>"


def findings_html(findings: list[dict[str, Any]], previous_ids: set[str] | None) -> str:
    """A failing check's findings: table, normalized expected-vs-actual diff, remediation."""
    rows, details = [], []
    for f in findings:
        since = "" if previous_ids is None else ("persisting" if f["id"] in previous_ids else "new")
        rows.append([badge(f["severity"]), e(since), e(f["id"]), e(f["change"]), e(f["message"])])
        details.append(
            f"<h4>{e(f['id'])}</h4>{diff_html(f['expected'], f['actual'])}"
            f"<p><b>Remediation:</b> {e(f['remediation'])}</p>"
        )
    table = _table(["Severity", "Since last run", "Finding", "Change", "Message"], rows)
    return f'<div class="iamdrift">{STYLE}{table}{"".join(details)}</div>'


def summary_html(data: dict[str, Any]) -> str:
    """The ten-second summary at the top: when, which accounts, statuses, what changed."""
    accounts = sorted(data["accounts"], key=lambda a: (a["status"] == "compliant", a["id"]))
    rows = [
        [
            e(a["id"]),
            e(a["name"]),
            badge(a["status"], STATUS_COLOUR),
            *(e(a["by_severity"][s]) for s in SEVERITY_ORDER),
            e(a["error"] or ""),
        ]
        for a in accounts
    ]
    statuses = [a["status"] for a in accounts]
    h = data["history"]
    since = (
        f"Since run {e(h['previous_run'])}: <b>{h['new']} new</b>, {h['resolved']} resolved, "
        f"{h['persisting']} persisting."
        if h["previous_run"]
        else "No previous run to compare with: every finding is new."
    )
    resolved = ""
    if data["resolved"]:
        resolved = "<h3>Resolved since the previous run</h3>" + _table(
            ["Severity", "Finding", "Message"],
            [[badge(f["severity"]), e(f["id"]), e(f["message"])] for f in data["resolved"]],
        )
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("error", "drift", "compliant"))
    return (
        f'<div class="iamdrift">{STYLE}<h2>iamdrift summary</h2>'
        f"<p>Run {e(data['run_id'] or '')} started {e(data['started'])} (UTC) against "
        f"{len(accounts)} account(s): {counts}; {len(data['findings'])} finding(s).</p>"
        f"<p>{since}</p>"
        + _table(["Account", "Name", "Status", *SEVERITY_ORDER, "Error"], rows, "iamdrift-accounts")
        + resolved
        + "</div>"
    )
