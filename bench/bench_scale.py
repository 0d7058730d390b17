"""Micro-benchmarks of the pure steps: comparison, pytest collection, the access graph.

    python bench/bench_scale.py [--accounts 1000] [--entities 300] [--collect-accounts 100]

A. diff: N accounts x M entities (a third each users, groups, roles, with policies),
   1% of entities changed; time and peak memory of normalize + diff.
B. pytest collection of `checks/` from baselines of that shape (no AWS calls).
D. the access graph over N accounts' projections.
The whole run against moto's server is bench/bench_org.py. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iamdrift.baselines.models import AccountState  # noqa: E402
from iamdrift.baselines.yamlio import dump_yaml  # noqa: E402
from iamdrift.compare.diff import diff_account  # noqa: E402

RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def trust(principal: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
        ],
    }


def allow(resource: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": resource}],
    }


def account_data(account: str, entities: int, changed: bool = False) -> dict:
    third = max(1, entities // 3)
    data: dict = {"users": {}, "groups": {}, "roles": {}}
    for i in range(third):
        data["groups"][f"group{i}"] = {
            "managed_policies": [RO],
            "inline_policies": {"Assume": allow(f"arn:aws:iam::{account}:role/r{i}")},
        }
        data["users"][f"user{i}"] = {"groups": [f"group{i}"]}
        principal = f"arn:aws:iam::111111111111:user/user{i}"
        if changed and i % 100 == 0:
            principal = "arn:aws:iam::111111111111:root"
        data["roles"][f"role{i}"] = {"trust_policy": trust(principal), "managed_policies": [RO]}
    return data


def bench_diff(accounts: int, entities: int) -> None:
    expected = [AccountState.model_validate(account_data(f"{i:012d}", entities)) for i in range(1)]
    live_data = account_data("000000000000", entities, changed=True)
    tracemalloc.start()
    start = time.perf_counter()
    findings = 0
    for i in range(accounts):
        # Each account is built from its API-shaped data as collection would, then diffed.
        live = AccountState.model_validate(live_data)
        findings += len(diff_account(f"{i:012d}", expected[0], live))
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = accounts * entities
    print(
        f"A diff: {accounts} accounts x {entities} entities = {n} entities, {findings} findings: "
        f"{elapsed:.1f}s ({n / elapsed:,.0f} entities/s), peak traced memory {peak / 2**20:.0f} MiB"
    )


def bench_graph(accounts: int, entities: int) -> None:
    """The access graph over N accounts: each account's users may assume roles elsewhere."""
    from iamdrift.access.evaluate import OrgContext
    from iamdrift.access.graph import build_graph
    from iamdrift.access.projection import project

    half = max(1, entities // 2)
    ids = [f"{200000000000 + i}" for i in range(accounts)]
    states = {}
    for n, account in enumerate(ids):
        nxt = ids[(n + 1) % accounts]
        users = {f"user{i}": {"groups": ["Ops"]} for i in range(half)}
        group = {"Ops": {"inline_policies": {"Assume": allow("arn:aws:iam::*:role/role*")}}}
        roles = {
            f"role{i}": {
                "trust_policy": trust(
                    f"arn:aws:iam::{nxt}:root"
                    if i % 50 == 0
                    else f"arn:aws:iam::{nxt}:user/user{i}"
                )
            }
            for i in range(half)
        }
        state = AccountState.model_validate({"users": users, "groups": group, "roles": roles})
        states[account] = project(account, state, {})
    start = time.perf_counter()
    graph = build_graph(states, OrgContext(members=set(ids)))
    elapsed = time.perf_counter() - start
    print(
        f"D graph: {accounts} accounts x {half} users + {half} roles: {len(graph.edges)} edges "
        f"in {elapsed:.1f}s"
    )


def write_baselines(directory: Path, accounts: int, entities: int) -> None:
    (directory / "accounts").mkdir(parents=True)
    for i in range(accounts):
        account = f"{200000000000 + i}"
        doc = {"account": account, "name": f"acct{i}", **account_data(account, entities)}
        (directory / "accounts" / f"{account}.yaml").write_text(dump_yaml(doc))


def bench_collect(accounts: int, entities: int) -> None:
    from iamdrift.baselines.load import load_baselines

    with tempfile.TemporaryDirectory() as tmp:
        write_baselines(Path(tmp), accounts, entities)
        start = time.perf_counter()
        load_baselines(tmp)
        load = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(ROOT / "checks"),
                "-q",
                "--collect-only",
                "-o",
                "addopts=",
                "-p",
                "no:cacheprovider",
                f"--baselines={tmp}",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        collect = time.perf_counter() - start
    items = proc.stdout.count("::")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"B baselines: {accounts} accounts x {entities} entities load in {load:.1f}s; "
        f"pytest collects {items} items in {collect:.1f}s "
        f"({items / collect:,.0f} items/s), max RSS {rss:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=300)
    parser.add_argument("--collect-accounts", type=int, default=100)
    args = parser.parse_args()
    # Collection first: a child's max RSS counts the parent's pages it was forked with.
    bench_collect(args.collect_accounts, args.entities)
    bench_diff(args.accounts, args.entities)
    bench_graph(args.accounts, min(args.entities, 200))


if __name__ == "__main__":
    main()
