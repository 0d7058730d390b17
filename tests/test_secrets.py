"""No credential in any output: with debug logging, -v, a failing AssumeRole and drift,
none of the assumed-role credentials the run received appears in stdout, stderr, the
report, the findings JSON, JUnit, run.json, the index, the notification or the
scheduler's log."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO

pytestmark = pytest.mark.e2e


@pytest.fixture
def webhook():
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    server.shutdown()


def test_no_credential_reaches_any_output(world, webhook):
    url, bodies = webhook
    world.emu.iam(DEMO).create_user(UserName="eve")  # drift: failing tests keep their logs
    secrets_file = world.tmp / "received"
    faults = {"record_credentials": str(secrets_file), "deny_assume": [ACCOUNT_B]}
    env = world.env(IAMDRIFT_FAULTS=json.dumps(faults))
    debug = ["--", "-p", "tests.faults", "--log-level=DEBUG", "-v"]
    run = world.cli("run", "--notify-url", url, *debug, env=env)
    assert run.code == 1
    schedule_dir = world.tmp / "scheduled"
    scheduled = world.cli(
        "schedule",
        "--once",
        "--report-dir",
        str(schedule_dir),
        "--notify-url",
        url,
        *debug,
        env=env,
    )
    assert scheduled.code == 1

    secrets = {s for s in secrets_file.read_text().split() if s}
    assert len(secrets) >= 6  # two runs, each assumed at least one role
    outputs = {
        "run stdout": run.stdout,
        "run stderr": run.stderr,
        "scheduler stdout": scheduled.stdout,
        "scheduler log": scheduled.stderr,
        **{f"notification {i}": b.decode() for i, b in enumerate(bodies)},
        **{
            str(p): p.read_text(errors="replace")
            for d in (world.tmp / "reports", schedule_dir)
            for p in d.rglob("*")
            if p.is_file()
        },
    }
    assert bodies, "the notification was sent"
    assert "DEBUG" in run.stdout + run.stderr + "".join(outputs.values())  # logs were there
    leaks = [(name, s[:6]) for name, text in outputs.items() for s in secrets if s in text]
    assert leaks == []
