"""Waivers applied to findings, and what became of each waiver (pure).

A finding that an unexpired waiver names (by id or glob) is waived: reported, not
failing. From the day after its expiry it fails again and says which waiver expired.
A waiver due within EXPIRING_DAYS is flagged; one that names no finding is stale.

>>> from datetime import date
>>> w = Waiver(finding="222222222222/role/*", reason="vendor migration", owner="alice",
...            expires=date(2026, 12, 31))
>>> waiver_status(w, date(2026, 12, 20), matched=True)
'expiring'
"""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

from iamdrift.baselines.waivers import Waiver
from iamdrift.compare.findings import Finding, WaiverNote, WaiverStatus

EXPIRING_DAYS = 14


def waiver_for(finding_id: str, waivers: list[Waiver]) -> Waiver | None:
    """The first waiver that names this finding, exactly or by glob."""
    return next((w for w in waivers if w.finding == finding_id), None) or next(
        (w for w in waivers if fnmatchcase(finding_id, w.finding)), None
    )


def waiver_status(waiver: Waiver, today: date, matched: bool | None) -> WaiverStatus:
    """`matched=None`: this run cannot tell (not every account was read)."""
    if today > waiver.expires:
        return "expired"
    if matched is False:
        return "stale"
    if matched is None:
        return "unjudged"
    return "expiring" if (waiver.expires - today).days < EXPIRING_DAYS else "active"


def apply_waivers(
    findings: list[Finding], waivers: list[Waiver], today: date
) -> tuple[list[Finding], list[Finding]]:
    """(failing, waived). A finding whose waiver has expired fails, carrying that waiver."""
    failing, waived = [], []
    for f in findings:
        waiver = waiver_for(f.id, waivers)
        if waiver is None:
            failing.append(f)
        elif today > waiver.expires:
            failing.append(f.model_copy(update={"waiver": WaiverNote.of(waiver, "expired")}))
        else:
            status = waiver_status(waiver, today, matched=True)
            waived.append(f.model_copy(update={"waiver": WaiverNote.of(waiver, status)}))
    return failing, waived
