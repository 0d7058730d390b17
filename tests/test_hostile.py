"""Hostile baselines, as they arrive in pull requests: validation stays fast and small
whatever the file, and says what is wrong on one line per problem, with file and line,
exit 2, never a traceback."""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamdrift.baselines.load import load_baselines
from iamdrift.errors import BaselineError
from tests.conftest import RUNNER, SHIPPED_BASELINES

MEMORY = 1024 * 2**20  # the validating process may not use more
PROBLEM = re.compile(r"^\S.*:\d+: .+$")

ALIAS_BOMB = """\
account: "222222222222"
name: DEMO
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
TRUST = """\
account: "222222222222"
name: DEMO
roles:
  R:
    trust_policy:
      Version: "2012-10-17"
      Statement:
{statement}
"""
HOSTILE = {
    "alias bomb": (ALIAS_BOMB, ":3: more than 500000 YAML nodes"),
    "control character": (
        'account: "222222222222"\nname: "DE\x01MO"\n',
        ":2: not valid YAML: control character",
    ),
    "deeply nested": (
        'account: "222222222222"\nname: x\nusers: ' + "[" * 200 + "]" * 200 + "\n",
        ":3: nested more than 64 levels deep",
    ),
    "not UTF-8": (b'account: "222222222222"\nname: \xff\xfe\n', ":0: cannot read file"),
    "binary": (bytes(range(256)) * 64, ":"),
    "trust statement with Resource": (
        TRUST.format(
            statement='        - {Effect: Allow, Action: sts:AssumeRole, Principal: {AWS: "*"}, Resource: "*"}'
        ),
        ":5: roles.R.trust_policy: a trust policy statement has no Resource",
    ),
    "trust statement without principal": (
        TRUST.format(statement="        - {Effect: Allow, Action: sts:AssumeRole}"),
        ":5: roles.R.trust_policy: a trust policy statement needs a Principal",
    ),
    "empty statement list": (
        TRUST.format(statement="        []"),
        "roles.R.trust_policy.Statement: expected at least one statement",
    ),
    "identity policy with a principal": (
        'account: "222222222222"\nname: x\ngroups:\n  G:\n    inline_policies:\n      P: {Statement: [{Effect: Allow, Action: "*", Resource: "*", Principal: "*"}]}\n',
        ":6: groups.G.inline_policies.P: an identity policy names no Principal",
    ),
    "larger than the limit": (
        'account: "222222222222"\nname: x\n# ' + "x" * (11 * 2**20) + "\n",
        ":0: file larger than 10 MiB",
    ),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_baseline_is_refused_quickly_in_bounded_memory(tmp_path, case):
    text, expected = HOSTILE[case]
    baselines = tmp_path / "baselines"
    shutil.copytree(SHIPPED_BASELINES, baselines)
    target = baselines / "accounts" / "222222222222-demo.yaml"
    target.write_bytes(text.encode() if isinstance(text, str) else text)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "validate", "--baselines", str(baselines)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    problems = proc.stderr.splitlines()[1:]
    assert problems and all(PROBLEM.match(p) for p in problems), proc.stderr
    assert any(p.startswith(f"{target}:") and expected in p for p in problems), proc.stderr


KEYS = [
    "account",
    "name",
    "users",
    "groups",
    "roles",
    "policies",
    "trust_policy",
    "Statement",
    "Effect",
    "Action",
    "Principal",
    "AWS",
    "Resource",
    "Condition",
    "inline_policies",
    "managed_policies",
    "path",
    "read_via",
    "ignore",
    "max_session_duration",
    "<<",
]
TRICKY = [
    "222222222222",
    "Allow",
    "Deny",
    "sts:AssumeRole",
    "*",
    "/",
    "null",
    "~",
    "true",
    "2012-10-17",
    "arn:aws:iam::222222222222:role/R",
    "&a x",
    "*a",
    "!!python/object:os.system",
    "'",
    '"',
    "{",
    "- x",
    "\t",
    "%",
]
SCALARS = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=12),
    st.integers(),
)


def _yaml(node, depth: int = 0) -> str:
    pad = "  " * depth
    if isinstance(node, dict):
        return "".join(f"\n{pad}{k}: {_yaml(v, depth + 1)}" for k, v in node.items()) or "{}"
    if isinstance(node, list):
        return "".join(f"\n{pad}- {_yaml(v, depth + 1)}" for v in node) or "[]"
    return str(node)


DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=30,
)


def _check(baselines: Path, content: bytes) -> None:
    (baselines / "accounts" / "222222222222-demo.yaml").write_bytes(content)
    started = time.monotonic()
    try:
        load_baselines(baselines)
    except BaselineError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert "\n" not in str(problem) and PROBLEM.match(str(problem)), str(problem)
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module")
def fuzz_baselines(tmp_path_factory):
    baselines = tmp_path_factory.mktemp("fuzz") / "baselines"
    shutil.copytree(SHIPPED_BASELINES, baselines)
    return baselines


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.binary(max_size=2000))
def test_any_bytes_load_or_give_one_line_problems(fuzz_baselines, content):
    _check(fuzz_baselines, content)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=DOCUMENTS, prefix=st.sampled_from(["", 'account: "222222222222"\nname: x\n']))
def test_any_generated_yaml_loads_or_gives_one_line_problems(fuzz_baselines, document, prefix):
    _check(fuzz_baselines, (prefix + _yaml(document).lstrip("\n")).encode())
