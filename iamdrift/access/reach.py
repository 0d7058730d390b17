"""Who can reach what, in any number of steps (pure): chains of the access graph's edges
across accounts (access[]) and inside them (role chaining, IAM take-over, administrators;
access/local.py), with administrator of an account as a target (`admin@ACCOUNT`).

A chain is a principal becoming another, whose session becomes the next, and so on.
Each hop keeps the statements that allow it and the conditions its request must meet.
Answers are shortest chains (breadth first), at most `max_hops` edges long; the shared
nodes (`roles@X`, ...) are steps of a chain, never its start or its answer.

>>> from iamdrift.access.edge import AccessRow
>>> g = Reachability([AccessRow(principal="arn:aws:iam::1:user/u",
...                             role="arn:aws:iam::222222222222:role/Admin", status="expected")],
...                  [], ["arn:aws:iam::222222222222:role/Admin"])
>>> [c.target for c in g.reach("arn:aws:iam::1:user/u")]
['arn:aws:iam::222222222222:role/Admin', 'admin@222222222222']
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from iamdrift.access.edge import AccessRow, Edge, EdgeKind, account_of, is_shared, shared

LIVE = ("expected", "unexpected", "conditions missing")  # edges that exist (not "missing")


@dataclass
class Chain:
    """`start` reaches `target` through `hops` (none: it is the target, or administrator)."""

    start: str
    target: str
    hops: list[Edge]  # the chain's view of each edge: principal, then where it leads

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "target": self.target,
            "hops": [
                {
                    "principal": h.principal,
                    "role": h.target,
                    "kind": h.kind,
                    "path": list(h.path),
                    "conditions": h.conditions,
                }
                for h in self.hops
            ],
        }

    def lines(self) -> list[str]:
        out = [f"{self.start} => {self.target} ({len(self.hops)} hop(s))"]
        for n, h in enumerate(self.hops, 1):
            cond = f" if {h.conditions}" if h.conditions else ""
            out.append(f"  {n}. {h.line()}{cond}")
            out += [f"       because {why}" for why in h.path]
        return out


def _kind(principal: str) -> EdgeKind:
    return "sign-in" if principal.startswith("identitycenter:") else "assume"


class Reachability:
    """The live edges across and inside accounts, walkable both ways. `administrators` is
    for runs written before edges inside accounts were: each reaches `admin@` its account."""

    def __init__(self, rows: list[AccessRow], local: list[Edge], administrators: list[str]):
        self.forward: dict[str, list[Edge]] = {}
        self.backward: dict[str, list[Edge]] = {}
        hops = [
            Edge(
                principal=r.principal,
                target=r.role,
                kind=_kind(r.principal),
                path=r.path,
                conditions=r.conditions,
            )
            for r in rows
            if r.status in LIVE
        ]
        hops += local
        with_edge = {h.principal for h in hops if h.kind == "admin"}
        hops += [
            Edge(
                principal=a,
                target=shared("admin", account_of(a)),
                kind="admin",
                path=["administrator of its account"],
            )
            for a in administrators
            if a not in with_edge
        ]
        for hop in hops:
            self.forward.setdefault(hop.principal, []).append(hop)
            self.backward.setdefault(hop.target, []).append(hop)
        for edges in (*self.forward.values(), *self.backward.values()):
            edges.sort(key=lambda h: (h.target, h.principal))

    def nodes(self) -> set[str]:
        return set(self.forward) | set(self.backward)

    def _walk(self, starts: set[str], max_hops: int, forward: bool) -> dict[str, list[Edge]]:
        """Breadth first from `starts` along the edges (or against them): each node reached
        with its shortest chain of hops, in the order they are taken."""
        edges = self.forward if forward else self.backward
        seen: dict[str, list[Edge]] = {s: [] for s in starts}
        queue = deque(sorted(starts))
        while queue:
            node = queue.popleft()
            if len(seen[node]) >= max_hops:
                continue
            for hop in edges.get(node, []):
                step = hop.target if forward else hop.principal
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
