"""Notifications: POSTed after new drift or errors, retried, never failing the run."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from iamdrift.emulator import DEMO
from iamdrift.report.notify import notify
from iamdrift.report.results import RunReport


class _Hook:
    """A webhook on 127.0.0.1 that fails the first `failures` requests with HTTP 500."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.bodies: list[dict] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hook.attempts += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hook.attempts <= hook.failures:
                    self.send_response(500)
                else:
                    hook.bodies.append(body)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def hook():
    h = _Hook(failures=1)
    yield h
    h.close()


@pytest.mark.e2e
def test_new_drift_is_posted_after_a_retry(world, hook):
    world.emu.iam(DEMO).create_user(UserName="eve")
    result = world.cli("run", "--notify-url", hook.url)
    assert result.code == 1
    assert hook.attempts == 2
    (body,) = hook.bodies
    assert body["new"][0]["id"] == f"{DEMO}/user/eve/existence"
    assert "1 new finding(s)" in body["text"] and "user eve" in body["text"]
    assert body["run_id"] == result.summary["run_id"]


@pytest.mark.e2e
def test_nothing_new_posts_nothing(world, hook):
    result = world.cli("run", "--notify-url", hook.url)
    assert result.code == 0 and hook.attempts == 0


@pytest.mark.e2e
def test_unreachable_webhook_does_not_fail_the_run(world):
    world.emu.iam(DEMO).create_user(UserName="eve")
    result = world.cli("run", "--notify-url", "http://127.0.0.1:9/hook")
    assert result.code == 1  # drift, as without a webhook
    assert "not sent after 3 attempts" in result.stderr


def test_notify_gives_up_after_bounded_attempts(tmp_path):
    h = _Hook(failures=10)
    try:
        assert notify(h.url, RunReport(run_id="r"), tmp_path, attempts=3, backoff=0.01) is False
        assert h.attempts == 3
    finally:
        h.close()


def test_an_event_runs_message_names_who_made_each_change(tmp_path):
    from iamdrift.changes.events import EventFact
    from iamdrift.compare.findings import Place, finding
    from iamdrift.report.notify import message
    from iamdrift.report.results import RunReport

    who = EventFact(
        actor="arn:aws:iam::222222222222:user/mallory",
        event="PutRolePolicy",
        source="iam.amazonaws.com",
        time="2026-12-03T09:00:00Z",
        source_ip="198.51.100.7",
        account=DEMO,
        resource="role/R",
    )
    f = finding(Place(DEMO, "role", "R", "Account"), "inline_policy:Hop", "unexpected", "high", "x")
    f = f.model_copy(update={"events": [who], "history": "new"})
    report = RunReport(run_id="r", trigger="event", events=[who], findings=[f])
    sent = message(report, tmp_path)
    assert sent["text"].startswith("iamdrift event run r: 1 new finding(s)")
    assert "changed by arn:aws:iam::222222222222:user/mallory: PutRolePolicy" in sent["text"]
    assert sent["new"][0]["events"][0]["source_ip"] == "198.51.100.7"
