"""Reachability rules of access.yaml, checked every run (pure): `forbid` (no principal of
`from` may reach `to`) and `only` (no principal but those of `from` may).

A violation is one finding per principal and target account (`admin@X` when the rule's
target is administrator), with the shortest chain; critical when the target is
administrator, high otherwise. A principal already in the target account is not one
that reaches it, unless the target is administrator (escalating inside counts). An `only`
rule names everyone who may reach the target, the roles a chain passes through included:
they reach it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from iamdrift.access.edge import account_of, describe, is_shared, node_label
from iamdrift.access.evaluate import iam_match
from iamdrift.access.reach import Chain, Reachability
from iamdrift.baselines.access_file import ReachRule, Selector
from iamdrift.compare.findings import Finding, Place, finding, sort_findings

MAX_HOPS = 20  # longer chains than any organization's trust graph needs


@dataclass
class Accounts:
    """What selectors match accounts by: their names, and their OU paths where the
    organization was read (an OU selector matches no account whose OU is unknown)."""

    names: dict[str, str] = field(default_factory=dict)
    ous: dict[str, str] = field(default_factory=dict)

    def matches(self, selector: Selector, account: str) -> bool:
        if selector.account is not None and selector.account not in (
            account,
            self.names.get(account),
        ):
            return False
        if selector.ou is not None:
            ou = self.ous.get(account)
            return ou is not None and selector.ou_matches(ou)
        return True


class RuleResult(BaseModel):
    """A rule's verdict in the run: `rules[]` of the findings JSON."""

    name: str
    kind: Literal["forbid", "only"]
    description: str | None = None
    violations: list[str] = []  # finding ids


def _principal(selector: Selector, node: str, accounts: Accounts) -> bool:
    if is_shared(node) or not accounts.matches(selector, account_of(node)):
        return False
    return selector.principal is None or iam_match([selector.principal], node, case=True)


def _targets(rule: ReachRule, graph: Reachability, accounts: Accounts) -> dict[str, set[str]]:
    """The graph's nodes `to` selects, by target: `admin@X`, or account X."""
    out: dict[str, set[str]] = {}
    nodes = graph.nodes()
    for selector in rule.reach.to:
        if selector.admin:
            for node in nodes:
                if node.startswith("admin@") and accounts.matches(selector, node[6:]):
                    out.setdefault(node, set()).add(node)
            continue
        for node in nodes:
            if _principal(selector, node, accounts):
                out.setdefault(account_of(node), set()).add(node)
    return out


def check_rules(
    rules: list[ReachRule], graph: Reachability, accounts: Accounts
) -> tuple[list[Finding], list[RuleResult]]:
    """Each rule's violations as findings, and each rule's verdict."""
    findings: list[Finding] = []
    results = []
    for rule in rules:
        kind: Literal["forbid", "only"] = "forbid" if rule.forbid is not None else "only"
        ids = []
        for target, nodes in sorted(_targets(rule, graph, accounts).items()):
            admin = target.startswith("admin@")
            account = target[6:] if admin else target
            for chain in graph.who_can_reach(nodes, target, MAX_HOPS):
                if not admin and account_of(chain.start) == account:
                    continue
                allowed = any(_principal(s, chain.start, accounts) for s in rule.reach.sources)
                if allowed == (kind == "forbid"):
                    found = _violation(rule.name, kind, account, admin, chain)
                    findings.append(found)
                    ids.append(found.id)
        results.append(
            RuleResult(name=rule.name, kind=kind, description=rule.description, violations=ids)
        )
    return sort_findings(findings), results


def _violation(rule: str, kind: str, account: str, admin: bool, chain: Chain) -> Finding:
    target = f"admin@{account}" if admin else account
    where = Place(account, "reach", f"{node_label(chain.start)}->{target}", f"Account {account}")
    via = " -> ".join(describe(h.target) for h in chain.hops)
    what = "administrator of the account" if admin else f"{describe(chain.hops[-1].target)}"
    verb = "forbids" if kind == "forbid" else "does not allow"
    return finding(
        where,
        f"rule:{rule}",
        "unexpected",
        "critical" if admin else "high",
        f"{chain.start} can reach {what} in {len(chain.hops)} hop(s), which rule {rule} "
        f"{verb} (chain: {via})",
        None,
        chain.as_json(),
    )
