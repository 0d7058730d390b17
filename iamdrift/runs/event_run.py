"""An event run (`run --event-batch`, as `watch` starts one): the accounts its events
touched read, the others carried from the latest run, and where its time went, logged.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from iamdrift.audit.outcome import Part
from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.load import load_whole
from iamdrift.changes.events import EventBatch
from iamdrift.errors import BaselineError, Problem
from iamdrift.report import history
from iamdrift.report.progress import phases

if TYPE_CHECKING:
    from iamdrift.plugin.session import Session

log = logging.getLogger("iamdrift")


def read_batch(path: str) -> EventBatch:
    try:
        return EventBatch.read(Path(path))
    except ValueError as exc:
        raise BaselineError([Problem(path, 0, "--event-batch", str(exc))]) from None


def event_args(
    baseline: Baseline, batch: EventBatch, batch_file: str, previous: Path | None
) -> tuple[list[str], Part | None]:
    """An event run reads the accounts its events touched (and the organization, when they
    touched it) and carries the others from the latest run's part, when that run was checked
    against these same baselines; otherwise every account is read, as a run would. The
    arguments, and the part (read once, handed to the plugin). Raises BaselineError for an
    account file that does not validate."""
    from iamdrift.audit.predict import stored_part  # a plan's modules, only for event runs

    args = [f"--iamdrift-events={batch_file}"]
    part, _ = stored_part(previous.parent if previous else None, baseline)
    if part is None or previous is None:
        load_whole(baseline, set(baseline.accounts))
        return args, None
    held = {o.id for o in part.accounts if not o.error}
    fresh = {a for a in batch.accounts if a in baseline.accounts}
    load_whole(baseline, fresh | (set(baseline.accounts) - held))  # what is read is parsed
    path = previous.parent / history.ACCOUNTS
    return [*args, f"--iamdrift-parts={path}", f"--iamdrift-fresh={','.join(sorted(fresh))}"], part


def log_phases(run_id: str, session: Session) -> None:
    """`event run R: reading 1.2s, judging 0.8s, writing 0.4s`, once the run is filed."""
    if session.tested_at is not None:
        log.info(
            "event run %s: %s",
            run_id,
            phases(session.read_span, session.tested_at, time.monotonic()),
        )
