"""One account in the map step: read it (IAM, and what Identity Center assigns there),
compare it with its baseline, judge its risks and its edges, and project it for the
organization-wide steps. The Auditor (auditor.py) runs this for every account at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.access.edge import Edge
from iamdrift.access.evaluate import OrgContext
from iamdrift.access.local import local_edges, take_over_candidates
from iamdrift.access.projection import aws_policies_attached, member_edges, project
from iamdrift.access.risks import find_risks
from iamdrift.audit.identity_center import IdentityCenterContext, judge_assignments
from iamdrift.audit.outcome import AccountOutcome
from iamdrift.aws.hub import Hub
from iamdrift.aws.iam import collect_account
from iamdrift.baselines.baseline import AccountBaseline
from iamdrift.baselines.identity_center import AccountAssignments, IdentityCenterRead
from iamdrift.baselines.models import AccountState
from iamdrift.compare.diff import Selection, compared, diff_account
from iamdrift.compare.findings import sort_findings
from iamdrift.compare.identity_center import is_reserved
from iamdrift.errors import AccountTimeout, AccountUnreadable, aws_error_text, call_error_text


def read_account(hub: Hub, acct: AccountBaseline, deadline: float | None = None) -> AccountState:
    """One account's IAM; any failure (AssumeRole, a page, the time bound) is AccountUnreadable."""
    role_arn = None
    try:
        role_arn = None if hub.reads_directly(acct) else acct.role_arn()
        iam, role_arn = hub.iam_for(acct, deadline)
        return collect_account(iam, acct.id, role_arn)
    except AccountTimeout:
        raise AccountUnreadable(
            acct.id, role_arn, "no complete answer within the time bound (--account-timeout)"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        raise AccountUnreadable(acct.id, role_arn, aws_error_text(exc)) from exc
    except RuntimeError as exc:  # the hub's own credentials are unusable
        raise AccountUnreadable(acct.id, None, str(exc)) from exc


def read_assignments(
    hub: Hub, acct: AccountBaseline, ic: IdentityCenterRead | None
) -> AccountAssignments | None:
    """What Identity Center assigns in the account (None when Identity Center was not
    read); unreadable is AccountUnreadable, as for IAM."""
    if ic is None:
        return None
    try:
        return hub.assignments(ic, acct.id)
    except (ClientError, BotoCoreError, LookupError) as exc:
        why = f"Identity Center's assignments: {call_error_text(exc)}"
        raise AccountUnreadable(acct.id, None, why) from exc


@dataclass
class AuditContext:
    """What judging an account needs beyond its own state: the organization, the declared
    third parties, and which entities were asked for."""

    org: OrgContext
    third_parties: dict[str, str] = field(default_factory=dict)
    selection: Selection | None = None
    identity_center: IdentityCenterContext | None = None

    @property
    def identity_center_read(self) -> IdentityCenterRead | None:
        return self.identity_center.read if self.identity_center else None


def audit_account(
    hub: Hub,
    acct: AccountBaseline,
    context: Callable[[], AuditContext],
    deadline: float | None = None,
) -> AccountOutcome:
    """Read, compare, judge and project one account. `context` is asked for only once the
    account is read, so reading does not wait for the organization."""
    began = time.monotonic()
    try:
        state = read_account(hub, acct, deadline)
    except AccountUnreadable as exc:
        return AccountOutcome(id=acct.id, name=acct.name, error=str(exc))
    ctx = context()
    try:
        assigned = read_assignments(hub, acct, ctx.identity_center_read)
    except AccountUnreadable as exc:
        return AccountOutcome(id=acct.id, name=acct.name, error=str(exc))
    outcome = judge_account(hub, acct, state, ctx, assigned)
    outcome.seconds = round(time.monotonic() - began, 3)
    return outcome


def judge_account(
    hub: Hub,
    acct: AccountBaseline,
    state: AccountState,
    ctx: AuditContext,
    assigned: AccountAssignments | None = None,
) -> AccountOutcome:
    """Compare, judge and project one account's state, read or predicted (the bodies of the
    AWS managed policies it attaches are read through the hub, once per run), and what
    Identity Center assigns in it (`assigned`, when identity_center.yaml asks for it)."""
    expected = acct.expected
    names = compared(expected, state, acct.ignore, ctx.selection, acct.id)
    if ctx.identity_center is not None:  # its roles are judged against their sets instead
        names["roles"] = [
            n for n in names["roles"] if n not in state.roles or not is_reserved(state.roles[n])
        ]
    findings = diff_account(acct.id, expected, state, acct.ignore, acct.label, ctx.selection, names)
    checked = {kind: len(kind_names) for kind, kind_names in names.items()}
    outcome = AccountOutcome(id=acct.id, name=acct.name, findings=findings, checked=checked)
    try:
        bodies = hub.aws_policy_bodies(aws_policies_attached(state))
        risks = find_risks(acct.id, state, ctx.org, ctx.third_parties, bodies)
        outcome.risks = [r for r in risks if ctx.selection is None or ctx.selection.has(r)]
        admins, local = local_edges(acct.id, state, bodies, ctx.org)
        users = take_over_candidates(local, acct.id)
        if users:  # a few users, where a take-over depends on what they hold
            held = hub.credentials(acct, users)
            admins, local = local_edges(acct.id, state, bodies, ctx.org, held)
        sso: list[Edge] = []
        if ctx.identity_center is not None and assigned is not None:
            found, sso = judge_assignments(acct, state, ctx.identity_center, assigned, admins)
            outcome.findings = sort_findings([*outcome.findings, *found])
        outcome.projection = project(acct.id, state, bodies).model_copy(
            update={
                "administrators": admins,
                "local": local,
                "assigned": sso,
                "members": member_edges(assigned.members) if assigned else [],
            }
        )
    except (ClientError, BotoCoreError) as exc:
        why = call_error_text(exc)
        outcome.error = f"account {acct.label}: access could not be judged: {why}"
    except KeyError as exc:
        outcome.error = f"account {acct.label}: access could not be judged: {exc.args[0]}"
    return outcome
