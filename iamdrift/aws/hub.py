"""The hub: the principal iamdrift runs as, its account and organization, and the way
into every other account."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import BotoCoreError, ClientError

from iamdrift.aws.iam import decode_document
from iamdrift.aws.identity_center import (
    Memberships,
    find_instance,
    members_of,
    read_account_assignments,
    read_identity_center,
)
from iamdrift.aws.organizations import OrganizationFound, collect_structure, every_item
from iamdrift.aws.session import Clients, session_name
from iamdrift.baselines.baseline import AccountBaseline
from iamdrift.baselines.identity_center import AccountAssignments, IdentityCenterRead
from iamdrift.baselines.models import Credentials
from iamdrift.baselines.structure import Structure
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
        self._found: OrganizationFound | None = None
        self._memberships = Memberships()
        self._credentials: dict[tuple[str, str], Credentials] = {}  # (account, user ARN)
        self.notes: list[str] = []  # what a reader skipped and the user should know

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

    def credentials(self, acct: AccountBaseline, users: list[str]) -> dict[str, Credentials]:
        """Whether each user (by ARN) has a password and how many access keys, through the
        account's role: read only for the users a take-over depends on, once each (`plan`
        judges an account before and after). A user that does not exist (yet: a plan
        creates it) has neither."""
        with self._lock:
            wanted = [a for a in users if (acct.id, a) not in self._credentials]
        iam = self.iam_for(acct)[0] if wanted else None
        for arn in wanted:
            name = arn.rsplit("/", 1)[-1]
            profile = _unless_missing(iam.get_login_profile, None, UserName=name)
            keys = _unless_missing(
                every_item, [], iam, "list_access_keys", "AccessKeyMetadata", UserName=name
            )
            with self._lock:
                self._credentials[(acct.id, arn)] = Credentials(profile is not None, len(keys))
        return {a: self._credentials[(acct.id, a)] for a in users}

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
        return self._organization().structure

    def organization_id(self) -> str | None:
        """The organization's id (`o-...`), when the hub is in one."""
        return self._organization().org_id

    def management_account(self) -> str | None:
        """The organization's management account, as DescribeOrganization names it to any
        member (a hub that may not list the organization still knows it)."""
        return self._organization().management

    def _organization(self) -> OrganizationFound:
        with self._lock:
            if self._found is None:
                account = self._account or self.clients.hub("sts").get_caller_identity()["Account"]
                self._found = collect_structure(self.clients.hub("organizations"), account)
            return self._found

    def identity_center(
        self,
        instance: str | None = None,
        region: str | None = None,
        declared_groups: set[str] = frozenset(),  # type: ignore[assignment]
        accounts: int = 0,
    ) -> IdentityCenterRead | None:
        """Identity Center's permission sets and identity store, read once by the caller
        (the hub must be the management account or Identity Center's delegated
        administrator); None when no region the hub can call has an instance. Without
        `region`, the hub's region is asked first, then every other region of its
        partition (a region the hub may not call is skipped and named in `notes`).
        `accounts`: how many accounts will be judged (what the cheapest reads depend on)."""
        management = self.management_account() if instance is None else None

        def read(where: str) -> IdentityCenterRead | None:
            return read_identity_center(
                self.clients.hub("sso-admin", where),
                self.clients.hub("identitystore", where),
                instance,
                management,
                declared_groups,
                accounts,
                self.account(),
            )

        found = read(region or self.clients.region)
        if found is None and region is None:
            elsewhere = self._instance_region(instance, management)
            found = read(elsewhere) if elsewhere else None
            if found is not None:
                found.region = elsewhere
        elif found is not None:
            found.region = region
        return found

    def _instance_region(self, instance: str | None, management: str | None) -> str | None:
        """The first region of the hub's partition, other than its own, whose ListInstances
        gives the instance to judge."""
        home = self.clients.region
        partition = self.clients.core.get_partition_for_region(home)
        others = [
            r for r in self.clients.core.get_available_regions("sso-admin", partition) if r != home
        ]

        def ask(region: str) -> tuple[str, bool | str]:
            try:
                sso = self.clients.hub("sso-admin", region)
                return region, find_instance(sso, instance, management) is not None
            except ClientError as exc:
                if exc.response["Error"]["Code"] in REGION_REFUSED:
                    return region, aws_error_text(exc)  # opt-in region not enabled, or an SCP
                raise

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, others))
        skipped = [f"{r} ({why})" for r, why in answers if isinstance(why, str)]
        if skipped:
            self.notes.append(
                "Identity Center: regions the hub may not call were skipped: "
                + "; ".join(skipped)
                + ". If the instance is in one of them, name it with `region:` in "
                "identity_center.yaml."
            )
        return next((r for r, found in answers if found is True), None)

    def assignments(self, ic: IdentityCenterRead, account: str) -> AccountAssignments:
        """Who Identity Center assigns what in one account (hub credentials, not the
        account's role: Identity Center answers for every account), and the members of
        the groups assigned there that this process meets first."""
        return read_account_assignments(
            self.clients.hub("sso-admin", ic.region),
            self.clients.hub("identitystore", ic.region),
            ic,
            account,
            self._memberships,
        )

    def group_members(self, ic: IdentityCenterRead, group: str) -> list[str]:
        """The user names of a group's members (none for a group not made yet)."""
        ids = {p: i for i, p in ic.principals.items()}
        if f"group:{group}" not in ids:
            return []
        users = {i: p.partition(":")[2] for i, p in ic.principals.items() if p[:5] == "user:"}
        store = self.clients.hub("identitystore", ic.region)
        return members_of(store, ic.store, ids[f"group:{group}"], users)


# Refusals that mean "this region is not for the hub": an opt-in region the account has not
# enabled (the credentials are unknown there), or an SCP denying the region.
REGION_REFUSED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AccessDeniedException",
    "AccessDenied",
}


def _unless_missing(call, default, *args, **kwargs):
    """What `call(...)` returns, or `default` where IAM answers NoSuchEntity (the only
    answer that means "none"; any other error is raised)."""
    try:
        return call(*args, **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
        return default


def _past(deadline: float, account: str):
    """A before-send hook that stops an account's reads once its time is up, retries included."""

    def check(**_kwargs) -> None:
        if time.monotonic() > deadline:
            raise AccountTimeout(account)

    return check
