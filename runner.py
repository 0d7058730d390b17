#!/usr/bin/env python3
"""iamdrift: declared cross-account IAM access, checked against live AWS.

    python runner.py run       [--baselines DIR] [--report-dir DIR] [--json FILE]
                               [--accounts ID,...] [-- PYTEST ARGS]
    python runner.py snapshot  --baselines DIR [--accounts ID,...]
    python runner.py validate  [--baselines DIR]
    python runner.py schema    [--out DIR]
    python runner.py demo

Exit codes: 0 all accounts read and matching, 1 drift or an unreadable account,
2 invalid baselines or arguments.
"""

from __future__ import annotations

import argparse
import sys

from iamdrift.errors import BaselineError

EXIT_INVALID = 2


def _accounts(value: str) -> list[str]:
    ids = [a.strip() for a in value.split(",") if a.strip()]
    bad = [a for a in ids if not (a.isdigit() and len(a) == 12)]
    if bad or not ids:
        raise argparse.ArgumentTypeError(f"expected 12-digit account ids, got {value!r}")
    return ids


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="check every account against its baseline")
    run.add_argument("--baselines", default="baselines")
    run.add_argument("--report-dir", default="reports")
    run.add_argument("--json", dest="json_path", metavar="FILE", help="write the findings JSON")
    run.add_argument("--accounts", type=_accounts, help="only these account ids, comma-separated")
    run.add_argument("--concurrency", type=int, default=8, help="accounts read at once")
    run.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (-k, -n)")
    snap = sub.add_parser("snapshot", help="write baselines from live IAM")
    snap.add_argument("--baselines", required=True)
    snap.add_argument("--accounts", type=_accounts)
    snap.add_argument("--concurrency", type=int, default=8)
    val = sub.add_parser("validate", help="check baselines without touching AWS")
    val.add_argument("--baselines", default="baselines")
    schema = sub.add_parser("schema", help="write the baseline format's JSON Schemas")
    schema.add_argument("--out", default="schema")
    demo = sub.add_parser("demo", help="the whole job on a local AWS emulator")
    demo.add_argument("--baselines", default="baselines")
    demo.add_argument("--report-dir", default="reports")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            from iamdrift.baseline import load_baselines

            baseline = load_baselines(args.baselines)
            print(f"{args.baselines}: {len(baseline.accounts)} account baseline(s) valid")
            return 0
        if args.command == "run":
            from iamdrift.run import run_checks, summary_lines

            out = run_checks(args.baselines, args.report_dir, args.json_path, args.accounts,
                             args.concurrency, args.pytest_args)  # fmt: skip
            if out.summary:
                print("\n".join(["iamdrift summary:", *summary_lines(out.summary)]))
                print(f"HTML report: {out.report}")
            return out.exit_code
        if args.command == "snapshot":
            from iamdrift.audit import Hub
            from iamdrift.snapshot import take_snapshot

            result = take_snapshot(args.baselines, Hub(), args.accounts, args.concurrency)
            for path in result.written:
                print(f"wrote {path}")
            for err in result.errors:
                print(f"error: {err}", file=sys.stderr)
            return 1 if result.errors else 0
        if args.command == "schema":
            from iamdrift.schema import write_schemas

            for path in write_schemas(args.out):
                print(f"wrote {path}")
            return 0
        if args.command == "demo":
            from iamdrift.demo import run_demo

            return run_demo(args.baselines, args.report_dir)
    except BaselineError as exc:
        print(f"invalid baselines ({len(exc.problems)} problem(s)):", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
