"""Predict what a planned change would make of the organization, with the run's own judgement.

The accounts the change touches are read live (read-only, fail closed, as `run` reads
them); the planned effects are applied to their state; both states are judged by the
same comparison, risks and projection as a run. The accounts it does not touch come from
the latest run's stored outcomes (its `accounts.gz`), or, with no run yet, are read. The
access graph and the reachability rules are judged over the whole organization before
and after. A finding of the prediction carries the id a run after apply would report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.access.edge import AccessRow, Edge
from iamdrift.access.reach import LIVE
from iamdrift.audit.account import AuditContext, judge_account, read_account, read_assignments
from iamdrift.audit.auditor import Auditor
from iamdrift.audit.identity_center import identity_center_context
from iamdrift.audit.organization import (
    AccessJudgement,
    judge_access,
    org_context,
    organization_findings,
)
from iamdrift.audit.outcome import (
    AccountOutcome,
    OrganizationRead,
    Part,
    baselines_digest,
    read_part,
)
from iamdrift.audit.predict_identity_center import (
    apply_to_account,
    carried_members,
    newly_assigned_members,
    outdated_in,
    record,
    with_members,
)
from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.kinds import SECTIONS, by_section
from iamdrift.baselines.load import load_whole
from iamdrift.changes.effects import (
    ORGANIZATION,
    AccountChanges,
    Unknown,
    predict_state,
)
from iamdrift.changes.identity_center import (
    IC_EFFECTS,
    IdentityCenterPlan,
    apply_identity_center,
    declare_members,
)
from iamdrift.changes.organization import ORG_EFFECTS, apply_structure, scope
from iamdrift.compare.findings import Finding, Place, finding, sort_findings
from iamdrift.compare.identity_center import diff_organization
from iamdrift.errors import AccountUnreadable, call_error_text


@dataclass
class Basis:
    """The run the untouched accounts come from."""

    run_id: str
    started: str


@dataclass
class Prediction:
    new: list[Finding] = field(default_factory=list)  # what the change would cause
    existing: list[Finding] = field(default_factory=list)  # drift before it, still there
    resolved: list[Finding] = field(default_factory=list)  # drift it would end
    risks_added: list[Finding] = field(default_factory=list)
    gained: list[AccessRow] = field(default_factory=list)
    lost: list[AccessRow] = field(default_factory=list)
    gained_inside: list[Edge] = field(default_factory=list)
    lost_inside: list[Edge] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # account (or "access") -> why
    after: dict[str, AccountOutcome] = field(default_factory=dict)  # the touched accounts
    access_after: AccessJudgement | None = None


def stored_part(run_dir: Path | None, baseline: Baseline) -> tuple[Part | None, Basis | None]:
    """The latest run's stored outcomes, to judge the accounts a change does not touch by:
    only when it kept them whole (no `--entity` narrowing) and was checked against these
    same baselines; otherwise none, and every account is read as a run would."""
    if run_dir is None or not (run_dir / "accounts.gz").exists():
        return None, None
    try:
        part = read_part(run_dir / "accounts.gz")
    except ValueError:
        return None, None
    if part.selection or part.baselines != baselines_digest([*baseline.directory.rglob("*.y*ml")]):
        return None, None
    return part, Basis(run_dir.name, part.started)


def unknown_finding(account: str, u: Unknown) -> Finding:
    kind = by_section(u.section).name if u.section in SECTIONS else "account"
    name = u.entity if u.section else account
    where = Place(account, kind, name, f"Account {account}")
    return finding(
        where,
        f"unknown:{u.attribute}",
        "changed",
        "high",
        f"{u.attribute} is known only after apply ({u.address}): what it does cannot be "
        "judged before",
    )


def predict(
    baseline: Baseline,
    changes: dict[str, AccountChanges],
    auditor: Auditor,
    part: Part | None,
) -> Prediction:
    """Judge the organization before and after the change (see the module's docstring)."""
    out = Prediction()
    accounts = baseline.select(None)
    # An account the latest run could not read is read now, as a run would.
    stored = {o.id: o for o in part.accounts if not o.error} if part else {}
    org = part.organization if part else auditor.organization()
    org_after = org
    changes = dict(changes)
    of_org = changes.pop(ORGANIZATION, None)
    sso: IdentityCenterPlan | None = None
    if of_org is not None:
        org_after = _organization(out, baseline, org, of_org, changes)
        sso = _identity_center(out, baseline, org, of_org, changes)
        if sso is not None:
            org_after = org_after.model_copy(update={"identity_center": sso.read})
    ctx, ctx_after = _context(baseline, org), _context(baseline, org_after)
    before: dict[str, AccountOutcome] = {}
    after: dict[str, AccountOutcome] = {}
    unstored = {a.id for a in accounts if a.id not in changes and a.id not in stored}
    load_whole(baseline, {*changes, *unstored})  # the only account files parsed whole
    hub = auditor.hub()
    read_groups: dict[str, list[str]] = {}
    for account, planned in sorted(changes.items()):
        acct = baseline.accounts.get(account)
        if acct is None:
            out.errors[account] = f"the plan changes account {account}, which has no baseline"
            continue
        try:
            state = read_account(auditor.hub(), acct)
            assigned = read_assignments(auditor.hub(), acct, ctx.identity_center_read)
        except AccountUnreadable as exc:
            out.errors[account] = str(exc)
            continue
        before[account] = judge_account(auditor.hub(), acct, state, ctx, assigned)
        known = [e for e in planned.effects if not isinstance(e, Unknown)]
        try:
            predicted, untold = predict_state(state, known)
        except ValueError as exc:
            out.errors[account] = f"the planned state of account {account} is not valid IAM: {exc}"
            continue
        assigned_after = assigned
        if sso is not None and assigned is not None and account in sso.touched:
            planned_ic = apply_to_account(
                sso, account, predicted, assigned, outdated_in(sso.read, account)
            )
            record(sso.read, account, planned_ic)
            predicted, assigned_after = planned_ic.state, planned_ic.assigned
            carried = {**carried_members(stored), **carried_members(before), **read_groups}
            try:
                assigned_after.members.update(
                    newly_assigned_members(
                        sso, planned_ic.groups, carried, lambda g: hub.group_members(sso.read, g)
                    )
                )
            except (ClientError, BotoCoreError) as exc:
                why = call_error_text(exc)
                out.errors[account] = f"Identity Center's group members: {why}"
                continue
            read_groups.update(assigned_after.members)
        after[account] = judge_account(auditor.hub(), acct, predicted, ctx_after, assigned_after)
        said = {(u.section, u.entity) for u in planned.unknowns}
        untold = [u for u in untold if (u.section, u.entity) not in said]
        out.new += [unknown_finding(account, u) for u in [*planned.unknowns, *untold]]
    missing = [baseline.accounts[a] for a in sorted(unstored)]
    if missing and not out.errors:
        auditor.start(missing)  # no stored outcome for them: read them, as a run would
        for acct in missing:
            stored[acct.id] = auditor.outcome(acct)
    for account in after:  # those judged both ways (one whose apply failed is an error)
        _compare(out, before[account].findings, after[account].findings)
        have = {r.id for r in before[account].risks}
        out.risks_added += [r for r in after[account].risks if r.id not in have]
    out.after = after
    if not out.errors:
        _compare(
            out,
            organization_findings(baseline, org)[0],
            organization_findings(baseline, org_after)[0],
        )
        outcomes_after = {**stored, **after}
        if sso is not None:
            management = baseline.management_account or org.hub_account or ""
            declared = baseline.identity_center
            assert declared is not None and org.identity_center is not None
            _compare(
                out,
                diff_organization(management, declared, org.identity_center),
                diff_organization(management, declared, sso.read),
            )
            outcomes_after = with_members(outcomes_after, sso.members)
        _judge_access(
            out, baseline, (org, org_after), accounts, {**stored, **before}, outcomes_after
        )
    out.new, out.existing = sort_findings(out.new), sort_findings(out.existing)
    out.resolved, out.risks_added = sort_findings(out.resolved), sort_findings(out.risks_added)
    return out


def _organization(
    out: Prediction,
    baseline: Baseline,
    org: OrganizationRead,
    planned: AccountChanges,
    changes: dict[str, AccountChanges],
) -> OrganizationRead:
    """The organization once its planned changes are applied; the accounts whose SCPs they
    change are added to those to read and judge again (their administrators and edges
    inside them depend on their SCPs)."""
    management = baseline.management_account or org.hub_account or ""
    out.new += [unknown_finding(management, u) for u in planned.unknowns]
    if not any(isinstance(e, ORG_EFFECTS) for e in planned.effects):
        return org
    if org.structure is None:
        out.errors[ORGANIZATION] = "the plan changes the organization, which the hub cannot read"
        return org
    known = [e for e in planned.effects if isinstance(e, ORG_EFFECTS)]
    try:
        structure = apply_structure(org.structure, org.ids, known)
    except ValueError as exc:
        out.errors[ORGANIZATION] = f"the plan's organization cannot be told: {exc}"
        return org
    old_scps, new_scps = org.structure.service_control_policies, structure.service_control_policies
    changed = {n for n in {*old_scps, *new_scps} if old_scps.get(n) != new_scps.get(n)}
    touched = {
        account
        for st in (org.structure, structure)
        for name in changed & set(st.service_control_policies)
        for target in st.service_control_policies[name].targets
        for account in scope(st, target)
    }
    moved = {*org.structure.accounts, *structure.accounts}
    touched |= {a for a in moved if org.structure.accounts.get(a) != structure.accounts.get(a)}
    for account in touched & set(baseline.accounts):
        changes.setdefault(account, AccountChanges(account))
    return org.model_copy(update={"structure": structure})


def _identity_center(
    out: Prediction,
    baseline: Baseline,
    org: OrganizationRead,
    planned: AccountChanges,
    changes: dict[str, AccountChanges],
) -> IdentityCenterPlan | None:
    """Identity Center once the plan's changes to it are applied; the accounts they touch
    (assigned or unassigned there, a changed set provisioned there) are added to those to
    read and judge again."""
    effects = [e for e in planned.effects if isinstance(e, IC_EFFECTS)]
    if not effects:
        return None
    management = baseline.management_account or org.hub_account or ""
    if baseline.identity_center is None:
        # No identity_center.yaml: a run reads no Identity Center, so what the change
        # provisions into accounts cannot be told.
        first = next(e.address for e in effects)
        out.new.append(unknown_finding(management, Unknown("", first, "identity_center", first)))
        return None
    if org.identity_center is None:
        why = org.identity_center_error or "not read"
        out.errors[ORGANIZATION] = (
            f"the plan changes Identity Center, which could not be read: {why}"
        )
        return None
    plan = apply_identity_center(org.identity_center, effects)
    declare_members(plan, baseline.identity_center.declared_members)
    if plan.unresolved:
        out.errors[ORGANIZATION] = (
            f"the plan's Identity Center cannot be told: {plan.unresolved[0]}"
        )
        return None
    for account in plan.touched & set(baseline.accounts):
        changes.setdefault(account, AccountChanges(account))
    return plan


def _context(baseline: Baseline, org: OrganizationRead) -> AuditContext:
    access = baseline.access
    return AuditContext(
        org_context(baseline, org),
        access.third_parties if access else {},
        identity_center=identity_center_context(baseline, org),
    )


def _compare(out: Prediction, before: list[Finding], after: list[Finding]) -> None:
    was = {f.id for f in before}
    now = {f.id for f in after}
    out.new += [f for f in after if f.id not in was]
    out.existing += [f for f in after if f.id in was]
    out.resolved += [f for f in before if f.id not in now]


def _judge_access(out, baseline, orgs, accounts, before, after) -> None:
    judged = [
        judge_access(baseline, org, accounts, outcomes)
        for org, outcomes in zip(orgs, (before, after), strict=True)
    ]
    for j in judged:
        if j.error:
            out.errors["access"] = j.error
            return
    _compare(out, judged[0].findings, judged[1].findings)
    rows = [{(r.principal, r.role): r for r in j.rows if r.status in LIVE} for j in judged]
    out.gained = [r for k, r in sorted(rows[1].items()) if k not in rows[0]]
    out.lost = [r for k, r in sorted(rows[0].items()) if k not in rows[1]]
    inside = [
        {
            (e.principal, e.target): e
            for o in outcomes.values()
            if o.projection
            for e in o.projection.local
        }
        for outcomes in (before, after)
    ]
    out.gained_inside = [e for k, e in sorted(inside[1].items()) if k not in inside[0]]
    out.lost_inside = [e for k, e in sorted(inside[0].items()) if k not in inside[1]]
    out.access_after = judged[1]
