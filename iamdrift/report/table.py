"""HTML table cells for the report: pytest-html inserts fragments raw, so every value that
came from AWS or a baseline goes through `e()`."""

from __future__ import annotations

import html
from typing import Any


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table(head: list[str], rows: list[list[str]], table_id: str = "") -> str:
    """Rows of cells already escaped (or built of escaped parts)."""
    ident = f' id="{e(table_id)}"' if table_id else ""
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{ident}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
