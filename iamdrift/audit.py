"""Read accounts concurrently (bounded), once each, and diff them with their baselines."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.aws import BOTO_CONFIG, assumed_session, caller_account, hub_session, session_name
from iamdrift.baseline import AccountBaseline
from iamdrift.collect import collect_account, decode_document
from iamdrift.diff import diff_account
from iamdrift.errors import AccountUnreadable, aws_error_text
from iamdrift.findings import Finding
from iamdrift.models import AccountState
from iamdrift.orgstate import Structure, collect_structure
from iamdrift.policy import normalize
from iamdrift.progress import Progress

Status = Literal["compliant", "drift", "error"]


@dataclass
class AccountResult:
    account: AccountBaseline
    findings: list[Finding] = field(default_factory=list)
    error: AccountUnreadable | None = None
    state: AccountState | None = None

    @property
    def status(self) -> Status:
        if self.error:
            return "error"
        return "drift" if self.findings else "compliant"


_NO_ORGANIZATION = ("AWSOrganizationsNotInUseException", "AccessDeniedException")


class Hub:
    """The hub credentials, the account they belong to, and sessions into other accounts."""

    def __init__(self, session: boto3.Session | None = None):
        self.session = session or hub_session()
        self._account: str | None = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._bodies: dict[str, dict] = {}
        self._structure: Structure | None = None

    def account(self) -> str:
        with self._lock:
            if self._account is None and self._error is None:
                try:
                    self._account = caller_account(self.session)
                except (BotoCoreError, ClientError) as exc:
                    self._error = f"hub credentials unusable: {aws_error_text(exc)}"
            if self._error:
                raise RuntimeError(self._error)
            return self._account  # type: ignore[return-value]

    def session_for(self, acct: AccountBaseline) -> tuple[boto3.Session, str | None]:
        """The hub's own account is read directly; every other one through its role."""
        if self.account() == acct.id:
            return self.session, None
        role_arn = acct.role_arn()
        name = session_name(acct.session_name)
        return assumed_session(self.session, role_arn, name, acct.external_id), role_arn

    def aws_policy_bodies(self, arns: set[str]) -> dict[str, dict]:
        """Documents of AWS managed policies (the same in every account), fetched once each."""
        iam = self.session.client("iam", config=BOTO_CONFIG)
        with self._lock:
            for arn in sorted(arns - self._bodies.keys()):
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
                self._bodies[arn] = normalize(decode_document(doc["Document"]))
            return {a: self._bodies[a] for a in arns}

    def structure(self) -> Structure | None:
        """Accounts, OUs and SCPs, when the hub may read them (management or delegated admin)."""
        with self._lock:
            if self._structure is None:
                client = self.session.client("organizations", config=BOTO_CONFIG)
                try:
                    self._structure = collect_structure(client)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] not in _NO_ORGANIZATION:
                        raise
                    return None
            return self._structure

    def organization_accounts(self) -> dict[str, str] | None:
        """Active accounts of the hub's organization, when the hub may list them."""
        client = self.session.client("organizations", config=BOTO_CONFIG)
        try:
            pages = client.get_paginator("list_accounts").paginate()
            return {
                a["Id"]: a["Name"]
                for p in pages
                for a in p["Accounts"]
                if a.get("Status", "ACTIVE") == "ACTIVE"
            }
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _NO_ORGANIZATION:
                return None
            raise


def read_account(hub: Hub, acct: AccountBaseline) -> AccountState:
    try:
        session, role_arn = hub.session_for(acct)
    except RuntimeError as exc:
        raise AccountUnreadable(acct.id, None, str(exc)) from exc
    return collect_account(session, acct.id, role_arn)


def audit_account(hub: Hub, acct: AccountBaseline, keep_state: bool = False) -> AccountResult:
    try:
        state = read_account(hub, acct)
    except AccountUnreadable as exc:
        return AccountResult(acct, error=exc)
    findings = diff_account(acct.id, acct.expected, state, acct.ignore, acct.label)
    return AccountResult(acct, findings, state=state if keep_state else None)


class Auditor:
    """Starts every account's read at once (bounded), hands out results as they finish.

    Only findings are kept per account, not the collected state, so memory stays
    small across thousands of accounts.
    """

    def __init__(self, hub_factory: Callable[[], Hub] = Hub, workers: int = 8):
        self.progress: Progress | None = None
        self.keep_state = False  # the access graph needs every account's state
        self._hub_factory = hub_factory
        self._hub: Hub | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="iamdrift")
        self._futures: dict[str, Future[AccountResult]] = {}
        self._lock = threading.Lock()

    def _hub_or_create(self) -> Hub:
        with self._lock:
            if self._hub is None:
                self._hub = self._hub_factory()
            return self._hub

    def start(self, accounts: Iterable[AccountBaseline]) -> None:
        for acct in accounts:
            with self._lock:
                if acct.id in self._futures:
                    continue
                self._futures[acct.id] = self._pool.submit(self._run, acct)

    def _run(self, acct: AccountBaseline) -> AccountResult:
        began = time.monotonic()
        if self.progress:
            self.progress.started(acct.id, acct.label)
        try:
            result = audit_account(self._hub_or_create(), acct, self.keep_state)
        except Exception as exc:  # no credentials at all, a broken profile, a bug: not a pass
            result = AccountResult(acct, error=AccountUnreadable(acct.id, None, repr(exc)))
        if self.progress:
            self.progress.finished(acct.id, acct.label, result.status, time.monotonic() - began)
        return result

    def result(
        self, acct: AccountBaseline, on_wait: Callable[[], None] | None = None
    ) -> AccountResult:
        """The account's result; `on_wait` is called about twice a second until it is ready."""
        self.start([acct])
        future = self._futures[acct.id]
        while on_wait is not None:
            try:
                return future.result(timeout=0.5)
            except FutureTimeout:
                on_wait()
        return future.result()

    def hub(self) -> Hub:
        return self._hub_or_create()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
