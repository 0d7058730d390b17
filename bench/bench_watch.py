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
import re
import shutil
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
from iamdrift.emulator.events import event_queue, put_event, put_events, record  # noqa: E402

ACTOR = f"arn:aws:iam::{MANAGEMENT}:user/bench-actor"


def _change(emu: Emulator, account: str, n: int) -> tuple[str, dict]:
    """A new role trusting the management account's root: (its finding, its CloudTrail
    record)."""
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
    return f"{account}/role/{name}/existence", detail


def _widen(emu: Emulator, account: str, n: int) -> tuple[str, str]:
    """The change and its event on the bus: (finding, request id)."""
    finding, detail = _change(emu, account, n)
    put_event(emu, detail)
    return finding, detail["requestID"]


_READ: dict[str, set[str]] = {}  # the latest run's findings with events, by its folder


def _found(reports: Path, finding: str) -> bool:
    """Is `finding`, with its events, in the latest run? Each run's findings are parsed
    once: this process is moto's server too, and a thousand accounts' findings parsed
    twenty times a second would slow the server that watch reads."""
    try:
        run = os.readlink(reports / "latest")
    except OSError:
        return False
    if run not in _READ:
        try:
            data = json.loads((reports / run / "findings.json").read_text())
        except (OSError, ValueError):
            return False
        _READ[run] = {f["id"] for f in data["findings"] if f.get("events")}
    return finding in _READ[run]


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
    began = time.perf_counter()
    with open(log, "w") as err:  # the child writes to its own copy
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    while "watching" not in log.read_text() and time.perf_counter() - began < 120:
        time.sleep(0.05)  # events before it polls would count its start as their wait
    print(f"watch started in {time.perf_counter() - began:.1f} s", flush=True)
    return proc


PHASES = ("waiting", "starting", "reading", "judging", "writing", "deleting")


def _splits(log: Path) -> dict[str, dict[str, float]]:
    """Each event run's split, from watch's log and its child's: the seconds it waited for
    the burst, and of the run (`the run took`), starting (the child process, its imports,
    the baselines and the carried part), reading, judging and writing; then deleting its
    messages; `events` judged."""
    runs: dict[str, dict[str, float]] = {}
    for line in log.read_text().splitlines():
        found = re.search(
            r"event run (\S+): (\d+) event\(s\).*waited ([\d.]+)s.*took ([\d.]+)s, "
            r"deleting its messages ([\d.]+)s",
            line,
        )
        if found:
            run = runs.setdefault(found[1], {})
            run.update(events=int(found[2]), waiting=float(found[3]), took=float(found[4]))
            run["deleting"] = float(found[5])
        found = re.search(
            r"event run (\S+): reading ([\d.]+)s.*judging ([\d.]+)s.*writing ([\d.]+)s", line
        )
        if found:
            run = runs.setdefault(found[1], {})
            run.update(reading=float(found[2]), judging=float(found[3]), writing=float(found[4]))
    for run in runs.values():
        if "took" in run and "reading" in run:
            run["starting"] = run["took"] - run["reading"] - run["judging"] - run["writing"]
    return {r: run for r, run in runs.items() if "took" in run}


def _split_text(runs: list[dict[str, float]]) -> str:
    return ", ".join(
        f"{phase} {statistics.median(r[phase] for r in runs if phase in r):.1f} s"
        for phase in PHASES
        if any(phase in r for r in runs)
    )


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
    parser.add_argument("--logs", help="copy the watch processes' logs into this directory")
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
        latencies, reads = [], []
        for n in range(args.events):
            account = random.choice(ids)
            emu.iam(account)  # the bench's own AssumeRole, before counting watch's
            before = REQUESTS["AssumeRole"]
            put_at = time.perf_counter()
            finding, _ = _widen(emu, account, n)
            while not _found(reports, finding) and time.perf_counter() - put_at < 600:
                time.sleep(0.05)
            latencies.append(time.perf_counter() - put_at)
            reads.append(REQUESTS["AssumeRole"] - before)
        runs = list(_splits(log).values())
        took = statistics.median(r["took"] for r in runs)
        print(
            f"single ({args.events} events, quiet {args.quiet:g} s): event to finding "
            f"p50 {statistics.median(latencies):.1f} s, p99 {_pct(latencies, 0.99):.1f} s "
            f"(each: {', '.join(f'{x:.1f}' for x in latencies)}); split (medians): "
            f"{_split_text(runs)}; the event run {took:.1f} s "
            f"against a full run's {full:.1f} s; accounts assumed into per event: "
            f"{statistics.median(reads):.0f}",
            flush=True,
        )

        events, accounts, seconds = args.burst
        targets = random.sample(ids, min(accounts, len(ids)))
        # The changes first, their events then put on the bus within `seconds`: the event
        # run reads what the changes left whenever they were made, and how fast the
        # emulator makes 500 roles is not watch's cost. Clients are made before the pool
        # (making one is not thread-safe) and before counting (their AssumeRoles are the
        # bench's, not watch's).
        for account in targets:
            emu.iam(account)
        with ThreadPoolExecutor(max_workers=8) as pool:
            made = list(
                pool.map(
                    lambda n: _change(emu, targets[n % len(targets)], 10_000 + n), range(events)
                )
            )
        before, runs_before = REQUESTS["AssumeRole"], len(_splits(log))
        put_at = time.perf_counter()
        calls = -(-events // 10)  # PutEvents takes ten entries to a call

        def put(c: int) -> None:  # on a few threads: one call's latency does not delay the next
            time.sleep(max(0.0, put_at + seconds * c / calls - time.perf_counter()))
            put_events(emu, [detail for _, detail in made[c * 10 : c * 10 + 10]])

        emu.client("events")
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(put, range(calls)))
        landed = time.perf_counter() - put_at
        last = made[-1][0]
        while not _found(reports, last) and time.perf_counter() - put_at < 900:
            time.sleep(0.1)
        found = time.perf_counter() - put_at
        time.sleep(args.debounce + 1)  # a second run, had the burst been split, is logged
        print(
            f"burst: {events} events over {len(targets)} accounts in {landed:.1f} s: "
            f"{REQUESTS['AssumeRole'] - before} AssumeRole calls in "
            f"{len(_splits(log)) - runs_before} event run(s); last finding "
            f"{found:.0f} s after the first event; split of its run(s): "
            f"{_split_text(list(_splits(log).values())[runs_before:])}",
            flush=True,
        )

        runs_before2 = len(_splits(log))
        second_log = Path(tmp) / "watch2.log"
        second = _watch(queue, base, reports, env, args, second_log)
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

        def by_each() -> tuple[int, int]:
            first = list(_splits(log).values())[runs_before2:]
            return (
                sum(int(r["events"]) for r in first),
                sum(int(r["events"]) for r in _splits(second_log).values()),
            )

        # A run is filed before its watch logs it (and deletes its messages).
        while sum(by_each()) < len(requests) and time.perf_counter() < deadline + 30:
            time.sleep(0.5)
        print(
            f"two watch processes, {len(requests)} events: {len(judged)} judged, "
            f"{len(twice)} judged twice; events judged by each: %d and %d" % by_each(),
            flush=True,
        )
        for proc in (watcher, second):
            proc.terminate()
            proc.wait(timeout=60)
        if args.logs:
            Path(args.logs).mkdir(parents=True, exist_ok=True)
            for kept in (log, second_log):
                shutil.copy(kept, Path(args.logs) / kept.name)


if __name__ == "__main__":
    main()
