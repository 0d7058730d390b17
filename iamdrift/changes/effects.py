"""What a planned change does to one account's IAM, and applying it (pure).

Terraform's resources and CloudFormation's types overlap but do not match (a role's inline
policies are a block of `aws_iam_role`, a resource `aws_iam_role_policy`, or `Policies` of
`AWS::IAM::Role`); both readers turn each change into these effects, and one function
applies them to the account's live state, the same `AccountState` a run compares.

>>> from iamdrift.baselines.models import AccountState
>>> state = apply(AccountState(), [Entity("users", "eve", {"path": "/"})])
>>> sorted(state.users)
['eve']
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from iamdrift.baselines.kinds import SECTIONS
from iamdrift.baselines.models import AccountState
from iamdrift.baselines.policy import IdentityPolicy, TrustPolicy
from iamdrift.changes.identity_center import IcEffect, PermissionSetPolicy
from iamdrift.changes.organization import OrgEffect, Scp
from iamdrift.errors import problem_text


@dataclass(frozen=True)
class Entity:
    """Create or update an entity's own fields (`path`, `trust_policy`, ...); `fields`
    None deletes it. `address`: the plan's resource that does it."""

    section: str
    name: str
    fields: dict[str, Any] | None
    address: str = ""


@dataclass(frozen=True)
class Inline:
    """Put (`document`) or delete (None) an inline policy."""

    section: str
    entity: str
    policy: str
    document: Any


@dataclass(frozen=True)
class Attached:
    """Attach (`present`) or detach a managed policy."""

    section: str
    entity: str
    arn: str
    present: bool


@dataclass(frozen=True)
class Exactly:
    """An exclusive list: the entity's `attribute` (`managed_policies`, `inline_policies`
    by name, `groups` of a user) becomes exactly `values` (inline names keep their
    documents; a name not there yet is left for its own resource to create)."""

    section: str
    entity: str
    attribute: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    """Add (`present`) a user to a group, or remove it."""

    user: str
    group: str
    present: bool


@dataclass(frozen=True)
class GroupExactly:
    """The group's members become exactly `users` (aws_iam_group_membership)."""

    group: str
    users: tuple[str, ...]


@dataclass(frozen=True)
class PolicyEverywhere:
    """A managed policy attached to exactly these principals of the account and no others
    (aws_iam_policy_attachment)."""

    arn: str
    users: tuple[str, ...]
    groups: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class PolicyVersion:
    """A managed policy's new default version (an updated aws_iam_policy): the version in
    force until now stays as a non-default one, as IAM keeps it, and the oldest goes when
    there would be more than five (as Terraform prunes them)."""

    name: str
    document: Any


@dataclass(frozen=True)
class Unknown:
    """A value known only after apply: the state cannot be predicted there."""

    section: str  # the entity's section, or "" when not even that is known
    entity: str  # its name, or the resource address
    attribute: str
    address: str


Effect = (
    Entity
    | Inline
    | Attached
    | Exactly
    | Member
    | GroupExactly
    | PolicyEverywhere
    | PolicyVersion
    | OrgEffect
    | IcEffect
    | Unknown
)
ORGANIZATION = "organization"  # the key of the changes to the organization itself


@dataclass
class AccountChanges:
    """The effects on one account, with the addresses of the changes that make them."""

    account: str
    effects: list[Effect] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)

    @property
    def unknowns(self) -> list[Unknown]:
        return [e for e in self.effects if isinstance(e, Unknown)]


def document(value: Any) -> Any:
    """A policy as plans hold it (a JSON string, or already parsed) as a dict."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value


def apply(
    state: AccountState,
    effects: list[Effect],
    keep: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> AccountState:
    """The state once every effect is applied, in order (but to the entities in `keep`,
    which stay as they are live). The live state is not changed.

    Raises ValidationError for a result the models refuse (a policy that is not a policy)."""
    data = {
        s: {n: e.model_dump(mode="json") for n, e in getattr(state, s).items()} for s in SECTIONS
    }
    live = {(s, n): copy.deepcopy(data[s][n]) for s, n in keep if n in data.get(s, {})}
    tags = {(s, n): e.tags for s in ("users", "roles") for n, e in getattr(state, s).items()}
    for effect in effects:
        _apply(data, effect)
    for section, name in keep:
        if (section, name) in live:
            data[section][name] = live[(section, name)]
        else:
            data.get(section, {}).pop(name, None)
    out = AccountState.model_validate(data)
    for section in ("users", "roles"):
        for name, entity in getattr(out, section).items():
            entity.tags = tags.get((section, name))
    return out


def predict_state(state: AccountState, effects: list[Effect]) -> tuple[AccountState, list[Unknown]]:
    """The state once the effects are applied, and what of it cannot be told: an entity the
    plan leaves incomplete (a new role whose trust policy is known only after apply) keeps
    its live value, or stays out when it is new, and is an Unknown at its address, rather
    than the whole account failing. Raises ValueError only for what is not that.

    >>> after, unknown = predict_state(AccountState(), [Entity("roles", "r", {"path": "/"}, "aws_iam_role.r")])
    >>> sorted(after.roles), [(u.entity, u.attribute, u.address) for u in unknown]
    ([], [('r', 'trust_policy', 'aws_iam_role.r')])
    """  # noqa: E501
    unknown: list[Unknown] = []
    reset: set[tuple[str, str]] = set()
    for _ in range(len(effects) + 1):
        try:
            return apply(state, effects, reset), unknown
        except ValidationError as exc:
            # A value IAM would refuse is invalid, not unknown: one line, at its address.
            refused = next((e for e in exc.errors() if e["type"] != "missing"), None)
            if refused is not None:
                raise ValueError(_where(effects, refused)) from None
            found = [tuple(str(x) for x in e["loc"][:3]) for e in exc.errors()]
            fresh = [f for f in found if len(f) == 3 and (f[0], f[1]) not in reset]
            if not fresh:
                raise ValueError(_where(effects, exc.errors()[0])) from None
            for section, name, attribute in dict.fromkeys(fresh):
                reset.add((section, name))
                unknown.append(Unknown(section, name, attribute, _address(effects, section, name)))
    raise ValueError("the planned state cannot be told")  # pragma: no cover (one reset each)


def _address(effects: list[Effect], section: str, name: str) -> str:
    """The plan's resource that makes the entity, as best told."""
    for e in effects:
        if isinstance(e, Entity) and (e.section, e.name) == (section, name) and e.address:
            return e.address
    return f"{section}.{name}"


def _where(effects: list[Effect], error: Any) -> str:
    """`aws_iam_role.r: max_session_duration: Input should be ...`: one line."""
    loc = [str(x) for x in error["loc"]]
    if len(loc) < 3:
        return problem_text(error)
    return f"{_address(effects, loc[0], loc[1])}: {problem_text({**error, 'loc': loc[2:]})}"


def _entity(data: dict, section: str, name: str) -> dict:
    """The entity, created bare if the plan adds to one that does not exist yet."""
    return data[section].setdefault(name, {})


def _apply(data: dict, e: Effect) -> None:
    if isinstance(e, Entity):
        if e.fields is None:
            data[e.section].pop(e.name, None)
            if e.section == "groups":  # its members leave it with it
                for user in data["users"].values():
                    user["groups"] = [g for g in user.get("groups", []) if g != e.name]
        else:
            _entity(data, e.section, e.name).update(e.fields)
    elif isinstance(e, Inline):
        if e.entity not in data[e.section] and e.document is None:
            return
        policies = _entity(data, e.section, e.entity).setdefault("inline_policies", {})
        if e.document is None:
            policies.pop(e.policy, None)
        else:
            policies[e.policy] = e.document
    elif isinstance(e, Attached):
        if e.entity not in data[e.section] and not e.present:
            return
        arns = _entity(data, e.section, e.entity).setdefault("managed_policies", [])
        if e.present and e.arn not in arns:
            arns.append(e.arn)
        elif not e.present and e.arn in arns:
            arns.remove(e.arn)
    elif isinstance(e, Exactly):
        entity = _entity(data, e.section, e.entity)
        if e.attribute == "inline_policies":
            have = entity.get("inline_policies", {})
            entity["inline_policies"] = {n: d for n, d in have.items() if n in e.values}
        else:
            entity[e.attribute] = list(e.values)
    elif isinstance(e, Member):
        groups = _entity(data, "users", e.user).setdefault("groups", [])
        if e.present and e.group not in groups:
            groups.append(e.group)
        elif not e.present and e.group in groups:
            groups.remove(e.group)
    elif isinstance(e, GroupExactly):
        for name, user in data["users"].items():
            groups = [g for g in user.get("groups", []) if g != e.group]
            user["groups"] = [*groups, e.group] if name in e.users else groups
    elif isinstance(e, PolicyVersion):
        policy = data["policies"].get(e.name)
        if policy is None:
            return
        dormant = policy.setdefault("dormant_versions", {})
        ids = sorted(int(v[1:]) for v in dormant)
        # Versions are numbered as they are made: the one in force is the newest.
        dormant[f"v{(ids[-1] if ids else 0) + 1}"] = policy["document"]
        if len(dormant) > 4:
            dormant.pop(f"v{ids[0]}")
        policy["document"] = e.document
    elif isinstance(e, PolicyEverywhere):
        for section, names in (("users", e.users), ("groups", e.groups), ("roles", e.roles)):
            for name, entity in data[section].items():
                arns = [a for a in entity.get("managed_policies", []) if a != e.arn]
                entity["managed_policies"] = [*arns, e.arn] if name in names else arns


_IDENTITY: TypeAdapter = TypeAdapter(IdentityPolicy)
_TRUST: TypeAdapter = TypeAdapter(TrustPolicy)


def invalid(effects: list[Effect]) -> str | None:
    """What is wrong with the first policy document among the effects that is not one (the
    plan's input is bad, whatever the accounts hold), or None."""
    for e in effects:
        docs: list[tuple[TypeAdapter, Any]] = []
        if isinstance(e, Inline) and e.document is not None:
            docs.append((_IDENTITY, e.document))
        elif isinstance(e, Entity) and e.fields:
            if "trust_policy" in e.fields:
                docs.append((_TRUST, e.fields["trust_policy"]))
            if e.fields.get("document") is not None:
                docs.append((_IDENTITY, e.fields["document"]))
        elif isinstance(e, PolicyVersion | Scp) and e.document is not None:
            docs.append((_IDENTITY, e.document))
        elif isinstance(e, PermissionSetPolicy) and e.attribute == "inline_policy" and e.value:
            docs.append((_IDENTITY, e.value))
        for adapter, doc in docs:
            try:
                adapter.validate_python(doc)
            except ValidationError as exc:
                return f"not a policy document: {problem_text(exc)}"
    return None
