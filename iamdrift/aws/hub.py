"""The hub: the principal iamdrift runs as, its account and organization, and the way
into every other account."""

from __future__ import annotations

import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.aws.iam import decode_document
from iamdrift.aws.identity_center import read_account_assignments, read_identity_center
from iamdrift.aws.organizations import collect_structure
from iamdrift.aws.session import Clients, session_name
from iamdrift.baselines.identity_center import AccountAssignments, IdentityCenterRead
from iamdrift.baselines.load import AccountBaseline
from iamdrift.baselines.models import Structure
from iamdrift.compare.policy import Canonical, normalize
from iamdrift.errors import AccountTimeout, aws_error_text


class Hub:
    """The hub credentials, the account they belong to, and clients into other accounts.

    What the hub reads once (its account, the organization, AWS managed policy bodies)
    is cached for the run; every method is safe to call from reader threads.
    """

    def __init__(self, clients: Clients | None = None):
        self.clients = clients or Clients()
        self._account: str | None = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._fetching = threading.Lock()
        self._bodies: dict[str, Canonical] = {}
        self._structure: tuple[str | None, Structure | None] | None = None

    def account(self) -> str:
        with self._lock:
            if self._account is None and self._error is None:
                try:
                    self._account = self.clients.hub("sts").get_caller_identity()["Account"]
                except (BotoCoreError, ClientError) as exc:
                    self._error = f"hub credentials unusable: {aws_error_text(exc)}"
            if self._error:
                raise RuntimeError(self._error)
            return self._account  # type: ignore[return-value]

    def reads_directly(self, acct: AccountBaseline) -> bool:
        """The hub's own account, unless its baseline names a role to read it through."""
        return self.account() == acct.id and not acct.read_via_declared

    def iam_for(self, acct: AccountBaseline, deadline: float | None = None):
        """(IAM client, role ARN or None): the hub's own account is read with the hub's
        credentials unless its baseline names a `read_via` role; every other account
        through its role."""
        if self.reads_directly(acct):
            return self.clients.hub("iam"), None
        role_arn = acct.role_arn()
        iam = self.clients.assumed(
            "iam", role_arn, session_name(acct.session_name), acct.external_id
        )
        if deadline is not None:
            iam.meta.events.register("before-send", _past(deadline, acct.id))
        return iam, role_arn

    def aws_policy_bodies(self, arns: set[str]) -> dict[str, Canonical]:
        """Documents of AWS managed policies (the same in every account), fetched once each."""
        with self._fetching:  # one reader fetches a body; the others wait for it
            iam = self.clients.hub("iam")
            for arn in sorted(arns - self._bodies.keys()):
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
                self._bodies[arn] = normalize(decode_document(doc["Document"]))
            return {a: self._bodies[a] for a in arns}

    def structure(self) -> Structure | None:
        """Accounts, OUs and SCPs, when the hub may read them (management or delegated admin)."""
        return self._organization()[1]

    def organization_id(self) -> str | None:
        """The organization's id (`o-...`), when the hub is in one."""
        return self._organization()[0]

    def _organization(self) -> tuple[str | None, Structure | None]:
        with self._lock:
            if self._structure is None:
                account = self._account or self.clients.hub("sts").get_caller_identity()["Account"]
                self._structure = collect_structure(self.clients.hub("organizations"), account)
            return self._structure

    def identity_center(
        self, instance: str | None = None, region: str | None = None
    ) -> IdentityCenterRead | None:
        """Identity Center's permission sets and identity store, read once by the caller
        (the hub must be the management account or Identity Center's delegated
        administrator); None when the hub sees no instance."""
        read = read_identity_center(
            self.clients.hub("sso-admin", region), self.clients.hub("identitystore", region),
            instance,
        )  # fmt: skip
        if read is not None:
            read.region = region
        return read

    def assignments(self, ic: IdentityCenterRead, account: str) -> AccountAssignments:
        """Who Identity Center assigns what in one account (hub credentials, not the
        account's role: Identity Center answers for every account)."""
        return read_account_assignments(self.clients.hub("sso-admin", ic.region), ic, account)


def _past(deadline: float, account: str):
    """A before-send hook that stops an account's reads once its time is up, retries included."""

    def check(**_kwargs) -> None:
        if time.monotonic() > deadline:
            raise AccountTimeout(account)

    return check
