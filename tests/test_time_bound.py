"""Bounded time: an account whose IAM accepts the connection and never answers is an error
within --account-timeout, the others are checked; a slow but answering account is not."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO, MANAGEMENT

pytestmark = pytest.mark.e2e


@pytest.fixture
def silent_server():
    """Accepts connections, reads what is sent, and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()
    yield f"http://{host}:{port}"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_hung_account_is_an_error_within_the_bound_and_the_others_are_checked(
    world, silent_server
):
    world.emu.iam(DEMO).create_user(UserName="eve")  # drift elsewhere is still found
    faults = {"hang_account": ACCOUNT_B, "hang_endpoint": silent_server}
    env = world.env(IAMDRIFT_FAULTS=json.dumps(faults))
    started = time.monotonic()
    result = world.cli("run", "--account-timeout", "8", "--", "-p", "tests.faults", env=env)
    elapsed = time.monotonic() - started
    assert result.code == 1, result.stdout[-3000:]
    assert elapsed < 45, f"the run took {elapsed:.0f}s"
    b = result.account(ACCOUNT_B)
    assert b["status"] == "error" and "no complete answer within 8s" in b["error"]
    assert result.account(MANAGEMENT)["status"] == "compliant"
    assert result.account(DEMO)["status"] == "drift"
    result.finding(f"{DEMO}/user/eve/existence")


def test_a_slow_but_answering_account_is_not_an_error(world):
    faults = {"slow_account": ACCOUNT_B, "slow_seconds": 2}
    env = world.env(IAMDRIFT_FAULTS=json.dumps(faults))
    started = time.monotonic()
    result = world.cli("run", "--account-timeout", "30", "--", "-p", "tests.faults", env=env)
    assert time.monotonic() - started > 3.5  # its IAM calls (two at least) did answer late
    assert result.code == 0, result.stdout[-3000:]
    assert result.account(ACCOUNT_B)["status"] == "compliant"
