"""A CloudFormation change set, as `aws cloudformation describe-change-set
--include-property-values` prints it, as effects on its stack's account (pure).

Each resource change carries its properties before and after (`BeforeContext`,
`AfterContext`); a name CloudFormation generates on create, or a value it resolves
only on apply (`{{changeSet:KNOWN_AFTER_APPLY}}`), is unknown.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from iamdrift.changes.effects import (
    ORGANIZATION,
    AccountChanges,
    Attached,
    Effect,
    Entity,
    Inline,
    Member,
    PolicyVersion,
    Unknown,
    document,
    invalid,
)
from iamdrift.changes.identity_center_plans import CLOUDFORMATION, Untold, change_set_effects
from iamdrift.changes.organization import Parent, Scp, ScpTarget
from iamdrift.changes.references import PlanError

_STACK = re.compile(r"^arn:aws[\w-]*:cloudformation:[\w-]+:(\d{12}):stack/")
_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"
_NO_VALUES = "a change set without property values: describe it with --include-property-values"
TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::UserToGroupAddition",
}
ORGANIZATIONS = {"AWS::Organizations::Policy", "AWS::Organizations::Account"}
_ENTITY = {
    "AWS::IAM::Role": ("roles", "RoleName"),
    "AWS::IAM::User": ("users", "UserName"),
    "AWS::IAM::Group": ("groups", "GroupName"),
    "AWS::IAM::ManagedPolicy": ("policies", "ManagedPolicyName"),
}
_INLINE = {
    "AWS::IAM::RolePolicy": ("roles", "RoleName"),
    "AWS::IAM::UserPolicy": ("users", "UserName"),
    "AWS::IAM::GroupPolicy": ("groups", "GroupName"),
}


def _unknown(value: Any) -> bool:
    return _AFTER_APPLY in json.dumps(value) if value is not None else False


def _properties(context: Any) -> dict[str, Any]:
    if context is None:
        return {}
    data = json.loads(context) if isinstance(context, str) else context
    return (data or {}).get("Properties", data or {}) or {}


def _effects(
    t: str, props: dict, physical: str, present: bool, address: str, account: str
) -> list[Effect]:
    out: list[Effect] = []
    if t in _ENTITY:
        section, key = _ENTITY[t]
        name = props.get(key) or (physical.rsplit("/", 1)[-1] if physical else None)
        if not name or _unknown(name):
            return [Unknown(section, address, key, address)]
        if not present:
            return [Entity(section, name, None, address)]
        fields: dict[str, Any] = {"path": props.get("Path") or "/"}
        documents = {
            "roles": ("trust_policy", "AssumeRolePolicyDocument"),
            "policies": ("document", "PolicyDocument"),
        }
        if section in documents and documents[section][1] in props:
            field_name, prop = documents[section]
            if _unknown(props.get(prop)):
                out.append(Unknown(section, name, prop, address))
            else:
                fields[field_name] = props[prop]
        if section == "roles" and props.get("MaxSessionDuration"):
            fields["max_session_duration"] = int(props["MaxSessionDuration"])
        if section in ("roles", "users"):
            fields["permissions_boundary"] = props.get("PermissionsBoundary") or None
        if section != "policies":
            # The entity's own lists are exclusive in CloudFormation.
            fields["managed_policies"] = list(props.get("ManagedPolicyArns") or [])
            inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or []}
            fields["inline_policies"] = inline
        if section == "users":
            fields["groups"] = list(props.get("Groups") or [])
        out.insert(0, Entity(section, name, fields, address))
        if section == "policies":
            path = props.get("Path") or "/"
            arn = (
                physical
                if physical.startswith("arn:")
                else f"arn:aws:iam::{account}:policy{path}{name}"
            )
            for s, key in (("users", "Users"), ("groups", "Groups"), ("roles", "Roles")):
                out += [Attached(s, n, arn, present) for n in props.get(key) or []]
        return out
    if t in _INLINE:
        section, key = _INLINE[t]
        owner, name = props.get(key), props.get("PolicyName")
        if not owner or not name or _unknown([owner, name]):
            return [Unknown(section, address, key, address)]
        body = props.get("PolicyDocument") if present else None
        if present and _unknown(body):
            return [Unknown(section, owner, "PolicyDocument", address)]
        return [Inline(section, owner, name, body)]
    if t == "AWS::IAM::Policy":
        name = props.get("PolicyName")
        body = props.get("PolicyDocument") if present else None
        for s, key in (("users", "Users"), ("groups", "Groups"), ("roles", "Roles")):
            out += [Inline(s, n, name, body) for n in props.get(key) or []]
        return out
    return [Member(u, props.get("GroupName", ""), present) for u in props.get("Users") or []]


def _known(t: str, props: dict, physical: str, address: str) -> tuple[dict, list[Effect]]:
    """The properties CloudFormation knows before apply, and an Unknown for each it does not
    (`{{changeSet:KNOWN_AFTER_APPLY}}` anywhere in it: a policy's Roles naming a role being
    replaced, a trust naming a provider made in the same stack). An unknown name is left to
    `_effects`, which cannot tell the entity then."""
    section, key = _ENTITY.get(t) or _INLINE.get(t) or ("", "")
    names = {key, "PolicyName", "GroupName"} if t != "AWS::IAM::Policy" else {"PolicyName"}
    owner = props.get(key) if key and not _unknown(props.get(key)) else None
    owner = owner or (physical.rsplit("/", 1)[-1] if physical and section else None)
    unknown = [k for k, v in props.items() if k not in names and _unknown(v)]
    where = "roles" if t == "AWS::IAM::Policy" else section
    return (
        {k: v for k, v in props.items() if k not in unknown},
        [Unknown(where, owner or address, k, address) for k in unknown],
    )


def _organization(rc: dict, before: dict, after: dict) -> list[Effect]:
    """A service control policy (its content and targets), an account moved, an Identity
    Center resource; an account created is unknown until its id exists."""
    t, action = rc.get("ResourceType", ""), rc.get("Action", "")
    address, physical = rc.get("LogicalResourceId", "?"), rc.get("PhysicalResourceId") or ""
    replace = action == "Remove" or (action == "Modify" and rc.get("Replacement") == "True")
    try:
        if t in CLOUDFORMATION:
            out: list[Effect] = []
            if replace:
                out += change_set_effects(t, before, False, address)
            if action == "Add" or replace:
                out += change_set_effects(t, after, True, address)
            elif action == "Modify" and t == "AWS::IdentityStore::Group":
                if before.get("DisplayName") != after.get("DisplayName"):
                    raise Untold("DisplayName")  # who its assignments name changes with it
            elif action == "Modify":
                out += change_set_effects(t, after, True, address)
            return out
        if t == "AWS::Organizations::Account":
            if action == "Add":
                return [Unknown("", address, "id", address)]
            parents = after.get("ParentIds") or []
            if action == "Modify" and parents != (before.get("ParentIds") or []):
                if _unknown(parents) or len(parents) != 1 or not physical:
                    raise Untold("ParentIds")
                return [Parent(physical, parents[0])]
            return []
        return _scp(action, before, after)
    except Untold as exc:
        return [Unknown("", address, str(exc.args[0]), address)]


def _scp(action: str, before: dict, after: dict) -> list[Effect]:
    """AWS::Organizations::Policy: its content and targets, by its name (other policy types
    are not judged)."""
    kind = (after or before).get("Type") or "SERVICE_CONTROL_POLICY"
    if kind != "SERVICE_CONTROL_POLICY":
        return []
    if _unknown(after.get("Content")) or _unknown(after.get("TargetIds")):
        raise Untold("Content" if _unknown(after.get("Content")) else "TargetIds")
    was, now = before.get("Name", ""), after.get("Name", "")
    if action == "Add":
        was = now
    old_targets = set(before.get("TargetIds") or []) if action != "Add" else set()
    new_targets = set(after.get("TargetIds") or []) if action != "Remove" else set()
    out: list[Effect] = []
    if action == "Remove" or was != now:  # a policy renamed: the old one goes
        out += [ScpTarget(was, t, False) for t in sorted(old_targets)]
        out.append(Scp(was, None))
        old_targets = set()
    if action != "Remove":
        content = after.get("Content")
        if content is not None and (
            action == "Add" or was != now or content != before.get("Content")
        ):
            out.append(Scp(now, document(content) if isinstance(content, str) else content))
        out += [ScpTarget(now, t, False) for t in sorted(old_targets - new_targets)]
        out += [ScpTarget(now, t, True) for t in sorted(new_targets - old_targets)]
    return out


def read_change_set(data: dict) -> tuple[dict[str, AccountChanges], Counter[str]]:
    """Effects on the stack's account, and the resource types ignored. Raises PlanError."""
    found = _STACK.match(str(data.get("StackId", "")))
    if not found:
        raise PlanError("StackId: expected a CloudFormation stack ARN")
    account = found.group(1)
    changes = AccountChanges(account)
    ignored: Counter[str] = Counter()
    out: dict[str, AccountChanges] = {}
    for item in data.get("Changes") or []:
        rc = (item or {}).get("ResourceChange") or {}
        t, action = rc.get("ResourceType", ""), rc.get("Action", "")
        address = rc.get("LogicalResourceId", "?")
        if t in CLOUDFORMATION or t in ORGANIZATIONS:
            if action in ("Add", "Modify") and "AfterContext" not in rc:
                raise PlanError(f"{address}: {_NO_VALUES}")
            effects = _organization(
                rc, _properties(rc.get("BeforeContext")), _properties(rc.get("AfterContext"))
            )
            wrong = invalid(effects)
            if wrong:
                raise PlanError(f"{address}: {wrong}")
            into = out.setdefault(ORGANIZATION, AccountChanges(ORGANIZATION))
            into.addresses.append(address)
            into.effects += effects
            continue
        if t not in TYPES:
            ignored[t] += 1
            continue
        if action in ("Add", "Modify") and "AfterContext" not in rc:
            raise PlanError(f"{address}: {_NO_VALUES}")
        before, after = _properties(rc.get("BeforeContext")), _properties(rc.get("AfterContext"))
        physical = rc.get("PhysicalResourceId") or ""
        changes.addresses.append(address)
        start = len(changes.effects)
        replace = action == "Modify" and rc.get("Replacement") == "True"
        if action == "Remove" or replace:
            changes.effects += _effects(t, before, physical, False, address, account)
        if action in ("Add", "Modify"):
            after, untold = _known(t, after, physical, address)
            changes.effects += untold
        if action == "Add" or replace:
            changes.effects += _effects(t, after, "", True, address, account)
        elif action == "Modify":
            if t == "AWS::IAM::ManagedPolicy" and before.get("PolicyDocument") != after.get(
                "PolicyDocument"
            ):
                name = after.get("ManagedPolicyName") or physical.rsplit("/", 1)[-1]
                changes.effects.append(PolicyVersion(name, after.get("PolicyDocument")))
                after = {k: v for k, v in after.items() if k != "PolicyDocument"}
            if t not in _ENTITY:
                changes.effects += _effects(t, before, physical, False, address, account)
            changes.effects += _effects(t, after, physical, True, address, account)
        wrong = invalid(changes.effects[start:])
        if wrong:
            raise PlanError(f"{address}: {wrong}")
    if changes.addresses:
        out[account] = changes
    return out, ignored
