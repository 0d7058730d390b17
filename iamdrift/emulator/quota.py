"""AWS's request quotas, enforced by the emulator: a request above the rate is answered as
AWS answers it, `ThrottlingException` (HTTP 400), so the client's own limiter and
botocore's retries are what keeps a run whole. Used by the benchmark and its test.

IAM Identity Center User Guide, "IAM Identity Center quotas", throttle limits: the IAM
Identity Center APIs and the identity store APIs allow 20 transactions per second each
(a token bucket per account and region; a second's worth may come at once).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter

# X-Amz-Target prefix of each throttled service -> its requests per second.
TARGETS = {"SWBExternalService": ("sso-admin", 20.0), "AWSIdentityStore": ("identitystore", 20.0)}
THROTTLED: Counter[str] = Counter()  # answered with ThrottlingException, by service
SERVED: Counter[str] = Counter()  # answered, by service
FIRST: dict[str, float] = {}  # when the first request of each service arrived
LAST: dict[str, float] = {}
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([\w-]+)/")


class _Bucket:
    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def enforce() -> None:
    """From now on, moto's server throttles the services of TARGETS at their rates (per
    service, region and access key's account: one bucket per caller here)."""
    from moto.server import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__
    if getattr(original, "_quota", False):
        return
    buckets: dict[tuple[str, str], _Bucket] = {}
    lock = threading.Lock()

    def call(self, environ, start_response):
        prefix = (environ.get("HTTP_X_AMZ_TARGET") or "").split(".", 1)[0]
        if prefix not in TARGETS:
            return original(self, environ, start_response)
        service, rate = TARGETS[prefix]
        found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION") or "")
        key = (service, found.group(1) if found else "?")
        with lock:
            now = time.monotonic()
            FIRST.setdefault(service, now)
            LAST[service] = now
            allowed = buckets.setdefault(key, _Bucket(rate)).take()
            (SERVED if allowed else THROTTLED)[service] += 1
        if allowed:
            return original(self, environ, start_response)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
        )
        return [body.encode()]

    call._quota = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.__call__ = call
