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
from iamdrift.cli.commands import COMMANDS, EXIT_INVALID
from iamdrift.errors import BaselineError


def parser() -> argparse.ArgumentParser:
    """One sub-command per entry of the table of commands."""
    top = argparse.ArgumentParser(prog="iamdrift", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.arguments(sub.add_parser(command.name, help=command.help))
    return top


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
    args = parser().parse_args(argv)
    _logging()
    try:
        return next(c for c in COMMANDS if c.name == args.command).handler(args)
    except BaselineError as exc:
        print(f"invalid baselines ({len(exc.problems)} problem(s)):", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130


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
