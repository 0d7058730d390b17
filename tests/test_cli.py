"""The command table: what a command parses reaches its engine, nothing dropped on the way."""

from __future__ import annotations

from dataclasses import fields

import pytest

from iamdrift.cli import options
from iamdrift.cli.commands import COMMANDS
from iamdrift.cli.main import main, parser
from iamdrift.runs.run import RunOptions

ACCOUNT = "222222222222"


def test_each_command_is_declared_once_and_dispatched_to_its_handler(tmp_path, capsys):
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    assert main(["validate", "--baselines", str(tmp_path)]) == 2  # through `validate`
    assert "invalid baselines" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "merge"])
def test_every_option_of_run_and_merge_reaches_the_run(command):
    """An option added to run or merge without a field of RunOptions would be parsed and
    silently dropped."""
    argv = [command, *(["part.gz"] if command == "merge" else [])]
    given = set(vars(parser().parse_args(argv))) - {"command"}
    assert given <= {f.name for f in fields(RunOptions)}


def test_schedule_hands_its_reading_options_to_each_run_as_run_reads_them():
    argv = [
        "schedule",
        "--once",
        "--baselines",
        "b",
        "--accounts",
        ACCOUNT,
        "--entity",
        "role/Member*",
        "--entity",
        "x",
        "--concurrency",
        "3",
        "--account-timeout",
        "9",
        "--notify-url",
        "http://127.0.0.1:9/hook",
    ]
    scheduled = parser().parse_args(argv)
    run = parser().parse_args(["run", *options.as_run_arguments(scheduled)])
    for name in (*options.READING, "baselines", "notify_url"):
        assert getattr(run, name) == getattr(scheduled, name), name


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--accounts", "12345"],
        ["run", "--shard", "3/2"],
        ["run", "--account-timeout", "0"],
        ["schedule", "--at", "02:00", "--every", "6h"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_every_option_of_watch_reaches_the_watcher():
    from iamdrift.runs.watch import WatchOptions

    args = parser().parse_args(["watch", "--queue", "https://sqs.eu-west-1.amazonaws.com/1/q"])
    assert set(vars(args)) - {"command"} <= {f.name for f in fields(WatchOptions)}
    opts = options.given_to(WatchOptions, args)
    assert opts.queue.endswith("/q") and opts.timeout == 3600 and opts.visibility == 120
