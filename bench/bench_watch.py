"""Event-driven detection's cost: from a change's CloudTrail event on the queue to its
finding written, over an organization of N accounts x E entities.

    python bench/bench_watch.py [--accounts 1000] [--entities 300] [--latency 0.05]
                                [--events 10] [--burst 500 50 10] [--debounce 15]
                                [--quiet 2]

Seeds moto's server as bench_org.py does (N members and the management account, each
with E entities, `--latency` seconds added to every request), writes baselines with
`snapshot` and files a full run. Then, with `watch` running as a user runs it:

  single    `--events` times, one change (a role's trust widened in a member) and its
            CloudTrail record put on the bus: the seconds from the put to the finding, in
            the latest findings JSON, with the event's actor (p50, p99), and their split:
            waiting (for the message and the queue to be quiet), the event run (reading,
            judging, writing; its reading alone from the request counter)
  burst     B events over A accounts within S seconds: accounts read (AssumeRole calls)
            against the events
  two       two `watch` processes on one queue, M events: every event judged, and an
            event judged twice (should the queue hand it out again) judged alike
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_org import MANAGEMENT, REQUESTS, add_latency, seed  # noqa: E402

from iamdrift.emulator import Emulator, emulator_env, moto_server  # noqa: E402
from iamdrift.emulator.events import event_queue, put_event, record  # noqa: E402

ACTOR = f"arn:aws:iam::{MANAGEMENT}:user/bench-actor"


def _widen(emu: Emulator, account: str, n: int) -> tuple[str, str]:
    """A new role trusting the management account's root, and its event: (finding, request)."""
    name = f"bench-widened-{n}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
            }
        ],
    }
    emu.iam(account).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    detail = record(account, "iam", "CreateRole", {"roleName": name}, ACTOR)
    put_event(emu, detail)
    return f"{account}/role/{name}/existence", detail["requestID"]


def _found(reports: Path, finding: str) -> bool:
    try:
        run = json.loads((reports / "latest" / "findings.json").read_text())
    except (OSError, ValueError):
        return False
    return any(f["id"] == finding and f.get("events") for f in run["findings"])


def _watch(queue: str, base: str, reports: Path, env: dict, args: argparse.Namespace, log: Path):
    cmd = [
        sys.executable,
        str(ROOT / "runner.py"),
        "watch",
        "--queue",
        queue,
        "--baselines",
        base,
        "--report-dir",
        str(reports),
        "--debounce",
        str(args.debounce),
        "--quiet",
        str(args.quiet),
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def _splits(log: Path) -> list[tuple[float, float]]:
    """(waited, run seconds) of each event run, from watch's log."""
    out = []
    for line in log.read_text().splitlines():
        if "waited " in line and "the run took" in line:
            waited = float(line.split("waited ")[1].split("s ")[0])
            took = float(line.split("the run took ")[1].split("s;")[0])
            out.append((waited, took))
    return out


def _judged(reports: Path, requests: set[str]) -> dict[str, list[str]]:
    """The event runs that judged each event (by its request id)."""
    judged: dict[str, list[str]] = {}
    for run in reports.glob("2*/findings.json"):
        for e in json.loads(run.read_text()).get("events", []):
            if e["request_id"] in requests:
                judged.setdefault(e["request_id"], []).append(run.parent.name)
    return judged


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--entities", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--events", type=int, default=10, help="single events, one at a time")
    parser.add_argument(
        "--burst",
        type=int,
        nargs=3,
        default=[500, 50, 10],
        metavar=("EVENTS", "ACCOUNTS", "SECONDS"),
    )
    parser.add_argument("--debounce", type=float, default=15.0)
    parser.add_argument("--quiet", type=float, default=2.0)
    args = parser.parse_args()
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        ids = seed(args.accounts, args.entities)
        emu = Emulator(endpoint)
        print(
            f"seeded {args.accounts} members x {args.entities} entities in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        add_latency(args.latency)
        env = {**os.environ, **emulator_env(endpoint), "CI": "1"}
        runner = [sys.executable, str(ROOT / "runner.py")]
        base, reports = f"{tmp}/baselines", Path(tmp) / "reports"
        subprocess.run(
            [*runner, "snapshot", "--baselines", base], env=env, check=False, capture_output=True
        )
        started = time.perf_counter()
        subprocess.run(
            [*runner, "run", "--baselines", base, "--report-dir", str(reports)],
            env=env,
            check=False,
            capture_output=True,
        )
        full = time.perf_counter() - started
        print(f"full run: {full:.1f} s for {args.accounts + 1} accounts", flush=True)

        queue, _ = event_queue(emu)
        log = Path(tmp) / "watch.log"
        watcher = _watch(queue, base, reports, env, args, log)
        time.sleep(2)
        latencies, reads = [], []
        for n in range(args.events):
            account = random.choice(ids)
            before = REQUESTS["AssumeRole"]
            put_at = time.perf_counter()
            finding, _ = _widen(emu, account, n)
            while not _found(reports, finding) and time.perf_counter() - put_at < 600:
                time.sleep(0.05)
            latencies.append(time.perf_counter() - put_at)
            reads.append(REQUESTS["AssumeRole"] - before)
        splits = _splits(log)
        waited = [w for w, _ in splits]
        took = [t for _, t in splits]
        print(
            f"single ({args.events} events, quiet {args.quiet:g} s): event to finding "
            f"p50 {statistics.median(latencies):.1f} s, p99 {_pct(latencies, 0.99):.1f} s; "
            f"split (medians): waiting {statistics.median(waited):.1f} s, event run "
            f"{statistics.median(took):.1f} s against a full run's {full:.1f} s; accounts "
            f"assumed into per event: {statistics.median(reads):.0f}",
            flush=True,
        )

        events, accounts, seconds = args.burst
        targets = random.sample(ids, min(accounts, len(ids)))
        # Clients made first: making one is not thread-safe, and each is an AssumeRole
        # that is the bench's, not watch's.
        for account in targets:
            emu.iam(account)
        emu.client("events")
        before, runs_before = REQUESTS["AssumeRole"], len(_splits(log))
        put_at = time.perf_counter()

        def change(n: int) -> str:
            # Each change and its event cost two requests of `--latency`: made on a
            # pool, so the burst lands in `seconds`, as an apply's events do.
            time.sleep(max(0.0, put_at + seconds * n / events - time.perf_counter()))
            return _widen(emu, targets[n % len(targets)], 10_000 + n)[0]

        with ThreadPoolExecutor(max_workers=16) as pool:
            last = list(pool.map(change, range(events)))[-1]
        landed = time.perf_counter() - put_at
        while not _found(reports, last) and time.perf_counter() - put_at < 900:
            time.sleep(0.1)
        time.sleep(args.debounce + 1)
        print(
            f"burst: {events} events over {len(targets)} accounts in {landed:.1f} s: "
            f"{REQUESTS['AssumeRole'] - before} AssumeRole calls in "
            f"{len(_splits(log)) - runs_before} event run(s); last finding "
            f"{time.perf_counter() - put_at:.0f} s after the first event",
            flush=True,
        )

        second_log = Path(tmp) / "watch2.log"
        second = _watch(queue, base, reports, env, args, second_log)
        time.sleep(2)
        requests = {}
        for n in range(20):
            finding, request = _widen(emu, random.choice(ids), 20_000 + n)
            requests[request] = finding
            time.sleep(0.5)
        deadline = time.perf_counter() + 600
        while True:
            judged = _judged(reports, set(requests))
            if len(judged) == len(requests) or time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        twice = {r: runs for r, runs in judged.items() if len(runs) > 1}
        print(
            f"two watch processes, {len(requests)} events: {len(judged)} judged, "
            f"{len(twice)} judged twice; runs by each: {len(_splits(log))} and "
            f"{len(_splits(second_log))} in all",
            flush=True,
        )
        for proc in (watcher, second):
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
