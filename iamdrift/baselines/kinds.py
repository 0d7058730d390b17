"""The kinds of IAM entity an account holds, declared once: each one's name in finding ids,
its section in an account's baseline (and in `ignore`), the check that tests it, and the
resource type OCSF and SARIF readers know.

>>> ENTITY_KINDS[3].name, ENTITY_KINDS[3].section, by_section("policies").check
('policy', 'policies', 'policies')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntityKind:
    name: str  # in finding ids: ACCOUNT/role/NAME/ASPECT
    section: str  # AccountState's field, an account file's section, `ignore`'s key
    cloudformation: str  # the resource type OCSF and SARIF readers know

    @property
    def plural(self) -> str:
        return self.section

    @property
    def check(self) -> str:
        """The check and fixture that test this kind (`test_roles_match_baseline`)."""
        return self.section


ENTITY_KINDS: tuple[EntityKind, ...] = (
    EntityKind("user", "users", "AWS::IAM::User"),
    EntityKind("group", "groups", "AWS::IAM::Group"),
    EntityKind("role", "roles", "AWS::IAM::Role"),
    EntityKind("policy", "policies", "AWS::IAM::ManagedPolicy"),
)
NAMES: tuple[str, ...] = tuple(k.name for k in ENTITY_KINDS)
SECTIONS: tuple[str, ...] = tuple(k.section for k in ENTITY_KINDS)
_BY_SECTION = {k.section: k for k in ENTITY_KINDS}
_BY_NAME = {k.name: k for k in ENTITY_KINDS}


def by_section(section: str) -> EntityKind:
    """The kind an account state's section holds: `roles` -> role. KeyError otherwise."""
    return _BY_SECTION[section]


def by_name(name: str) -> EntityKind | None:
    """The entity kind of a finding's resource type, None for other kinds (`scp`)."""
    return _BY_NAME.get(name)
