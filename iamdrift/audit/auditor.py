"""The map step: read each account once, concurrently and within a time bound (each one as
audit/account.py says), and hand out its outcome; its state is dropped once judged.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.audit.account import AuditContext, audit_account
from iamdrift.audit.identity_center import identity_center_context
from iamdrift.audit.organization import org_context
from iamdrift.audit.outcome import AccountOutcome, OrganizationRead
from iamdrift.aws.hub import Hub
from iamdrift.baselines.baseline import AccountBaseline, Baseline
from iamdrift.compare.diff import Selection
from iamdrift.errors import AccountUnreadable, aws_error_text, call_error_text

DEFAULT_ACCOUNT_TIMEOUT = 180.0


class Listener(Protocol):
    """Told as accounts are read (from reader threads): progress for the person watching."""

    def started(self, account: str, label: str) -> None: ...
    def finished(self, account: str, label: str, status: str, seconds: float) -> None: ...


def tune_collector() -> None:
    """Reading an account allocates some 10^5 short-lived objects; with Python's default
    thresholds the cyclic collector's passes cost a third of a run's CPU (measured with
    bench/bench_org.py). Fewer, larger passes collect the same garbage."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 20_000), max(gen1, 20), gen2)


class _Readers:
    """Daemon reader threads: a read stuck in a dead connection cannot hold the process
    open after its account has been reported as an error."""

    def __init__(self, workers: int):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"iamdrift-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to whoever waits on the account
                    future.set_exception(exc)

    def submit(self, fn: Callable[[], AccountOutcome]) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn))
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)


class Auditor:
    """Starts every account's read at once (bounded), hands out outcomes as they finish.

    Each account has `account_timeout` seconds from the start of its read; past that it
    is an error, whatever its reader is still waiting for.
    """

    def __init__(
        self,
        baseline: Baseline,
        hub_factory: Callable[[], Hub] = Hub,
        workers: int = 8,
        account_timeout: float = DEFAULT_ACCOUNT_TIMEOUT,
        selection: Selection | None = None,
    ):
        tune_collector()
        self.baseline = baseline
        self.listener: Listener | None = None
        self.account_timeout = account_timeout
        self.selection = selection
        self._hub_factory = hub_factory
        self._hub: Hub | None = None
        self._readers = _Readers(workers)
        self._futures: dict[str, Future[AccountOutcome]] = {}
        self._started: dict[str, float] = {}
        self._late: dict[str, AccountOutcome] = {}
        self._org: OrganizationRead | None = None
        self._org_read: Future | None = None
        self._org_lock = threading.Lock()
        self._ctx: AuditContext | None = None
        self._lock = threading.Lock()
        # (the first read's start, the last read's end): the run's reading, for its log.
        self.read_span: tuple[float, float] | None = None

    def _read_between(self, began: float) -> None:
        with self._lock:
            first = min(began, self.read_span[0]) if self.read_span else began
            self.read_span = (first, time.monotonic())

    def hub(self) -> Hub:
        with self._lock:
            if self._hub is None:
                self._hub = self._hub_factory()
            return self._hub

    def organization(self) -> OrganizationRead:
        """The organization, read once (whoever asks meanwhile waits for that read): None
        when the hub may not read it."""
        hub = self.hub()
        with self._org_lock:
            if self._org is None:
                began = time.monotonic()
                try:
                    account = hub.account()  # first: the structure's read reuses it
                    structure = hub.structure()
                    self._org = OrganizationRead(
                        hub_account=account,
                        structure=structure,
                        org_id=hub.organization_id(),
                        management=hub.management_account(),
                        ids=structure.ids if structure else {},
                    )
                    self._read_identity_center(hub, self._org)
                except (ClientError, BotoCoreError) as exc:
                    self._org = OrganizationRead(error=aws_error_text(exc))
                except RuntimeError as exc:
                    self._org = OrganizationRead(error=str(exc))
                self._read_between(began)
            return self._org

    def _read_identity_center(self, hub: Hub, org: OrganizationRead) -> None:
        """Identity Center, when identity_center.yaml asks for it; unreadable is an error."""
        declared = self.baseline.identity_center
        if declared is None:
            return
        try:
            org.identity_center = hub.identity_center(
                declared.instance,
                declared.region,
                declared.declared_members,
                len(self.baseline.accounts),
            )
            if org.identity_center is None:
                org.identity_center_error = (
                    "identity_center.yaml exists but the hub sees no Identity Center instance "
                    "(run from the management account or its delegated administrator, in the "
                    "instance's region: `region:` in identity_center.yaml)"
                )
        except (ClientError, BotoCoreError, LookupError) as exc:
            org.identity_center_error = call_error_text(exc)

    def carry_organization(self, org: OrganizationRead) -> None:
        """Judge by an organization read earlier (an event run no change of the
        organization set off) instead of reading it."""
        with self._org_lock:
            self._org = org

    def organization_read(self) -> OrganizationRead | None:
        """The organization if it has been read already (no call made)."""
        return self._org

    def context(self) -> AuditContext:
        if self._ctx is None:
            org = self.organization()
            access = self.baseline.access
            self._ctx = AuditContext(
                org_context(self.baseline, org),
                access.third_parties if access else {},
                self.selection,
                identity_center_context(self.baseline, org),
            )
        return self._ctx

    def start(self, accounts: Iterable[AccountBaseline]) -> None:
        with self._lock:
            if self._org_read is None:  # alongside the accounts: judging them needs it
                self._org_read = self._readers.submit(self.organization)
        for acct in accounts:
            with self._lock:
                if acct.id not in self._futures:
                    self._futures[acct.id] = self._readers.submit(lambda a=acct: self._run(a))

    def _run(self, acct: AccountBaseline) -> AccountOutcome:
        began = time.monotonic()
        with self._lock:
            self._started[acct.id] = began
        if self.listener:
            self.listener.started(acct.id, acct.label)
        try:
            outcome = audit_account(
                self.hub(), acct, self.context, deadline=began + self.account_timeout
            )
        except Exception as exc:  # no credentials at all, a broken profile, a bug: not a pass
            outcome = AccountOutcome(
                id=acct.id, name=acct.name, error=str(AccountUnreadable(acct.id, None, repr(exc)))
            )
        self._read_between(began)
        with self._lock:
            reported = acct.id in self._late  # already shown as timed out
        if self.listener and not reported:
            self.listener.finished(acct.id, acct.label, outcome.status, time.monotonic() - began)
        return outcome

    def outcome(
        self, acct: AccountBaseline, on_wait: Callable[[], None] | None = None
    ) -> AccountOutcome:
        """The account's outcome; `on_wait` is called about twice a second until it is ready."""
        self.start([acct])
        future = self._futures[acct.id]
        while True:
            try:
                return future.result(timeout=0.5)
            except FutureTimeout:
                if on_wait is not None:
                    on_wait()
                late = self._overdue(acct)
                if late is not None:
                    return late

    def _overdue(self, acct: AccountBaseline) -> AccountOutcome | None:
        with self._lock:
            began = self._started.get(acct.id)
            if began is None or time.monotonic() - began <= self.account_timeout:
                return None
            if acct.id not in self._late:
                reason = (
                    f"account {acct.id} could not be read: no complete answer within "
                    f"{self.account_timeout:g}s (--account-timeout)"
                )
                self._late[acct.id] = AccountOutcome(id=acct.id, name=acct.name, error=reason)
                if self.listener:
                    self.listener.finished(acct.id, acct.label, "error", self.account_timeout)
            return self._late[acct.id]

    def close(self) -> None:
        self._readers.close()
