"""`access.yaml`: the cross-account edges that should exist, and reachability rules."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from iamdrift.baselines.policy import (
    PARTITION,
    AccountId,
    ConditionOperator,
    ConditionValues,
    StrictModel,
)


class ExpectedEdge(StrictModel):
    """One cross-account access path that should exist, and the trust conditions it must keep."""

    principal: Annotated[
        str,
        StringConstraints(pattern=r"^(\*|arn:aws[\w-]*:iam::\d{12}:\S+|(service|federated):\S+)$"),
    ]
    role: Annotated[
        str, StringConstraints(pattern=rf"^{PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]+$")
    ]
    conditions: dict[ConditionOperator, dict[str, ConditionValues]] = {}


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Selector(StrictModel):
    """Which principals (in `from`) or targets (in `to`) a reachability rule means; every
    key given must hold. `ou` is a glob over OU paths (`Root/Prod/*`: Prod and below);
    `principal` a glob over ARNs (IAM's `*` and `?`); `admin` (in `to`): administrator of
    the selected accounts, rather than any of their principals."""

    account: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    ou: Annotated[str, StringConstraints(pattern=r"^Root(/[^/]+)*$")] | None = None
    principal: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    admin: bool = False

    def ou_matches(self, path: str) -> bool:
        """Does the `ou` glob hold for an account in OU `path`? `*` (any run, across `/`)
        and `?` are the wildcards, as in IAM; `Root/Prod/*` holds for Root/Prod itself."""
        if self.ou is None:
            return True
        glob = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in self.ou)
        return any(re.fullmatch(glob, p, re.DOTALL) for p in (path, path + "/"))


Selectors = Annotated[list[Selector], BeforeValidator(_one_or_many)]


class Reach(StrictModel):
    """From any of `from` to any of `to`."""

    model_config = ConfigDict(populate_by_name=True)

    sources: Selectors = Field(alias="from", min_length=1)
    to: Selectors = Field(min_length=1)


class ReachRule(StrictModel):
    """A rule over chains of access, checked every run: `forbid` (no principal of `from`
    may reach `to`) or `only` (no principal but those of `from` may reach `to`)."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][\w.-]{0,99}$")]
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    forbid: Reach | None = None
    only: Reach | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReachRule:
        if (self.forbid is None) == (self.only is None):
            raise ValueError("a rule has either forbid or only")
        for selector in self.reach.sources:
            if selector.admin:
                raise ValueError("admin selects targets: it belongs under to")
        return self

    @property
    def reach(self) -> Reach:
        return self.forbid or self.only  # type: ignore[return-value]


class AccessFile(StrictModel):
    """`access.yaml`: who may assume which role across accounts, and rules over chains."""

    exclusive: bool = True  # an edge not listed here is a finding
    risks: Literal["warn", "fail"] = "warn"
    third_parties: dict[AccountId, str] = {}  # accounts outside the organization, by design
    edges: list[ExpectedEdge] = []
    rules: list[ReachRule] = []

    @model_validator(mode="after")
    def _unique_rules(self) -> AccessFile:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rule names must be unique: {', '.join(twice)}")
        return self
