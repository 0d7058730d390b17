"""Identity Center in the run: what judging it needs, per account (assignments, provisioned
roles, edges into the access graph) and once for the organization (sets, groups)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from iamdrift.access.edge import Edge
from iamdrift.access.projection import arn_of
from iamdrift.audit.organization import Judgement, missing_outcomes
from iamdrift.audit.outcome import AccountOutcome, OrganizationRead
from iamdrift.baselines.baseline import AccountBaseline, Baseline
from iamdrift.baselines.identity_center import (
    AccountAssignments,
    IdentityCenterFile,
    IdentityCenterRead,
)
from iamdrift.baselines.models import AccountState
from iamdrift.compare.aspects import KINDS
from iamdrift.compare.findings import Finding, sort_findings
from iamdrift.compare.identity_center import (
    AccountIdentityCenter,
    diff_account_assignments,
    diff_organization,
    expected_in,
    partition_of,
    provisioned_role,
)

# The findings the check reports: those the registry places in identity_center.yaml.
IC_KINDS = {k.name for k in KINDS.values() if k.file == "identity_center"}


def node(principal: str) -> str:
    """The access graph's node of an assigned principal.

    >>> node("group:PlatformAdmins")
    'identitycenter:group/PlatformAdmins'
    """
    kind, _, name = principal.partition(":")
    return f"identitycenter:{kind}/{name}"


@dataclass
class IdentityCenterContext:
    """identity_center.yaml, Identity Center as read (None when it could not be), and each
    account's OU (assignments may be declared by OU)."""

    file: IdentityCenterFile
    read: IdentityCenterRead | None
    ous: dict[str, str]


def identity_center_context(
    baseline: Baseline, org: OrganizationRead
) -> IdentityCenterContext | None:
    if baseline.identity_center is None:
        return None
    structure = org.structure or baseline.structure
    ous = {a: m.ou for a, m in structure.accounts.items()} if structure else {}
    return IdentityCenterContext(baseline.identity_center, org.identity_center, ous)


def judge_assignments(
    acct: AccountBaseline,
    state: AccountState,
    ctx: IdentityCenterContext,
    assigned: AccountAssignments,
    administrators: list[str],
) -> tuple[list[Finding], list[Edge]]:
    """One account's Identity Center findings, and its assignments as edges to the roles
    provisioned for them (a set without its role here is no way in)."""
    assert ctx.read is not None
    expected = expected_in(ctx.file, acct.id, acct.name, ctx.ous.get(acct.id))
    live = set(assigned.assignments)
    roles = {s: provisioned_role(state, s) for s in {a.permission_set for a in live | expected}}
    arns = {
        s: arn_of(acct.id, "role", found[1].path, found[0])
        for s, found in roles.items()
        if found is not None
    }
    admin_sets = {s for s, arn in arns.items() if arn in administrators}
    here = AccountIdentityCenter(
        acct.id,
        acct.label,
        expected,
        live,
        assigned.provisioned,
        ctx.read.permission_sets,
        {s for s, accounts in ctx.read.outdated.items() if acct.id in accounts},
        partition_of(ctx.read.instance),
    )
    findings = diff_account_assignments(here, state, admin_sets)
    edges = [
        Edge(
            principal=node(a.principal),
            target=arns[a.permission_set],
            kind="sign-in",
            path=[
                f"Identity Center assigns {node(a.principal).split(':', 1)[1]} permission "
                f"set {a.permission_set} in {acct.id}"
            ],
            declared=a in expected,
        )
        for a in sorted(live, key=lambda a: a.name)
        if a.permission_set in arns
    ]
    return findings, edges


def judge_identity_center(
    baseline: Baseline,
    org: OrganizationRead,
    accounts: list[AccountBaseline],
    outcomes: Mapping[str, AccountOutcome],
) -> Judgement:
    """Every Identity Center finding of the run: the organization's (sets, groups) and each
    account's (assignments, provisioning); an error when any of it is unknown."""
    assert baseline.identity_center is not None
    if org.identity_center_error or org.identity_center is None:
        why = org.identity_center_error or org.error or "not read"
        return Judgement(error=f"Identity Center could not be read: {why}")
    unknown = missing_outcomes(accounts, outcomes, "Identity Center")
    if unknown is not None:
        return unknown
    management = baseline.management_account or org.hub_account or ""
    findings = diff_organization(management, baseline.identity_center, org.identity_center)
    for a in accounts:
        findings += [f for f in outcomes[a.id].findings if f.resource_type in IC_KINDS]
    return Judgement(sort_findings(findings))
