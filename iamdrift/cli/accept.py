"""`runner.py accept FINDING...`: write exactly the reviewed findings' live values into the
baseline files that declare them, and nothing else.

Files are edited with ruamel.yaml's round trip, so comments, key order, quoting and
layout of everything else stay as they were; a value that is replaced keeps the
shape the file used where it can (a one-item list written as a string stays a
string, a flow mapping stays a flow mapping). Either every finding is accepted and
the edited baselines still validate, or nothing is written.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from iamdrift.baselines.baseline import ACCESS_FILE, FILES, IDENTITY_CENTER_FILE, Baseline
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.models import as_baseline
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.aspects import Accept, aspect_of, location
from iamdrift.compare.findings import Finding
from iamdrift.errors import BaselineError, Problem
from iamdrift.report import history
from iamdrift.report.results import RunReport


class Refused(Exception):
    """A finding that cannot be accepted; the message says why and what to do instead."""


@dataclass
class _File:
    """One baseline file open for round-trip editing."""

    path: Path
    yaml: YAML
    doc: Any
    deleted: bool = False

    @classmethod
    def open(cls, path: Path) -> _File:
        text = path.read_text(encoding="utf-8")
        for yaml in _styles():
            doc = yaml.load(text)
            if _dump(yaml, doc) == text:
                return cls(path, yaml, doc)
        raise Refused(
            f"{path} cannot be edited without changing its layout elsewhere "
            "(mixed indentation); edit it by hand"
        )

    def text(self) -> str:
        return _dump(self.yaml, self.doc)


def _styles():
    """Indentations that files are written in: lists indented under their key (as in the
    README) or level with it (as `snapshot` writes them)."""
    for mapping in (2, 4):
        for offset in (2, 0):
            yaml = YAML()
            yaml.preserve_quotes = True
            yaml.width = 4096
            yaml.indent(mapping=mapping, sequence=mapping + offset, offset=offset)
            yield yaml


def _dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _shaped(old: Any, new: Any) -> Any:
    """`new`, in the shape `old` was written in where it can be."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        if "Version" not in old and new.get("Version") == "2012-10-17":
            new = {k: v for k, v in new.items() if k != "Version"}  # the default, left out
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _shaped(old[key], value) if key in old else value
        return old
    if isinstance(old, CommentedMap) and isinstance(new, list) and len(new) == 1:
        return _shaped(old, new[0])  # a single statement written as a mapping
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        if len(old) == len(new):
            for i, value in enumerate(new):
                old[i] = _shaped(old[i], value)
            return old
        seq = CommentedSeq(new)
        if old.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(old, CommentedSeq) and not isinstance(new, list | dict):
        return _shaped(old, [new])
    if isinstance(old, str | int | float | bool | date) and isinstance(new, list) and len(new) == 1:
        return _shaped(old, new[0])  # a one-item list written as a string stays a string
    if old == new or (isinstance(old, date) and str(old) == new):
        return old  # unchanged: keeps its quoting
    return new


@dataclass
class Edits:
    """The files an accept touches, opened once each."""

    baseline: Baseline
    files: dict[Path, _File] = field(default_factory=dict)

    def file(self, path: Path) -> _File:
        if path not in self.files:
            self.files[path] = _File.open(path)
        return self.files[path]

    def mapping(self, parent: Any, key: str) -> Any:
        if parent.get(key) is None:
            parent[key] = CommentedMap()
        return parent[key]


def accept_finding(edits: Edits, f: Finding) -> Path:
    """Write one finding's live value where the registry says it lives; returns the file
    changed. Raises Refused."""
    aspect = aspect_of(f.resource_type, f.aspect)
    if aspect.accept is Accept.REFUSED:
        raise Refused(f"{f.id} {aspect.refusal}")
    if aspect.accept is Accept.EDGE:
        return _edge(edits, f)
    if aspect.accept is Accept.ASSIGNMENT:
        return _assignment(edits, f)
    if aspect.accept is Accept.ACCOUNT_FILE:
        acct = edits.baseline.accounts.get(f.resource)
        if f.change == "missing" and acct is not None:
            edits.file(Path(acct.file)).deleted = True  # it left the organization
            return Path(acct.file)
        raise Refused(
            f"{f.id}: account {f.resource} has no baseline to write into; write one with "
            f"`runner.py snapshot --baselines DIR --accounts {f.resource}`"
        )
    file, keys = location(f.account, f.resource_type, f.resource, f.aspect)
    target = _target_file(edits, f, file)
    section, name, *tail = keys
    entries = edits.mapping(target.doc, section)
    if aspect.accept is Accept.ENTRY:
        if f.change != "missing":
            entries[name] = f.live
        elif name in entries:
            del entries[name]
        elif file == "account":
            raise Refused(
                f"{f.id}: {name} is declared by member_baseline in organization.yaml, for "
                "every member; change it there"
            )
        return target.path
    if name not in entries and file == "account":  # from member_baseline: an own copy
        acct = edits.baseline.accounts[f.account]
        entries[name] = as_baseline(getattr(acct.expected, section)[name])
    parent = entries[name]
    for key in tail[:-1]:  # a section under the entity: inline_policies, dormant_versions
        parent = edits.mapping(parent, key)
    key = tail[-1]
    if f.live is None:
        parent.pop(key, None)
    else:
        parent[key] = _shaped(parent[key], f.live) if key in parent else f.live
    if len(tail) > 1 and not parent:
        del entries[name][tail[0]]
    return target.path


def _target_file(edits: Edits, f: Finding, file: str) -> _File:
    if file == "account":
        return edits.file(Path(edits.baseline.accounts[f.account].file))
    path = edits.baseline.directory / FILES[file]
    if not path.exists():
        raise Refused(f"{f.id}: there is no {FILES[file]} to write into")
    return edits.file(path)


def _assignment(edits: Edits, f: Finding) -> Path:
    """Add the account to the assignment of this principal and set (a new one if none), or
    drop it; one that holds the account by OU is the reviewer's to change."""
    path = edits.baseline.directory / IDENTITY_CENTER_FILE
    target = edits.file(path)
    live = f.live if f.change != "missing" else f.expected
    kind, _, name = live["principal"].partition(":")
    entries = target.doc.get("assignments")
    if entries is None:
        entries = target.doc["assignments"] = CommentedSeq()
    wanted = live["permission_set"]
    same = [e for e in entries if e.get(kind) == name and e.get("permission_set") == wanted]
    acct = edits.baseline.accounts.get(f.account)
    names = {f.account, acct.name if acct else f.account}
    if f.change == "missing":
        held = [e for e in same if names & {str(a) for a in e.get("accounts", [])}]
        if not held:
            raise Refused(
                f"{f.id}: the assignment holds account {f.account} through its OU; change "
                f"{IDENTITY_CENTER_FILE} by hand"
            )
        for e in held:
            e["accounts"] = [a for a in e["accounts"] if str(a) not in names]
            if not e["accounts"] and not e.get("ous"):
                entries.remove(e)
        return path
    if same:
        same[0].setdefault("accounts", CommentedSeq()).append(f.account)
    else:
        entries.append({kind: name, "permission_set": wanted, "accounts": [f.account]})
    return path


def _edge(edits: Edits, f: Finding) -> Path:
    path = edits.baseline.directory / ACCESS_FILE
    target = edits.file(path)
    edges = target.doc.get("edges")
    if edges is None:
        edges = target.doc["edges"] = CommentedSeq()
    live = f.live
    index = next(
        (i for i, e in enumerate(edges)
         if e.get("principal") == live["principal"] and e.get("role") == live["role"]),
        None,
    )  # fmt: skip
    if f.change == "missing":
        if index is not None:
            del edges[index]
        return path
    entry = {"principal": live["principal"], "role": live["role"]}
    if live.get("conditions"):
        entry["conditions"] = live["conditions"]
    if index is None:
        edges.append(entry)
    else:
        edges[index] = _shaped(edges[index], entry)
    return path


def latest_run(report_dir: Path, run_id: str | None) -> RunReport:
    """`run_id`, or the latest completed run."""
    try:
        return history.run_report(report_dir, run_id)
    except ValueError as exc:
        raise Refused(str(exc)) from None


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
    """Accept the findings of a run that `patterns` name (ids or globs).

    Raises Refused when a pattern names nothing, a finding's account could not be read,
    or a finding cannot be accepted; BaselineError when the result would not validate.
    """
    baseline = load_baselines(baselines)
    run = latest_run(Path(report_dir), run_id)
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
    _write_checked(baseline.directory, edits)
    return done


def _write_checked(directory: Path, edits: Edits) -> None:
    """Write the edits only if the baselines they make still validate."""
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "baselines"
        shutil.copytree(directory, trial)
        for path, f in edits.files.items():
            copy = trial / path.relative_to(directory)
            if f.deleted:
                copy.unlink()
            else:
                copy.write_text(f.text(), encoding="utf-8")
        try:
            load_baselines(trial)
        except BaselineError as exc:  # name the real files, not the trial copy
            raise BaselineError(
                [
                    Problem(p.file.replace(str(trial), str(directory)), p.line, p.key, p.message)
                    for p in exc.problems
                ]
            ) from None
    for path, f in edits.files.items():
        if f.deleted:
            path.unlink()
        else:
            write_atomic(path, f.text())
