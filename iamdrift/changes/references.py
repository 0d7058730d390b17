"""What a Terraform JSON plan knows of a value (pure): known, unknown until apply
(`after_unknown`), or following from what is known through the configuration's references
(`role = aws_iam_role.app.id` is the planned role's name; an ARN follows from name, path
and account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_INDEX = re.compile(r"\[[^\]]*\]")


class PlanError(ValueError):
    """A plan that cannot be read, or a change whose account cannot be told."""


@dataclass
class Configuration:
    """What the plan's configuration says of each resource (by address without
    instance keys): the attributes set in it, their references, its provider key."""

    expressions: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: dict) -> Configuration:
        out = cls()

        def walk(module: dict, prefix: str) -> None:
            for r in module.get("resources", []) or []:
                address = prefix + r.get("address", "")
                out.expressions[address] = r.get("expressions", {}) or {}
                out.providers[address] = r.get("provider_config_key", "") or ""
            for name, call in (module.get("module_calls", {}) or {}).items():
                walk(call.get("module", {}) or {}, f"{prefix}module.{name}.")

        walk((plan.get("configuration") or {}).get("root_module") or {}, "")
        return out


def bare(address: str) -> str:
    """`module.a[0].aws_iam_role.r["x"]` -> `module.a.aws_iam_role.r`."""
    return _INDEX.sub("", address)


@dataclass
class Values:
    address: str
    type: str
    values: dict[str, Any]
    unknown: dict[str, Any]
    configured: dict[str, Any]
    planned: dict[str, dict[str, Any]]  # every resource's planned values, by address
    account: str

    def known(self, key: str) -> bool:
        flag = self.unknown.get(key)
        return not (flag is True or (isinstance(flag, list | dict) and _any_true(flag)))

    def value(self, key: str, kind: str = "") -> Any:
        """The value, or None when only apply will tell (and the configuration's reference
        does not: a role's name, an ARN built from a name)."""
        if self.known(key):
            return self.values.get(key)
        for ref in (self.configured.get(key) or {}).get("references", []):
            resolved = self._resolve(ref, kind)
            if resolved is not None:
                return resolved
        return None

    def referenced(self, key: str) -> list[tuple[str, str, dict[str, Any]]]:
        """What the configuration's references of `key` point at among the plan's
        resources: (resource type, attribute, its planned values), one per reference that
        names one resource (not one of several instances: which one is not known)."""
        prefix = self.address[: self.address.rfind("aws_")] if "module." in self.address else ""
        prefix = bare(prefix)
        out = []
        for ref in (self.configured.get(key) or {}).get("references", []):
            base, _, attribute = ref.rpartition(".")
            targets = [a for a in self.planned if bare(a) == prefix + base]
            if len(targets) == 1:
                out.append(
                    (
                        base.rpartition(".")[0].rpartition(".")[2],
                        attribute,
                        self.planned[targets[0]],
                    )
                )
        return out

    def _resolve(self, ref: str, kind: str) -> str | None:
        base, _, attribute = ref.rpartition(".")
        prefix = self.address[: self.address.rfind("aws_")] if "module." in self.address else ""
        prefix = bare(prefix)
        targets = [a for a in self.planned if bare(a) == prefix + base]
        if len(targets) != 1:
            return None  # several instances (count, for_each): which one is not known
        target = self.planned[targets[0]]
        name, path = target.get("name"), target.get("path") or "/"
        if not isinstance(name, str):
            return None
        if attribute in ("name", "id"):
            return name
        if attribute == "arn" and kind:
            return f"arn:aws:iam::{self.account}:{kind}{path}{name}"
        return None


def _any_true(flag: Any) -> bool:
    if flag is True:
        return True
    if isinstance(flag, dict):
        return any(_any_true(v) for v in flag.values())
    if isinstance(flag, list):
        return any(_any_true(v) for v in flag)
    return False
