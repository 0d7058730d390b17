"""Baseline files written from live state (`snapshot`): the same models a baseline loads
into, serialized as YAML a reviewer reads, each file with a header that says where it
came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.baseline import AccountBaseline
from iamdrift.baselines.kinds import SECTIONS
from iamdrift.baselines.models import AccountState, OrganizationFile, as_baseline
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.yamlio import dump_yaml, load_yaml_text

_BY = "# Written by `runner.py snapshot`"
ACCOUNT_HEADER = f"{_BY} from live IAM. Review before committing.\n"
ORGANIZATION_HEADER = f"{_BY}. Defaults and member_baseline are yours to edit.\n"
STRUCTURE_HEADER = f"{_BY}: members, OUs, SCPs.\n"
ACCESS_HEADER = f"{_BY} from the live access graph. Review every edge before committing.\n"
IDENTITY_CENTER_HEADER = f"{_BY} from IAM Identity Center. Review before committing.\n"


def account_yaml(acct: AccountBaseline, state: AccountState, declared_file: str | None) -> str:
    """An account's file: its id, name, the entities of `state`; how the account is read and
    what it ignores are kept as the person wrote them in `declared_file`."""
    doc: dict[str, Any] = {"account": acct.id, "name": acct.name}
    if declared_file is not None:
        raw, _ = load_yaml_text(Path(declared_file).read_text(encoding="utf-8"), declared_file)
        doc.update({k: raw[k] for k in ("read_via", "external_id", "ignore") if k in raw})
    for section in SECTIONS:
        entities = getattr(state, section)
        if entities:
            doc[section] = {name: as_baseline(entities[name]) for name in sorted(entities)}
    return ACCOUNT_HEADER + dump_yaml(doc)


def organization_yaml(org: OrganizationFile) -> str:
    return ORGANIZATION_HEADER + dump_yaml(
        {
            "management_account": org.management_account,
            "discover_accounts": org.discover_accounts,
            "defaults": org.defaults.model_dump(),
            "member_baseline": org.member_baseline,
        }
    )


def structure_yaml(structure: Structure) -> str:
    doc = {
        "accounts": {a: m.model_dump() for a, m in sorted(structure.accounts.items())},
        "service_control_policies": {
            n: {"document": p.document.as_json(), "targets": p.targets}
            for n, p in sorted(structure.service_control_policies.items())
        },
    }
    return STRUCTURE_HEADER + dump_yaml(doc)


def access_yaml(settings: AccessFile, edges: list[tuple[str, str, dict[str, Any]]]) -> str:
    """access.yaml with `settings` kept and the (principal, role, conditions) edges."""
    doc = {
        "exclusive": settings.exclusive,
        "risks": settings.risks,
        "third_parties": settings.third_parties,
        "edges": [
            {"principal": p, "role": r, **({"conditions": c} if c else {})} for p, r, c in edges
        ],
    }
    return ACCESS_HEADER + dump_yaml(doc)


def identity_center_yaml(doc: dict[str, Any]) -> str:
    return IDENTITY_CENTER_HEADER + dump_yaml(doc)
