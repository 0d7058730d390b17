"""Identity Center's resources in Terraform plans and CloudFormation change sets, as
effects on the organization's Identity Center (pure; changes/identity_center.py applies
them).

A value the plan knows only after apply is unknown, unless the configuration's reference
names the resource that makes it (`permission_set_arn = aws_ssoadmin_permission_set.ops.arn`
is the set the plan names `ops`); a change set cannot say which (`{{changeSet:
KNOWN_AFTER_APPLY}}`), so there it is unknown. Types that do not change what a run judges
(applications, trusted token issuers, attributes for access control) are left alone.
"""

from __future__ import annotations

import json
from typing import Any

from iamdrift.changes.identity_center import (
    AccountAssignment,
    DirectoryEntry,
    GroupMembership,
    IcEffect,
    PermissionSetChange,
    PermissionSetExactly,
    PermissionSetPolicy,
    Ref,
)
from iamdrift.changes.references import Values

# The attribute a resource is referred to by, and the attribute naming what it makes.
_MAKES = {
    "aws_ssoadmin_permission_set": ("arn", "name"),
    "aws_identitystore_group": ("group_id", "display_name"),
    "aws_identitystore_user": ("user_id", "user_name"),
}
TERRAFORM = {
    "aws_ssoadmin_permission_set",
    "aws_ssoadmin_managed_policy_attachment",
    "aws_ssoadmin_managed_policy_attachments_exclusive",
    "aws_ssoadmin_customer_managed_policy_attachment",
    "aws_ssoadmin_customer_managed_policy_attachments_exclusive",
    "aws_ssoadmin_permission_set_inline_policy",
    "aws_ssoadmin_permissions_boundary_attachment",
    "aws_ssoadmin_account_assignment",
    "aws_identitystore_group",
    "aws_identitystore_group_membership",
    "aws_identitystore_user",
}
CLOUDFORMATION = {
    "AWS::SSO::PermissionSet",
    "AWS::SSO::Assignment",
    "AWS::IdentityStore::Group",
    "AWS::IdentityStore::GroupMembership",
}


class Untold(ValueError):
    """A value the effect needs that only apply will tell: (attribute)."""


def _ref(c: Values, key: str) -> Ref:
    if c.known(key) and c.values.get(key):
        return Ref(id=str(c.values[key]))
    for kind, attribute, planned in c.referenced(key):
        if kind in _MAKES and attribute == _MAKES[kind][0]:
            name = planned.get(_MAKES[kind][1])
            if isinstance(name, str) and name:
                return Ref(name=name)
    raise Untold(key)


def _value(c: Values, key: str) -> Any:
    if not c.known(key):
        raise Untold(key)
    return c.values.get(key)


def _reference(block: Any) -> str:
    """A customer managed policy reference block as `/path/Name`."""
    block = (block or [{}])[0] if isinstance(block, list) else block or {}
    path = block.get("path") or block.get("Path") or "/"
    return f"{path}{block.get('name') or block.get('Name')}"


def _boundary(block: Any) -> str | None:
    block = (block or [{}])[0] if isinstance(block, list) else block or {}
    reference = block.get("customer_managed_policy_reference") or block.get(
        "CustomerManagedPolicyReference"
    )
    if reference:
        return _reference(reference)
    return block.get("managed_policy_arn") or block.get("ManagedPolicyArn")


def _policy(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value or None


def terraform_effects(t: str, c: Values, present: bool) -> list[IcEffect]:
    """What one resource's values make (`present`) or undo. Raises Untold."""
    a = c.address
    if t == "aws_ssoadmin_permission_set":
        name = _value(c, "name")
        if not present:
            return [PermissionSetChange(Ref(name=name), None, a)]
        return [PermissionSetChange(Ref(name=name), {"session_duration": _duration(c)}, a)]
    if t in ("aws_identitystore_group", "aws_identitystore_user"):
        key = "display_name" if t == "aws_identitystore_group" else "user_name"
        kind = "group" if t == "aws_identitystore_group" else "user"
        return [DirectoryEntry(kind, _value(c, key), present, a)]
    if t == "aws_identitystore_group_membership":
        return [GroupMembership(_ref(c, "group_id"), _ref(c, "member_id"), present, a)]
    ps = _ref(c, "permission_set_arn")
    if t == "aws_ssoadmin_account_assignment":
        kind = _value(c, "principal_type")
        account = str(_value(c, "target_id") or "")
        if not (account.isdigit() and len(account) == 12):
            raise Untold("target_id")
        return [AccountAssignment(kind, _ref(c, "principal_id"), ps, account, present, a)]
    if t == "aws_ssoadmin_managed_policy_attachment":
        arn = _value(c, "managed_policy_arn")
        return [PermissionSetPolicy(ps, "managed_policies", arn, present, a)]
    if t == "aws_ssoadmin_customer_managed_policy_attachment":
        ref = _reference(_value(c, "customer_managed_policy_reference"))
        return [PermissionSetPolicy(ps, "customer_managed_policies", ref, present, a)]
    if t == "aws_ssoadmin_permission_set_inline_policy":
        body = _policy(_value(c, "inline_policy")) if present else None
        return [PermissionSetPolicy(ps, "inline_policy", body, present, a)]
    if t == "aws_ssoadmin_permissions_boundary_attachment":
        bound = _boundary(_value(c, "permissions_boundary")) if present else None
        return [PermissionSetPolicy(ps, "permissions_boundary", bound, present, a)]
    if not present:  # an exclusive list no longer managed is left as it is
        return []
    if t == "aws_ssoadmin_managed_policy_attachments_exclusive":
        arns = tuple(_value(c, "managed_policy_arns") or ())
        return [PermissionSetExactly(ps, "managed_policies", arns, a)]
    refs = tuple(_reference([b]) for b in _value(c, "customer_managed_policy_reference") or ())
    return [PermissionSetExactly(ps, "customer_managed_policies", refs, a)]


def _duration(c: Values) -> str:
    # CreatePermissionSet's SessionDuration is optional; Identity Center's default is an hour.
    return _value(c, "session_duration") or "PT1H"


def change_set_effects(t: str, props: dict, present: bool, address: str) -> list[IcEffect]:
    """What one CloudFormation resource's properties make (`present`) or undo. Raises
    Untold for a property CloudFormation resolves only on apply."""

    def get(key: str) -> Any:
        value = props.get(key)
        if "{{changeSet:KNOWN_AFTER_APPLY}}" in json.dumps(value):
            raise Untold(key)
        return value

    if t == "AWS::SSO::PermissionSet":
        ref = Ref(name=get("Name"))
        if not present:
            return [PermissionSetChange(ref, None, address)]
        # The set's properties are its whole content: each list exact, each absent one empty.
        return [
            PermissionSetChange(
                ref, {"session_duration": get("SessionDuration") or "PT1H"}, address
            ),
            PermissionSetExactly(
                ref, "managed_policies", tuple(get("ManagedPolicies") or ()), address
            ),
            PermissionSetExactly(
                ref,
                "customer_managed_policies",
                tuple(_reference(r) for r in get("CustomerManagedPolicyReferences") or ()),
                address,
            ),
            PermissionSetPolicy(ref, "inline_policy", _policy(get("InlinePolicy")), True, address),
            PermissionSetPolicy(
                ref, "permissions_boundary", _boundary(get("PermissionsBoundary")), True, address
            ),
        ]
    if t == "AWS::SSO::Assignment":
        account = str(get("TargetId") or "")
        if not (account.isdigit() and len(account) == 12):
            raise Untold("TargetId")
        return [
            AccountAssignment(
                get("PrincipalType"),
                Ref(id=get("PrincipalId")),
                Ref(id=get("PermissionSetArn")),
                account,
                present,
                address,
            )
        ]
    if t == "AWS::IdentityStore::Group":
        return [DirectoryEntry("group", get("DisplayName"), present, address)]
    member = (get("MemberId") or {}).get("UserId")
    return [GroupMembership(Ref(id=get("GroupId")), Ref(id=member), present, address)]
