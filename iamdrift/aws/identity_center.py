"""Reading IAM Identity Center, read-only, with the hub's credentials (the management account
or Identity Center's delegated administrator).

Once for the organization: the instance, each permission set (description, inline
policy, managed policies, customer managed references, boundary, and the accounts where
its latest version is not provisioned), and the identity store's groups, users and
memberships. Per account: the sets provisioned to it, then the assignments of each
(ListAccountAssignments needs both the account and the set). So the calls grow as
6 per permission set + 1 per group + the pages of groups and users, once, plus
1 + (sets provisioned there) per account. Anything that cannot be read raises: never an
empty list.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from iamdrift.aws.organizations import every_item
from iamdrift.baselines.identity_center import (
    AccountAssignments,
    Assigned,
    IdentityCenterRead,
    IdentityGroup,
    PermissionSet,
)

NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


def find_instance(sso, pinned: str | None) -> tuple[str, str] | None:
    """(instance ARN, identity store id): the pinned one, else the only one; None when the
    hub sees no instance (Identity Center not enabled, or not administered from here)."""
    instances = every_item(sso, "list_instances", "Instances")
    if pinned is not None:
        found = [i for i in instances if i["InstanceArn"] == pinned]
        if not found:
            seen = ", ".join(i["InstanceArn"] for i in instances) or "none"
            raise LookupError(f"instance {pinned} is not among those the hub sees ({seen})")
        instances = found
    if not instances:
        return None
    return instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]


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
        sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
        InstanceArn=instance, PermissionSetArn=arn,
    )  # fmt: skip
    refs = every_item(
        sso, "list_customer_managed_policy_references_in_permission_set",
        "CustomerManagedPolicyReferences", InstanceArn=instance, PermissionSetArn=arn,
    )  # fmt: skip
    body = inline.get("InlinePolicy") or ""
    content = PermissionSet.model_validate(
        {
            "session_duration": described.get("SessionDuration") or "PT1H",
            "managed_policies": sorted(m["Arn"] for m in managed),
            "customer_managed_policies": sorted(f"{r.get('Path') or '/'}{r['Name']}" for r in refs),
            "inline_policy": json.loads(body) if body else None,
            "permissions_boundary": _boundary(sso, instance, arn),
        }
    )
    return described["Name"], content


def read_identity_center(sso, store, pinned: str | None = None) -> IdentityCenterRead | None:
    """Identity Center, once for the organization; None when the hub sees no instance."""
    found = find_instance(sso, pinned)
    if found is None:
        return None
    instance, store_id = found
    read = IdentityCenterRead(instance=instance, store=store_id)

    def permission_set(arn: str) -> tuple[str, str, PermissionSet, list[str]]:
        name, content = _permission_set(sso, instance, arn)
        stale = every_item(
            sso, "list_accounts_for_provisioned_permission_set", "AccountIds",
            InstanceArn=instance, PermissionSetArn=arn, ProvisioningStatus=NOT_PROVISIONED,
        )  # fmt: skip
        return arn, name, content, stale

    def members(group: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return group, every_item(
            store, "list_group_memberships", "GroupMemberships",
            IdentityStoreId=store_id, GroupId=group["GroupId"],
        )  # fmt: skip

    # Each set and each group is a few calls of its own: made side by side, as accounts are.
    with ThreadPoolExecutor(max_workers=8) as pool:
        sets = every_item(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance)
        for arn, name, content, stale in pool.map(permission_set, sets):
            read.permission_sets[name] = content
            read.set_arns[arn] = name
            if stale:
                read.outdated[name] = sorted(stale)
        users = {
            u["UserId"]: u["UserName"]
            for u in every_item(store, "list_users", "Users", IdentityStoreId=store_id)
        }
        read.users = sorted(users.values())
        ids = {uid: f"user:{name}" for uid, name in users.items()}
        groups = every_item(store, "list_groups", "Groups", IdentityStoreId=store_id)
        for group, memberships in pool.map(members, groups):
            read.groups[group["DisplayName"]] = IdentityGroup(
                members=sorted(
                    users.get(uid, f"id:{uid}")
                    for m in memberships
                    if (uid := m["MemberId"].get("UserId", ""))
                )
            )
            ids[group["GroupId"]] = f"group:{group['DisplayName']}"
    read.principals = ids
    return read


def read_account_assignments(sso, ic: IdentityCenterRead, account: str) -> AccountAssignments:
    """The sets provisioned to one account, and who is assigned each there."""
    out = AccountAssignments()
    for arn in every_item(
        sso, "list_permission_sets_provisioned_to_account", "PermissionSets",
        InstanceArn=ic.instance, AccountId=account,
    ):  # fmt: skip
        name = ic.set_arns.get(arn)
        if name is None:  # created after the organization's read: read again next run
            raise LookupError(f"permission set {arn} appeared during the run")
        out.provisioned.append(name)
        for a in every_item(
            sso, "list_account_assignments", "AccountAssignments",
            InstanceArn=ic.instance, AccountId=account, PermissionSetArn=arn,
        ):  # fmt: skip
            who = ic.principal(a["PrincipalType"], a["PrincipalId"])
            out.assignments.append(Assigned(principal=who, permission_set=name))
    out.provisioned.sort()
    out.assignments.sort(key=lambda a: (a.permission_set, a.principal))
    return out
