"""`snapshot`: baselines written from live state, for a new estate or a reviewed redo.

A snapshot followed at once by `run` against the same live state finds nothing:
entities that ignore rules hide are left out, and so are members' entities that
equal the organization's member_baseline (it stays written once).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.access.evaluate import OrgContext
from iamdrift.access.graph import build_graph
from iamdrift.access.projection import AccountProjection, aws_policies_attached, project
from iamdrift.audit.account import read_account, read_assignments
from iamdrift.audit.auditor import tune_collector
from iamdrift.aws.hub import Hub
from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.baseline import (
    ACCESS_FILE,
    ACCOUNTS_DIR,
    IDENTITY_CENTER_FILE,
    ORGANIZATION_FILE,
    STRUCTURE_FILE,
    AccountBaseline,
    Baseline,
)
from iamdrift.baselines.identity_center import AccountAssignments, IdentityCenterRead, as_file
from iamdrift.baselines.kinds import SECTIONS
from iamdrift.baselines.load import load_baselines, member_defaults
from iamdrift.baselines.models import AccountState, OrganizationFile
from iamdrift.baselines.policy import StrictModel
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.write import (
    access_yaml,
    account_yaml,
    identity_center_yaml,
    organization_yaml,
    structure_yaml,
)
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.diff import diff_account, is_ignored, wider_versions
from iamdrift.compare.identity_center import is_reserved
from iamdrift.errors import AccountUnreadable, aws_error_text, call_error_text


@dataclass
class SnapshotResult:
    written: list[Path] = field(default_factory=list)
    errors: list[AccountUnreadable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was skipped, to say


def _has_baselines(directory: Path) -> bool:
    return (directory / ORGANIZATION_FILE).exists() or any(
        (directory / ACCOUNTS_DIR).glob("*.y*ml")
    )


def take_snapshot(
    directory: str | Path, hub: Hub, only: list[str] | None = None, concurrency: int = 8
) -> SnapshotResult:
    """Read every known account and (re)write its baseline file. Raises BaselineError.

    Each account's file is written as soon as it is read, and only its projection is kept
    for access.yaml, so memory does not grow with the accounts' size.
    """
    root = Path(directory)
    existing = load_baselines(root) if _has_baselines(root) else None
    tune_collector()
    try:
        hub_account = hub.account()
        structure = hub.structure()
    except (RuntimeError, ClientError, BotoCoreError) as exc:
        reason = str(exc) if isinstance(exc, RuntimeError) else aws_error_text(exc)
        return SnapshotResult(errors=[AccountUnreadable("hub", None, reason)])
    members = {a: m.name for a, m in structure.accounts.items()} if structure else None
    org = existing.organization if existing else None
    result = SnapshotResult()
    declared = existing.identity_center if existing else None
    try:
        ic = hub.identity_center(
            declared.instance if declared else None,
            declared.region if declared else None,
            declared.declared_members if declared else set(),
            len(members) if members else 1,
        )
    except (ClientError, BotoCoreError, LookupError) as exc:
        # Only "no instance in any region the hub can call" means not in use: anything else
        # is an error, before a file is written (no account file loses its Identity Center
        # roles' context, no identity_center.yaml is left out unseen).
        why = f"Identity Center could not be read: {call_error_text(exc)}"
        return SnapshotResult(errors=[AccountUnreadable("hub", None, why)], notes=hub.notes)
    result.notes = hub.notes
    if ic is None and declared is not None:  # asked for, so none found is an error
        result.errors.append(
            AccountUnreadable(
                "hub",
                None,
                "Identity Center: no instance in any region the hub "
                "can call, although identity_center.yaml exists",
            )
        )
    if org is None and members is not None:
        org = OrganizationFile(management_account=hub_account)
        write_atomic(root / ORGANIZATION_FILE, organization_yaml(org))
        result.written.append(root / ORGANIZATION_FILE)

    targets = _targets(root, existing, org, members or {}, hub_account, only)
    projections: dict[str, AccountProjection] = {}
    assigned: dict[str, AccountAssignments] = {}
    for acct, read in _read_all(hub, targets, concurrency, ic):
        if isinstance(read, AccountUnreadable):
            result.errors.append(read)
            continue
        state, assigned[acct.id] = read
        own = state
        if ic is not None:  # Identity Center's roles are declared by their permission sets
            kept = {n: r for n, r in state.roles.items() if not is_reserved(r)}
            own = state.model_copy(update={"roles": kept})  # (the access graph keeps them)
        path = Path(acct.file)
        written = existing.accounts.get(acct.id) if existing else None
        own = _declarable(acct, own, _member_defaults(existing, acct), written)
        write_atomic(path, account_yaml(acct, own, written.file if written else None))
        result.written.append(path)
        try:
            bodies = hub.aws_policy_bodies(aws_policies_attached(state))
            projections[acct.id] = project(acct.id, state, bodies)
        except (ClientError, BotoCoreError, KeyError) as exc:
            reason = aws_error_text(exc) if not isinstance(exc, KeyError) else exc.args[0]
            result.errors.append(AccountUnreadable(acct.id, None, f"access: {reason}"))
    result.written.sort()
    if not result.errors and not only:
        named = hub.management_account()  # as DescribeOrganization names it, to any member
        result.written += _organization_files(root, named, structure, existing, projections)
        if ic is not None:
            region = ic.region or (declared.region if declared else None)
            text = identity_center_yaml(as_file(ic, assigned, region))
            write_atomic(root / IDENTITY_CENTER_FILE, text)
            result.written.append(root / IDENTITY_CENTER_FILE)
    return result


def _organization_files(
    root: Path,
    named: str | None,
    structure: Structure | None,
    existing: Baseline | None,
    projections: dict[str, AccountProjection],
) -> list[Path]:
    """structure.yaml (when the hub may read the organization) and access.yaml.

    Only after every account was read: a graph of some accounts would declare too little.
    """
    written = []
    if structure is not None:
        write_atomic(root / STRUCTURE_FILE, structure_yaml(structure))
        written.append(root / STRUCTURE_FILE)
    management = existing.management_account if existing and existing.organization else None
    management = management or named
    org = OrgContext.of(
        management, structure, set(projections) | ({management} if management else set())
    )
    graph = build_graph(projections, org)
    settings = existing.access if existing and existing.access else AccessFile()
    edges = [(e.principal, e.target, e.conditions) for e in graph.edges]
    write_atomic(root / ACCESS_FILE, access_yaml(settings, edges))
    written.append(root / ACCESS_FILE)
    return written


def _read_all(
    hub: Hub, targets: list[AccountBaseline], concurrency: int, ic: IdentityCenterRead | None
) -> Iterator[tuple[AccountBaseline, Read | AccountUnreadable]]:
    """Accounts as they are read, at most `concurrency` at once and as many waiting to be
    written, so no more than that many states are ever held."""
    todo = iter(targets)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        running = {
            pool.submit(_read, hub, t, ic): t for t in itertools.islice(todo, 2 * concurrency)
        }
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.result()
                nxt = next(todo, None)
                if nxt is not None:
                    running[pool.submit(_read, hub, nxt, ic)] = nxt


Read = tuple[AccountState, AccountAssignments]


def _read(
    hub: Hub, acct: AccountBaseline, ic: IdentityCenterRead | None
) -> Read | AccountUnreadable:
    try:
        state = read_account(hub, acct)
    except AccountUnreadable as exc:
        return exc
    try:
        return state, read_assignments(hub, acct, ic) or AccountAssignments()
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
                packed=AccountBaseline.pack(AccountState()),
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


def _same(kind: str, name: str, a: StrictModel, b: StrictModel) -> bool:
    """Equal by meaning, as a run would judge them."""
    return not diff_account(
        "", AccountState(**{kind: {name: a}}), AccountState(**{kind: {name: b}})
    )


def _declarable(
    acct: AccountBaseline,
    state: AccountState,
    defaults: AccountState,
    declared: AccountBaseline | None,
) -> AccountState:
    """What the account's file should declare for a run to find nothing: live entities but
    those the ignore rules hide (unless the file names them) and those equal by meaning to
    member_baseline's; of a managed policy's other versions, the ones a run would report."""
    kept: dict[str, dict[str, StrictModel]] = {}
    for kind in SECTIONS:
        entities: dict[str, StrictModel] = getattr(state, kind)
        base: dict[str, StrictModel] = getattr(defaults, kind)
        named = getattr(declared.expected, kind) if declared else {}
        out = kept[kind] = {}
        for name in sorted(entities):
            entity = entities[name]
            if name not in named and is_ignored(getattr(acct.ignore, kind), entity.path, name):  # type: ignore[attr-defined]
                continue
            if name in base and _same(kind, name, base[name], entity):
                continue
            if kind == "policies":
                wider = wider_versions(entity.document, entity.dormant_versions)  # type: ignore[attr-defined]
                entity = entity.model_copy(update={"dormant_versions": wider})
            out[name] = entity
    return state.model_copy(update=kept)
