"""iamdrift: declared cross-account IAM access, checked against live AWS.

    python runner.py run       [--baselines DIR] [--report-dir DIR] [--json FILE]
                               [--accounts ID,...] [--entity GLOB] [-- PYTEST ARGS]
    python runner.py run       --shard I/N [--part FILE] [run options]
    python runner.py merge     PART... [--baselines DIR] [--report-dir DIR] [--json FILE]
    python runner.py accept    FINDING... [--run RUN_ID] [--baselines DIR] [--report-dir DIR]
    python runner.py access    (who-can-reach TARGET | reach PRINCIPAL) [--run RUN_ID] [--json]
    python runner.py plan      FILE... [--account ID] [--provider ALIAS=ID] [--markdown FILE]
                               [--json FILE] [--sarif FILE] [--accept]
    python runner.py snapshot  --baselines DIR [--accounts ID,...]
    python runner.py validate  [--baselines DIR]
    python runner.py schedule  (--at HH:MM [--tz ZONE] | --every 6h | --once) [run options]
    python runner.py schema    [--out DIR]
    python runner.py demo

Exit codes: 0 all accounts read and matching, 1 drift or an unreadable account,
2 invalid baselines or arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import NoReturn

from iamdrift.aws import redact
from iamdrift.errors import BaselineError

EXIT_INVALID = 2


def _accounts(value: str) -> list[str]:
    ids = [a.strip() for a in value.split(",") if a.strip()]
    bad = [a for a in ids if not (a.isdigit() and len(a) == 12)]
    if bad or not ids:
        raise argparse.ArgumentTypeError(f"expected 12-digit account ids, got {value!r}")
    return ids


def _shard(value: str) -> str:
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise argparse.ArgumentTypeError(
            f"expected I/N with 1 <= I <= N, such as 2/8, got {value!r}"
        )
    return value


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {value!r}")
    return number


def _output_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--baselines", default="baselines")
    cmd.add_argument("--report-dir", default="reports")
    cmd.add_argument("--json", dest="json_path", metavar="FILE", help="write the findings JSON")
    cmd.add_argument("--ocsf", metavar="FILE", help="write OCSF Detection Findings (JSON)")
    cmd.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0, at baseline lines")
    cmd.add_argument("--keep", type=int, default=60, help="runs kept in the history (default 60)")
    cmd.add_argument("--notify-url", help="POST a JSON summary here after new drift or errors")
    cmd.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (-k, -n)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iamdrift", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="check every account against its baseline")
    _output_options(run)
    run.add_argument("--accounts", type=_accounts, help="only these account ids, comma-separated")
    run.add_argument(
        "--entity",
        action="append",
        default=[],
        metavar="GLOB",
        help="only these entities: NAME, KIND/NAME or ACCOUNT/KIND/NAME (repeatable)",
    )
    run.add_argument("--concurrency", type=int, default=8, help="accounts read at once")
    run.add_argument(
        "--account-timeout",
        type=_positive,
        default=180.0,
        metavar="SECONDS",
        help="an account not read within this time is an error (default 180)",
    )
    run.add_argument("--shard", type=_shard, help="read shard I of N of the accounts; write a part")
    run.add_argument("--part", metavar="FILE", help="where --shard writes its part")
    run.add_argument("--run-id", help=argparse.SUPPRESS)  # set by the scheduler
    acc = sub.add_parser("accept", help="write reviewed findings' live values into the baselines")
    acc.add_argument("findings", nargs="+", metavar="FINDING", help="finding ids or globs")
    acc.add_argument("--run", dest="run_id", help="the run (default: the latest completed one)")
    acc.add_argument("--baselines", default="baselines")
    acc.add_argument("--report-dir", default="reports")
    acs = sub.add_parser("access", help="who can reach what, from a run (no AWS call)")
    question = acs.add_subparsers(dest="question", required=True)
    for name, subject, text in (
        ("who-can-reach", "TARGET", "every principal that can reach TARGET: a role ARN, an "
         "account (id or name) or admin@ACCOUNT, by its shortest chain"),
        ("reach", "PRINCIPAL", "every role and administrator PRINCIPAL can reach"),
    ):  # fmt: skip
        q = question.add_parser(name, help=text)
        q.add_argument("subject", metavar=subject)
        q.add_argument("--report-dir", default="reports")
        q.add_argument("--run", dest="run_id", help="the run (default: the latest completed one)")
        q.add_argument("--max-hops", type=int, default=10)
        q.add_argument("--json", action="store_true", help="chains as JSON")
    pln = sub.add_parser("plan", help="judge a Terraform plan or CloudFormation change set")
    pln.add_argument("files", nargs="+", metavar="FILE", help="terraform show -json output, or "
                     "describe-change-set --include-property-values output")  # fmt: skip
    pln.add_argument("--baselines", default="baselines")
    pln.add_argument("--report-dir", default="reports", help="where the latest run is")
    pln.add_argument("--account", help="the account of changes whose plan does not say")
    pln.add_argument("--provider", action="append", default=[], metavar="ALIAS=ID",
                     help="a provider alias's account, e.g. aws.prod=222222222222")  # fmt: skip
    pln.add_argument("--markdown", metavar="FILE", help="a pull request comment")
    pln.add_argument("--json", dest="json_path", metavar="FILE", help="the plan's findings JSON")
    pln.add_argument("--sarif", metavar="FILE", help="SARIF 2.1.0, at baseline lines")
    pln.add_argument("--accept", action="store_true",
                     help="write the state the plan leads to into the baselines")  # fmt: skip
    pln.add_argument("--concurrency", type=int, default=8)
    merge = sub.add_parser("merge", help="build one run from the parts of sharded runs")
    merge.add_argument("parts", nargs="+", metavar="PART")
    _output_options(merge)
    sch = sub.add_parser("schedule", help="run on a schedule until stopped")
    when = sch.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", help="daily at HH:MM")
    when.add_argument("--every", help="at an interval: 30m, 6h, 1d")
    when.add_argument("--once", action="store_true", help="one run now, then exit")
    sch.add_argument("--tz", help="time zone of --at, e.g. Europe/Berlin (default: local)")
    sch.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    sch.add_argument("--baselines", default="baselines")
    sch.add_argument("--report-dir", default="reports")
    sch.add_argument("--accounts", type=_accounts)
    sch.add_argument("--concurrency", type=int, default=8)
    sch.add_argument("--account-timeout", type=_positive, default=180.0, metavar="SECONDS")
    sch.add_argument("--keep", type=int, default=60)
    sch.add_argument("--notify-url")
    sch.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    snap = sub.add_parser("snapshot", help="write baselines from live IAM")
    snap.add_argument("--baselines", required=True)
    snap.add_argument("--accounts", type=_accounts)
    snap.add_argument("--concurrency", type=int, default=8)
    val = sub.add_parser("validate", help="check baselines without touching AWS")
    val.add_argument("--baselines", default="baselines")
    schema = sub.add_parser("schema", help="write the baseline format's JSON Schemas")
    schema.add_argument("--out", default="schema")
    demo = sub.add_parser("demo", help="the whole job on a local AWS emulator")
    demo.add_argument("--baselines", help="default: the example organization that ships along")
    demo.add_argument("--report-dir", default="reports")
    return parser


def _logging() -> None:
    redact.install()  # no credential in any log line, at any level
    # One line per event on stderr, as journald, Docker or CI capture it.
    logging.Formatter.converter = time.gmtime
    logging.getLogger("iamdrift").setLevel(logging.INFO)  # ours; libraries stay at WARNING
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)sZ %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _logging()
    try:
        if args.command == "validate":
            from iamdrift.baselines.load import load_baselines

            baseline = load_baselines(args.baselines)
            print(f"{args.baselines}: {len(baseline.accounts)} account baseline(s) valid")
            return 0
        if args.command in ("run", "merge"):
            from iamdrift.cli.run import RunOptions, run_checks
            from iamdrift.report.text import summary_lines

            common = {
                "baselines": args.baselines,
                "report_dir": args.report_dir,
                "json_path": args.json_path,
                "pytest_args": args.pytest_args,
                "keep": args.keep,
                "notify_url": args.notify_url,
                "ocsf": args.ocsf,
                "sarif": args.sarif,
            }
            if args.command == "merge":
                opts = RunOptions(**common, parts=args.parts)
            else:
                opts = RunOptions(
                    **common,
                    accounts=args.accounts,
                    entities=args.entity,
                    concurrency=args.concurrency,
                    account_timeout=args.account_timeout,
                    run_id=args.run_id,
                    shard=args.shard,
                    part=args.part,
                )
            out = run_checks(opts)
            if out.report and out.run_dir:
                print("\n".join(["iamdrift summary:", *summary_lines(out.report)]))
                print(f"HTML report: {out.html}")
            return out.exit_code
        if args.command == "accept":
            from iamdrift.cli.accept import Refused, accept

            try:
                done = accept(args.findings, args.baselines, args.report_dir, args.run_id)
            except Refused as exc:
                print(f"nothing accepted:\n{exc}", file=sys.stderr)
                return EXIT_INVALID
            for finding_id, path in done.written:
                print(f"accepted {finding_id} into {path}")
            from iamdrift.compare.aspects import aspect_of

            for left in done.skipped:
                why = aspect_of(left.resource_type, left.aspect).refusal.removeprefix("is ")
                print(f"skipped {left.id}: {why}")
            return 0
        if args.command == "access":
            from iamdrift.cli.access import Refused as Unanswerable
            from iamdrift.cli.access import answer, render

            try:
                run, chains = answer(
                    args.question, args.subject, args.report_dir, args.run_id, args.max_hops
                )
            except Unanswerable as exc:
                print(f"cannot answer: {exc}", file=sys.stderr)
                return EXIT_INVALID
            print(render(run, args.question, args.subject, chains, args.json))
            return 0
        if args.command == "plan":
            from iamdrift.cli.plan import main_plan

            return main_plan(args)
        if args.command == "snapshot":
            from iamdrift.aws.hub import Hub
            from iamdrift.cli.snapshot import take_snapshot

            result = take_snapshot(args.baselines, Hub(), args.accounts, args.concurrency)
            for path in result.written:
                print(f"wrote {path}")
            for note in result.notes:
                print(f"note: {note}", file=sys.stderr)
            for err in result.errors:
                print(f"error: {err}", file=sys.stderr)
            return 1 if result.errors else 0
        if args.command == "schedule":
            from iamdrift.baselines.load import load_baselines
            from iamdrift.cli.scheduler import plan, run_schedule

            load_baselines(args.baselines)  # a broken baseline is an error now, not nightly
            if not args.once:
                try:
                    plan(args.at, args.every, args.tz)
                except Exception as exc:  # schedule and pytz raise several kinds
                    print(f"invalid schedule: {exc}", file=sys.stderr)
                    return EXIT_INVALID
            run_args = ["--baselines", args.baselines, "--concurrency", str(args.concurrency)]
            run_args += ["--account-timeout", str(args.account_timeout)]
            if args.accounts:
                run_args += ["--accounts", ",".join(args.accounts)]
            if args.notify_url:
                run_args += ["--notify-url", args.notify_url]
            return run_schedule(
                run_args,
                args.report_dir,
                args.at,
                args.every,
                args.tz,
                args.once,
                args.timeout,
                args.keep,
                args.pytest_args,
            )
        if args.command == "schema":
            from iamdrift.baselines.schema import write_schemas

            for path in write_schemas(args.out):
                print(f"wrote {path}")
            return 0
        if args.command == "demo":
            from iamdrift.cli.demo import run_demo

            return run_demo(args.baselines, args.report_dir)
    except BaselineError as exc:
        print(f"invalid baselines ({len(exc.problems)} problem(s)):", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    return EXIT_INVALID


def entry() -> NoReturn:
    """The command's entry point: `main`, then out at once.

    Everything a command writes is written and closed when `main` returns, so the exit
    skips the interpreter's teardown of every module and thread, a fifth of a small
    run's time (measured with bench/bench_small.py); log handlers and the standard
    streams are flushed first.
    """
    try:
        code = main()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`| head`): as a shell's SIGPIPE exit
        code = 141
    os._exit(code)


if __name__ == "__main__":
    entry()
