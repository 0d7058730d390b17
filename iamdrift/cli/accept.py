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
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from iamdrift.baselines.load import (
    ACCESS_FILE,
    STRUCTURE_FILE,
    AccountBaseline,
    Baseline,
    load_baselines,
)
from iamdrift.baselines.models import ENTITY_KINDS, as_baseline
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.errors import BaselineError, Problem
from iamdrift.report import history

PLURAL = {v: k for k, v in ENTITY_KINDS.items()}  # role -> roles


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


def accept_finding(edits: Edits, f: dict[str, Any]) -> Path:
    """Write one finding's live value; returns the file changed. Raises Refused."""
    kind, aspect, change = f["resource_type"], f["aspect"], f["change"]
    if aspect.startswith("risk:"):
        raise Refused(
            f"{f['id']} is a risk, not drift: narrow the access, or waive it in waivers.yaml"
        )
    if kind in PLURAL:
        return _entity(edits, f)
    if kind == "access":
        return _edge(edits, f)
    if kind == "scp" or aspect in ("membership", "ou", "name"):  # structure.yaml
        return _structure(edits, f)
    if kind == "account" and change == "missing":
        acct = edits.baseline.accounts[f["resource"]]
        edits.file(Path(acct.file)).deleted = True  # it left the organization
        return Path(acct.file)
    raise Refused(
        f"{f['id']}: account {f['resource']} has no baseline to write into; write one with "
        f"`runner.py snapshot --baselines DIR --accounts {f['resource']}`"
    )


def _entity(edits: Edits, f: dict[str, Any]) -> Path:
    acct: AccountBaseline = edits.baseline.accounts[f["account"]]
    plural, name, aspect = PLURAL[f["resource_type"]], f["resource"], f["aspect"]
    target = edits.file(Path(acct.file))
    entities = edits.mapping(target.doc, plural)
    if aspect == "existence":
        if f["change"] == "unexpected":
            entities[name] = f["live"]
        elif name in entities:
            del entities[name]
        else:
            raise Refused(
                f"{f['id']}: {name} is declared by member_baseline in organization.yaml, for "
                "every member; change it there"
            )
        return target.path
    if name not in entities:  # declared by member_baseline: this account gets its own copy
        entities[name] = as_baseline(getattr(acct.expected, plural)[name])
    entity = entities[name]
    live = f["live"]
    if aspect.startswith(("inline_policy:", "dormant_version:")):
        section, key = aspect.split(":", 1)
        section = "inline_policies" if section == "inline_policy" else "dormant_versions"
        policies = edits.mapping(entity, section)
        if live is None:
            policies.pop(key, None)
        else:
            policies[key] = _shaped(policies[key], live) if key in policies else live
        if not policies:
            del entity[section]
    elif live is None:
        entity.pop(aspect, None)
    else:
        entity[aspect] = _shaped(entity[aspect], live) if aspect in entity else live
    return target.path


def _edge(edits: Edits, f: dict[str, Any]) -> Path:
    path = edits.baseline.directory / ACCESS_FILE
    target = edits.file(path)
    edges = target.doc.get("edges")
    if edges is None:
        edges = target.doc["edges"] = CommentedSeq()
    live = f["live"]
    index = next(
        (i for i, e in enumerate(edges)
         if e.get("principal") == live["principal"] and e.get("role") == live["role"]),
        None,
    )  # fmt: skip
    if f["change"] == "missing":
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


def _structure(edits: Edits, f: dict[str, Any]) -> Path:
    path = edits.baseline.directory / STRUCTURE_FILE
    if not path.exists():
        raise Refused(f"{f['id']}: there is no {STRUCTURE_FILE} to write into")
    target = edits.file(path)
    section = "accounts" if f["resource_type"] == "account" else "service_control_policies"
    entries = edits.mapping(target.doc, section)
    name, aspect, live = f["resource"], f["aspect"], f["live"]
    if f["change"] == "missing" and aspect in ("membership", "existence"):
        entries.pop(name, None)
    elif aspect in ("membership", "existence"):
        entries[name] = live
    else:  # ou, name, document, targets
        entry = entries[name]
        entry[aspect] = _shaped(entry[aspect], live) if aspect in entry else live
    return path


def latest_run(report_dir: Path, run_id: str | None) -> tuple[str, dict[str, Any]]:
    """The findings JSON of `run_id`, or of the latest completed run."""
    if run_id is None:
        found = history.previous_findings(report_dir)
        if found is None:
            raise Refused(f"{report_dir}: no completed run to accept findings from")
        return found
    path = report_dir / run_id / history.FINDINGS
    if not path.exists():
        raise Refused(f"{report_dir}: no run {run_id} with findings")
    return run_id, json.loads(path.read_text())


def accept(
    patterns: list[str], baselines: str | Path, report_dir: str | Path, run_id: str | None
) -> list[tuple[str, Path]]:
    """Accept the findings of a run that `patterns` name (ids or globs).

    Raises BaselineError (exit 2) when a pattern names nothing, a finding's account could
    not be read, a finding cannot be accepted, or the result would not validate.
    """
    baseline = load_baselines(baselines)
    run, data = latest_run(Path(report_dir), run_id)
    candidates = [*data.get("findings", []), *data.get("waived", []), *data.get("risks", [])]
    errors = {a["id"]: a["error"] for a in data.get("accounts", []) if a["status"] == "error"}
    chosen: dict[str, dict[str, Any]] = {}
    problems = []
    for pattern in patterns:
        matched = [f for f in candidates if f["id"] == pattern or fnmatchcase(f["id"], pattern)]
        if not matched:
            problems.append(f"no finding of run {run} is {pattern!r}")
        chosen.update({f["id"]: f for f in matched})
    for f in chosen.values():
        if f["account"] in errors:
            problems.append(
                f"{f['id']}: account {f['account']} could not be read in run {run}, so what "
                f"is live there is unknown ({errors[f['account']]})"
            )
    edits = Edits(baseline)
    done = []
    for f in sorted(chosen.values(), key=lambda f: f["id"]):
        try:
            done.append((f["id"], accept_finding(edits, f)))
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
