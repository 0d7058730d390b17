"""The wheel works anywhere: built from the sources, installed into a fresh virtual
environment, and run from an empty directory that holds only a user's baselines."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv

import pytest

from tests.conftest import PROJECT, SHIPPED_BASELINES

pytestmark = pytest.mark.e2e
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "venv",
    "reports",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "test-artifacts",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel; its dependencies come from this environment (the .pth),
    so nothing is downloaded and no clone is on its path."""
    tmp = tmp_path_factory.mktemp("wheel")
    sources = tmp / "sources"
    shutil.copytree(PROJECT, sources, ignore=NOT_SOURCES)  # the build writes into its sources
    build = [
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        str(tmp / "dist"),
    ]
    subprocess.run([*build, str(sources)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp / "dist").glob("iamdrift-*.whl"))
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp / "venv-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.copy(tmp / "venv-deps.pth", purelib)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=300)
    return env_dir


def _in_empty_dir(installed, tmp_path, *cmd, env=None):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    shutil.copytree(SHIPPED_BASELINES, work / "baselines", dirs_exist_ok=True)
    return subprocess.run(
        [str(installed / "bin" / cmd[0]), *cmd[1:]],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_the_installed_command_validates_runs_and_demos(installed, tmp_path, world):
    where = _in_empty_dir(
        installed, tmp_path, "python", "-c", "import iamdrift; print(iamdrift.__file__)"
    )
    assert str(installed) in where.stdout  # the wheel's copy, not this clone
    validate = _in_empty_dir(installed, tmp_path, "iamdrift", "validate")
    assert validate.returncode == 0, validate.stderr
    run = _in_empty_dir(installed, tmp_path, "iamdrift", "run", env=world.env())
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (tmp_path / "work" / "reports" / "latest" / "report.html").exists()
    checks = _in_empty_dir(
        installed,
        tmp_path,
        "python",
        "-m",
        "pytest",
        "--pyargs",
        "iamdrift.checks",
        "--baselines",
        "baselines",
        "-p",
        "no:cacheprovider",
        "-q",
        env=world.env(),
    )
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert " passed" in checks.stdout
    demo = _in_empty_dir(installed, tmp_path, "iamdrift", "demo", "--report-dir", "demo-reports")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Demo ran as intended" in demo.stdout


PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {
            "address": "aws_iam_user.new",
            "mode": "managed",
            "type": "aws_iam_user",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": {"name": "new", "path": "/"},
                "after_unknown": {"arn": True},
            },
        }
    ],
    "configuration": {
        "root_module": {
            "resources": [{"address": "aws_iam_user.new", "provider_config_key": "aws"}]
        }
    },
}


# Every command a user can type, each from the installed wheel in a directory that holds
# only baselines: (arguments, the exit codes its documentation allows). A module the wheel
# lacks is a traceback naming ModuleNotFoundError, whatever the exit code.
COMMANDS = [
    (("run", "--shard", "1/1", "--part", "part.gz"), {0}),
    (("merge", "part.gz"), {0}),
    (("access", "who-can-reach", "admin@DEMO"), {0}),
    (("access", "reach", "arn:aws:iam::123456789012:user/userA", "--json"), {0}),
    (("accept", "222222222222/role/Nothing/trust_policy"), {2}),
    (("plan", "plan.json", "--account", "123456789012", "--markdown", "plan.md"), {1}),
    (("schedule", "--once"), {0}),
    (("snapshot", "--baselines", "snapshot"), {0}),
    (("validate", "--baselines", "snapshot"), {0}),
    (("schema", "--out", "schemas"), {0}),
]


def test_every_command_starts_from_the_wheel(installed, tmp_path, world):
    import json

    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "plan.json").write_text(json.dumps(PLAN))
    for args, codes in COMMANDS:
        done = _in_empty_dir(installed, tmp_path, "iamdrift", *args, env=world.env())
        said = done.stdout[-2000:] + done.stderr[-2000:]
        assert "ModuleNotFoundError" not in said and "Traceback" not in said, (args, said)
        assert done.returncode in codes, (args, done.returncode, said)
    assert "aws_iam_user.new" in (tmp_path / "work" / "plan.md").read_text()
