"""Progress: a rewritten status line on a terminal, plain lines under CI or in a pipe."""

from __future__ import annotations

import pytest

from iamdrift.report.progress import Progress


class Out:
    def __init__(self):
        self.lines: list[str] = []
        self.rewrites: list[str] = []

    def write_line(self, line):
        self.lines.append(line)

    def rewrite(self, line):
        self.rewrites.append(line)


def test_plain_lines_when_not_a_terminal():
    out, p = Out(), Progress(2, tty=False)
    p.started("1", "111111111111 (A)")
    p.started("2", "222222222222 (B)")
    p.render(out)
    assert out.lines == []
    p.finished("1", "111111111111 (A)", "compliant", 0.5)
    p.finished("2", "222222222222 (B)", "error", 1.25)
    p.render(out)
    p.render(out)
    assert len(out.lines) == 2 and out.rewrites == []
    assert out.lines[0].endswith("iamdrift: [1/2] account 111111111111 (A) read in 0.5s: compliant")
    assert out.lines[1].endswith("[2/2] account 222222222222 (B) read in 1.2s: error")


def test_one_rewritten_line_on_a_terminal():
    out, p = Out(), Progress(5, tty=True)
    for i in range(5):
        p.started(str(i), f"acct{i}")
    p.finished("0", "acct0", "drift", 0.1)
    p.render(out)
    assert out.rewrites == ["[iamdrift] 1/5 accounts read; reading acct1, acct2, acct3 and 1 more"]
    p.render(out, waiting=False)
    assert out.rewrites[-1] == "" and out.lines == []


@pytest.mark.e2e
def test_runner_prints_each_account_under_ci(world):
    result = world.cli("run", env=world.env(CI="true"))
    assert result.code == 0
    assert "[3/3] account" in result.stdout and "\r" not in result.stdout
