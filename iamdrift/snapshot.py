"""`runner.py snapshot`: write baselines from live state.

A snapshot followed at once by `run` against the same live state finds nothing:
entities that ignore rules hide are left out, and so are members' entities that
equal the organization's member_baseline (it stays written once).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamdrift.access import OrgContext, build_graph, policy_bodies_needed
from iamdrift.audit import Hub, read_account
from iamdrift.baseline import (
    ACCESS_FILE,
    ACCOUNTS_DIR,
    ORGANIZATION_FILE,
    AccountBaseline,
    Baseline,
    load_baselines,
    member_defaults,
)
from iamdrift.diff import is_ignored
from iamdrift.errors import AccountUnreadable
from iamdrift.models import (
    ENTITY_KINDS,
    AccessFile,
    AccountState,
    OrganizationFile,
    PolicyDocument,
    StrictModel,
)
from iamdrift.orgstate import STRUCTURE_FILE, scp_levels
from iamdrift.policy import normalize
from iamdrift.yamlio import dump_yaml, load_yaml_text, write_atomic


@dataclass
class SnapshotResult:
    written: list[Path] = field(default_factory=list)
    errors: list[AccountUnreadable] = field(default_factory=list)


def _has_baselines(directory: Path) -> bool:
    return (directory / ORGANIZATION_FILE).exists() or any(
        (directory / ACCOUNTS_DIR).glob("*.y*ml")
    )


def take_snapshot(
    directory: str | Path, hub: Hub, only: list[str] | None = None, concurrency: int = 8
) -> SnapshotResult:
    """Read every known account and (re)write its baseline file. Raises BaselineError."""
    root = Path(directory)
    existing = load_baselines(root) if _has_baselines(root) else None
    try:
        hub_account = hub.account()
    except RuntimeError as exc:
        return SnapshotResult(errors=[AccountUnreadable("hub", None, str(exc))])
    members = hub.organization_accounts()
    org = existing.organization if existing else None
    result = SnapshotResult()
    if org is None and members is not None:
        org = OrganizationFile(management_account=hub_account)
        text = (
            "# Written by `runner.py snapshot`. Defaults and member_baseline are yours to edit.\n"
            + dump_yaml(
                {
                    "management_account": hub_account,
                    "discover_accounts": True,
                    "defaults": org.defaults.model_dump(),
                    "member_baseline": {},
                }
            )
        )
        write_atomic(root / ORGANIZATION_FILE, text)
        result.written.append(root / ORGANIZATION_FILE)

    targets = _targets(root, existing, org, members or {}, hub_account, only)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        states = list(pool.map(lambda t: _read(hub, t), targets))
    for acct, state in zip(targets, states, strict=True):
        if isinstance(state, AccountUnreadable):
            result.errors.append(state)
            continue
        defaults = _member_defaults(existing, acct)
        path = Path(acct.file)
        write_atomic(path, _account_yaml(acct, state, defaults, existing))
        result.written.append(path)
    if not result.errors and not only:
        result.written += _organization_files(
            root, hub, existing, {t.id: s for t, s in zip(targets, states, strict=True)}
        )
    return result


def _organization_files(
    root: Path, hub: Hub, existing: Baseline | None, states: dict[str, AccountState]
) -> list[Path]:
    """structure.yaml (when the hub may read the organization) and access.yaml.

    Only after every account was read: a graph of some accounts would declare too little.
    """
    written = []
    structure = hub.structure()
    if structure is not None:
        doc = {
            "accounts": {a: m.model_dump() for a, m in sorted(structure.accounts.items())},
            "service_control_policies": {
                n: {"document": p.document.as_json(), "targets": p.targets}
                for n, p in sorted(structure.service_control_policies.items())
            },
        }
        write_atomic(
            root / STRUCTURE_FILE,
            "# Written by `runner.py snapshot`: members, OUs, SCPs.\n" + dump_yaml(doc),
        )
        written.append(root / STRUCTURE_FILE)
    management = existing.management_account if existing and existing.organization else None
    org = OrgContext(
        management=management or (hub.account() if structure else None),
        members=set(structure.accounts) if structure else set(states),
        scp_levels=scp_levels(structure) if structure else {},
    )
    graph = build_graph(states, org, hub.aws_policy_bodies(policy_bodies_needed(states)))
    settings = existing.access if existing and existing.access else AccessFile()
    doc = {
        "exclusive": settings.exclusive,
        "risks": settings.risks,
        "third_parties": settings.third_parties,
        "edges": [
            {
                "principal": e.principal.key,
                "role": e.role,
                **({"conditions": e.conditions} if e.conditions else {}),
            }
            for e in graph.edges
        ],
    }
    write_atomic(
        root / ACCESS_FILE,
        "# Written by `runner.py snapshot` from the live access "
        "graph. Review every edge before committing.\n" + dump_yaml(doc),
    )
    written.append(root / ACCESS_FILE)
    return written


def _read(hub: Hub, acct: AccountBaseline) -> AccountState | AccountUnreadable:
    try:
        return read_account(hub, acct)
    except AccountUnreadable as exc:
        return exc


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "account"


def _targets(
    root: Path,
    existing: Baseline | None,
    org: OrganizationFile | None,
    members: dict[str, str],
    hub_account: str,
    only: list[str] | None,
) -> list[AccountBaseline]:
    defaults = (org or OrganizationFile()).defaults
    known = dict(existing.accounts) if existing else {}
    names = {**members, **{k: v.name for k, v in known.items()}}
    names.setdefault(hub_account, "hub")
    out = []
    for account in sorted(names):
        if only and account not in only:
            continue
        if account in known:
            out.append(known[account])
            continue
        file = root / ACCOUNTS_DIR / f"{account}-{_slug(names[account])}.yaml"
        out.append(
            AccountBaseline(
                id=account,
                name=names[account],
                file=str(file),
                expected=AccountState(),
                read_via=defaults.read_via,
                external_id=defaults.external_id,
                session_name=defaults.session_name,
                ignore=defaults.ignore,
                is_management=org is not None and account == org.management_account,
            )
        )
    return out


def _member_defaults(existing: Baseline | None, acct: AccountBaseline) -> AccountState:
    """The member_baseline as it applies to this account (empty when there is none)."""
    if not existing or not existing.organization or acct.is_management:
        return AccountState()
    return member_defaults(existing.organization, acct.id)


def _entity_yaml(entity: StrictModel) -> dict[str, Any]:
    data = entity.model_dump(exclude_defaults=True)
    for key, value in entity:
        if isinstance(value, PolicyDocument):
            data[key] = value.as_json()
        elif key == "inline_policies" and value:
            data[key] = {n: d.as_json() for n, d in value.items()}
    return data


def _same(a: StrictModel, b: StrictModel) -> bool:
    def canon(e: StrictModel) -> dict[str, Any]:
        data = e.model_dump()
        for key, value in e:
            if isinstance(value, PolicyDocument):
                data[key] = normalize(value)
            elif key == "inline_policies":
                data[key] = {n: normalize(d) for n, d in value.items()}
            elif isinstance(value, list):
                data[key] = sorted(set(value))
        return data

    return canon(a) == canon(b)


def _account_yaml(
    acct: AccountBaseline, state: AccountState, defaults: AccountState, existing: Baseline | None
) -> str:
    doc: dict[str, Any] = {"account": acct.id, "name": acct.name}
    declared = existing.accounts.get(acct.id) if existing else None
    if declared is not None:
        # Keep how the account is read and what it ignores, as the person wrote it.
        raw, _ = load_yaml_text(Path(declared.file).read_text(encoding="utf-8"), declared.file)
        doc.update({k: raw[k] for k in ("read_via", "external_id", "ignore") if k in raw})
    for kind in ENTITY_KINDS:
        entities: dict[str, StrictModel] = getattr(state, kind)
        base: dict[str, StrictModel] = getattr(defaults, kind)
        named = getattr(declared.expected, kind) if declared else {}
        out = {}
        for name in sorted(entities):
            entity = entities[name]
            if name not in named and is_ignored(getattr(acct.ignore, kind), entity.path, name):  # type: ignore[attr-defined]
                continue
            if name in base and _same(base[name], entity):
                continue
            out[name] = _entity_yaml(entity)
        if out:
            doc[kind] = out
    header = "# Written by `runner.py snapshot` from live IAM. Review before committing.\n"
    return header + dump_yaml(doc)
