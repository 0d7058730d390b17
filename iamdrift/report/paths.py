"""The report's "Paths to administrator": who can become administrator of an account without
being one there (from another account, or by escalating inside it), and through which chain;
one row per principal, its accounts listed collapsed, so an operator who administers a
thousand members is one row."""

from __future__ import annotations

from iamdrift.access.edge import account_of, describe, is_shared
from iamdrift.access.reach import Chain, Reachability
from iamdrift.report.results import RunReport
from iamdrift.report.table import e, table


def admin_chains(report: RunReport) -> dict[str, list[Chain]]:
    """Per principal, its shortest chain into each account it can administer, for those that
    are not administrators there themselves: chains that cross accounts first."""
    graph = Reachability(report.access, report.local_access, report.administrators)
    own = set(report.administrators)
    out: dict[str, list[Chain]] = {}
    for node in sorted(n for n in graph.nodes() if n.startswith("admin@")):
        for chain in graph.who_can_reach({node}, node):
            if chain.start not in own or account_of(chain.start) != node.split("@", 1)[1]:
                out.setdefault(chain.start, []).append(chain)
    for chains in out.values():
        chains.sort(key=lambda c: (not _crosses(c), len(c.hops), c.target))
    return out


def _crosses(chain: Chain) -> bool:
    return any(
        account_of(h.principal) != account_of(h.target) for h in chain.hops if h.kind != "admin"
    )


def _via(chain: Chain) -> str:
    return (
        " -> ".join(
            describe(h.target)
            if is_shared(h.target) or not account_of(h.target)  # identitycenter:group/NAME
            else h.target.split(":", 5)[-1] + f"@{account_of(h.target)}"
            for h in chain.hops
            if h.kind != "admin"
        )
        or "itself"
    )


def paths_html(report: RunReport) -> str:
    chains = admin_chains(report)
    if not chains:
        return ""
    rows = []
    order = sorted(chains.items(), key=lambda kv: (not _crosses(kv[1][0]), -len(kv[1]), kv[0]))
    for start, found in order:
        listed = "<br>".join(f"{e(c.target)} via {e(_via(c))}" for c in found)
        rows.append(
            [
                e(start),
                str(len(found)),
                f"<details><summary>{e(found[0].target)} via {e(_via(found[0]))}"
                f"{' and more' if len(found) > 1 else ''}</summary><p>{listed}</p></details>",
            ]
        )
    return f"<h3>Paths to administrator ({len(chains)} principal(s))</h3>" + table(
        ["Principal", "Accounts it can administer", "Chains"], rows, "iamdrift-admin-paths"
    )


LISTED = 50  # violations shown per rule; the findings table and JSON hold them all


def rules_html(report: RunReport) -> str:
    """Each reachability rule of access.yaml, kept or broken, with its violations' chains."""
    if not report.rules:
        return ""
    found = {f.id: f for f in [*report.findings, *report.waived]}
    rows = []
    for rule in report.rules:
        broken = [found[i] for i in rule.violations if i in found]
        waived = sum(1 for f in broken if f in report.waived)
        verdict = "kept" if not broken else f"{len(broken)} violation(s)"
        verdict += f", {waived} waived" if waived else ""
        listed = "".join(f"<li>{e(f.message)} <code>{e(f.id)}</code></li>" for f in broken[:LISTED])
        more = f"<li>and {len(broken) - LISTED} more</li>" if len(broken) > LISTED else ""
        detail = f"<details><summary>chains</summary><ul>{listed}{more}</ul></details>"
        rows.append(
            [
                e(rule.name),
                e(rule.kind),
                e(rule.description or ""),
                e(verdict),
                detail if broken else "",
            ]
        )
    broken_rules = sum(1 for r in report.rules if r.violations)
    return f"<h3>Reachability rules ({broken_rules} of {len(report.rules)} broken)</h3>" + table(
        ["Rule", "Kind", "Description", "Verdict", "Violations"], rows, "iamdrift-rules"
    )
