"""Organization-scale benchmark: `runner.py` over N accounts x E entities, against the floor.

    python bench/bench_org.py [--accounts 100] [--entities 300] [--latency 0.05]
                              [--concurrency 8] [--xdist 2] [--drift 50] [--shards 2]
                              [--identity-center SETS GROUPS] [--quota]

Seeds moto's server (in this process, through moto's backends: seeding over HTTP
takes minutes) with an organization of N member accounts, each holding E IAM
entities (users in groups, groups with inline AssumeRole grants, roles trusting
services, their own account or the management account's operators, customer
managed policies), and adds `--latency` seconds to every request. Then it runs,
each as a subprocess as a user would:

  floor     a bare boto3 loop making the same AssumeRole, GAAD and ListRoles calls
            (same concurrency): the cost of the reads alone
  snapshot  `runner.py snapshot` writing baselines of the whole organization
  run       `runner.py run` against those baselines (no drift)
  xdist     the same run with `-- -n X --dist loadgroup`
  drift     a run after changing `--drift` accounts
  shards    `run --shard I/S` for each shard, then `merge` of the parts

and prints, for each: wall time, CPU (user+sys of the process and its children),
CPU against the floor's, peak RSS (the largest process, and the sum over the
process tree for xdist), report sizes and requests per account. The server's own
CPU is in this process and counted nowhere.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iamdrift.emulator import emulator_env, moto_server  # noqa: E402

MANAGEMENT = "123456789012"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
REQUESTS: Counter[str] = Counter()

FLOOR = """
import sys, threading, boto3
from concurrent.futures import ThreadPoolExecutor
from botocore.config import Config
accounts = sys.argv[1].split(",")
config = Config(retries={"mode": "standard"}, max_pool_connections=32)
sts = boto3.client("sts", config=config)
def read(account):
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="floor")["Credentials"]
    iam = boto3.client("iam", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"], config=config)
    gaad = iam.get_paginator("get_account_authorization_details")
    for _ in gaad.paginate(Filter=["User", "Group", "Role", "LocalManagedPolicy"]):
        pass
    for _ in iam.get_paginator("list_roles").paginate():
        pass
with ThreadPoolExecutor(int(sys.argv[2])) as pool:
    list(pool.map(read, accounts))
"""
# Identity Center, bare: the same calls iamdrift makes (with `accounts` and `config` set),
# held to the same documented rate (20 requests per second per service) by a plain
# limiter, as AWS would hold it.
FLOOR_IC = """
import threading, time
from concurrent.futures import ThreadPoolExecutor
import boto3
def limited(client):
    lock, nxt = threading.Lock(), [0.0]
    def wait(**_):
        with lock:
            now = time.monotonic(); slot = max(nxt[0], now); nxt[0] = slot + 0.05
        time.sleep(max(0.0, slot - now))
    client.meta.events.register("before-send", wait)
    return client
sso = limited(boto3.client("sso-admin", config=config))
store = limited(boto3.client("identitystore", config=config))
def every(client, op, key, **kw):
    return [x for p in client.get_paginator(op).paginate(**kw) for x in p[key]]
found = every(sso, "list_instances", "Instances")[0]
ins, sid = found["InstanceArn"], found["IdentityStoreId"]
provisioned = 0
def one_set(arn):
    kw = {"InstanceArn": ins, "PermissionSetArn": arn}
    sso.describe_permission_set(**kw)
    sso.get_inline_policy_for_permission_set(**kw)
    every(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies", **kw)
    every(sso, "list_customer_managed_policy_references_in_permission_set",
          "CustomerManagedPolicyReferences", **kw)
    try:
        sso.get_permissions_boundary_for_permission_set(**kw)
    except sso.exceptions.ResourceNotFoundException:
        pass
    every(sso, "list_accounts_for_provisioned_permission_set", "AccountIds",
          ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED", **kw)
    return [(arn, a) for a in every(sso, "list_accounts_for_provisioned_permission_set",
                                    "AccountIds", **kw)]
with ThreadPoolExecutor(16) as pool:
    pairs = [p for found in pool.map(one_set, every(sso, "list_permission_sets",
                                                    "PermissionSets", InstanceArn=ins))
             for p in found]
    users = every(store, "list_users", "Users", IdentityStoreId=sid)
    groups = every(store, "list_groups", "Groups", IdentityStoreId=sid)
    principals = [(u["UserId"], "USER") for u in users] + [(g["GroupId"], "GROUP") for g in groups]
    if len(principals) < len(pairs):  # the cheaper way, as iamdrift chooses it
        list(pool.map(lambda p: every(sso, "list_account_assignments_for_principal",
                                      "AccountAssignments", InstanceArn=ins, PrincipalId=p[0],
                                      PrincipalType=p[1]), principals))
    else:
        list(pool.map(lambda p: every(sso, "list_account_assignments", "AccountAssignments",
                                      InstanceArn=ins, PermissionSetArn=p[0], AccountId=p[1]),
                      pairs))
    list(pool.map(lambda g: every(store, "list_group_memberships", "GroupMemberships",
                                  IdentityStoreId=sid, GroupId=g["GroupId"]), groups))
"""


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict) -> str:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def seed(members: int, entities: int) -> list[str]:
    """The organization, through moto's backends; returns the member account ids."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends

    org = organizations_backends[MANAGEMENT]["aws"]
    org.create_organization(region="us-east-1", FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"member{i:04d}", Email=f"m{i}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(members)
    ]
    hub = iam_backends[MANAGEMENT]["global"]
    hub.create_group("Operators")
    hub.put_group_policy(
        "Operators",
        "AssumeOps",
        _doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/ops-*"}
        ),
    )
    for n in range(3):
        hub.create_user("us-east-1", f"operator{n}")
        hub.add_user_to_group("Operators", f"operator{n}")
    for account in ids:
        _seed_account(iam_backends[account]["global"], account, entities)
    return ids


def _seed_account(iam, account: str, entities: int) -> None:
    users, groups = int(entities * 0.3), max(1, int(entities * 0.1))
    policies, roles = max(1, int(entities * 0.1)), entities - int(entities * 0.5)
    for p in range(policies):
        iam.create_policy(
            description="",
            path="/team/",
            policy_document=_doc(
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": f"arn:aws:s3:::bucket-{account}-{p}/*",
                }
            ),
            policy_name=f"team-policy-{p}",
            tags=[],
        )
    for g in range(groups):
        iam.create_group(f"group{g}")
        iam.attach_group_policy(READ_ONLY, f"group{g}")
        iam.put_group_policy(
            f"group{g}",
            "AssumeTeamRole",
            _doc(
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::{account}:role/app-{g}",
                }
            ),
        )
    for u in range(users):
        iam.create_user("us-east-1", f"user{u}", path="/people/")
        iam.add_user_to_group(f"group{u % groups}", f"user{u}")
        if u % 10 == 0:
            iam.put_user_policy(
                f"user{u}",
                "Own",
                _doc(
                    {
                        "Effect": "Allow",
                        "Action": "iam:ChangePassword",
                        "Resource": f"arn:aws:iam::{account}:user/people/user{u}",
                    }
                ),
            )
    for r in range(roles):
        if r < 3:
            name = ("ops-read", "ops-deploy", "ops-audit")[r]
            principal = {"AWS": f"arn:aws:iam::{MANAGEMENT}:user/operator{r}"}
        elif r % 3 == 0:
            name, principal = f"app-{r}", {"AWS": f"arn:aws:iam::{account}:root"}
        else:
            name, principal = f"service-{r}", {"Service": "lambda.amazonaws.com"}
        iam.create_role(
            role_name=name,
            assume_role_policy_document=_trust(principal),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration="3600",
        )
        iam.put_role_policy(
            name,
            "Logs",
            _doc(
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            ),
        )
        if r % 4 == 0:
            iam.attach_role_policy(READ_ONLY, name)


IC_SETS = """identity center: {sets} permission sets ({admins} of them administrator),
{groups} groups of 2 users, {per} assignments into every account"""


def seed_identity_center(ids: list[str], sets: int, groups: int) -> str:
    """An Identity Center instance through moto's backends and the emulator's provisioning:
    `sets` permission sets (every tenth an administrator set), `groups` groups of two
    users, and into every account 3 sets, each assigned to 2 groups (6 assignments)."""
    from moto.identitystore.models import identitystore_backends
    from moto.ssoadmin.models import ssoadmin_backends

    from iamdrift.emulator.sso import _provision

    sso = ssoadmin_backends[MANAGEMENT]["us-east-1"]
    instance = sso.instances[0]
    store = identitystore_backends[MANAGEMENT]["us-east-1"]
    arns = []
    for n in range(sets):
        arn = sso.create_permission_set(f"set{n:02d}", "", instance.instance_arn, "PT1H", "", [])[
            "PermissionSetArn"
        ]
        admin = n % 10 == 0
        sso.attach_managed_policy_to_permission_set(
            instance.instance_arn,
            arn,
            "arn:aws:iam::aws:policy/AdministratorAccess" if admin else READ_ONLY,
        )
        if not admin:
            sso.put_inline_policy_to_permission_set(
                instance.instance_arn,
                arn,
                _doc({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}),
            )
        arns.append(arn)
    group_ids = []
    for g in range(groups):
        gid, _ = store.create_group(instance.identity_store_id, f"team{g:03d}", "")
        group_ids.append(gid)
        for u in range(2):
            uid, _ = store.create_user(
                identity_store_id=instance.identity_store_id,
                user_name=f"person{g:03d}-{u}",
                name={"GivenName": "p", "FamilyName": "q"},
                display_name="p",
                nick_name="",
                profile_url="",
                emails=[],
                addresses=[],
                phone_numbers=[],
                user_type="",
                title="",
                preferred_language="",
                locale="",
                timezone="",
            )
            store.create_group_membership(instance.identity_store_id, gid, {"UserId": uid})
    for i, account in enumerate(ids):
        for k in range(3):
            arn = arns[(i + 7 * k) % sets]
            for j in range(2):
                sso.create_account_assignment(
                    instance.instance_arn,
                    account,
                    "AWS_ACCOUNT",
                    arn,
                    "GROUP",
                    group_ids[(i * 3 + k * 2 + j) % groups],
                )
            _provision(sso, instance.instance_arn, arn, account)
    return IC_SETS.format(sets=sets, admins=(sets + 9) // 10, groups=groups, per=6)


def add_latency(seconds: float) -> None:
    """Every request to the server waits `seconds` (a thread sleeps: no CPU) and is counted."""
    from moto.server import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        REQUESTS[action or environ.get("HTTP_X_AMZ_TARGET", "?")] += 1
        time.sleep(seconds)
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            rss_pages = int(Path(f"/proc/{p}/statm").read_text().split()[1])
            total += rss_pages * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Measure:
    name: str
    code: int
    wall: float
    cpu: float
    max_rss: int  # the largest single process, bytes
    tree_rss: int  # the largest sum over the process tree, bytes
    requests: Counter[str] = field(default_factory=Counter)
    stdout: str = ""
    # With --quota, by throttled service: (requests answered, throttled, seconds from its
    # first request to its last).
    quota: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    quota_span: float = 0.0  # from the first throttled service's request to the last's


# A child forked from this process (which holds the emulator's whole organization) starts
# with this process's pages counted in its peak RSS; a small launcher forks the command
# instead and reports what its children used.
LAUNCHER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    json.dump({"cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss * 1024}, fh)
sys.exit(code)
"""


def measure(name: str, cmd: list[str], env: dict[str, str]) -> Measure:
    from iamdrift.emulator import quota as emulator_quota

    emulator_quota.FIRST.clear()
    emulator_quota.LAST.clear()
    served, throttled = Counter(emulator_quota.SERVED), Counter(emulator_quota.THROTTLED)
    before = Counter(REQUESTS)
    started = time.perf_counter()
    fd, usage_file = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [sys.executable, "-c", LAUNCHER, usage_file, *cmd]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)
    reader.start()
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    wall = time.perf_counter() - started
    reader.join()
    sampler.join(timeout=2)
    usage = json.loads(Path(usage_file).read_text())
    os.unlink(usage_file)
    span = (
        max(emulator_quota.LAST.values()) - min(emulator_quota.FIRST.values())
        if emulator_quota.FIRST
        else 0.0
    )
    quota = {
        service: (
            emulator_quota.SERVED[service] - served[service],
            emulator_quota.THROTTLED[service] - throttled[service],
            emulator_quota.LAST[service] - emulator_quota.FIRST[service],
        )
        for service in emulator_quota.FIRST
    }
    return Measure(
        name,
        proc.returncode,
        wall,
        usage["cpu"],
        usage["maxrss"],
        max(peak[0], usage["maxrss"]),
        REQUESTS - before,
        b"".join(out).decode(errors="replace"),
        quota,
        span,
    )


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MB"


def _line(m: Measure, floor: Measure | None, accounts: int) -> str:
    ratio = f" = {m.cpu / floor.cpu:.2f}x the floor" if floor and floor.cpu else ""
    per_account = sum(m.requests.values()) / accounts
    ops = ", ".join(f"{k} {v / accounts:.2f}" for k, v in sorted(m.requests.items()))
    line = (
        f"{m.name:<9} exit {m.code}  wall {m.wall:7.1f} s  CPU {m.cpu:7.1f} s{ratio}  "
        f"max RSS {_mb(m.max_rss)} (tree {_mb(m.tree_rss)})  "
        f"requests/account {per_account:.2f} ({ops})"
    )
    from iamdrift.emulator.quota import TARGETS

    rates = dict(TARGETS.values())
    for service, (calls, throttled, span) in sorted(m.quota.items()):
        bound = calls / rates[service]
        line += (
            f"\n          {service}: {calls} calls, {throttled} throttled, {span:.1f} s from "
            f"first to last = {span / bound if bound else 0:.2f}x calls / quota ({bound:.1f} s)"
        )
    if m.quota_span:
        # The two quotas run side by side: the part is bound by the busier one.
        bound = max(calls / rates[s] for s, (calls, _, _) in m.quota.items())
        line += (
            f"\n          Identity Center part: {m.quota_span:.1f} s from its first request to "
            f"its last = {m.quota_span / bound:.2f}x the busier quota's calls / rate "
            f"({bound:.1f} s)"
        )
    return line


def _sizes(run_dir: Path) -> str:
    names = ("report.html", "findings.json", "junit.xml")
    sizes = [f"{n} {_mb((run_dir / n).stat().st_size)}" for n in names if (run_dir / n).exists()]
    index = run_dir.parent / "index.html"
    return ", ".join([*sizes, f"index.html {_mb(index.stat().st_size)}"])


def _ids(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    data = json.loads(path.read_text())
    return {f["id"] for f in data["findings"]}, {
        (a["principal"], a["role"]) for a in data["access"]
    }


def drift(ids: list[str], count: int) -> None:
    """Change `count` accounts as a person in the console might."""
    from moto.iam.models import iam_backends

    for account in ids[:count]:
        iam = iam_backends[account]["global"]
        iam.update_assume_role_policy(
            "ops-read", _trust({"AWS": f"arn:aws:iam::{MANAGEMENT}:root"})
        )
        iam.create_user("us-east-1", "intruder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100, help="member accounts")
    parser.add_argument("--entities", type=int, default=300, help="IAM entities per member")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--xdist", type=int, default=2, help="workers for the xdist run (0: skip)")
    parser.add_argument("--drift", type=int, default=50, help="accounts changed (0: skip)")
    parser.add_argument("--shards", type=int, default=2, help="shards for shard+merge (0: skip)")
    parser.add_argument(
        "--identity-center",
        type=int,
        nargs=2,
        metavar=("SETS", "GROUPS"),
        default=None,
        help="an Identity Center instance with SETS permission sets and GROUPS groups",
    )
    parser.add_argument(
        "--quota",
        action="store_true",
        help="the emulator throttles Identity Center at AWS's documented rates (20/s)",
    )
    args = parser.parse_args()

    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        ids = seed(args.accounts, args.entities)
        print(
            f"seeded {args.accounts} member accounts x {args.entities} entities "
            f"(+ management) in {time.perf_counter() - began:.0f} s; "
            f"latency {args.latency * 1000:.0f} ms per request, concurrency {args.concurrency}",
            flush=True,
        )
        if args.identity_center:
            print(seed_identity_center(ids, *args.identity_center), flush=True)
        if args.quota:
            from iamdrift.emulator import quota as emulator_quota

            emulator_quota.enforce()
            print("quotas: Identity Center and the identity store at 20 requests/s", flush=True)
        add_latency(args.latency)
        env = {**os.environ, **emulator_env(endpoint), "CI": "1"}
        runner = [sys.executable, str(ROOT / "runner.py")]
        total = args.accounts + 1
        base, reports = f"{tmp}/baselines", Path(tmp) / "reports"
        common = ["--concurrency", str(args.concurrency)]

        floor = measure(
            "floor",
            [
                sys.executable,
                "-c",
                FLOOR + (FLOOR_IC if args.identity_center else ""),
                ",".join([MANAGEMENT, *ids]),
                str(args.concurrency),
            ],
            env,
        )
        print(_line(floor, None, total), flush=True)
        snap = measure("snapshot", [*runner, "snapshot", "--baselines", base, *common], env)
        print(_line(snap, floor, total), flush=True)
        with open(f"{base}/access.yaml", "a", encoding="utf-8") as rules:
            rules.write(RULES)
        run_cmd = [*runner, "run", "--baselines", base, "--report-dir", str(reports), *common]
        run = measure("run", [*run_cmd, "--json", f"{tmp}/run.json"], env)
        print(_line(run, floor, total), flush=True)
        latest = (reports / "latest").resolve()
        print(f"          statuses {_statuses(Path(tmp) / 'run.json')}; {_sizes(latest)}")
        ids_single = _ids(Path(tmp) / "run.json")
        closure(Path(tmp) / "run.json", reports, runner, env)
        plan_cost(ids[1], base, reports, runner, env, args.concurrency)

        if args.xdist:
            xd = measure(
                "xdist",
                [
                    *run_cmd,
                    "--json",
                    f"{tmp}/xdist.json",
                    "--",
                    "-n",
                    str(args.xdist),
                    "--dist",
                    "loadgroup",
                ],
                env,
            )
            same = _ids(Path(tmp) / "xdist.json") == ids_single
            print(
                _line(xd, floor, total)
                + f"\n          speedup {run.wall / xd.wall:.2f}x in wall time with "
                f"{args.xdist} workers; same finding ids and access edges as one process: {same}",
                flush=True,
            )
        if args.shards:
            parts = []
            cpu = wall = 0.0
            rss = 0
            for i in range(1, args.shards + 1):
                part = f"{tmp}/part-{i}.gz"
                parts.append(part)
                m = measure(
                    f"shard {i}/{args.shards}",
                    [
                        *runner,
                        "run",
                        "--baselines",
                        base,
                        "--shard",
                        f"{i}/{args.shards}",
                        "--part",
                        part,
                        *common,
                    ],
                    env,
                )
                cpu, wall, rss = cpu + m.cpu, wall + m.wall, max(rss, m.tree_rss)
            merged = measure(
                "merge",
                [
                    *runner,
                    "merge",
                    *parts,
                    "--baselines",
                    base,
                    "--report-dir",
                    f"{tmp}/merged",
                    "--json",
                    f"{tmp}/merged.json",
                ],
                env,
            )
            same = _ids(Path(tmp) / "merged.json") == ids_single
            print(
                f"shards    {args.shards} shards: wall {wall:.1f} s in all, CPU {cpu:.1f} s, "
                f"largest RSS {_mb(rss)}; merge: exit {merged.code}, wall {merged.wall:.1f} s, "
                f"CPU {merged.cpu:.1f} s, RSS {_mb(merged.max_rss)}; same finding ids and "
                f"access edges as one process: {same}",
                flush=True,
            )
        if args.drift:
            drift(ids, args.drift)
            dr = measure("drift", [*run_cmd, "--json", f"{tmp}/drift.json"], env)
            latest = (reports / "latest").resolve()
            print(_line(dr, floor, total))
            print(f"          statuses {_statuses(Path(tmp) / 'drift.json')}; {_sizes(latest)}")


# Two rules the run checks over the whole organization's chains: kept by the seed.
RULES = """rules:
  - name: members-do-not-administer-each-other
    forbid:
      from: {principal: "arn:aws:iam::*:user/people/*"}
      to: {ou: "Root/*", admin: true}
  - name: only-operators-and-members-own-roles-reach-ops
    only:
      from: [{principal: "arn:aws:iam::123456789012:user/operator*"}, {ou: "Root/*"},
             {principal: "identitycenter:*"}]
      to: {principal: "arn:aws:iam::*:role/ops-*"}
"""


def closure(run_json: Path, reports: Path, runner: list[str], env: dict[str, str]) -> None:
    """The reachability's own cost over the run's JSON: the graph, every account's paths
    to administrator (the report's section), and a reviewer's query as typed."""
    from iamdrift.access.reach import Reachability
    from iamdrift.report.paths import admin_chains
    from iamdrift.report.results import RunReport

    report = RunReport.read(run_json)
    began = time.perf_counter()
    graph = Reachability(report.access, report.local_access, report.administrators)
    built = time.perf_counter() - began
    began = time.perf_counter()
    chains = admin_chains(report)
    paths = time.perf_counter() - began
    query = measure(
        "query",
        [*runner, "access", "who-can-reach", "admin@member0001", "--report-dir", str(reports)],
        env,
    )
    violations = sum(len(r.violations) for r in report.rules)
    print(
        f"closure   {len(graph.nodes())} nodes, {len(report.access)} edges across accounts and "
        f"{len(report.local_access)} inside them; graph built in {built:.2f} s, paths to "
        f"administrator ({len(chains)} principals) in {paths:.2f} s; "
        f"{len(report.rules)} rules, {violations} violation(s); `access who-can-reach "
        f"admin@member0001`: exit {query.code}, wall {query.wall:.2f} s",
        flush=True,
    )


def plan_cost(
    account: str, base: str, reports: Path, runner: list[str], env: dict[str, str], workers: int
) -> None:
    """`plan` of a Terraform plan touching one member: the requests it makes (that
    account's reads alone), and its wall time beyond the same reads made bare."""
    change = {
        "address": "aws_iam_role_policy_attachment.ro",
        "mode": "managed",
        "type": "aws_iam_role_policy_attachment",
        "name": "ro",
        "change": {
            "actions": ["create"],
            "before": None,
            "after": {"role": "app-3", "policy_arn": READ_ONLY},
            "after_unknown": {},
        },
    }
    plan = {"format_version": "1.2", "resource_changes": [change], "configuration": {}}
    path = Path(base).parent / "tfplan.json"
    path.write_text(json.dumps(plan))
    one = measure("floor-1", [sys.executable, "-c", FLOOR, account, str(workers)], env)
    m = measure(
        "plan",
        [
            *runner,
            "plan",
            str(path),
            "--account",
            account,
            "--baselines",
            base,
            "--report-dir",
            str(reports),
        ],
        env,
    )
    ops = ", ".join(f"{k} {v}" for k, v in sorted(m.requests.items()))
    print(
        f"plan      exit {m.code}  wall {m.wall:.2f} s  CPU {m.cpu:.2f} s  "
        f"max RSS {_mb(m.max_rss)}  "
        f"requests {sum(m.requests.values())} ({ops}); the same account's reads bare: wall "
        f"{one.wall:.2f} s, {sum(one.requests.values())} requests; beyond them: "
        f"{m.wall - one.wall:.2f} s",
        flush=True,
    )


def _statuses(path: Path) -> dict[str, int]:
    data = json.loads(path.read_text())
    return dict(Counter(a["status"] for a in data["accounts"]))


if __name__ == "__main__":
    main()
