"""Argument types and the options several commands share, declared once."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any


def accounts(value: str) -> list[str]:
    ids = [a.strip() for a in value.split(",") if a.strip()]
    bad = [a for a in ids if not (a.isdigit() and len(a) == 12)]
    if bad or not ids:
        raise argparse.ArgumentTypeError(f"expected 12-digit account ids, got {value!r}")
    return ids


def shard(value: str) -> str:
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise argparse.ArgumentTypeError(
            f"expected I/N with 1 <= I <= N, such as 2/8, got {value!r}"
        )
    return value


def positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {value!r}")
    return number


def where(cmd: argparse.ArgumentParser, reports: str = "") -> None:
    """--baselines and --report-dir."""
    cmd.add_argument("--baselines", default="baselines")
    cmd.add_argument("--report-dir", default="reports", help=reports or None)


def run_common(cmd: argparse.ArgumentParser) -> None:
    """What run, merge and schedule share: where, the history, the notification, pytest's."""
    where(cmd)
    cmd.add_argument("--keep", type=int, default=60, help="runs kept in the history (default 60)")
    cmd.add_argument("--notify-url", help="POST a JSON summary here after new drift or errors")
    cmd.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (-k, -n)")


def outputs(cmd: argparse.ArgumentParser) -> None:
    """The files run and merge write besides the history."""
    cmd.add_argument("--json", dest="json_path", metavar="FILE", help="write the findings JSON")
    cmd.add_argument("--ocsf", metavar="FILE", help="write OCSF Detection Findings (JSON)")
    cmd.add_argument("--sarif", metavar="FILE", help="write SARIF 2.1.0, at baseline lines")


READING = ("accounts", "entities", "concurrency", "account_timeout")


def reading(cmd: argparse.ArgumentParser) -> None:
    """What run and schedule read: which accounts and entities, how many at once, how long."""
    cmd.add_argument("--accounts", type=accounts, help="only these account ids, comma-separated")
    cmd.add_argument(
        "--entity",
        dest="entities",
        action="append",
        default=[],
        metavar="GLOB",
        help="only these entities: NAME, KIND/NAME or ACCOUNT/KIND/NAME (repeatable)",
    )
    concurrency(cmd)
    cmd.add_argument(
        "--account-timeout",
        type=positive,
        default=180.0,
        metavar="SECONDS",
        help="an account not read within this time is an error (default 180)",
    )


def concurrency(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--concurrency", type=int, default=8, help="accounts read at once")


def as_run_arguments(args: argparse.Namespace) -> list[str]:
    """The reading options and notification of `schedule`, as `run` takes them."""
    out = ["--baselines", args.baselines, "--concurrency", str(args.concurrency)]
    out += ["--account-timeout", str(args.account_timeout)]
    if args.accounts:
        out += ["--accounts", ",".join(args.accounts)]
    out += [f"--entity={glob}" for glob in args.entities]
    if args.notify_url:
        out += ["--notify-url", args.notify_url]
    return out


def given_to(cls: Any, args: argparse.Namespace) -> Any:
    """An engine's options dataclass from the parsed arguments of the same names (the
    others keep their defaults)."""
    given = vars(args)
    return cls(**{f.name: given[f.name] for f in fields(cls) if f.name in given})
