"""Planned changes from files: Terraform JSON plans and CloudFormation change sets, told
apart by what they hold, read within bounds (they come from pull requests).

>>> read_changes([], {}, None)[0]
{}
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from iamdrift.changes.cloudformation import read_change_set
from iamdrift.changes.effects import AccountChanges
from iamdrift.changes.references import PlanError
from iamdrift.changes.terraform import read_terraform

MAX_BYTES = 64 * 2**20  # a plan of thousands of resources is a few MB


def _load(path: Path) -> dict:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PlanError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise PlanError(f"{path}: not JSON ({str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path}: expected a JSON object (a plan or a change set)")
    return data


def read_changes(
    paths: list[str | Path], providers: dict[str, str], default: str | None
) -> tuple[dict[str, AccountChanges], Counter[str]]:
    """Effects per account across the files, and the resource types left alone. Raises
    PlanError, naming the file, for anything that is neither format."""
    out: dict[str, AccountChanges] = {}
    ignored: Counter[str] = Counter()
    for raw in paths:
        path = Path(raw)
        data = _load(path)
        try:
            if "format_version" in data and (
                "resource_changes" in data or "planned_values" in data
            ):
                found, skipped = read_terraform(data, providers, default)
            elif "Changes" in data and ("ChangeSetId" in data or "StackId" in data):
                found, skipped = read_change_set(data)
            else:
                raise PlanError(
                    "neither a Terraform JSON plan (terraform show -json tfplan) nor a "
                    "CloudFormation change set (describe-change-set --include-property-values)"
                )
        except PlanError as exc:
            raise PlanError(f"{path}: {exc}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise PlanError(
                f"{path}: not a plan this version reads ({type(exc).__name__}: {exc})"
            ) from None
        ignored += skipped
        for account, changes in found.items():
            into = out.setdefault(account, AccountChanges(account))
            into.effects += changes.effects
            into.addresses += changes.addresses
    return out, ignored
