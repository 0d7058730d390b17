"""`accept FINDING...`: exactly the reviewed findings of a run, written into the baselines
that declare them, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from iamdrift.baselines.load import load_baselines
from iamdrift.compare.accept import accept_findings
from iamdrift.compare.aspects import Accept, aspect_of
from iamdrift.compare.findings import Finding
from iamdrift.errors import Refused
from iamdrift.report import history
from iamdrift.report.results import RunReport


@dataclass
class Accepted:
    """What an accept wrote, and the risks a glob matched that it left alone (risks are
    narrowed or waived, never accepted)."""

    written: list[tuple[str, Path]]
    skipped: list[Finding]


def choose(run: RunReport, patterns: list[str]) -> tuple[dict[str, Finding], list[Finding]]:
    """The findings `patterns` name, and those globs matched that accept refuses (risks,
    rule violations: skipped). An id named exactly is chosen, so that accepting it is
    refused with the reason."""
    candidates = [*run.findings, *run.waived, *run.risks]
    risks = {f.id for f in run.risks} | {
        f.id for f in candidates if aspect_of(f.resource_type, f.aspect).accept is Accept.REFUSED
    }
    chosen: dict[str, Finding] = {}
    skipped: dict[str, Finding] = {}
    problems = []
    for pattern in patterns:
        exact = [f for f in candidates if f.id == pattern]
        matched = exact or [f for f in candidates if fnmatchcase(f.id, pattern)]
        if not matched:
            problems.append(f"no finding of run {run.run_id} is {pattern!r}")
        for f in matched:
            if f.id in risks and not exact:
                skipped[f.id] = f
            else:
                chosen[f.id] = f
    if problems:
        raise Refused("\n".join(problems))
    return chosen, [f for i, f in sorted(skipped.items()) if i not in chosen]


def accept(
    patterns: list[str], baselines: str | Path, report_dir: str | Path, run_id: str | None
) -> Accepted:
    """Accept the findings of a run (`run_id`, or the latest completed one) that `patterns`
    name (ids or globs).

    Raises Refused when a pattern names nothing, a finding's account could not be read,
    or a finding cannot be accepted; BaselineError when the result would not validate.
    """
    baseline = load_baselines(baselines)
    try:
        run = history.run_report(Path(report_dir), run_id)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    chosen, skipped = choose(run, patterns)
    errors = run.errors()
    problems = [
        f"{f.id}: account {f.account} could not be read in run {run.run_id}, so what is "
        f"live there is unknown ({errors[f.account]})"
        for f in chosen.values()
        if f.account in errors
    ]
    if problems:
        raise Refused("\n".join(problems))
    return Accepted(accept_findings(baseline, list(chosen.values())), skipped)
