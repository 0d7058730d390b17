"""HTML fragments for the pytest-html report. pytest-html inserts them raw, so every
value that came from AWS or a baseline goes through `e()` here.
"""

from __future__ import annotations

from typing import Any

from iamdrift.access.risks import RISK_KINDS
from iamdrift.compare.aspects import aspect_of, split
from iamdrift.compare.findings import SEVERITY_ORDER, Finding
from iamdrift.report.paths import paths_html, rules_html
from iamdrift.report.results import RunReport
from iamdrift.report.table import e
from iamdrift.report.table import table as _table
from iamdrift.report.text import unified

SEVERITY_COLOUR = {
    "critical": "#b71c1c",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#546e7a",
    "error": "#6a1b9a",
}
STATUS_COLOUR = {"compliant": "#2e7d32", "drift": "#e65100", "error": "#6a1b9a"}
WAIVER_COLOUR = {
    "active": "#2e7d32",
    "expiring": "#f9a825",
    "expired": "#b71c1c",
    "stale": "#546e7a",
    "unjudged": "#546e7a",
}

STYLE = """<style>
.iamdrift table{border-collapse:collapse;margin:4px 0 12px}
.iamdrift th,.iamdrift td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
.iamdrift .badge{color:#fff;border-radius:3px;padding:0 5px;font-weight:bold}
.iamdrift pre{background:#f6f6f6;padding:6px;white-space:pre-wrap;margin:2px 0}
.iamdrift .add{color:#1b5e20}.iamdrift .del{color:#b71c1c}
</style>"""


def badge(label: str, colour_map: dict[str, str] = SEVERITY_COLOUR) -> str:
    colour = colour_map.get(label, "#555")
    return f'<span class="badge" style="background:{colour}">{e(label)}</span>'


def diff_html(expected: Any, actual: Any) -> str:
    lines = []
    for line in unified(expected, actual).splitlines():
        cls = "add" if line.startswith("+") else ("del" if line.startswith("-") else "")
        lines.append(f'<span class="{cls}">{e(line)}</span>' if cls else e(line))
    return "<pre>" + "\n".join(lines) + "</pre>"


LISTED = 100  # findings a failing check shows in the report


def findings_html(findings: list[Finding], previous_ids: set[str] | None) -> str:
    """A failing check's findings: table, normalized expected-vs-actual diff, remediation;
    the first LISTED of them (an access check over a thousand accounts can have thousands,
    and the report must open: the summary groups them, the findings JSON holds them all)."""
    rows, details = [], []
    for f in findings[:LISTED]:
        since = "" if previous_ids is None else ("persisting" if f.id in previous_ids else "new")
        waiver = f"{badge(f.waiver.status, WAIVER_COLOUR)} {e(f.waiver.text())}" if f.waiver else ""
        rows.append([badge(f.severity), e(since), e(f.id), e(f.change), e(f.message), waiver])
        details.append(
            f"<h4>{e(f.id)}</h4>{events_html(f)}{diff_html(f.expected, f.actual)}"
            f"<p><b>Remediation:</b> {e(f.remediation)}</p>"
        )
    table = _table(["Severity", "Since last run", "Finding", "Change", "Message", "Waiver"], rows)
    more = len(findings) - LISTED
    note = f"<p>... and {more} more finding(s), in the findings JSON.</p>" if more > 0 else ""
    return f'<div class="iamdrift">{STYLE}{table}{note}{"".join(details)}</div>'


def events_html(f: Finding) -> str:
    """Who made the change a finding is about, from its CloudTrail events (event runs)."""
    items = [
        f"<li>{e(x.actor)}{f' (session of {e(x.issuer)})' if x.issuer else ''}: "
        f"{e(x.event)} at {e(x.time)}{f' from {e(x.source_ip)}' if x.source_ip else ''}"
        f"{f', request {e(x.request_id)}' if x.request_id else ''}</li>"
        for x in f.events
    ]
    return f"<p><b>Changed by:</b></p><ul>{''.join(items)}</ul>" if items else ""


def grouped(findings: list[Finding]) -> list[list[Finding]]:
    """Findings that repeat across accounts (the same aspect of the same-named entity, one
    change rolled out everywhere, one risk on every member's role) as one group each, the
    worst first, then the most accounts.

    >>> from iamdrift.compare.findings import Place, finding
    >>> fs = [finding(Place(a, "role", "R", a), "risk:x", "unexpected", "high", "m")
    ...       for a in ("111111111111", "222222222222")]
    >>> [len(g) for g in grouped(fs)]
    [2]
    """
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.resource_type, f.resource, f.aspect, f.change), []).append(f)
    return sorted(
        groups.values(),
        key=lambda g: (min(SEVERITY_ORDER[f.severity] for f in g), -len(g), g[0].id),
    )


def _group_rows(findings: list[Finding]) -> list[list[str]]:
    """One row a group: a lone finding as it is; a repeated one with its accounts listed
    in a collapsed element (the messages differ only in the account they name)."""
    rows = []
    for group in grouped(findings):
        f = min(group, key=lambda f: SEVERITY_ORDER[f.severity])
        if len(group) == 1:
            rows.append([badge(f.severity), e(f.id), "1", e(f.message)])
            continue
        what = f"{f.resource_type} {f.resource}: {_title(f)} ({f.aspect}, {f.change})"
        accounts = ", ".join(e(g.account) for g in sorted(group, key=lambda g: g.account))
        rows.append(
            [
                badge(f.severity),
                e(what),
                str(len(group)),
                f"<details><summary>{e(f.message)}</summary>"
                f"<p>In {len(group)} accounts: {accounts}</p></details>",
            ]
        )
    return rows


def _title(f: Finding) -> str:
    family, param = split(f.aspect)
    if family == "risk" and param in RISK_KINDS:
        return RISK_KINDS[param].title
    return aspect_of(f.resource_type, f.aspect).title


_GROUP_HEAD = ["Severity", "Finding", "Accounts", "Message"]


def event_html(report: RunReport) -> str:
    """An event run: the changes that set it off, and how old each carried reading is."""
    if report.trigger != "event":
        return ""
    carried = sorted((a.read_at or "", a.id) for a in report.accounts if a.read_at)
    read = [a.id for a in report.accounts if not a.read_at]
    rows = [
        [e(x.time), e(x.actor), e(x.event), e(x.account), e(x.resource or ""), e(x.source_ip or "")]
        for x in report.events
    ]
    age = (
        f" {len(carried)} carried from earlier runs, the oldest read at {e(carried[0][0])}"
        f" ({e(carried[0][1])})."
        if carried
        else ""
    )
    org = (
        f" The organization (structure, SCPs, Identity Center) as read at "
        f"{e(report.organization_read_at)}: no change of it was heard."
        if report.organization_read_at
        else ""
    )
    held = {a for _, a in carried}
    drift = [f for f in report.findings if f.account in held]
    kept = (
        f"<h3>Drift carried in accounts not read now ({len(drift)})</h3>"
        "<p>As their latest reading found it; their checks ran when they were read.</p>"
        + _table(_GROUP_HEAD, _group_rows(drift), "iamdrift-carried")
        if drift
        else ""
    )
    return (
        f"<h3>Event run: {len(report.events)} change(s) heard from CloudTrail</h3>"
        f"<p>Read now: {e(', '.join(read)) or 'no account (the organization only)'}.{age}"
        f"{org}</p>"
        + _table(["Time", "Who", "Call", "Account", "Entity", "From"], rows, "iamdrift-events")
        + kept
    )


def summary_html(report: RunReport) -> str:
    """The ten-second summary at the top: when, how many accounts in which state, the
    accounts that need attention (errors, then drift), what changed since the last run.

    Compliant accounts are counted and listed compactly, and findings and risks that
    repeat across accounts are one row each, so the summary of a thousand accounts stays
    short.
    """
    accounts = report.accounts
    attention = sorted(
        (a for a in accounts if a.status != "compliant"),
        key=lambda a: (a.status != "error", -a.findings, a.id),
    )
    clean = [a for a in accounts if a.status == "compliant"]
    rows = [
        [
            e(a.id),
            e(a.name),
            badge(a.status, STATUS_COLOUR),
            *(e(a.by_severity.get(s, 0)) for s in SEVERITY_ORDER),
            e(a.error or ""),
        ]
        for a in attention
    ]
    statuses = [a.status for a in accounts]
    h = report.history
    since = (
        f"Since run {e(h.previous_run)}: <b>{h.new} new</b>, {h.resolved} resolved, "
        f"{h.persisting} persisting."
        if h.previous_run
        else "No previous run to compare with: every finding is new."
    )
    checked = sum(sum(a.checked.values()) for a in accounts)
    needing = (
        "<h3>Accounts that need attention</h3>"
        + _table(["Account", "Name", "Status", *SEVERITY_ORDER, "Error"], rows, "iamdrift-accounts")
        if rows
        else "<p>Every account was read and matches its baseline.</p>"
    )
    compliant = ""
    if clean:
        names = ", ".join(f"{e(a.id)} ({e(a.name)})" for a in clean)
        compliant = (
            f"<details><summary>{len(clean)} compliant account(s)</summary>"
            f'<p id="iamdrift-compliant">{names}</p></details>'
        )
    repeated = [g for g in grouped(report.findings) if len(g) > 1]
    across = ""
    if repeated:
        across = f"<h3>Findings repeated across accounts ({len(repeated)})</h3>" + _table(
            _GROUP_HEAD, _group_rows([f for g in repeated for f in g]), "iamdrift-repeated"
        )
    resolved = ""
    if report.resolved:
        resolved = "<h3>Resolved since the previous run</h3>" + _table(
            _GROUP_HEAD, _group_rows(report.resolved)
        )
    paths = paths_html(report) + rules_html(report)
    risks = ""
    if report.risks:
        risks = f"<h3>Risky access ({len(report.risks)}, reported as warnings)</h3>" + _table(
            _GROUP_HEAD, _group_rows(report.risks), "iamdrift-risks"
        )
    waivers = ""
    if report.waivers:
        waivers = f"<h3>Waivers ({len(report.waived)} finding(s) waived)</h3>" + _table(
            ["Status", "Finding (id or glob)", "Owner", "Expires", "Ticket", "Reason", "Names"],
            [
                [
                    badge(w.status, WAIVER_COLOUR),
                    e(w.finding),
                    e(w.owner),
                    e(w.expires),
                    e(w.ticket or ""),
                    e(w.reason),
                    e(len(w.findings)),
                ]
                for w in report.waivers
            ],
        )
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("error", "drift", "compliant"))
    tally = ", ".join(f"{report.checks.get(k, 0)} {k}" for k in ("passed", "failed", "error"))
    if report.checks.get("carried"):
        tally += f", {report.checks['carried']} carried (accounts not read now)"
    return (
        f'<div class="iamdrift">{STYLE}<h2>iamdrift summary</h2>'
        f"<p>Run {e(report.run_id or '')} started {e(report.started)} (UTC) against "
        f"{len(accounts)} account(s): {counts}; {len(report.findings)} finding(s); "
        f"{checked} entities compared.</p><p>Checks: {tally}. Passing checks are counted "
        "here, not listed below.</p>"
        f"<p>{since}</p>"
        + "".join((event_html(report), needing, compliant, across, paths, waivers, resolved, risks))
        + "</div>"
    )
