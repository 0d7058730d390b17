"""`structure.yaml`: the organization's accounts in their OUs, and its service control
policies with their targets."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    PrivateAttr,
    StringConstraints,
)

from iamdrift.baselines.policy import AccountId, IdentityPolicy, StrictModel

OuPath = Annotated[str, StringConstraints(pattern=r"^Root(/[^/]+)*$")]


class Member(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1)]
    ou: OuPath = "Root"


class ServiceControlPolicy(StrictModel):
    document: IdentityPolicy
    targets: list[Annotated[str, StringConstraints(pattern=r"^(Root(/[^/]+)*|\d{12})$")]] = []


class Structure(StrictModel):
    """`structure.yaml`: the organization's members, their OUs (paths of names such as
    `Root/Workloads/Prod`) and its service control policies (targets: OU paths or ids)."""

    accounts: dict[AccountId, Member] = {}
    service_control_policies: dict[str, ServiceControlPolicy] = {}
    # Live only (not part of the format): Organizations' ids of the root, OUs and SCPs,
    # by which plans name them (`ou-...` -> its path, `p-...` -> the SCP's name).
    _ids: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def ids(self) -> dict[str, str]:
        return self._ids
