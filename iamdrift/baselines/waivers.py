"""`waivers.yaml`: known drift tolerated for a while, and whose it is."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    StringConstraints,
)

from iamdrift.baselines.policy import StrictModel


class Waiver(StrictModel):
    """Known drift tolerated for a while: never for ever, and always someone's."""

    finding: Annotated[str, StringConstraints(min_length=1, max_length=1024)]  # an id or a glob
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    expires: date  # the last day the waiver holds
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class WaiverFile(StrictModel):
    """`waivers.yaml`: findings that do not fail the run until their waiver expires."""

    waivers: list[Waiver] = []
