"""A baseline file's problems as a person reads them: the file, the line, the key path,
what was expected and what was found, the nearest known key for a typo."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from iamdrift.baselines.identity_center import IC_FIELDS
from iamdrift.baselines.models import (
    all_field_names,
)
from iamdrift.baselines.yamlio import YamlProblems, line_for, load_yaml_text
from iamdrift.errors import Problem


def load_model(path: Path, model: type[BaseModel], problems: list[Problem]):
    try:
        raw, lines = load_yaml_text(path.read_text(encoding="utf-8"), str(path), problems)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), 0, "", f"cannot read file: {exc}"))
        return None
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                str(path),
                1,
                "",
                f"expected a mapping of keys such as {', '.join(list(model.model_fields)[:3])}",
            )
        )
        return None
    try:
        return model.model_validate(raw), raw, lines
    except ValidationError as exc:
        problems.extend(problems_from(exc, str(path), raw, lines))
        return None


def problems_from(exc: ValidationError, filename: str, raw: Any, lines: dict) -> list[Problem]:
    out = []
    known = all_field_names() | IC_FIELDS
    for err in exc.errors(include_url=False):
        line, key = line_for(lines, raw, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            unknown = str(err["loc"][-1])
            near = difflib.get_close_matches(unknown, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            message = f"unknown key {unknown!r}{hint}"
        elif kind == "missing":
            message = f"required key {str(err['loc'][-1])!r} is missing"
            key = f"{key}.{err['loc'][-1]}" if key else str(err["loc"][-1])
        else:
            message = (
                err["msg"].removeprefix("Value error, ").replace("Input should be", "expected")
            )
            if kind == "string_pattern_mismatch":
                message = _pattern_message(key, err["input"])
            elif "got" not in message:
                message += f" (got {_short(err.get('input'))})"
        out.append(Problem(filename, line, key, message))
    return out


def _pattern_message(key: str, value: Any) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "account" or leaf == "management_account":
        expected = "a 12-digit AWS account id"
    elif "managed_policies" in key or leaf == "permissions_boundary":
        expected = "a policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess"
    elif leaf == "read_via":
        expected = "a role name or a role ARN such as arn:aws:iam::222222222222:role/Audit"
    elif leaf == "principal":
        expected = 'a principal ARN such as arn:aws:iam::111111111111:user/demo1, "*", service:NAME'
    elif leaf == "role":
        expected = "a role ARN such as arn:aws:iam::222222222222:role/MemberReadOnlyAccess"
    elif leaf in ("ou", "targets") or key.startswith("service_control_policies"):
        expected = "an OU path such as Root/Workloads (or an account id for a target)"
    elif leaf == "path":
        expected = "an IAM path that starts and ends with /"
    else:
        expected = "a valid IAM name (letters, digits and +=,.@_-)"
    return f"expected {expected}, got {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
