"""Meaning across a baseline's files: what one file names must be declared where it
belongs (groups and customer managed policies in the account, permission sets, accounts
and OUs of assignments and reachability rules), or a typo would declare nothing and pass.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamdrift.baselines.models import (
    AccountState,
)
from iamdrift.baselines.policy import PARTITION
from iamdrift.baselines.yamlio import line_for
from iamdrift.errors import Problem

if TYPE_CHECKING:  # the loader calls these checks with what it loaded
    from iamdrift.baselines.baseline import Baseline


def _known(baseline: Baseline) -> tuple[set[str], set[str]]:
    """(account ids and names of the baselines, OU paths of structure.yaml and above them)."""
    accounts = {a.id for a in baseline.accounts.values()} | {
        a.name for a in baseline.accounts.values()
    }
    ous: set[str] = set()
    if baseline.structure is not None:
        for member in baseline.structure.accounts.values():
            parts = member.ou.split("/")
            ous |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    return accounts, ous


def check_assignments(filename: str, baseline: Baseline, raw: Any, lines: dict) -> list[Problem]:
    """Every permission set, account and OU an assignment names must be declared: a typo
    would declare an assignment nobody has, and miss the one somebody has."""
    assert baseline.identity_center is not None
    accounts, ous = _known(baseline)
    sets = set(baseline.identity_center.permission_sets)
    problems = []

    def problem(path: tuple, expected: str, got: str) -> None:
        line, key = line_for(lines, raw, path)
        problems.append(Problem(filename, line, key, f"expected {expected}, got {got!r}"))

    for i, a in enumerate(baseline.identity_center.assignments):
        if a.permission_set not in sets:
            known = ", ".join(sorted(sets)) or "none declared"
            problem(
                ("assignments", i, "permission_set"),
                f"a permission set of permission_sets ({known})",
                a.permission_set,
            )
        for j, acct in enumerate(a.accounts):
            if acct not in accounts:
                known = ", ".join(sorted(accounts)) or "none"
                problem(
                    ("assignments", i, "accounts", j),
                    f"an account id or name of the baselines ({known})",
                    acct,
                )
        for j, ou in enumerate(a.ous):
            if ou not in ous:
                known = ", ".join(sorted(ous)) or "structure.yaml declares none"
                problem(("assignments", i, "ous", j), f"an OU path of structure.yaml ({known})", ou)
    return problems


def check_rules(filename: str, baseline: Baseline, raw: Any, lines: dict) -> list[Problem]:
    """Every account and OU a reachability rule names must be known: a typo would make the
    rule hold for nothing, and so always pass."""
    assert baseline.access is not None
    accounts, ous = _known(baseline)
    accounts |= set(baseline.access.third_parties)
    problems = []
    for i, rule in enumerate(baseline.access.rules):
        kind = "forbid" if rule.forbid is not None else "only"
        for side, selectors in (("from", rule.reach.sources), ("to", rule.reach.to)):
            for j, selector in enumerate(selectors):
                where = ("rules", i, kind, side, j)
                if selector.account is not None and selector.account not in accounts:
                    line, key = line_for(lines, raw, (*where, "account"))
                    known = ", ".join(sorted(accounts)) or "none"
                    problems.append(
                        Problem(
                            filename,
                            line,
                            key,
                            f"expected an account id or name of the baselines ({known}), "
                            f"got {selector.account!r}",
                        )
                    )
                if selector.ou is not None and ous and not any(selector.ou_matches(o) for o in ous):
                    line, key = line_for(lines, raw, (*where, "ou"))
                    problems.append(
                        Problem(
                            filename,
                            line,
                            key,
                            f"expected an OU path of structure.yaml ({', '.join(sorted(ous))}), "
                            f"got {selector.ou!r}",
                        )
                    )
    return problems


def check_references(
    path: Path, lines: dict, account: str, state: AccountState, problems: list[Problem]
) -> None:
    """Groups a user is in, and customer managed policies attached, must be declared."""
    own_policy = re.compile(rf"^{PARTITION}:iam::(\d{{12}}):policy/(?:.*/)?([^/]+)$")
    for name, user in state.users.items():
        for i, group in enumerate(user.groups):
            if group not in state.groups:
                problems.append(
                    Problem(
                        str(path),
                        lines.get(("users", name, "groups", i), 1),
                        f"users.{name}.groups[{i}]",
                        f"group {group!r} is not declared under groups",
                    )
                )
    for kind in ("users", "groups", "roles"):
        for name, entity in getattr(state, kind).items():
            arns = [*entity.managed_policies, getattr(entity, "permissions_boundary", None)]
            for i, arn in enumerate(arns):
                match = own_policy.match(arn or "")
                if not match:
                    continue
                key = (
                    f"{kind}.{name}.managed_policies[{i}]"
                    if i < len(entity.managed_policies)
                    else f"{kind}.{name}.permissions_boundary"
                )
                loc = (
                    (kind, name, "managed_policies", i)
                    if i < len(entity.managed_policies)
                    else (kind, name, "permissions_boundary")
                )
                if match.group(1) != account:
                    problems.append(
                        Problem(
                            str(path),
                            lines.get(loc, 1),
                            key,
                            f"expected a policy of account {account} or an AWS "
                            f"managed policy, got one of account {match.group(1)}",
                        )
                    )
                elif match.group(2) not in state.policies:
                    problems.append(
                        Problem(
                            str(path),
                            lines.get(loc, 1),
                            key,
                            f"customer managed policy {match.group(2)!r} is not "
                            "declared under policies",
                        )
                    )
