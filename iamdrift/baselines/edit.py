"""Round-trip editing of baseline files: `accept` and `plan --accept` write values where the
findings registry says they live, and nothing else changes.

Files are edited with ruamel.yaml's round trip, so comments, key order, quoting and
layout of everything else stay as they were; a value that is replaced keeps the
shape the file used where it can (a one-item list written as a string stays a
string, a flow mapping stays a flow mapping). The edits are written only when the
baselines they make still validate, all of them or none.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from iamdrift.baselines.baseline import (
    ACCESS_FILE,
    FILES,
    IDENTITY_CENTER_FILE,
    Baseline,
)
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.models import as_baseline
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.errors import BaselineError, Problem, Refused


@dataclass
class _File:
    """One baseline file open for round-trip editing."""

    path: Path
    yaml: YAML
    doc: Any
    deleted: bool = False
    account: str | None = None  # the account whose own file it is

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
    """The baseline files an accept touches, opened once each; `write` writes them."""

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

    def file_of(self, finding: str, file: str, account: str) -> _File:
        """The file a finding's value is written into: an account's own, or one of the
        organization's files by the registry's name for it."""
        if file == "account":
            own = self.file(Path(self.baseline.accounts[account].file))
            own.account = account
            return own
        path = self.baseline.directory / FILES[file]
        if not path.exists():
            raise Refused(f"{finding}: there is no {FILES[file]} to write into")
        return self.file(path)

    def entry(self, finding: str, target: _File, keys: tuple[str, ...], live: Any) -> Path:
        """Put the live entry at `keys` (section, name), or drop it when `live` is None."""
        section, name = keys[:2]
        entries = self.mapping(target.doc, section)
        if live is not None:
            entries[name] = live
        elif name in entries:
            del entries[name]
        elif target.account is not None:
            raise Refused(
                f"{finding}: {name} is declared by member_baseline in organization.yaml, for "
                "every member; change it there"
            )
        return target.path

    def value(self, target: _File, keys: tuple[str, ...], live: Any) -> Path:
        """Set the value at `keys` (section, name, key...), in the shape the file wrote the
        old one; drop it when `live` is None. An entity that member_baseline declares gets
        an own copy in the account's file first."""
        section, name, *tail = keys
        entries = self.mapping(target.doc, section)
        if name not in entries and target.account is not None:
            acct = self.baseline.accounts[target.account]
            entries[name] = as_baseline(getattr(acct.expected, section)[name])
        parent = entries[name]
        for key in tail[:-1]:  # a section under the entity: inline_policies, dormant_versions
            parent = self.mapping(parent, key)
        key = tail[-1]
        if live is None:
            parent.pop(key, None)
        else:
            parent[key] = _shaped(parent[key], live) if key in parent else live
        if len(tail) > 1 and not parent:
            del entries[name][tail[0]]
        return target.path

    def drop_account(self, account: str) -> Path | None:
        """The account left the organization: its baseline file goes (None: it has none)."""
        acct = self.baseline.accounts.get(account)
        if acct is None:
            return None
        self.file(Path(acct.file)).deleted = True
        return Path(acct.file)

    def assignment(self, finding: str, account: str, change: str, live: dict[str, Any]) -> Path:
        """Add the account to the assignment of this principal and set (a new one if none), or
        drop it; one that holds the account by OU is the reviewer's to change."""
        path = self.baseline.directory / IDENTITY_CENTER_FILE
        target = self.file(path)
        kind, _, name = live["principal"].partition(":")
        entries = target.doc.get("assignments")
        if entries is None:
            entries = target.doc["assignments"] = CommentedSeq()
        wanted = live["permission_set"]
        same = [e for e in entries if e.get(kind) == name and e.get("permission_set") == wanted]
        acct = self.baseline.accounts.get(account)
        names = {account, acct.name if acct else account}
        if change == "missing":
            held = [e for e in same if names & {str(a) for a in e.get("accounts", [])}]
            if not held:
                raise Refused(
                    f"{finding}: the assignment holds account {account} through its OU; change "
                    f"{IDENTITY_CENTER_FILE} by hand"
                )
            for e in held:
                e["accounts"] = [a for a in e["accounts"] if str(a) not in names]
                if not e["accounts"] and not e.get("ous"):
                    entries.remove(e)
            return path
        if same:
            same[0].setdefault("accounts", CommentedSeq()).append(account)
        else:
            entries.append({kind: name, "permission_set": wanted, "accounts": [account]})
        return path

    def edge(self, change: str, live: dict[str, Any]) -> Path:
        path = self.baseline.directory / ACCESS_FILE
        target = self.file(path)
        edges = target.doc.get("edges")
        if edges is None:
            edges = target.doc["edges"] = CommentedSeq()
        index = next(
            (
                i
                for i, e in enumerate(edges)
                if e.get("principal") == live["principal"] and e.get("role") == live["role"]
            ),
            None,
        )
        if change == "missing":
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

    def write(self) -> None:
        """Write the edits only if the baselines they make still validate."""
        directory = self.baseline.directory
        with tempfile.TemporaryDirectory() as tmp:
            trial = Path(tmp) / "baselines"
            shutil.copytree(directory, trial)
            for path, f in self.files.items():
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
                        Problem(
                            p.file.replace(str(trial), str(directory)), p.line, p.key, p.message
                        )
                        for p in exc.problems
                    ]
                ) from None
        for path, f in self.files.items():
            if f.deleted:
                path.unlink()
            else:
                write_atomic(path, f.text())
