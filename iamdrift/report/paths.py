"""The report's "Paths to administrator": who can become administrator of an account they
do not belong to, and through which chain; one row per principal, its accounts listed
collapsed, so an operator who administers a thousand members is one row."""

from __future__ import annotations

from iamdrift.access.reach import Chain, Reachability, account_of
from iamdrift.report.results import RunReport
from iamdrift.report.table import e, table


def admin_chains(report: RunReport) -> dict[str, list[Chain]]:
    """Per principal, its shortest chain into each account it can administer (by a hop at
    least: an account's own administrators are not listed)."""
    graph = Reachability(report.access, report.administrators)
    out: dict[str, list[Chain]] = {}
    for account in sorted({account_of(a) for a in report.administrators}):
        admins = {a for a in report.administrators if account_of(a) == account}
        for chain in graph.who_can_reach(admins, f"admin@{account}"):
            if chain.hops:
                out.setdefault(chain.start, []).append(chain)
    return out


def _via(chain: Chain) -> str:
    return " -> ".join(h.role.split(":", 5)[-1] + f"@{account_of(h.role)}" for h in chain.hops)


def paths_html(report: RunReport) -> str:
    chains = admin_chains(report)
    if not chains:
        return ""
    rows = []
    for start, found in sorted(chains.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        listed = "<br>".join(f"{e(c.target)} via {e(_via(c))}" for c in found)
        rows.append([
            e(start),
            str(len(found)),
            f"<details><summary>{e(found[0].target)} via {e(_via(found[0]))}"
            f"{' and more' if len(found) > 1 else ''}</summary><p>{listed}</p></details>",
        ])  # fmt: skip
    return f"<h3>Paths to administrator ({len(chains)} principal(s))</h3>" + table(
        ["Principal", "Accounts it can administer", "Chains"], rows, "iamdrift-admin-paths"
    )
