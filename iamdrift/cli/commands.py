"""Every command, declared once: its name, what it is for, its arguments, and a short
handler that hands them to the engine that does the work (where its data lives) and
prints what a person needs. Exit codes: 0 all well, 1 drift or something unreadable,
2 invalid baselines or arguments (BaselineError, caught in `main`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from iamdrift.cli import options
from iamdrift.errors import Refused

EXIT_INVALID = 2
Namespace = argparse.Namespace


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[Namespace], int]


def _refused(text: str) -> int:
    print(text, file=sys.stderr)
    return EXIT_INVALID


def run_arguments(cmd: argparse.ArgumentParser) -> None:
    options.run_common(cmd)
    options.outputs(cmd)
    options.reading(cmd)
    cmd.add_argument("--shard", type=options.shard, help="read shard I of N; write a part")
    cmd.add_argument("--part", metavar="FILE", help="where --shard writes its part")
    cmd.add_argument("--run-id", help=argparse.SUPPRESS)  # set by the scheduler and watch
    cmd.add_argument("--event-batch", help=argparse.SUPPRESS)  # set by watch


def merge_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("parts", nargs="+", metavar="PART")
    options.run_common(cmd)
    options.outputs(cmd)


def run(args: Namespace) -> int:
    from iamdrift.report.text import summary_lines
    from iamdrift.runs.run import RunOptions, run_checks

    out = run_checks(options.given_to(RunOptions, args))
    if out.report and out.run_dir:
        print("\n".join(["iamdrift summary:", *summary_lines(out.report)]))
        print(f"HTML report: {out.html}")
    return out.exit_code


def accept_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("findings", nargs="+", metavar="FINDING", help="finding ids or globs")
    cmd.add_argument("--run", dest="run_id", help="the run (default: the latest completed one)")
    options.where(cmd)


def accept(args: Namespace) -> int:
    from iamdrift.compare.aspects import aspect_of
    from iamdrift.runs.accept import accept

    try:
        done = accept(args.findings, args.baselines, args.report_dir, args.run_id)
    except Refused as exc:
        return _refused(f"nothing accepted:\n{exc}")
    for finding_id, path in done.written:
        print(f"accepted {finding_id} into {path}")
    for left in done.skipped:
        why = aspect_of(left.resource_type, left.aspect).refusal.removeprefix("is ")
        print(f"skipped {left.id}: {why}")
    return 0


QUESTIONS = (
    (
        "who-can-reach",
        "TARGET",
        "every principal that can reach TARGET: a role ARN, an "
        "account (id or name) or admin@ACCOUNT, by its shortest chain",
    ),
    ("reach", "PRINCIPAL", "every role and administrator PRINCIPAL can reach"),
)


def access_arguments(cmd: argparse.ArgumentParser) -> None:
    question = cmd.add_subparsers(dest="question", required=True)
    for name, subject, text in QUESTIONS:
        q = question.add_parser(name, help=text)
        q.add_argument("subject", metavar=subject)
        q.add_argument("--report-dir", default="reports")
        q.add_argument("--run", dest="run_id", help="the run (default: the latest completed one)")
        q.add_argument("--max-hops", type=int, default=10)
        q.add_argument("--json", action="store_true", help="chains as JSON")


def access(args: Namespace) -> int:
    from iamdrift.report.access import answer, render

    try:
        run, chains = answer(
            args.question, args.subject, args.report_dir, args.run_id, args.max_hops
        )
    except Refused as exc:
        return _refused(f"cannot answer: {exc}")
    print(render(run, args.question, args.subject, chains, args.json))
    return 0


def plan_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="terraform show -json output, or describe-change-set --include-property-values output",
    )
    options.where(cmd, reports="where the latest run is")
    cmd.add_argument("--account", help="the account of changes whose plan does not say")
    cmd.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="ALIAS=ID",
        help="a provider alias's account, e.g. aws.prod=222222222222",
    )
    cmd.add_argument("--markdown", metavar="FILE", help="a pull request comment")
    cmd.add_argument("--json", dest="json_path", metavar="FILE", help="the plan's findings JSON")
    cmd.add_argument("--sarif", metavar="FILE", help="SARIF 2.1.0, at baseline lines")
    cmd.add_argument(
        "--accept", action="store_true", help="write the state the plan leads to into the baselines"
    )
    options.concurrency(cmd)


def plan(args: Namespace) -> int:
    from iamdrift.changes.references import PlanError
    from iamdrift.compare.accept import accept_findings
    from iamdrift.report.plan import terminal
    from iamdrift.runs.plan import parse_providers, run_plan, write_plan

    try:
        providers = parse_providers(args.provider)
        report, code, baseline = run_plan(
            args.files, args.baselines, args.report_dir, providers, args.account, args.concurrency
        )
    except (PlanError, ValueError) as exc:
        print(f"invalid plan: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print("\n".join(terminal(report, code)))
    write_plan(report, code, baseline, args.markdown, args.json_path, args.sarif)
    if args.accept:
        try:
            written = accept_findings(baseline, [*report.findings, *report.waived])
        except Refused as exc:
            return _refused(f"nothing accepted:\n{exc}")
        for finding_id, path in written:
            print(f"accepted {finding_id} into {path}")
    return code


def schedule_arguments(cmd: argparse.ArgumentParser) -> None:
    when = cmd.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", help="daily at HH:MM")
    when.add_argument("--every", help="at an interval: 30m, 6h, 1d")
    when.add_argument("--once", action="store_true", help="one run now, then exit")
    cmd.add_argument("--tz", help="time zone of --at, e.g. Europe/Berlin (default: local)")
    cmd.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    options.run_common(cmd)
    options.reading(cmd)


def schedule(args: Namespace) -> int:
    from iamdrift.baselines.load import load_baselines
    from iamdrift.runs.schedule import plan, run_schedule

    load_baselines(args.baselines)  # a broken baseline is an error now, not nightly
    if not args.once:
        try:
            plan(args.at, args.every, args.tz)
        except Exception as exc:  # schedule and pytz raise several kinds
            print(f"invalid schedule: {exc}", file=sys.stderr)
            return EXIT_INVALID
    return run_schedule(
        options.as_run_arguments(args),
        args.report_dir,
        args.at,
        args.every,
        args.tz,
        args.once,
        args.timeout,
        args.keep,
        args.pytest_args,
    )


def watch_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--queue",
        required=True,
        metavar="URL",
        help="the SQS queue EventBridge delivers CloudTrail's events to",
    )
    options.where(cmd)
    cmd.add_argument(
        "--debounce",
        type=options.positive,
        default=15.0,
        metavar="SECONDS",
        help="judge a burst of events at the latest this long after its first, with what "
        "already waits on the queue then (for as long again at the most; default 15)",
    )
    cmd.add_argument(
        "--quiet",
        type=options.positive,
        default=2.0,
        metavar="SECONDS",
        help="judge a burst once no event came for this long (default 2)",
    )
    cmd.add_argument(
        "--visibility",
        type=int,
        default=120,
        metavar="SECONDS",
        help="a received message stays hidden this long, extended while it is judged (default 120)",
    )
    cmd.add_argument("--once", action="store_true", help="judge what the queue holds, then exit")
    cmd.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    cmd.add_argument("--keep", type=int, default=60, help="runs kept in the history (default 60)")
    cmd.add_argument(
        "--notify-url", help="POST a JSON summary when an event run finds something new or resolved"
    )
    options.concurrency(cmd)
    cmd.add_argument("--account-timeout", type=options.positive, default=180.0, metavar="SECONDS")


def watch(args: Namespace) -> int:
    from iamdrift.baselines.load import load_baselines
    from iamdrift.runs.watch import WatchOptions, watch

    # Every file's header and the organization's own files checked now: a wrong directory
    # is an error at start. Each account's file is parsed whole by the event run that reads
    # it (and by every full run): parsing a thousand accounts' files here cost 30 s of
    # watch's start (bench/bench_watch.py), a start SIGTERM could not stop cleanly.
    load_baselines(args.baselines, only=set())
    return watch(options.given_to(WatchOptions, args))


def snapshot_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--baselines", required=True)
    cmd.add_argument("--accounts", type=options.accounts)
    options.concurrency(cmd)


def snapshot(args: Namespace) -> int:
    from iamdrift.aws.hub import Hub
    from iamdrift.runs.snapshot import take_snapshot

    result = take_snapshot(args.baselines, Hub(), args.accounts, args.concurrency)
    for path in result.written:
        print(f"wrote {path}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for err in result.errors:
        print(f"error: {err}", file=sys.stderr)
    return 1 if result.errors else 0


def validate(args: Namespace) -> int:
    from iamdrift.baselines.load import load_baselines

    baseline = load_baselines(args.baselines)
    print(f"{args.baselines}: {len(baseline.accounts)} account baseline(s) valid")
    return 0


def schema(args: Namespace) -> int:
    from iamdrift.baselines.schema import write_schemas

    for path in write_schemas(args.out):
        print(f"wrote {path}")
    return 0


def demo_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--baselines", help="default: the example organization that ships along")
    cmd.add_argument("--report-dir", default="reports")


def demo(args: Namespace) -> int:
    from iamdrift.runs.demo import run_demo

    return run_demo(args.baselines, args.report_dir)


COMMANDS: tuple[Command, ...] = (
    Command("run", "check every account against its baseline", run_arguments, run),
    Command(
        "accept",
        "write reviewed findings' live values into the baselines",
        accept_arguments,
        accept,
    ),
    Command("access", "who can reach what, from a run (no AWS call)", access_arguments, access),
    Command("plan", "judge a Terraform plan or CloudFormation change set", plan_arguments, plan),
    Command("merge", "build one run from the parts of sharded runs", merge_arguments, run),
    Command("schedule", "run on a schedule until stopped", schedule_arguments, schedule),
    Command(
        "watch",
        "judge the accounts a change touched, from its CloudTrail event",
        watch_arguments,
        watch,
    ),
    Command("snapshot", "write baselines from live IAM", snapshot_arguments, snapshot),
    Command(
        "validate",
        "check baselines without touching AWS",
        lambda cmd: cmd.add_argument("--baselines", default="baselines"),
        validate,
    ),
    Command(
        "schema",
        "write the baseline format's JSON Schemas",
        lambda cmd: cmd.add_argument("--out", default="schema"),
        schema,
    ),
    Command("demo", "the whole job on a local AWS emulator", demo_arguments, demo),
)
