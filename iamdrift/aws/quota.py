"""AWS's documented request rates, kept on our side: one limiter per service and region,
shared by every thread and account of the process, so that a thousand accounts' readers
never send Identity Center more than its quota allows. botocore's adaptive retry mode
stands behind it for what the limiter cannot know (other callers of the same quota).

IAM Identity Center User Guide, "IAM Identity Center quotas", throttle limits: the IAM
Identity Center APIs and the identity store APIs allow 20 transactions per second each.
"""

from __future__ import annotations

import threading
import time

# Requests per second, by botocore service name; a service not named here is not limited
# by us (IAM, STS and Organizations answer the run's few calls per account well inside
# their quotas, and retry on throttling).
QUOTAS = {"sso-admin": 20.0, "identitystore": 20.0}


class RateLimiter:
    """A token bucket: a second's worth of requests at once, then `rate` a second, across
    threads (each waits for its slot, so the rate holds however many threads ask).

    >>> limiter, start = RateLimiter(1000.0), time.monotonic()
    >>> for _ in range(1050):
    ...     limiter.acquire()
    >>> time.monotonic() - start >= 0.049
    True
    """

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.burst = max(1.0, rate) * self.interval  # seconds of credit: one second's worth
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self, **_kwargs) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self.burst + self.interval)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


# How many processes of this run share each quota: pytest-xdist's workers each read some
# of the accounts, so each keeps its part (set by the plugin in each worker).
PROCESSES = {"count": 1}


class Quotas:
    """The limiters of one process, by service and region."""

    def __init__(self, quotas: dict[str, float] | None = None):
        self.quotas = QUOTAS if quotas is None else quotas
        self._limiters: dict[tuple[str, str], RateLimiter] = {}
        self._lock = threading.Lock()

    def limiter(self, service: str, region: str) -> RateLimiter | None:
        rate = self.quotas.get(service)
        if rate is None:
            return None
        with self._lock:
            key = (service, region)
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(rate / PROCESSES["count"])
            return self._limiters[key]

    def attach(self, client, service: str) -> None:
        """Every request the client sends (retries included) waits for its slot."""
        found = self.limiter(service, client.meta.region_name)
        if found is not None:
            client.meta.events.register("before-send", found.acquire)
