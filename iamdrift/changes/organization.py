"""What a planned change does to the organization itself, and applying it (pure): service
control policies created, changed, attached or detached, accounts moved, all named as
plans name them (by Organizations ids, which the run's organization read keeps).

>>> from iamdrift.baselines.structure import Structure
>>> apply_structure(Structure(), {}, [Scp("Deny", None)]).service_control_policies
{}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iamdrift.baselines.structure import Structure


@dataclass(frozen=True)
class Scp:
    """Create or update (`document`) a service control policy, or delete it (None)."""

    name: str
    document: Any


@dataclass(frozen=True)
class ScpTarget:
    """Attach (`present`) or detach an SCP, both named as the plan names them: the policy
    by name or Organizations id (`p-...`), the target by account id or id (`ou-...`, `r-...`)."""

    policy: str
    target: str
    present: bool


@dataclass(frozen=True)
class Parent:
    """Move an account under another parent (an OU or root id)."""

    account: str
    parent: str


OrgEffect = Scp | ScpTarget | Parent
ORG_EFFECTS = (Scp, ScpTarget, Parent)


def apply_structure(
    structure: Structure, ids: dict[str, str], effects: list[OrgEffect]
) -> Structure:
    """The organization once the SCP and account moves are applied. Raises ValueError for
    an id the organization does not know (nor the plan creates)."""
    data = structure.model_dump(mode="json")
    scps = data["service_control_policies"]

    def place(target: str) -> str:
        if target.isdigit() and len(target) == 12:
            return target
        if target in ids:
            return ids[target]
        raise ValueError(f"no OU, root or account {target!r} in the organization")

    for e in effects:
        if isinstance(e, Scp):
            if e.document is None:
                scps.pop(e.name, None)
            else:
                scps.setdefault(e.name, {"targets": []})["document"] = e.document
        elif isinstance(e, ScpTarget):
            name = e.policy if e.policy in scps else ids.get(e.policy, "")
            if name not in scps:
                raise ValueError(f"no service control policy {e.policy!r} in the organization")
            targets = [t for t in scps[name].get("targets", []) if t != place(e.target)]
            scps[name]["targets"] = sorted([*targets, place(e.target)] if e.present else targets)
        elif isinstance(e, Parent) and e.account in data["accounts"]:
            data["accounts"][e.account]["ou"] = place(e.parent)
    out = Structure.model_validate(data)
    out.ids.update(ids)
    return out


def scope(structure: Structure, target: str) -> set[str]:
    """The accounts an SCP attached at `target` (an account id or an OU path) applies to."""
    if target in structure.accounts:
        return {target}
    return {a for a, m in structure.accounts.items() if (m.ou + "/").startswith(target + "/")}
