"""The access matrix of the HTML report: who may assume which role across accounts, as a
grid while it reads as one and a table beyond, and Identity Center's assignments."""

from __future__ import annotations

import re

from iamdrift.access.edge import AccessRow
from iamdrift.report.html import STYLE
from iamdrift.report.table import e
from iamdrift.report.table import table as _table

_CELL = {
    "expected": ("#c8e6c9", "expected"),
    "unexpected": ("#ffcc80", "UNEXPECTED"),
    "missing": ("#ef9a9a", "MISSING"),
    "conditions missing": ("#ef9a9a", "CONDITIONS GONE"),
}


_RESERVED = re.compile(r"AWSReservedSSO_(.+)_[0-9a-f]{16}$")


def _short_role(arn: str) -> str:
    """`222222222222:MemberReadOnlyAccess`; a role Identity Center provisioned by its set:
    `222222222222:SSO AdministratorAccess` (its full ARN is the cell's title)."""
    name = arn.rsplit("/", 1)[-1]
    found = _RESERVED.fullmatch(name)
    return f"{arn.split(':')[4]}:{f'SSO {found.group(1)}' if found else name}"


MATRIX_LIMIT = 40  # principals or roles; beyond this a table reads better than a grid


def access_html(rows: list[AccessRow], risky_roles: set[str]) -> str:
    """The access graph against access.yaml: a matrix and a diagram while they fit on a
    screen, a table (departures from access.yaml first) when they do not."""
    principals = sorted({r.principal for r in rows})
    roles = sorted({r.role for r in rows})
    if len(principals) <= MATRIX_LIMIT and len(roles) <= MATRIX_LIMIT:
        body = access_matrix_html(principals, roles, rows, risky_roles) + access_svg(
            principals, roles, rows
        )
    else:
        ordered = sorted(rows, key=lambda r: (r.status == "expected", r.role, r.principal))
        body = _table(
            ["Principal", "Role", "Status", "Conditions", "Path"],
            [
                [
                    e(r.principal),
                    e(r.role),
                    e(_CELL.get(r.status, ("", r.status))[1]),
                    e(r.conditions or ""),
                    e("; ".join(r.path)),
                ]
                for r in ordered
            ],
        )
    counts = ", ".join(
        f"{sum(r.status == s for r in rows)} {s}"
        for s in ("expected", "unexpected", "missing", "conditions missing")
    )
    return (
        f'<div class="iamdrift">{STYLE}<h3>Cross-account access</h3>'
        f"<p>{len(rows)} edge(s): {counts}.</p>{body}{identity_center_html(rows)}</div>"
    )


def identity_center_html(rows: list[AccessRow]) -> str:
    """Identity Center's assignments by group (or user): each permission set with the
    accounts it signs in to, those identity_center.yaml does not declare marked."""
    by: dict[tuple[str, str], list[AccessRow]] = {}
    for r in rows:
        if r.principal.startswith("identitycenter:"):
            found = _RESERVED.search(r.role)
            by.setdefault((r.principal, found.group(1) if found else r.role), []).append(r)
    if not by:
        return ""

    def accounts(edges: list[AccessRow]) -> str:
        return ", ".join(
            e(r.role.split(":")[4]) + ("" if r.status == "expected" else " <b>(not declared)</b>")
            for r in sorted(edges, key=lambda r: r.role)
        )

    table = _table(
        ["Group or user", "Permission set", "Accounts"],
        [
            [e(p.removeprefix("identitycenter:")), e(s), accounts(edges)]
            for (p, s), edges in sorted(by.items())
        ],
    )
    return f"<h4>IAM Identity Center, by group</h4>{table}"


def access_matrix_html(
    principals: list[str], roles: list[str], rows: list[AccessRow], risky_roles: set[str]
) -> str:
    """Source principals against target roles; each cell expected, unexpected or missing,
    with its conditions and path on hover; roles with risk findings outlined in red."""
    cells = {(r.principal, r.role): r for r in rows}
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
            colour, text = _CELL.get(r.status, ("#eee", r.status))
            tip = f"conditions: {r.conditions or 'none'}; path: {'; '.join(r.path)}"
            cond = " (conditional)" if r.conditions else ""
            tds.append(f'<td style="background:{colour}" title="{e(tip)}">{e(text + cond)}</td>')
        body.append(f"<tr><th>{e(p)}</th>{''.join(tds)}</tr>")
    return (
        f"<table><thead><tr><th>principal \\ role</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


DASHED = ' stroke-dasharray="5,4"'


def access_svg(principals: list[str], roles: list[str], rows: list[AccessRow]) -> str:
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
        f'<line x1="330" y1="{y_p[r.principal] - 4}" x2="570" y2="{y_r[r.role] - 4}" '
        f'stroke="{colour.get(r.status, "#555")}" stroke-width="2"'
        f"{DASHED if r.status == 'missing' else ''}>"
        f"<title>{e(r.principal)} -&gt; {e(r.role)}: {e(r.status)}</title></line>"
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
