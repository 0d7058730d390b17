"""Reading IAM Identity Center, read-only, with the hub's credentials (the management account
or Identity Center's delegated administrator).

Once for the organization: the instance, each permission set (description, inline
policy, managed policies, customer managed references, boundary, the accounts it is
provisioned to and those where its latest version is not), the identity store's groups
and users, and the members of the groups identity_center.yaml declares members for.
Who is assigned what is read the cheaper way (`plan_reads`): per principal, once (then
the members of every assigned group too), or per account, one ListAccountAssignments
per set provisioned there, in that account's reader, which also reads the members of
the groups assigned there that this process has not read yet. So memberships are read
only for the groups that are judged. Every call waits for its slot under AWS's quota
(aws/quota.py). Anything that cannot be read raises: never an empty list.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from iamdrift.aws.organizations import every_item
from iamdrift.baselines.identity_center import (
    AccountAssignments,
    Assigned,
    IdentityCenterRead,
    IdentityGroup,
    PermissionSet,
)
from iamdrift.errors import problem_text

NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


def choose_instance(
    instances: list[dict[str, Any]], pinned: str | None, management: str | None
) -> dict[str, Any] | None:
    """The instance to judge among those ListInstances gave (pure): the pinned one; else
    the only ACTIVE one, the organization's (owned by the management account) first when
    there are several; None when none is ACTIVE. Raises LookupError when the choice is
    not clear, saying how to pin one.

    >>> one = {"InstanceArn": "arn:aws:sso:::instance/ssoins-1", "Status": "ACTIVE"}
    >>> choose_instance([one, {**one, "Status": "CREATE_FAILED"}], None, None) == one
    True
    """
    if pinned is not None:
        found = [i for i in instances if i["InstanceArn"] == pinned]
        if not found:
            seen = ", ".join(i["InstanceArn"] for i in instances) or "none"
            raise LookupError(f"instance {pinned} is not among those the hub sees ({seen})")
        if found[0].get("Status", "ACTIVE") != "ACTIVE":
            raise LookupError(f"instance {pinned} is {found[0]['Status']}, not ACTIVE")
        return found[0]
    active = [i for i in instances if i.get("Status", "ACTIVE") == "ACTIVE"]
    if len(active) > 1 and management:  # an account instance beside the organization's
        active = [i for i in active if i.get("OwnerAccountId") == management] or active
    if len(active) > 1:
        seen = ", ".join(f"{i['InstanceArn']} (owner {i.get('OwnerAccountId')})" for i in active)
        raise LookupError(
            f"several Identity Center instances are ACTIVE: {seen}; name the one to judge "
            "with `instance:` in identity_center.yaml"
        )
    return active[0] if active else None


def find_instance(sso, pinned: str | None, management: str | None = None) -> tuple[str, str] | None:
    """(instance ARN, identity store id) of the instance to judge in this client's region;
    None when there is none (Identity Center not enabled there)."""
    found = choose_instance(every_item(sso, "list_instances", "Instances"), pinned, management)
    return (found["InstanceArn"], found["IdentityStoreId"]) if found else None


def _boundary(sso, instance: str, arn: str) -> str | None:
    try:
        found = sso.get_permissions_boundary_for_permission_set(
            InstanceArn=instance, PermissionSetArn=arn
        )["PermissionsBoundary"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None  # the documented answer for a set without a boundary
        raise
    ref = found.get("CustomerManagedPolicyReference")
    if ref:
        return f"{ref.get('Path') or '/'}{ref['Name']}"
    return found.get("ManagedPolicyArn")


def _permission_set(sso, instance: str, arn: str) -> tuple[str, PermissionSet]:
    described = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    described = described["PermissionSet"]
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=arn)
    managed = every_item(
        sso,
        "list_managed_policies_in_permission_set",
        "AttachedManagedPolicies",
        InstanceArn=instance,
        PermissionSetArn=arn,
    )
    refs = every_item(
        sso,
        "list_customer_managed_policy_references_in_permission_set",
        "CustomerManagedPolicyReferences",
        InstanceArn=instance,
        PermissionSetArn=arn,
    )
    body = inline.get("InlinePolicy") or ""
    name = described.get("Name") or arn
    try:
        content = PermissionSet.model_validate(
            {
                "session_duration": described.get("SessionDuration") or "PT1H",
                "managed_policies": sorted(m["Arn"] for m in managed),
                "customer_managed_policies": sorted(
                    f"{r.get('Path') or '/'}{r['Name']}" for r in refs
                ),
                "inline_policy": json.loads(body) if body else None,
                "permissions_boundary": _boundary(sso, instance, arn),
            }
        )
    except ValueError as exc:  # a ValidationError too: never a pydantic traceback, say what
        what = problem_text(exc) if isinstance(exc, ValidationError) else str(exc)
        raise LookupError(f"permission set {name} ({arn}) cannot be judged: {what}") from None
    return name, content


def read_identity_center(
    sso,
    store,
    pinned: str | None = None,
    management: str | None = None,
    declared_groups: set[str] = frozenset(),  # type: ignore[assignment]
    accounts: int = 0,
    caller: str | None = None,
) -> IdentityCenterRead | None:
    """Identity Center, once for the organization; None when this region has no instance.
    Members are read for `declared_groups` only (the rest where an account assigns them).
    `accounts`: how many accounts this process judges, and `caller` the hub's account:
    what decides the cheapest way to read who is assigned where (`plan_reads`)."""
    instances = every_item(sso, "list_instances", "Instances")
    found = choose_instance(instances, pinned, management)
    if found is None:
        return None
    instance, store_id = found["InstanceArn"], found["IdentityStoreId"]
    read = IdentityCenterRead(instance=instance, store=store_id)
    sets = every_item(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance)

    def permission_set(arn: str) -> tuple[str, str, PermissionSet, list[str], list[str]]:
        name, content = _permission_set(sso, instance, arn)
        stale = every_item(
            sso,
            "list_accounts_for_provisioned_permission_set",
            "AccountIds",
            InstanceArn=instance,
            PermissionSetArn=arn,
            ProvisioningStatus=NOT_PROVISIONED,
        )
        everywhere = every_item(
            sso,
            "list_accounts_for_provisioned_permission_set",
            "AccountIds",
            InstanceArn=instance,
            PermissionSetArn=arn,
        )
        return arn, name, content, stale, everywhere

    # Each set, principal and group is a few calls of its own: made side by side, enough of
    # them at once that the quotas (aws/quota.py), not round trips, set the pace; Identity
    # Center's and the identity store's in pools of their own, so that each quota is used
    # while the other's calls wait.
    with ThreadPoolExecutor(16) as admin, ThreadPoolExecutor(8) as directory:
        listed_users = directory.submit(
            every_item, store, "list_users", "Users", IdentityStoreId=store_id
        )
        listed_groups = directory.submit(
            every_item, store, "list_groups", "Groups", IdentityStoreId=store_id
        )
        provisioned: dict[str, list[str]] = {}
        for arn, name, content, stale, everywhere in admin.map(permission_set, sets):
            read.permission_sets[name] = content
            read.set_arns[arn] = name
            if stale:
                read.outdated[name] = sorted(stale)
            for account in everywhere:
                provisioned.setdefault(account, []).append(name)
        read.provisioned_to = {a: sorted(n) for a, n in sorted(provisioned.items())}
        # UserName and DisplayName are optional in the identity store's shapes: one without
        # a name is named by its id.
        users = {
            u["UserId"]: u.get("UserName") or f"id:{u['UserId']}" for u in listed_users.result()
        }
        read.users = sorted(users.values())
        ids = {uid: f"user:{name}" for uid, name in users.items()}
        for group in listed_groups.result():
            name = group.get("DisplayName") or f"id:{group['GroupId']}"
            ids[group["GroupId"]] = f"group:{name}"
            read.groups[name] = IdentityGroup()
        read.principals = ids
        group_ids = {n[6:]: g for g, n in ids.items() if n.startswith("group:")}
        members: dict[str, Future[list[str]]] = {}

        def judge(names: Iterable[str]) -> None:
            for name in names:
                if name in group_ids and name not in members:
                    members[name] = directory.submit(
                        members_of, store, store_id, group_ids[name], users
                    )

        judge(sorted(declared_groups))
        owner = found.get("OwnerAccountId")
        if plan_reads(read, accounts, caller is not None and caller == owner) == "principal":
            read.assigned = {}
            # Groups first: their members (the identity store's quota) are read while the
            # users' assignments (Identity Center's) are.
            for kind in ("group", "user"):
                principals = [(i, kind.upper()) for i, p in ids.items() if p.startswith(f"{kind}:")]
                for pairs in admin.map(lambda ip: _assigned_to(sso, read, *ip), principals):
                    for account, assigned in pairs:
                        read.assigned.setdefault(account, []).append(assigned)
                        if assigned.principal.startswith("group:"):
                            judge([assigned.principal[6:]])
        for name, found_members in members.items():
            read.groups[name] = IdentityGroup(members=found_members.result())
    return read


def plan_reads(ic: IdentityCenterRead, accounts: int, management: bool) -> str:
    """How to learn who is assigned what in each account, by counting calls (pure):
    `account`, one ListAccountAssignments per account and set provisioned there, or
    `principal`, one ListAccountAssignmentsForPrincipal per group and user of the identity
    store, which only the management account may call ("This action must be called from
    the management account", API Reference) and which needs the sets' accounts known.

    >>> ic = IdentityCenterRead(instance="i", store="s", principals={"g": "group:G"},
    ...                         provisioned_to={"1": ["A", "B"], "2": ["A"]})
    >>> plan_reads(ic, 2, True), plan_reads(ic, 2, False), plan_reads(ic, 1, True)
    ('principal', 'account', 'principal')
    """
    if not management or ic.provisioned_to is None:
        return "account"
    per_account = sum(len(sets) for sets in ic.provisioned_to.values())
    # Each process reads only its accounts' assignments; the principals' are everyone's.
    share = min(1.0, accounts / max(1, len(ic.provisioned_to)))
    return "principal" if len(ic.principals) < per_account * share else "account"


def _assigned(ic: IdentityCenterRead, answer: dict[str, Any]) -> Assigned:
    """An assignment as ListAccountAssignments(ForPrincipal) answers it."""
    name = ic.set_arns.get(answer["PermissionSetArn"])
    if name is None:  # created after the organization's read: read again next run
        raise LookupError(f"permission set {answer['PermissionSetArn']} appeared during the run")
    who = ic.principal(answer["PrincipalType"], answer["PrincipalId"])
    return Assigned(principal=who, permission_set=name)


def _assigned_to(
    sso, ic: IdentityCenterRead, principal: str, kind: str
) -> list[tuple[str, Assigned]]:
    """(account, assignment) of one principal, in every account."""
    found = every_item(
        sso,
        "list_account_assignments_for_principal",
        "AccountAssignments",
        InstanceArn=ic.instance,
        PrincipalId=principal,
        PrincipalType=kind,
    )
    return [(a["AccountId"], _assigned(ic, a)) for a in found]


def members_of(store, store_id: str, group_id: str, users: dict[str, str]) -> list[str]:
    """The user names (`users`: id -> name) of a group's members (one deleted since is
    named by its id)."""
    found = every_item(
        store,
        "list_group_memberships",
        "GroupMemberships",
        IdentityStoreId=store_id,
        GroupId=group_id,
    )
    ids = [uid for m in found if (uid := m["MemberId"].get("UserId"))]
    return sorted(users.get(uid, f"id:{uid}") for uid in ids)


class Memberships:
    """Members of the groups assigned somewhere, read once per process, by whichever
    account's reader meets a group first; that account's outcome carries them to the
    organization's judgement (so a thousand accounts assigning one group read it once and
    carry it once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._read: set[str] = set()
        self._users: dict[str, str] | None = None

    def first(self, store, ic: IdentityCenterRead, group_id: str) -> list[str] | None:
        """The group's members the first time it is asked for in this process; None after,
        and for a group read with the organization (declared) or deleted since."""
        kind, _, name = ic.principals.get(group_id, "").partition(":")
        if kind != "group" or ic.groups.get(name, IdentityGroup()).members is not None:
            return None
        with self._lock:
            lock = self._locks.setdefault(group_id, threading.Lock())
            if self._users is None:
                self._users = {
                    i: p.partition(":")[2] for i, p in ic.principals.items() if p[:5] == "user:"
                }
        with lock:
            if group_id in self._read:
                return None
            members = members_of(store, ic.store, group_id, self._users)
            self._read.add(group_id)
            return members


def read_account_assignments(
    sso, store, ic: IdentityCenterRead, account: str, memberships: Memberships
) -> AccountAssignments:
    """The sets provisioned to one account, who is assigned each there, and the members of
    the groups assigned there that no other account of this process has carried yet (from
    what the organization's read already learned, or with calls of this account's own)."""
    out = AccountAssignments(provisioned=list((ic.provisioned_to or {}).get(account, [])))
    if ic.assigned is not None:
        out.assignments = sorted(set(ic.assigned.get(account, [])), key=lambda a: a.name)
    else:
        arns = {n: a for a, n in ic.set_arns.items()}
        for name in out.provisioned:
            for a in every_item(
                sso,
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=ic.instance,
                AccountId=account,
                PermissionSetArn=arns[name],
            ):
                out.assignments.append(_assigned(ic, a))
    ids = {p: i for i, p in ic.principals.items()}
    for a in out.assignments:
        if a.principal.startswith("group:") and a.principal in ids:
            members = memberships.first(store, ic, ids[a.principal])
            if members is not None:
                out.members[a.principal.partition(":")[2]] = members
    out.provisioned.sort()
    out.assignments.sort(key=lambda a: (a.permission_set, a.principal))
    return out
