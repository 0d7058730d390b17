"""Who can reach what, in any number of steps (pure): chains of the access graph's edges, and
administrator of an account as a target (`admin@ACCOUNT`).

A chain is a principal assuming a role, whose session assumes the next, and so on; a
role that is administrator of its account (access/admin.py) reaches `admin@ACCOUNT`.
Each hop keeps the statements that allow it and the conditions its request must meet.
Answers are shortest chains (breadth first), at most `max_hops` edges long.

>>> from iamdrift.access.graph import AccessRow
>>> g = Reachability([AccessRow(principal="arn:aws:iam::1:user/u",
...                             role="arn:aws:iam::222222222222:role/Admin", status="expected")],
...                  ["arn:aws:iam::222222222222:role/Admin"])
>>> [c.target for c in g.reach("arn:aws:iam::1:user/u")]
['arn:aws:iam::222222222222:role/Admin', 'admin@222222222222']
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from iamdrift.access.graph import AccessRow

LIVE = ("expected", "unexpected", "conditions missing")  # edges that exist (not "missing")


def account_of(arn: str) -> str:
    return arn.split(":")[4] if arn.count(":") >= 5 else ""


@dataclass(frozen=True)
class Hop:
    principal: str
    role: str
    path: tuple[str, ...]
    conditions: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


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
                {"principal": h.principal, "role": h.role, "path": list(h.path),
                 "conditions": h.conditions}
                for h in self.hops
            ],
        }  # fmt: skip

    def lines(self) -> list[str]:
        out = [f"{self.start} => {self.target} ({len(self.hops)} hop(s))"]
        for n, h in enumerate(self.hops, 1):
            cond = f" if {h.conditions}" if h.conditions else ""
            out.append(f"  {n}. {h.principal} assumes {h.role}{cond}")
            out += [f"       because {why}" for why in h.path]
        if self.target.startswith("admin@"):
            last = self.hops[-1].role if self.hops else self.start
            out.append(f"  {last} is administrator of {self.target.split('@', 1)[1]}")
        return out


class Reachability:
    """The access graph's live edges, walkable both ways."""

    def __init__(self, rows: list[AccessRow], administrators: list[str]):
        self.forward: dict[str, list[Hop]] = {}
        self.backward: dict[str, list[Hop]] = {}
        for r in rows:
            if r.status not in LIVE:
                continue
            hop = Hop(r.principal, r.role, tuple(r.path), r.conditions)
            self.forward.setdefault(r.principal, []).append(hop)
            self.backward.setdefault(r.role, []).append(hop)
        self.administrators = set(administrators)

    def nodes(self) -> set[str]:
        return set(self.forward) | set(self.backward) | self.administrators

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
            for hop in sorted(edges.get(node, []), key=lambda h: (h.role, h.principal)):
                step = hop.role if forward else hop.principal
                if step not in seen:
                    seen[step] = [*seen[node], hop] if forward else [hop, *seen[node]]
                    queue.append(step)
        return seen

    def reach(self, start: str, max_hops: int = 10) -> list[Chain]:
        """Every role `start` can reach, and every account it can administer, by the
        shortest chain."""
        seen = self._walk({start}, max_hops, forward=True)
        chains = [Chain(start, node, hops) for node, hops in seen.items() if hops]
        admin: dict[str, Chain] = {}
        for node, hops in sorted(seen.items(), key=lambda kv: len(kv[1])):
            if node in self.administrators:
                target = f"admin@{account_of(node)}"
                admin.setdefault(target, Chain(start, target, hops))
        return sorted(chains, key=lambda c: (len(c.hops), c.target)) + sorted(
            admin.values(), key=lambda c: (len(c.hops), c.target)
        )

    def who_can_reach(self, targets: set[str], label: str, max_hops: int = 10) -> list[Chain]:
        """Every principal that reaches one of `targets`, by its shortest chain (the
        targets themselves, with no hop, where they are principals too)."""
        seen = self._walk(targets, max_hops, forward=False)
        # An administrator is one itself; a role of an account named as the target is not
        # a way into it.
        chains = [
            Chain(node, label, hops)
            for node, hops in seen.items()
            if hops or (label.startswith("admin@") and node in self.administrators)
        ]
        return sorted(chains, key=lambda c: (len(c.hops), c.start))
