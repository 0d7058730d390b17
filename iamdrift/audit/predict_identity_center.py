"""Identity Center in a prediction: the organization's Identity Center once a plan is
applied (changes/identity_center.py), and in each account it touches, the roles Identity
Center would provision or remove and who would be assigned there, as AWS does it (see
changes/identity_center.py for the sentences followed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from iamdrift.access.projection import member_edges
from iamdrift.audit.outcome import AccountOutcome
from iamdrift.baselines.identity_center import (
    AccountAssignments,
    IdentityCenterRead,
    PermissionSet,
)
from iamdrift.baselines.models import AccountState, Role
from iamdrift.changes.identity_center import IdentityCenterPlan
from iamdrift.compare.identity_center import (
    INLINE_NAME,
    RESERVED_PATH,
    UNKNOWN_SUFFIX,
    is_reserved,
    missing_policies,
    partition_of,
    provisioned_role,
    role_of,
)


@dataclass
class AccountPlan:
    """One account's Identity Center once the plan is applied."""

    state: AccountState
    assigned: AccountAssignments
    outdated: set[str]  # sets whose latest version could not be provisioned here
    groups: set[str]  # groups assigned here that were not before


def apply_to_account(
    plan: IdentityCenterPlan,
    account: str,
    state: AccountState,
    assigned: AccountAssignments,
    outdated: set[str],
) -> AccountPlan:
    """The account's provisioned roles and assignments once the plan is applied."""
    ic = plan.read
    partition = partition_of(ic.instance)
    roles = dict(state.roles)
    live = set(assigned.assignments)
    now = set(live)
    for a, present in plan.assignments.get(account, {}).items():
        if not present:
            now.discard(a)
        elif a.permission_set in ic.permission_sets and not missing_policies(
            ic.permission_sets[a.permission_set], state
        ):
            now.add(a)  # an assignment Identity Center cannot make is not made
    held = {a.permission_set for a in now}
    changes = plan.assignments.get(account, {})
    unassigned = {a.permission_set for a, present in changes.items() if not present}
    provisioned = set(assigned.provisioned)
    left = set(outdated)
    for name in sorted(provisioned - held):
        if name in unassigned or name not in ic.permission_sets:
            # The last assignment of a set in an account removed: its role goes with it.
            found = provisioned_role(state, name)
            if found is not None:
                roles.pop(found[0], None)
            provisioned.discard(name)
            left.discard(name)
    for name in sorted(held | provisioned):
        content = ic.permission_sets.get(name)
        if content is None or not (name not in provisioned or name in plan.changed):
            continue
        if missing_policies(content, state):
            left.add(name)
            continue
        found = provisioned_role(state, name)
        role_name = found[0] if found else f"AWSReservedSSO_{name}_{UNKNOWN_SUFFIX}"
        like = found[1] if found else _door(state, account)
        roles[role_name] = _provisioned(like, content, role_of(content, account, partition))
        provisioned.add(name)
        left.discard(name)
    after = state.model_copy(update={"roles": roles})
    had = {a.principal for a in live}
    groups = {
        a.principal.partition(":")[2]
        for a in now - live
        if a.principal.startswith("group:") and a.principal not in had
    }
    out = AccountAssignments(
        provisioned=sorted(provisioned),
        assignments=sorted(now, key=lambda a: (a.permission_set, a.principal)),
        members=dict(assigned.members),
    )
    return AccountPlan(after, out, left, groups)


def _door(state: AccountState, account: str) -> Role:
    """A new provisioned role's trust: Identity Center's SAML provider in the account, as
    the account's other provisioned roles trust it (its name is the account's own)."""
    for role in state.roles.values():
        if is_reserved(role):
            return role
    provider = f"arn:aws:iam::{account}:saml-provider/AWSSSO_{'0' * 16}_DO_NOT_DELETE"
    return Role.model_validate(
        {
            "path": RESERVED_PATH,
            "trust_policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider},
                        "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    }
                ],
            },
            "max_session_duration": 43200,
        }
    )


def _provisioned(like: Role, content: PermissionSet, policies: dict) -> Role:
    """The role Identity Center provisions for a set: its trust kept, its policies the set's
    (`policies`: as compare/identity_center.role_of resolves them in the account)."""
    inline = content.inline_policy
    return like.model_copy(
        update={
            "path": RESERVED_PATH,
            "managed_policies": list(policies["managed_policies"]),
            "inline_policies": {INLINE_NAME: inline} if inline else {},
            "permissions_boundary": policies["permissions_boundary"],
        }
    )


def outdated_in(ic: IdentityCenterRead, account: str) -> set[str]:
    """The sets whose latest version is not provisioned in the account."""
    return {s for s, accounts in ic.outdated.items() if account in accounts}


def record(ic: IdentityCenterRead, account: str, plan: AccountPlan) -> None:
    """The organization's read once the account's Identity Center is as `plan` says: which
    sets are provisioned there, which outdated (the account's judgement reads both)."""
    for name in {*ic.outdated, *plan.outdated}:
        accounts = set(ic.outdated.get(name, [])) - {account}
        accounts |= {account} if name in plan.outdated else set()
        if accounts:
            ic.outdated[name] = sorted(accounts)
        else:
            ic.outdated.pop(name, None)
    if ic.provisioned_to is not None:
        ic.provisioned_to[account] = list(plan.assigned.provisioned)
    if ic.assigned is not None:
        ic.assigned[account] = list(plan.assigned.assignments)


def carried_members(outcomes: dict[str, AccountOutcome]) -> dict[str, list[str]]:
    """The members of the groups that accounts' outcomes carry (group -> users)."""
    out: dict[str, set[str]] = {}
    for o in outcomes.values():
        for e in o.projection.members if o.projection else []:
            out.setdefault(e.target.partition("/")[2], set()).add(e.principal.partition("/")[2])
    return {g: sorted(users) for g, users in out.items()}


def with_members(
    outcomes: dict[str, AccountOutcome], changed: dict[str, dict[str, bool]]
) -> dict[str, AccountOutcome]:
    """The outcomes with the plan's membership changes applied to the groups they carry."""
    out = dict(outcomes)
    for account, o in outcomes.items():
        if o.projection is None or not o.projection.members:
            continue
        held = carried_members({account: o})
        if not set(held) & set(changed):
            continue
        for group, users in changed.items():
            if group in held:
                held[group] = apply_members(held[group], users)
        projection = o.projection.model_copy(update={"members": member_edges(held)})
        out[account] = o.model_copy(update={"projection": projection})
    return out


def apply_members(members: list[str], changes: dict[str, bool]) -> list[str]:
    """The members once the changes are applied.

    >>> apply_members(["a", "b"], {"b": False, "c": True})
    ['a', 'c']
    """
    kept = {m for m in members if changes.get(m, True)}
    return sorted(kept | {u for u, present in changes.items() if present})


def newly_assigned_members(
    plan: IdentityCenterPlan,
    groups: set[str],
    known: dict[str, list[str]],
    read_members: Callable[[str], list[str]],
) -> dict[str, list[str]]:
    """The members a run would carry for groups the plan assigns where no account carried
    them yet: read now (read-only), with the plan's membership changes applied."""
    out = {}
    for group in sorted(groups):
        declared = plan.read.groups.get(group)
        if (declared is not None and declared.members is not None) or group in known:
            continue
        out[group] = apply_members(read_members(group), plan.members.get(group, {}))
    return out
