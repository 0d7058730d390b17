"""An event run's outcomes: the accounts a change touched read now, every other account as
the latest run left it (with the time it was read); the organization read now when a change
touched it (Organizations, Identity Center), else carried too. What a full run would give
for the accounts read, and the organization whole for the reduce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from iamdrift.audit.auditor import Auditor
from iamdrift.audit.outcome import AccountOutcome, OrganizationRead, Part
from iamdrift.baselines.baseline import AccountBaseline


class CarriedSource:
    """`fresh` read through the auditor; the rest from `carried`, the latest run's part. An
    account the part lacks or could not read is read now too: an error is never carried.

    `organization`: whether the events touched the organization (its structure, SCPs,
    Identity Center). When they did not, and the part holds a good read of it, that read is
    carried: IAM calls in an account change nothing the organization's read holds."""

    def __init__(
        self, auditor: Auditor, carried: Part, fresh: Iterable[str], organization: bool = True
    ):
        self.auditor = auditor
        self.fresh = set(fresh)
        self.carried = {o.id: o for o in carried.accounts if o.error is None}
        self.started = carried.started
        org = carried.organization
        if not (organization or org.error or org.identity_center_error):
            auditor.carry_organization(
                org.model_copy(update={"read_at": org.read_at or carried.started})
            )

    def reads(self, acct: AccountBaseline) -> bool:
        return acct.id in self.fresh or acct.id not in self.carried

    def start(self, accounts: Iterable[AccountBaseline]) -> None:
        self.auditor.start([a for a in accounts if self.reads(a)])

    def outcome(
        self, acct: AccountBaseline, on_wait: Callable[[], None] | None = None
    ) -> AccountOutcome:
        if self.reads(acct):
            return self.auditor.outcome(acct, on_wait)
        return self.held(acct.id)

    def held(self, account: str) -> AccountOutcome:
        """A carried account's outcome, with when it was read."""
        held = self.carried[account]
        return held.model_copy(update={"read_at": held.read_at or self.started})

    def organization(self) -> OrganizationRead:
        return self.auditor.organization()

    def organization_read(self) -> OrganizationRead | None:
        return self.auditor.organization_read()

    @property
    def read_span(self) -> tuple[float, float] | None:
        return self.auditor.read_span

    def close(self) -> None:
        self.auditor.close()
