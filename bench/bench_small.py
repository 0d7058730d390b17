"""A small run's cost: the example organization (3 accounts) checked by the commands a
scheduler or CI starts, against the floor of the same reads.

    python bench/bench_small.py [--rounds 7] [--latency 0]

Seeds moto's server (in this process) with the example organization, then runs each
command as a subprocess, as a user would, round after round (interleaved, so a busy
moment of a shared machine falls on all of them alike):

  floor     a bare boto3 script making the same requests as `run` (the hub's identity,
            the organization, AssumeRole into each member, every page of
            GetAccountAuthorizationDetails and ListRoles in each account, the attached AWS
            managed policies' default versions, Identity Center's reads): the cost of the
            reads alone
  run       `runner.py run` (writes the report, JUnit, findings JSON and history)
  snapshot  `runner.py snapshot` into a fresh directory
  validate  `runner.py validate`
  schedule  `runner.py schedule --once` (a run in a child process, as nightly runs are)

and prints the median wall time and CPU (user+sys of the command and its children) of
each, their ratio to the floor's, and the requests each made. Whatever Python test
plugins the environment has (hypothesis's among them) are installed as they would be.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_org import FLOOR_IC, REQUESTS, Measure, add_latency, measure  # noqa: E402

from iamdrift.emulator import (  # noqa: E402
    Emulator,
    build_seed_organization,
    emulator_env,
    moto_server,
)

FLOOR = """
import sys, boto3
from concurrent.futures import ThreadPoolExecutor
from botocore.config import Config
config = Config(retries={"mode": "standard"}, max_pool_connections=32)
sts = boto3.client("sts", config=config)
hub = sts.get_caller_identity()["Account"]
org = boto3.client("organizations", config=config)
def organization():
    org.describe_organization()
    parents = [r["Id"] for r in org.list_roots()["Roots"]]
    while parents:
        parent = parents.pop()
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            pass
        for page in org.get_paginator("list_organizational_units_for_parent").paginate(
                ParentId=parent):
            parents += [ou["Id"] for ou in page["OrganizationalUnits"]]
    for page in org.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY"):
        for p in page["Policies"]:
            org.describe_policy(PolicyId=p["Id"])
            org.list_targets_for_policy(PolicyId=p["Id"])
aws_policies = set()
def read(account):
    if account == hub:
        iam = boto3.client("iam", config=config)
    else:
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
            RoleSessionName="floor")["Credentials"]
        iam = boto3.client("iam", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], config=config)
    gaad = iam.get_paginator("get_account_authorization_details")
    for page in gaad.paginate(Filter=["User", "Group", "Role", "LocalManagedPolicy"]):
        for kind in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
            for entity in page.get(kind, []):
                aws_policies.update(p["PolicyArn"] for p in entity["AttachedManagedPolicies"]
                                    if p["PolicyArn"].startswith("arn:aws:iam::aws:"))
    for _ in iam.get_paginator("list_roles").paginate():
        pass
with ThreadPoolExecutor(8) as pool:
    done = pool.submit(organization)
    list(pool.map(read, sys.argv[1].split(",")))
    done.result()
iam = boto3.client("iam", config=config)
for arn in sorted(aws_policies):
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    iam.get_policy_version(PolicyArn=arn, VersionId=version)
accounts = sys.argv[1].split(",")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    add_latency(args.latency)
    runner = str(ROOT / "runner.py")
    baselines = str(ROOT / "baselines")
    results: dict[str, list[Measure]] = {}
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        accounts = build_seed_organization(Emulator(endpoint))
        env = {**emulator_env(endpoint), "PATH": "/usr/bin:/bin", "CI": "1"}
        ids = ",".join(accounts.values())
        commands = {
            "floor": [sys.executable, "-c", FLOOR + FLOOR_IC, ids],
            "run": [
                sys.executable,
                runner,
                "run",
                "--baselines",
                baselines,
                "--report-dir",
                f"{tmp}/reports",
                "--json",
                f"{tmp}/findings.json",
            ],
            "snapshot": [sys.executable, runner, "snapshot", "--baselines", f"{tmp}/snap"],
            "validate": [sys.executable, runner, "validate", "--baselines", baselines],
            "schedule": [
                sys.executable,
                runner,
                "schedule",
                "--once",
                "--baselines",
                baselines,
                "--report-dir",
                f"{tmp}/scheduled",
            ],
        }
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                if name == "snapshot":
                    for path in Path(f"{tmp}/snap").rglob("*.yaml"):
                        path.unlink()  # a bootstrap, every round
                m = measure(name, cmd, env)
                if m.code not in (0, 1):
                    raise SystemExit(f"{name} exited {m.code}:\n{m.stdout[-3000:]}")
                results.setdefault(name, []).append(m)
    floor_cpu = statistics.median(m.cpu for m in results["floor"])
    floor_wall = statistics.median(m.wall for m in results["floor"])
    print(
        f"example organization, {len(ids.split(','))} accounts, {args.rounds} rounds, "
        f"{args.latency * 1000:.0f} ms per request; medians:"
    )
    for name, ms in results.items():
        wall = statistics.median(m.wall for m in ms)
        cpu = statistics.median(m.cpu for m in ms)
        requests = sum(ms[-1].requests.values())
        print(
            f"  {name:9} wall {wall:5.2f} s ({wall / floor_wall:4.2f}x the floor)  "
            f"CPU {cpu:5.2f} s ({cpu / floor_cpu:4.2f}x)  min wall {min(m.wall for m in ms):.2f} s"
            f"  requests {requests}"
        )
    print(f"  requests of the last run: {dict(sorted(results['run'][-1].requests.items()))}")
    print(f"  requests of the floor:    {dict(sorted(results['floor'][-1].requests.items()))}")
    REQUESTS.clear()


if __name__ == "__main__":
    main()
