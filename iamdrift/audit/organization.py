"""The reduce step (pure): the organization-wide judgement from the baselines, the organization
as the hub read it, and every account's outcome.

The in-process run, xdist's controller and `merge` all call these; what they are
given differs (outcomes read now, sent by workers, or from part files), the judgement
does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iamdrift.access.declared import diff_access
from iamdrift.access.edge import AccessRow, Edge
from iamdrift.access.evaluate import OrgContext
from iamdrift.access.graph import build_graph, risky_role_arns
from iamdrift.access.projection import AccountProjection, member_edges
from iamdrift.access.reach import Reachability
from iamdrift.access.rules import Accounts, RuleResult, check_rules
from iamdrift.audit.outcome import AccountOutcome, OrganizationRead
from iamdrift.baselines.baseline import AccountBaseline, Baseline
from iamdrift.baselines.identity_center import IdentityCenterRead
from iamdrift.compare.findings import Finding, sort_findings
from iamdrift.compare.organization import diff_membership, diff_structure


def org_context(baseline: Baseline, org: OrganizationRead) -> OrgContext:
    """Who is inside the organization: its live members when the hub may list them, else
    the declared accounts and the management account the organization names."""
    management = baseline.management_account or org.management
    declared = set(baseline.accounts) | ({management} if management else set())
    return OrgContext.of(management, org.structure, declared, org.org_id)


def organization_findings(
    baseline: Baseline, org: OrganizationRead
) -> tuple[list[Finding], str | None]:
    """Members without a baseline and baselines without a member; OUs and SCPs against
    structure.yaml. (findings, None), or ([], why the organization is unknown)."""
    if org.error:
        return [], org.error
    if org.structure is None:
        return [], "the hub credentials may not read the organization"
    management = baseline.management_account or ""
    declared = {a.id: a.name for a in baseline.accounts.values()}
    live = {a: m.name for a, m in org.structure.accounts.items()}
    findings = diff_membership(management, declared, live)
    if baseline.structure is not None:
        findings += diff_structure(management, baseline.structure, org.structure)
    return sort_findings(findings), None


@dataclass
class Judgement:
    """A check over every account's outcome (judged once all are in): its findings, or
    why it could not be judged."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    elsewhere: bool = False  # the error is other accounts', recorded on them


@dataclass
class AccessJudgement(Judgement):
    """The access graph against access.yaml: findings, every edge with its status, and the
    roles that carry risks (outlined in the matrix)."""

    rows: list[AccessRow] = field(default_factory=list)
    risky_roles: set[str] = field(default_factory=set)
    rules: list[RuleResult] = field(default_factory=list)  # each reachability rule's verdict
    local: list[Edge] = field(default_factory=list)  # Identity Center's members


def missing_outcomes(
    accounts: list[AccountBaseline], outcomes: Mapping[str, AccountOutcome], what: str
) -> Judgement | None:
    """An error naming the accounts without an outcome, or unread (never a pass)."""
    missing = [a.label for a in accounts if a.id not in outcomes]
    present = [outcomes[a.id] for a in accounts if a.id in outcomes]
    unread = [o.id for o in present if o.error or o.projection is None]
    if missing or unread:
        why = "no outcome arrived for" if missing else "these could not be read:"
        return Judgement(
            error=f"{what} needs every account; {why} {', '.join(missing or unread)}",
            elsewhere=True,
        )
    return None


def judge_access(
    baseline: Baseline,
    org: OrganizationRead,
    accounts: list[AccountBaseline],
    outcomes: Mapping[str, AccountOutcome],
) -> AccessJudgement:
    """The access check over `accounts`; one without an outcome, or unread, makes the
    graph unknown (an error, never a pass)."""
    unknown = missing_outcomes(accounts, outcomes, "the access graph")
    if unknown is not None:
        return AccessJudgement(error=unknown.error, elsewhere=True)
    present = [outcomes[a.id] for a in accounts]
    if org.error:
        return AccessJudgement(error=f"the access graph could not be built: {org.error}")
    if baseline.identity_center is not None and org.identity_center is None:
        why = org.identity_center_error or "Identity Center was not read"
        return AccessJudgement(error=f"the access graph lacks Identity Center: {why}")
    if baseline.access is None:
        return AccessJudgement()
    ctx = org_context(baseline, org)
    projections = {o.id: o.projection for o in present if o.projection}
    findings, rows = diff_access(baseline.access, build_graph(projections, ctx), ctx)
    risky = set().union(*(risky_role_arns(o.projection, o.risks) for o in present if o.projection))
    members = memberships(org.identity_center, projections.values()) if org.identity_center else []
    rules: list[RuleResult] = []
    if baseline.access.rules:
        graph = Reachability(
            rows,
            [*members, *(e for p in projections.values() for e in p.local)],
            [a for p in projections.values() for a in p.administrators],
        )
        known = Accounts(
            names={a.id: a.name for a in baseline.accounts.values()},
            ous={a: m.ou for a, m in org.structure.accounts.items()} if org.structure else {},
        )
        broken, rules = check_rules(baseline.access.rules, graph, known)
        findings = sort_findings([*findings, *broken])
    return AccessJudgement(findings, rows=rows, risky_roles=risky, rules=rules, local=members)


def memberships(ic: IdentityCenterRead, projections: Iterable[AccountProjection]) -> list[Edge]:
    """Identity Center's members of the groups judged: declared ones, read with the
    organization, and those assigned somewhere, carried by the accounts' projections."""
    declared = {n: g.members for n, g in ic.groups.items() if g.members is not None}
    edges = [*member_edges(declared), *(e for p in projections for e in p.members)]
    return [e for _, e in sorted({(e.target, e.principal): e for e in edges}.items())]
