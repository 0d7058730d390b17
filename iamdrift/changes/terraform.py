"""Terraform's JSON plan (`terraform show -json tfplan`, format_version 1.x) as effects on
accounts (pure).

Each managed resource change of an IAM type becomes effects (changes/effects.py): a
delete undoes what `before` held, a create makes what `after` holds, a replace does both,
an update of an entity sets its fields and one of a relation (an attachment, a
membership) undoes `before` and makes `after`. Values Terraform knows only after apply
(`after_unknown`) are unknown, unless they follow from what is known: a role's `id` and
`name` from its planned name, an ARN from name, path and account, through the
configuration's references. Other resource types are counted and left alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from iamdrift.changes.effects import (
    ORGANIZATION,
    AccountChanges,
    Attached,
    Effect,
    Entity,
    Exactly,
    GroupExactly,
    Inline,
    Member,
    PolicyEverywhere,
    PolicyVersion,
    Unknown,
    document,
    invalid,
)
from iamdrift.changes.identity_center_plans import TERRAFORM, Untold, terraform_effects
from iamdrift.changes.organization import Parent, Scp, ScpTarget
from iamdrift.changes.providers import account_of, provider_accounts
from iamdrift.changes.references import Configuration, PlanError, Values, bare

# Resource type -> (section of the entity it concerns, the attribute naming that entity).
_OWNER = {
    "aws_iam_role": ("roles", "name"),
    "aws_iam_role_policy": ("roles", "role"),
    "aws_iam_role_policy_attachment": ("roles", "role"),
    "aws_iam_role_policies_exclusive": ("roles", "role_name"),
    "aws_iam_role_policy_attachments_exclusive": ("roles", "role_name"),
    "aws_iam_user": ("users", "name"),
    "aws_iam_user_policy": ("users", "user"),
    "aws_iam_user_policy_attachment": ("users", "user"),
    "aws_iam_user_policies_exclusive": ("users", "user_name"),
    "aws_iam_user_policy_attachments_exclusive": ("users", "user_name"),
    "aws_iam_user_group_membership": ("users", "user"),
    "aws_iam_group": ("groups", "name"),
    "aws_iam_group_policy": ("groups", "group"),
    "aws_iam_group_policy_attachment": ("groups", "group"),
    "aws_iam_group_policies_exclusive": ("groups", "group_name"),
    "aws_iam_group_policy_attachments_exclusive": ("groups", "group_name"),
    "aws_iam_group_membership": ("groups", "group"),
    "aws_iam_policy": ("policies", "name"),
    "aws_iam_policy_attachment": ("policies", "policy_arn"),
}
ENTITIES = {"aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_iam_policy"}
ORGANIZATIONS = {
    "aws_organizations_policy",
    "aws_organizations_policy_attachment",
    "aws_organizations_account",
}


def _effects(c: Values, present: bool) -> list[Effect]:
    """What the resource's values make (`present`) or undo."""
    section, key = _OWNER[c.type]
    owner = c.value(key, "policy" if key == "policy_arn" else "")
    if not isinstance(owner, str) or not owner:
        return [Unknown(section, c.address, key, c.address)]
    out: list[Effect] = []

    def doc(attribute: str) -> Any:
        value = c.value(attribute)
        if value is None:
            out.append(Unknown(section, owner, attribute, c.address))
        return document(value) if value is not None else None

    def val(attribute: str) -> Any:
        """A value the effect needs; unknown (and not told by a reference) is an Unknown."""
        value = c.value(attribute)
        if value is None and not c.known(attribute):
            out.append(Unknown(section, owner, attribute, c.address))
        return value

    def told(attribute: str) -> bool:
        return c.known(attribute) or c.value(attribute) is not None

    def arn(attribute: str = "policy_arn") -> str | None:
        value = c.value(attribute, "policy")
        if value is None:
            out.append(Unknown(section, owner, attribute, c.address))
        return value

    t = c.type
    if t in ENTITIES and not present:
        return [Entity(section, owner, None, c.address)]
    if t == "aws_iam_role":
        fields: dict[str, Any] = {"path": val("path") or "/"}
        trust = doc("assume_role_policy")
        if trust is not None:
            fields["trust_policy"] = trust
        if val("max_session_duration"):
            fields["max_session_duration"] = c.values["max_session_duration"]
        fields["permissions_boundary"] = val("permissions_boundary") or None
        out.insert(0, Entity(section, owner, fields, c.address))
        if "managed_policy_arns" in c.configured:
            arns = c.value("managed_policy_arns")
            if arns is None:
                out.append(Unknown(section, owner, "managed_policy_arns", c.address))
            else:
                out.append(Exactly(section, owner, "managed_policies", tuple(arns)))
        if "inline_policy" in c.configured:
            blocks = c.value("inline_policy")
            if blocks is None:
                out.append(Unknown(section, owner, "inline_policy", c.address))
            else:
                blocks = [b for b in blocks if b.get("name")]
                out.append(
                    Exactly(section, owner, "inline_policies", tuple(b["name"] for b in blocks))
                )
                out += [
                    Inline(section, owner, b["name"], document(b.get("policy"))) for b in blocks
                ]
    elif t in ("aws_iam_user", "aws_iam_group"):
        fields = {"path": val("path") or "/"}
        if t == "aws_iam_user":
            fields["permissions_boundary"] = val("permissions_boundary") or None
        out.insert(0, Entity(section, owner, fields, c.address))
    elif t == "aws_iam_policy":
        fields = {"path": val("path") or "/", "document": doc("policy")}
        out.append(Entity(section, owner, fields, c.address))
    elif t in ("aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"):
        name = c.value("name")
        if name is None:
            return [Unknown(section, owner, "name", c.address)]
        body = doc("policy") if present else None
        if present and body is None:
            return out
        out.append(Inline(section, owner, name, body))
    elif t.endswith("_policy_attachment") and t != "aws_iam_policy_attachment":
        policy = arn()
        if policy is not None:
            out.append(Attached(section, owner, policy, present))
    elif t.endswith(("_policy_attachments_exclusive", "_policies_exclusive")):
        attribute = "policy_arns" if t.endswith("attachments_exclusive") else "policy_names"
        values = val(attribute)
        if present and told(attribute):
            kind = "managed_policies" if attribute == "policy_arns" else "inline_policies"
            out.append(Exactly(section, owner, kind, tuple(values or ())))
    elif t == "aws_iam_user_group_membership":
        out += [Member(owner, g, present) for g in val("groups") or []]
    elif t == "aws_iam_group_membership":
        users = tuple(val("users") or ())
        if not told("users"):
            return out  # who the group holds after apply is not known
        out += [GroupExactly(owner, users)] if present else [Member(u, owner, False) for u in users]
    elif t == "aws_iam_policy_attachment":
        lists = [tuple(val(k) or ()) for k in ("users", "groups", "roles")]
        if not all(told(k) for k in ("users", "groups", "roles")):
            return out
        if present:
            out.append(PolicyEverywhere(owner, *lists))
        else:
            out += [
                Attached(s, n, owner, False)
                for s, names in zip(("users", "groups", "roles"), lists, strict=True)
                for n in names
            ]
    return out


def _organization(t: str, actions: list[str], gone: Values, made: Values) -> list[Effect]:
    """An SCP, its attachment, or an account's parent; anything else of Organizations (other
    policy types) is left alone."""
    out: list[Effect] = []
    if t == "aws_organizations_policy":
        values = made.values or gone.values
        if (values.get("type") or "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY":
            return []
        if "delete" in actions:
            out.append(Scp(gone.values.get("name", ""), None))
        if set(actions) & {"create", "update"}:
            content = made.value("content")
            if content is None:
                return [*out, Unknown("", made.address, "content", made.address)]
            out.append(Scp(made.values.get("name", ""), document(content)))
        return out
    if t == "aws_organizations_policy_attachment":
        if "delete" in actions:
            out.append(ScpTarget(gone.values["policy_id"], gone.values["target_id"], False))
        if "create" in actions:
            policy, target = made.value("policy_id"), made.value("target_id")
            if policy is None or target is None:
                return [*out, Unknown("", made.address, "policy_id", made.address)]
            out.append(ScpTarget(policy, target, True))
        return out
    if "create" in actions:  # a new account: its id is known only once it exists
        return [Unknown("", made.address, "id", made.address)]
    if "update" in actions:  # aws_organizations_account
        account, parent = made.value("id"), made.value("parent_id")
        if account is None or parent is None:
            return [Unknown("", made.address, "parent_id", made.address)]
        out.append(Parent(account, parent))
    return out


def _identity_center(t: str, actions: list[str], gone: Values, made: Values) -> list[Effect]:
    """A delete undoes `before`; an update of an attachment or assignment too (a set's own
    update changes its fields; a group or user renamed is unknown: who its assignments
    name changes with it); a create or update makes `after`."""
    out: list[Effect] = []
    try:
        if t in ("aws_identitystore_group", "aws_identitystore_user") and "update" in actions:
            key = "display_name" if t == "aws_identitystore_group" else "user_name"
            if made.value(key) != gone.values.get(key):
                raise Untold(key)
            return []
        if "delete" in actions or ("update" in actions and t != "aws_ssoadmin_permission_set"):
            out += terraform_effects(t, gone, present=False)
        if "create" in actions or "update" in actions:
            out += terraform_effects(t, made, present=True)
    except Untold as exc:
        return [Unknown("", made.address, str(exc.args[0]), made.address)]
    return out


def _resource(t: str, actions: list[str], gone: Values, made: Values) -> list[Effect]:
    """A delete undoes `before`; an update of a relation (not of an entity) too; a create or
    update makes `after` (an updated aws_iam_policy: a new default version)."""
    out: list[Effect] = []
    if "delete" in actions or ("update" in actions and t not in ENTITIES):
        out += _effects(gone, present=False)
    if "create" in actions or "update" in actions:
        if t == "aws_iam_policy" and "update" in actions:
            body = made.value("policy")
            name = made.values.get("name", made.address)
            out.append(
                PolicyVersion(name, document(body))
                if body is not None
                else Unknown("policies", name, "policy", made.address)
            )
        else:
            out += _effects(made, present=True)
    return out


def read_terraform(
    plan: dict, providers: dict[str, str], default: str | None
) -> tuple[dict[str, AccountChanges], Counter[str]]:
    """Effects per account, and the resource types ignored. Raises PlanError."""
    version = str(plan.get("format_version", ""))
    if not version.startswith("1."):
        raise PlanError(f"a Terraform plan of format_version {version!r}; this reads 1.x")
    changes = plan.get("resource_changes") or []
    if not isinstance(changes, list):
        raise PlanError("resource_changes: expected a list")
    config = Configuration.of(plan)
    learned = provider_accounts(plan, config)
    planned = {
        rc.get("address", ""): (
            (rc.get("change") or {}).get("after") or (rc.get("change") or {}).get("before") or {}
        )
        for rc in changes
        if isinstance(rc, dict)
    }
    out: dict[str, AccountChanges] = {}
    ignored: Counter[str] = Counter()
    for rc in changes:
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue
        t, address = rc.get("type", ""), rc.get("address", "?")
        change = rc.get("change") or {}
        actions = change.get("actions") or []
        changing = bool(set(actions) & {"create", "update", "delete"})
        if t not in _OWNER and t not in ORGANIZATIONS and t not in TERRAFORM:
            ignored[t] += 1
            continue
        if not changing:
            continue
        before, after = change.get("before") or {}, change.get("after") or {}
        unknown = change.get("after_unknown") or {}
        if t in ORGANIZATIONS or t in TERRAFORM:  # the organization's, whichever account
            account = ORGANIZATION
        else:
            account = account_of(address, before, after, config, providers, learned, default)
        expressions = config.expressions.get(bare(address), {})
        gone = Values(address, t, before, {}, expressions, planned, account)
        made = Values(address, t, after, unknown, expressions, planned, account)
        if t in TERRAFORM:
            effects = _identity_center(t, actions, gone, made)
        elif t in ORGANIZATIONS:
            effects = _organization(t, actions, gone, made)
        else:
            effects = _resource(t, actions, gone, made)
        wrong = invalid(effects)
        if wrong:
            raise PlanError(f"{address}: {wrong}")
        into = out.setdefault(account, AccountChanges(account))
        into.addresses.append(address)
        into.effects += effects
    return out, ignored
