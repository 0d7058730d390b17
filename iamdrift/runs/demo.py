"""`demo`: the whole job on a local emulator, no AWS account needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from iamdrift.emulator import (
    DEMO,
    MANAGEMENT,
    Emulator,
    assign,
    build_seed_organization,
    emulator_env,
    group_id,
    moto_server,
    set_arn,
    trust,
)
from iamdrift.emulator.events import event_queue, put_event, record
from iamdrift.report.results import RunReport
from iamdrift.report.text import changed_by, summary_lines
from iamdrift.resources import example_baselines

CHANGED_ID = f"{DEMO}/role/MemberReadOnlyAccess/trust_policy"
ROLE = "OrganizationAccountAccessRole"
HEARD_ID = f"{DEMO}/role/{ROLE}/inline_policy:Hop"
INTRUDER = f"arn:aws:iam::{DEMO}:user/mallory"
ASSIGNED_ID = f"{DEMO}/assignment/AdministratorAccess:group:SecurityAuditors/existence"


def _run(env: dict[str, str], baselines: str, report_dir: str, json_path: Path):
    """`iamdrift run` as a user starts it; its exit code and summary printed."""
    cmd = [
        sys.executable,
        "-m",
        "iamdrift",
        "run",
        "--baselines",
        baselines,
        "--report-dir",
        report_dir,
        "--json",
        str(json_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    summary = RunReport.read(json_path) if json_path.exists() else None
    print(f"   exit {proc.returncode}")
    for line in summary_lines(summary) if summary else []:
        print("  " + line)
    return proc, summary


def _heard(emu: Emulator, env: dict[str, str], baselines: str, report_dir: str):
    """The change made, its CloudTrail record put on the bus, `watch --once` run: its
    process, and the new findings it explains with the event."""
    queue, _ = event_queue(emu)
    hop = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    emu.iam(DEMO).put_role_policy(RoleName=ROLE, PolicyName="Hop", PolicyDocument=json.dumps(hop))
    put_event(
        emu, record(DEMO, "iam", "PutRolePolicy", {"roleName": ROLE, "policyName": "Hop"}, INTRUDER)
    )
    cmd = [
        sys.executable,
        "-m",
        "iamdrift",
        "watch",
        "--queue",
        queue,
        "--once",
        "--baselines",
        baselines,
        "--report-dir",
        report_dir,
        "--debounce",
        "1",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    latest = Path(report_dir) / "latest" / "findings.json"
    run = RunReport.read(latest) if latest.exists() else None
    return proc, [f for f in run.new_findings() if f.id == HEARD_ID and f.events] if run else []


def run_demo(baselines: str | None = None, report_dir: str = "reports") -> int:
    """The demo; `baselines` defaults to the example organization that ships with iamdrift."""
    baselines = baselines or str(example_baselines())
    print("iamdrift demo: starting moto's server on 127.0.0.1 (no AWS account is used)")
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        emu = Emulator(endpoint)
        accounts = build_seed_organization(emu)
        print(f"  emulator at {endpoint}, seeded with the seed's organization:")
        for name, account in accounts.items():
            print(f"    {account} {name}")
        env = {**os.environ, **emulator_env(endpoint)}

        print(f"\n1) Checking live IAM against {baselines}/ ...")
        first, _ = _run(env, baselines, report_dir, Path(tmp) / "first.json")

        print("\n2) A console change: MemberReadOnlyAccess in DEMO is set to trust the whole")
        print(f"   management account (arn:aws:iam::{MANAGEMENT}:root) instead of demo1.")
        emu.iam(DEMO).update_assume_role_policy(
            RoleName="MemberReadOnlyAccess",
            PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:root")),
        )
        print("   Checking again ...")
        second, s2 = _run(env, baselines, report_dir, Path(tmp) / "second.json")

        print("\n3) In IAM Identity Center, the AdministratorAccess permission set is assigned in")
        print("   DEMO to the SecurityAuditors group too (it was PlatformAdmins' alone).")
        assign(emu, set_arn(emu, "AdministratorAccess"), group_id(emu, "SecurityAuditors"), [DEMO])
        print("   Checking again ...")
        third, s3 = _run(env, baselines, report_dir, Path(tmp) / "third.json")

        print("\n4) Heard, not waited for: CloudTrail's events reach a queue (an EventBridge")
        print(f"   rule). {INTRUDER} adds an inline policy to DEMO's {ROLE}")
        print("   letting it assume any role; `iamdrift watch` judges DEMO from that event.")
        watched, heard = _heard(emu, env, baselines, report_dir)
        for f in heard:
            print(f"   {f.id}\n   changed by {changed_by(f.events[0])}")
        print(f"   exit {watched.returncode}")

    found = s2 is not None and any(f.id == CHANGED_ID for f in s2.new_findings())
    assigned = s3 is not None and any(f.id == ASSIGNED_ID for f in s3.new_findings())
    ok = first.returncode == 0 and second.returncode == 1 and found
    ok = ok and third.returncode == 1 and assigned and watched.returncode == 0 and bool(heard)
    if s3:
        print(f"\nHTML report of the last run: {Path(report_dir) / 'latest' / 'report.html'}")
        print(f"All runs, with a trend: {Path(report_dir) / 'index.html'}")
    if ok:
        print(
            "Demo ran as intended: a clean first run, then the widened trust policy and the "
            "administrator set assigned to another group caught, and a change heard from its "
            "CloudTrail event with who made it."
        )
        return 0
    print("Demo did NOT run as intended. Output of the runs follows.", file=sys.stderr)
    for proc in (first, second, third, watched):
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
    return 1
