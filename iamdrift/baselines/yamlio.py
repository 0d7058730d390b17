"""YAML in and out: plain data plus the line of every key, duplicate keys rejected.

>>> data, lines = load_yaml_text("a:\\n  b: 1\\n", "x.yaml")
>>> lines[("a", "b")]
2
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
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


def load_yaml_text(
    text: str, filename: str, problems: list[Problem] | None = None
) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML; return the data and a map from key path to 1-based line.

    Broken syntax raises YamlProblems. A duplicate key is added to `problems` (the
    first value is kept so the rest of the file is still checked), or raises when
    no list is given.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlProblems(
            [Problem(filename, line, "", f"not valid YAML: {exc.problem or exc}")]
        ) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    found: list[Problem] = []
    data = _convert(node, (), lines, found, filename, loader) if node is not None else None
    if found and problems is None:
        raise YamlProblems(found)
    if problems is not None:
        problems.extend(found)
    return data, lines


def _convert(node, path, lines, problems, filename, loader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | bool | float) or key is None:
                problems.append(Problem(filename, line, _dotted(path), "keys must be plain text"))
                continue
            if key in seen:
                problems.append(
                    Problem(
                        filename,
                        line,
                        _dotted((*path, key)),
                        f"duplicate key (first defined on line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            out[key] = _convert(value_node, (*path, key), lines, problems, filename, loader)
            lines[(*path, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, i), lines, problems, filename, loader)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_for(lines: dict[Path_, int], data: Any, loc: Iterable[Any]) -> tuple[int, str]:
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


class _Dumper(yaml.SafeDumper):
    """Indent lists under their key, as people write IAM policies by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


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
