"""What `accept` writes for a finding, and where: the registry's place and way for its
aspect, applied to the baseline files by `baselines.edit`.

Either every finding is accepted and the edited baselines still validate, or nothing is
written.
"""

from __future__ import annotations

from pathlib import Path

from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.edit import Edits
from iamdrift.compare.aspects import Accept, aspect_of, location
from iamdrift.compare.findings import Finding
from iamdrift.errors import Refused


def accept_finding(edits: Edits, f: Finding) -> Path:
    """Write one finding's live value where the registry says it lives; returns the file
    changed. Raises Refused."""
    aspect = aspect_of(f.resource_type, f.aspect)
    if aspect.accept is Accept.REFUSED:
        raise Refused(f"{f.id} {aspect.refusal}")
    if aspect.accept is Accept.EDGE:
        return edits.edge(f.change, f.live)
    if aspect.accept is Accept.ASSIGNMENT:
        live = f.live if f.change != "missing" else f.expected
        return edits.assignment(f.id, f.account, f.change, live)
    if aspect.accept is Accept.ACCOUNT_FILE:
        dropped = edits.drop_account(f.resource) if f.change == "missing" else None
        if dropped is None:
            raise Refused(
                f"{f.id}: account {f.resource} has no baseline to write into; write one with "
                f"`runner.py snapshot --baselines DIR --accounts {f.resource}`"
            )
        return dropped
    file, keys = location(f.account, f.resource_type, f.resource, f.aspect)
    target = edits.file_of(f.id, file, f.account)
    if aspect.accept is Accept.ENTRY:
        return edits.entry(f.id, target, keys, None if f.change == "missing" else f.live)
    return edits.value(target, keys, f.live)


def refusal(f: Finding) -> str | None:
    """Why `accept` cannot write this finding into the baselines, or None when it can."""
    aspect = aspect_of(f.resource_type, f.aspect)
    if aspect.accept is Accept.REFUSED:
        return aspect.refusal
    if aspect.accept is Accept.ACCOUNT_FILE and f.change != "missing":
        return f"account {f.resource} has no baseline to write into: snapshot it first"
    return None


def accept_findings(baseline: Baseline, findings: list[Finding]) -> list[tuple[str, Path]]:
    """Write each finding's live value into the baselines, all or nothing (`plan --accept`
    hands the predicted values). Raises Refused, or BaselineError when the result would not
    validate."""
    edits = Edits(baseline)
    done, problems = [], []
    for f in sorted(findings, key=lambda f: f.id):
        try:
            done.append((f.id, accept_finding(edits, f)))
        except Refused as exc:
            problems.append(str(exc))
    if problems:
        raise Refused("\n".join(problems))
    edits.write()
    return done
