"""What a planned change does to IAM Identity Center, and applying it (pure).

Plans name Identity Center's objects by ARN and id (`permission_set_arn`, `principal_id`)
or, for what they create, by a reference to the resource that makes it; a `Ref` keeps
either, and `resolve_*` turns it into the names a run judges by (`group:NAME`, the set's
name) with the organization's Identity Center read.

How a change reaches the accounts follows AWS and the tools that apply it:
CreateAccountAssignment provisions the set into the account ("As part of a successful
CreateAccountAssignment call, the specified permission set will automatically be
provisioned to the account", API Reference) and fails when the account lacks a customer
managed policy the set references ("IAM Identity Center fails to assign the permission set
if the policy doesn't exist in your member account", User Guide); a set changed by
Terraform is provisioned again to every account it is provisioned to (the provider's
documentation: "Updating this resource will automatically Provision the Permission Set to
apply the corresponding updates to all assigned accounts", and the same for creating each
of its policy attachments; its code provisions after a detach too), as it is by
CloudFormation (AWS::SSO::PermissionSet's update handler calls ProvisionPermissionSet);
where that fails the account keeps the previous version: outdated.

>>> from iamdrift.baselines.identity_center import IdentityCenterRead
>>> ic = IdentityCenterRead(instance="i", store="s")
>>> after = apply_identity_center(ic, [PermissionSetChange(Ref(name="Ops"), {})]).read
>>> sorted(after.permission_sets)
['Ops']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from iamdrift.baselines.identity_center import (
    Assigned,
    IdentityCenterRead,
    IdentityGroup,
    PermissionSet,
)

PolicyAttribute = Literal[
    "managed_policies", "customer_managed_policies", "inline_policy", "permissions_boundary"
]


@dataclass(frozen=True)
class Ref:
    """An Identity Center object as the plan names it: its id or ARN when it exists, or
    the name the plan gives what it creates."""

    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class PermissionSetChange:
    """Create or update a set's own fields (`session_duration`), or delete it (None)."""

    set: Ref
    fields: dict[str, Any] | None
    address: str = ""


@dataclass(frozen=True)
class PermissionSetPolicy:
    """Attach (`present`) or detach one of a set's policies: a managed policy ARN, a
    customer managed `/path/Name`, the inline policy or the boundary (`value`)."""

    set: Ref
    attribute: PolicyAttribute
    value: Any
    present: bool
    address: str = ""


@dataclass(frozen=True)
class PermissionSetExactly:
    """A set's list of managed or customer managed policies becomes exactly `values`."""

    set: Ref
    attribute: PolicyAttribute
    values: tuple[str, ...]
    address: str = ""


@dataclass(frozen=True)
class AccountAssignment:
    """A principal (GROUP or USER) given a set in an account (`present`), or no longer."""

    kind: Literal["GROUP", "USER"]
    principal: Ref
    set: Ref
    account: str
    present: bool
    address: str = ""


@dataclass(frozen=True)
class DirectoryEntry:
    """A group or user of the identity store created or deleted (by name)."""

    kind: Literal["group", "user"]
    name: str
    present: bool
    address: str = ""


@dataclass(frozen=True)
class GroupMembership:
    """A user added to a group, or removed."""

    group: Ref
    user: Ref
    present: bool
    address: str = ""


IcEffect = (
    PermissionSetChange
    | PermissionSetPolicy
    | PermissionSetExactly
    | AccountAssignment
    | DirectoryEntry
    | GroupMembership
)

IC_EFFECTS = (
    PermissionSetChange,
    PermissionSetPolicy,
    PermissionSetExactly,
    AccountAssignment,
    DirectoryEntry,
    GroupMembership,
)


class Unresolved(ValueError):
    """A reference to an object the organization does not hold and the plan does not make."""

    def __init__(self, address: str, what: str):
        super().__init__(f"{address}: {what}")
        self.address, self.what = address, what


def resolve_set(ic: IdentityCenterRead, ref: Ref, address: str) -> str:
    if ref.name is not None:
        return ref.name
    if ref.id in ic.set_arns:
        return ic.set_arns[ref.id]
    raise Unresolved(address, f"no permission set {ref.id} in the instance")


def resolve_principal(ic: IdentityCenterRead, kind: str, ref: Ref, address: str) -> str:
    """`group:NAME` / `user:NAME` as a run names the principal."""
    if ref.name is not None:
        return f"{kind.lower()}:{ref.name}"
    if ref.id in ic.principals and ic.principals[ref.id].startswith(f"{kind.lower()}:"):
        return ic.principals[ref.id]
    raise Unresolved(address, f"no {kind.lower()} {ref.id} in the identity store")


@dataclass
class IdentityCenterPlan:
    """Identity Center once the plan is applied: the organization's read as it would be,
    the sets whose content the plan changes (provisioned again wherever they are), who is
    assigned or unassigned in which account, and membership changes of groups whose
    members the read does not hold (`members`: group -> {user: present})."""

    read: IdentityCenterRead
    changed: set[str] = field(default_factory=set)
    assignments: dict[str, dict[Assigned, bool]] = field(default_factory=dict)
    members: dict[str, dict[str, bool]] = field(default_factory=dict)
    unresolved: list[Unresolved] = field(default_factory=list)

    touched: set[str] = field(default_factory=set)


def _touched(plan: IdentityCenterPlan, before: IdentityCenterRead) -> set[str]:
    """The accounts whose Identity Center the plan changes: assigned or unassigned there, or
    a changed (or deleted) set provisioned there."""
    provisioned = before.provisioned_to or {}
    return set(plan.assignments) | {
        a for a, sets in provisioned.items() if plan.changed & set(sets)
    }


def apply_identity_center(ic: IdentityCenterRead, effects: list[IcEffect]) -> IdentityCenterPlan:
    """The organization's Identity Center once the effects are applied, in order."""
    read = ic.model_copy(deep=True)
    out = IdentityCenterPlan(read)
    sets = read.permission_sets
    for e in effects:
        try:
            _apply(out, ic, sets, e)
        except Unresolved as exc:
            out.unresolved.append(exc)
    out.touched = _touched(out, ic)
    return out


def _apply(out: IdentityCenterPlan, ic: IdentityCenterRead, sets: dict, e: IcEffect) -> None:
    read = out.read
    if isinstance(e, PermissionSetChange):
        name = resolve_set(ic, e.set, e.address)
        if e.fields is None:
            sets.pop(name, None)
            read.outdated.pop(name, None)
            for arn in [a for a, n in read.set_arns.items() if n == name]:
                del read.set_arns[arn]
        else:
            had = sets[name].model_dump() if name in sets else {}
            sets[name] = PermissionSet.model_validate({**had, **e.fields})
        out.changed.add(name)
    elif isinstance(e, PermissionSetPolicy | PermissionSetExactly):
        name = resolve_set(ic, e.set, e.address)
        data = sets[name].model_dump() if name in sets else {}
        if isinstance(e, PermissionSetExactly):
            data[e.attribute] = sorted(set(e.values))
        elif e.attribute in ("inline_policy", "permissions_boundary"):
            data[e.attribute] = e.value if e.present else None
        else:
            values = [v for v in data.get(e.attribute, []) if v != e.value]
            data[e.attribute] = sorted([*values, e.value] if e.present else values)
        sets[name] = PermissionSet.model_validate(data)
        out.changed.add(name)
    elif isinstance(e, AccountAssignment):
        who = resolve_principal(ic, e.kind, e.principal, e.address)
        assigned = Assigned(principal=who, permission_set=resolve_set(ic, e.set, e.address))
        out.assignments.setdefault(e.account, {})[assigned] = e.present
    elif isinstance(e, DirectoryEntry):
        _directory(read, e)
    elif isinstance(e, GroupMembership):
        group = resolve_principal(ic, "group", e.group, e.address).partition(":")[2]
        user = resolve_principal(ic, "user", e.user, e.address).partition(":")[2]
        held = read.groups.get(group)
        if held is not None and held.members is not None:
            members = [m for m in held.members if m != user]
            held.members = sorted([*members, user] if e.present else members)
        else:
            out.members.setdefault(group, {})[user] = e.present


def _directory(read: IdentityCenterRead, e: DirectoryEntry) -> None:
    key = f"{e.kind}:{e.name}"
    if e.kind == "group":
        if e.present:
            read.groups.setdefault(e.name, IdentityGroup())
        else:
            read.groups.pop(e.name, None)
    elif e.present:
        read.users = sorted({*read.users, e.name})
    else:
        read.users = [u for u in read.users if u != e.name]
        for group in read.groups.values():
            if group.members is not None:
                group.members = [m for m in group.members if m != e.name]
    if not e.present:
        read.principals = {i: p for i, p in read.principals.items() if p != key}


def declare_members(plan: IdentityCenterPlan, declared: set[str]) -> None:
    """A group the plan creates and identity_center.yaml declares members for is read
    with the organization, with no members yet."""
    for name in declared:
        group = plan.read.groups.get(name)
        if group is not None and group.members is None and name not in plan.members:
            group.members = []
