"""Who can reach what, in any number of steps (pure): chains of the access graph's edges
across accounts (access[]) and inside them (role chaining, IAM take-over, administrators;
access/local.py), with administrator of an account as a target (`admin@ACCOUNT`).

A chain is a principal becoming another, whose session becomes the next, and so on.
Each hop keeps the statements that allow it and the conditions its request must meet.
Answers are shortest chains (breadth first), at most `max_hops` edges long; the shared
nodes (`roles@X`, ...) are steps of a chain, never its start or its answer.

>>> from iamdrift.access.graph import AccessRow
>>> g = Reachability([AccessRow(principal="arn:aws:iam::1:user/u",
...                             role="arn:aws:iam::222222222222:role/Admin", status="expected")],
...                  [], ["arn:aws:iam::222222222222:role/Admin"])
>>> [c.target for c in g.reach("arn:aws:iam::1:user/u")]
['arn:aws:iam::222222222222:role/Admin', 'admin@222222222222']
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from iamdrift.access.graph import AccessRow
from iamdrift.access.projection import SHARED, LocalEdge, is_shared, shared

LIVE = ("expected", "unexpected", "conditions missing")  # edges that exist (not "missing")


def account_of(arn: str) -> str:
    return arn.split(":")[4] if arn.count(":") >= 5 else ""


def describe(node: str) -> str:
    """A node as a reviewer reads it: `any role of 222222222222` for `roles@222222222222`."""
    if is_shared(node):
        kind, account = node.split("@", 1)
        return SHARED[kind].format(account)
    return node


@dataclass(frozen=True)
class Hop:
    principal: str
    role: str  # where the hop leads: a role, a user, or a shared node
    path: tuple[str, ...]
    conditions: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    # assume | iam | admin | any | member | sign-in
    kind: str = field(default="assume", compare=False)

    def line(self) -> str:
        verb = {
            "assume": "assumes",
            "iam": "takes over",
            "admin": "is",
            "any": "can become",
            "member": "is a member of",
            "sign-in": "signs in to",
        }[self.kind]
        return f"{describe(self.principal)} {verb} {describe(self.role)}"


@dataclass
class Chain:
    """`start` reaches `target` through `hops` (none: it is the target, or administrator)."""

    start: str
    target: str
    hops: list[Hop]

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "target": self.target,
            "hops": [
                {"principal": h.principal, "role": h.role, "kind": h.kind,
                 "path": list(h.path), "conditions": h.conditions}
                for h in self.hops
            ],
        }  # fmt: skip

    def lines(self) -> list[str]:
        out = [f"{self.start} => {self.target} ({len(self.hops)} hop(s))"]
        for n, h in enumerate(self.hops, 1):
            cond = f" if {h.conditions}" if h.conditions else ""
            out.append(f"  {n}. {h.line()}{cond}")
            out += [f"       because {why}" for why in h.path]
        return out


def _kind(principal: str) -> str:
    return "sign-in" if principal.startswith("identitycenter:") else "assume"


class Reachability:
    """The live edges across and inside accounts, walkable both ways. `administrators` is
    for runs written before edges inside accounts were: each reaches `admin@` its account."""

    def __init__(self, rows: list[AccessRow], local: list[LocalEdge], administrators: list[str]):
        self.forward: dict[str, list[Hop]] = {}
        self.backward: dict[str, list[Hop]] = {}
        hops = [
            Hop(r.principal, r.role, tuple(r.path), r.conditions, _kind(r.principal))
            for r in rows
            if r.status in LIVE
        ]
        hops += [Hop(e.principal, e.target, tuple(e.path), e.conditions, e.kind) for e in local]
        with_edge = {h.principal for h in hops if h.kind == "admin"}
        hops += [
            Hop(a, shared("admin", account_of(a)), ("administrator of its account",), kind="admin")
            for a in administrators
            if a not in with_edge
        ]
        for hop in hops:
            self.forward.setdefault(hop.principal, []).append(hop)
            self.backward.setdefault(hop.role, []).append(hop)
        for edges in (*self.forward.values(), *self.backward.values()):
            edges.sort(key=lambda h: (h.role, h.principal))

    def nodes(self) -> set[str]:
        return set(self.forward) | set(self.backward)

    def _walk(self, starts: set[str], max_hops: int, forward: bool) -> dict[str, list[Hop]]:
        """Breadth first from `starts` along the edges (or against them): each node reached
        with its shortest chain of hops, in the order they are taken."""
        edges = self.forward if forward else self.backward
        seen: dict[str, list[Hop]] = {s: [] for s in starts}
        queue = deque(sorted(starts))
        while queue:
            node = queue.popleft()
            if len(seen[node]) >= max_hops:
                continue
            for hop in edges.get(node, []):
                step = hop.role if forward else hop.principal
                if step not in seen:
                    seen[step] = [*seen[node], hop] if forward else [hop, *seen[node]]
                    queue.append(step)
        return seen

    def reach(self, start: str, max_hops: int = 10) -> list[Chain]:
        """Every principal `start` can become, and every account it can administer, by the
        shortest chain."""
        seen = self._walk({start}, max_hops, forward=True)
        chains = [
            Chain(start, node, hops)
            for node, hops in seen.items()
            if hops and (not is_shared(node) or node.startswith("admin@"))
        ]
        return sorted(chains, key=lambda c: (c.target.startswith("admin@"), len(c.hops), c.target))

    def who_can_reach(self, targets: set[str], label: str, max_hops: int = 10) -> list[Chain]:
        """Every principal that reaches one of `targets`, by its shortest chain."""
        seen = self._walk(targets, max_hops, forward=False)
        chains = [
            Chain(node, label, hops) for node, hops in seen.items() if hops and not is_shared(node)
        ]
        return sorted(chains, key=lambda c: (len(c.hops), c.start))
