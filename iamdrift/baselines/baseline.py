"""A loaded baseline: what each account should hold (kept packed), and the organization's
files beside it; the names of those files."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.identity_center import IdentityCenterFile
from iamdrift.baselines.models import (
    AccountState,
    IgnoreRules,
    OrganizationFile,
)
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.waivers import Waiver
from iamdrift.errors import BaselineError, Problem

ORGANIZATION_FILE = "organization.yaml"
ACCESS_FILE = "access.yaml"
ACCOUNTS_DIR = "accounts"
STRUCTURE_FILE = "structure.yaml"
WAIVERS_FILE = "waivers.yaml"
IDENTITY_CENTER_FILE = "identity_center.yaml"
# The files of the organization, by the name the findings registry gives them.
FILES = {
    "structure": STRUCTURE_FILE,
    "access": ACCESS_FILE,
    "organization": ORGANIZATION_FILE,
    "identity_center": IDENTITY_CENTER_FILE,
}


@dataclass
class AccountBaseline:
    """Everything needed to check one account.

    The expected state is kept packed (compressed JSON, a few KB) and unpacked when the
    account is compared, so a thousand accounts' baselines do not hold a GB of models.
    """

    id: str
    name: str
    file: str
    packed: bytes
    read_via: str
    external_id: str | None
    session_name: str
    ignore: IgnoreRules
    is_management: bool = False
    read_via_declared: bool = False  # the account's own file names its read_via role
    header_only: bool = False  # loaded by its id and name alone (see load_baselines `only`)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})"

    @staticmethod
    def pack(state: AccountState) -> bytes:
        return zlib.compress(state.model_dump_json(exclude_defaults=True).encode(), 6)

    @property
    def expected(self) -> AccountState:
        """A fresh copy on each use; callers keep it only while they compare."""
        if self.header_only:
            raise RuntimeError(f"account {self.label} was loaded by its header only")
        return AccountState.model_validate_json(zlib.decompress(self.packed))

    def role_arn(self) -> str:
        if self.read_via.startswith("arn:"):
            return self.read_via
        return f"arn:aws:iam::{self.id}:role/{self.read_via}"


@dataclass
class Baseline:
    directory: Path
    organization: OrganizationFile | None
    accounts: dict[str, AccountBaseline] = field(default_factory=dict)
    access: AccessFile | None = None  # access.yaml: expected cross-account edges
    structure: Structure | None = None  # structure.yaml: members, OUs, SCPs
    waivers: list[Waiver] = field(default_factory=list)  # waivers.yaml
    identity_center: IdentityCenterFile | None = None  # identity_center.yaml

    def select(self, ids: list[str] | None) -> list[AccountBaseline]:
        """Accounts in id order, limited to `ids` when given (unknown ids are an error)."""
        if not ids:
            return [self.accounts[k] for k in sorted(self.accounts)]
        unknown = [i for i in ids if i not in self.accounts]
        if unknown:
            raise BaselineError(
                [
                    Problem(
                        str(self.directory),
                        0,
                        "--accounts",
                        f"no baseline for account(s) {', '.join(unknown)}",
                    )
                ]
            )
        return [self.accounts[k] for k in sorted(set(ids))]

    @property
    def management_account(self) -> str | None:
        return self.organization.management_account if self.organization else None

    @property
    def anchor(self) -> str:
        """The account the checks over the whole organization are reported on: the
        management account when it is audited, else the first audited account."""
        management = self.management_account
        return management if management in self.accounts else min(self.accounts)
