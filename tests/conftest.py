"""Fixtures for iamdrift's own tests: moto's server on 127.0.0.1 and the runner as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from iamdrift.emulator import Emulator, build_seed_organization, emulator_env, moto_server

PROJECT = Path(__file__).resolve().parent.parent
RUNNER = PROJECT / "runner.py"
SHIPPED_BASELINES = PROJECT / "baselines"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """No test may reach AWS: credentials are fake and unknown endpoints refuse."""
    for key, value in emulator_env("http://127.0.0.1:9").items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="session")
def moto_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    summary: dict | None

    def finding(self, finding_id: str) -> dict:
        assert self.summary, self.stderr
        ids = [f["id"] for f in self.summary["findings"]]
        assert finding_id in ids, f"{finding_id} not among {ids}\n{self.stdout[-3000:]}"
        return next(f for f in self.summary["findings"] if f["id"] == finding_id)

    def account(self, account_id: str) -> dict:
        assert self.summary, self.stderr
        return next(a for a in self.summary["accounts"] if a["id"] == account_id)


@dataclass
class World:
    """A freshly seeded emulator plus a way to run the CLI against it."""

    emu: Emulator
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **emulator_env(self.emu.endpoint), **extra}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        json_path = self.tmp / f"findings-{len(list(self.tmp.glob('findings-*')))}.json"
        cmd = [sys.executable, str(RUNNER), *args]
        if args[0] in ("run", "merge"):
            cmd[3:3] = ["--json", str(json_path), "--report-dir", str(self.tmp / "reports")]
        proc = subprocess.run(
            cmd,
            env=env or self.env(),
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=300,
            check=False,
        )
        summary = json.loads(json_path.read_text()) if json_path.exists() else None
        return CliResult(proc.returncode, proc.stdout, proc.stderr, summary)

    def baselines_copy(self) -> Path:
        dest = self.tmp / "baselines"
        shutil.copytree(SHIPPED_BASELINES, dest)
        return dest


@pytest.fixture
def world(moto_endpoint, tmp_path) -> World:
    """The seed's organization in a freshly reset emulator."""
    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).close()
    emu = Emulator(moto_endpoint)
    build_seed_organization(emu)
    return World(emu, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: xdist hands tests out in this order, and a minute-long test
    started last keeps one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
