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
    risks = ""
    if data.get("risks"):
        risks = f"<h3>Risky access ({len(data['risks'])}, reported as warnings)</h3>" + _table(
            ["Severity", "Risk", "Message"],
            [[badge(f["severity"]), e(f["id"]), e(f["message"])] for f in data["risks"]],
        )
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("error", "drift", "compliant"))
    return (
        f'<div class="iamdrift">{STYLE}<h2>iamdrift summary</h2>'
        f"<p>Run {e(data['run_id'] or '')} started {e(data['started'])} (UTC) against "
        f"{len(accounts)} account(s): {counts}; {len(data['findings'])} finding(s).</p>"
        f"<p>{since}</p>"
        + _table(["Account", "Name", "Status", *SEVERITY_ORDER, "Error"], rows, "iamdrift-accounts")
        + resolved
        + risks
        + "</div>"
    )


_CELL = {
    "expected": ("#c8e6c9", "expected"),
    "unexpected": ("#ffcc80", "UNEXPECTED"),
    "missing": ("#ef9a9a", "MISSING"),
    "conditions missing": ("#ef9a9a", "CONDITIONS GONE"),
}


def _short_role(arn: str) -> str:
    return f"{arn.split(':')[4]}:{arn.rsplit('/', 1)[-1]}"


def access_matrix_html(rows: list[dict[str, Any]], risky_roles: set[str]) -> str:
    """Source principals against target roles; each cell expected, unexpected or missing,
    with its conditions and path on hover; roles with risk findings outlined in red."""
    principals = sorted({r["principal"] for r in rows})
    roles = sorted({r["role"] for r in rows})
    cells = {(r["principal"], r["role"]): r for r in rows}
    head = "".join(
        f'<th style="{"outline:2px solid #b71c1c" if role in risky_roles else ""}" '
        f'title="{e(role)}">{e(_short_role(role))}</th>'
        for role in roles
    )
    body = []
    for p in principals:
        tds = []
        for role in roles:
            r = cells.get((p, role))
            if r is None:
                tds.append("<td></td>")
                continue
            colour, text = _CELL.get(r["status"], ("#eee", r["status"]))
            tip = f"conditions: {r['conditions'] or 'none'}; path: {'; '.join(r['path'])}"
            cond = " (conditional)" if r["conditions"] else ""
            tds.append(f'<td style="background:{colour}" title="{e(tip)}">{e(text + cond)}</td>')
        body.append(f"<tr><th>{e(p)}</th>{''.join(tds)}</tr>")
    table = (
        f"<table><thead><tr><th>principal \\ role</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return (
        f'<div class="iamdrift">{STYLE}<h3>Cross-account access</h3>{table}'
        f"{access_svg(principals, roles, rows)}</div>"
    )


DASHED = ' stroke-dasharray="5,4"'


def access_svg(principals: list[str], roles: list[str], rows: list[dict[str, Any]]) -> str:
    """Principals on the left, roles on the right, a line for each edge."""
    gap, width = 22, 900
    height = gap * (max(len(principals), len(roles)) + 1)
    y_p = {p: gap * (i + 1) for i, p in enumerate(principals)}
    y_r = {r: gap * (i + 1) for i, r in enumerate(roles)}
    colour = {
        "expected": "#2e7d32",
        "unexpected": "#e65100",
        "missing": "#b71c1c",
        "conditions missing": "#b71c1c",
    }
    lines = [
        f'<line x1="330" y1="{y_p[r["principal"]] - 4}" x2="570" y2="{y_r[r["role"]] - 4}" '
        f'stroke="{colour.get(r["status"], "#555")}" stroke-width="2"'
        f"{DASHED if r['status'] == 'missing' else ''}>"
        f"<title>{e(r['principal'])} -&gt; {e(r['role'])}: {e(r['status'])}</title></line>"
        for r in rows
    ]
    texts = [
        f'<text x="325" y="{y}" text-anchor="end" font-size="12">{e(p)}</text>'
        for p, y in y_p.items()
    ]
    texts += [
        f'<text x="575" y="{y}" font-size="12">{e(_short_role(r))}</text>' for r, y in y_r.items()
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="who can assume which role">{"".join(lines + texts)}</svg>'
    )
