"""YAML in and out: plain data plus the line of every key, duplicate keys rejected.

>>> data, lines = load_yaml_text("a:\\n  b: 1\\n", "x.yaml")
>>> lines[("a", "b")]
2
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from iamdrift.errors import Problem

Path_ = tuple[str | int, ...]


# libyaml's parser is ~10x faster, which matters for a thousand account files.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader without timestamps: `Version: 2012-10-17` must stay a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# What one baseline file may hold. A thousand-entity account is well under a MiB; the
# limits keep a hostile file (an alias bomb, a huge or deeply nested file) from taking
# time or memory that validation must not spend.
MAX_BYTES = 10 * 2**20
MAX_NODES = 500_000  # after alias expansion
MAX_DEPTH = 64
_STR = "tag:yaml.org,2002:str"


class _Refused(Exception):
    """The file breaks a limit or needs the careful walk (duplicate or odd keys)."""

    def __init__(self, node=None, message: str = ""):
        self.node = node
        self.message = message


class Lines(Mapping):
    """Key path -> 1-based line, worked out only when an error needs it."""

    def __init__(self, node, loader):
        self._node, self._loader, self._map = node, loader, None

    def _lines(self) -> dict[Path_, int]:
        if self._map is None:
            walk = _Walk(self._loader, "", careful=True)
            if self._node is not None:
                walk.convert(self._node, (), 0)
            self._map, self._node = walk.lines, None
        return self._map

    def __getitem__(self, key: Path_) -> int:
        return self._lines()[key]

    def __iter__(self):
        return iter(self._lines())

    def __len__(self) -> int:
        return len(self._lines())


class _Walk:
    """YAML nodes to plain data, counting every node (aliases count each time they are
    used, so an alias bomb stops at MAX_NODES). The careful walk also records each key's
    line and reports duplicate keys; the quick one stops at the first oddity instead."""

    def __init__(self, loader, filename: str, careful: bool):
        self.loader, self.filename, self.careful = loader, filename, careful
        self.count = 0
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []

    def convert(self, node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(node, f"more than {MAX_NODES} YAML nodes (aliases counted as used)")
        if depth > MAX_DEPTH:
            raise _Refused(node, f"nested more than {MAX_DEPTH} levels deep")
        if self.careful:
            self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR else self.loader.construct_object(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        self.loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = (
                key_node.value
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR
                else self.loader.construct_object(key_node, deep=True)
                if isinstance(key_node, yaml.ScalarNode)
                else None
            )
            line = key_node.start_mark.line + 1
            problem = None
            if not isinstance(key, str | int | bool | float):
                problem = Problem(self.filename, line, _dotted(path), "keys must be plain text")
            elif key in seen:
                problem = Problem(
                    self.filename,
                    line,
                    _dotted((*path, key)),
                    f"duplicate key (first defined on line {seen[key]})",
                )
            if problem is not None:
                if not self.careful:
                    raise _Refused()
                self.problems.append(problem)
                continue
            seen[key] = line
            out[key] = self.convert(value_node, (*path, key), depth + 1)
            if self.careful:
                self.lines[(*path, key)] = line
        return out


def _syntax_problem(exc: yaml.YAMLError, text: str, filename: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    elif isinstance(getattr(exc, "position", None), int):  # ReaderError: a forbidden character
        line = text.count("\n", 0, exc.position) + 1
    else:
        line = 0
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if isinstance(exc, yaml.reader.ReaderError):
        reason = f"control character {exc.character!r} is not allowed"
    return Problem(filename, line, "", f"not valid YAML: {reason}")


def load_yaml_text(
    text: str, filename: str, problems: list[Problem] | None = None
) -> tuple[Any, Mapping[Path_, int]]:
    """Parse YAML; return the data and a map from key path to 1-based line.

    Broken syntax, or a file past the limits, raises YamlProblems. A duplicate key is
    added to `problems` (the first value is kept so the rest of the file is still
    checked), or raises when no list is given.
    """
    if len(text) > MAX_BYTES:
        raise YamlProblems([Problem(filename, 0, "", f"file larger than {MAX_BYTES // 2**20} MiB")])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise YamlProblems([_syntax_problem(exc, text, filename)]) from None
    except RecursionError:
        raise YamlProblems(
            [Problem(filename, 0, "", f"nested more than {MAX_DEPTH} levels deep")]
        ) from None
    finally:
        loader.dispose()
    if node is None:
        return None, {}
    found: list[Problem] = []
    try:
        try:
            data = _Walk(loader, filename, careful=False).convert(node, (), 0)
        except _Refused as exc:
            if exc.node is not None:
                raise
            walk = _Walk(loader, filename, careful=True)
            data = walk.convert(node, (), 0)
            found = walk.problems
    except _Refused as exc:
        line = exc.node.start_mark.line + 1
        raise YamlProblems([Problem(filename, line, "", exc.message)]) from None
    except yaml.YAMLError as exc:  # a scalar that cannot be constructed (a bad timestamp)
        raise YamlProblems([_syntax_problem(exc, text, filename)]) from None
    if found and problems is None:
        raise YamlProblems(found)
    if problems is not None:
        problems.extend(found)
    return data, Lines(node, loader)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_for(lines: Mapping[Path_, int], data: Any, loc: Iterable[Any]) -> tuple[int, str]:
    """Line and dotted key path of a pydantic error location.

    Location parts that are not keys of the data (union member tags) are skipped,
    and the nearest existing parent gives the line of a key that is missing.
    """
    path: list[str | int] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            current = current[part]
            path.append(part)
    probe = tuple(path)
    while probe and probe not in lines:
        probe = probe[:-1]
    return lines.get(probe, 1), _dotted(path)


# libyaml's emitter is four times faster, which a snapshot of a thousand accounts needs;
# it writes lists level with their key (`groups:` then `- Admins`), which is valid YAML.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write via a temporary file and rename, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 is for secrets; reports are not
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode() if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
