"""What reading one account leaves behind, and a part: the outcomes of a shard of accounts.

An account's collected state is dropped once it has been compared; what crosses to
the organization-wide steps (the access graph, the report) is this, small and typed.
A part file carries it between processes: `run --shard I/N` writes one, `merge`
reads them all and builds the run as a single process would have.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ValidationError

from iamdrift.access.projection import AccountProjection
from iamdrift.baselines.baseline import AccountBaseline, Baseline
from iamdrift.baselines.identity_center import IdentityCenterRead
from iamdrift.baselines.kinds import by_section
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.yamlio import write_atomic
from iamdrift.compare.findings import Finding
from iamdrift.errors import problem_text

Status = Literal["compliant", "drift", "error"]
PART_FORMAT = 1


def status_of(error: str | None, drift: bool) -> Status:
    """The one rule for an account's status: unread is an error, never a pass."""
    if error:
        return "error"
    return "drift" if drift else "compliant"


class AccountOutcome(BaseModel):
    """One account, read and compared: its drift findings (every kind), its risks, how many
    entities of each kind were compared, and its projection for the access graph."""

    id: str
    name: str
    error: str | None = None
    findings: list[Finding] = []
    risks: list[Finding] = []
    checked: dict[str, int] = {}
    projection: AccountProjection | None = None
    seconds: float = 0.0
    # Carried from an earlier run by an event run (audit/carried.py): when it was read.
    read_at: str | None = None

    @property
    def status(self) -> Status:
        return status_of(self.error, bool(self.findings))

    def of_kind(self, kind: str) -> list[Finding]:
        """The findings about one kind of entity (`roles`: resource_type `role`)."""
        name = by_section(kind).name
        return [f for f in self.findings if f.resource_type == name]


class OrganizationRead(BaseModel):
    """The organization as the hub read it: None when the hub may not read it (or there is
    none), `error` when reading failed."""

    hub_account: str | None = None
    structure: Structure | None = None
    error: str | None = None
    org_id: str | None = None  # decides aws:PrincipalOrgID for the organization's principals
    # As DescribeOrganization names it, to any member: inside the organization even when the
    # hub may not list it.
    management: str | None = None
    ids: dict[str, str] = {}  # Organizations' ids of root, OUs and SCPs: what plans name
    identity_center: IdentityCenterRead | None = None  # when identity_center.yaml exists
    identity_center_error: str | None = None
    # Carried by an event run no change of the organization set off: when it was read.
    read_at: str | None = None


class Part(BaseModel):
    """The outcomes of one shard's accounts, and the organization as that shard read it."""

    format: Literal[1] = PART_FORMAT
    shard: str = "1/1"
    baselines: str  # digest of the baselines the shard was checked against
    started: str
    organization: OrganizationRead = OrganizationRead()
    accounts: list[AccountOutcome] = []
    # The `--entity` patterns the run was narrowed to: its outcomes hold only those
    # entities' findings, so they stand for no account whole.
    selection: list[str] = []


def write_part(path: Path, part: Part) -> None:
    """Gzipped JSON: a thousand accounts' outcomes are a few MB as text."""
    write_atomic(path, gzip.compress(part.model_dump_json().encode(), compresslevel=6))


def read_part(path: Path) -> Part:
    """Raises ValueError with the file's name for anything that is not a part."""
    try:
        raw = gzip.decompress(path.read_bytes())
        return Part.model_validate_json(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: not a readable iamdrift part file ({exc})") from None
    except ValidationError as exc:
        raise ValueError(f"{path}: not an iamdrift part file: {problem_text(exc)}") from None


def in_shard(account: str, index: int, count: int) -> bool:
    """Does `account` belong to shard `index` of `count` (1-based)? Stable as accounts are
    added or removed: a hash of the id, not a position in a list.

    >>> sorted(sum(in_shard(f"{n:012d}", i, 3) for i in (1, 2, 3)) for n in range(50)) == [1] * 50
    True
    """
    digest = hashlib.sha256(account.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`2/8` -> (2, 8); raises ValueError for anything else.

    >>> parse_shard("2/8")
    (2, 8)
    """
    if not text:
        return None
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"expected --shard I/N with 1 <= I <= N, got {text!r}")
    return int(index), int(count)


def select(
    baseline: Baseline, ids: list[str] | None, shard: tuple[int, int] | None
) -> list[AccountBaseline]:
    """The accounts a run checks: those named (all when None), of one shard when given.
    Raises BaselineError for an id without a baseline."""
    accounts = baseline.select(ids)
    return [a for a in accounts if in_shard(a.id, *shard)] if shard else accounts


def baselines_digest(files: list[Path]) -> str:
    """One digest over every baseline file's name and bytes, so a merge can tell that its
    parts were checked against the same baselines."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class OutcomeSource(Protocol):
    """Where accounts' outcomes come from: read now (the auditor) or from part files."""

    def start(self, accounts: Iterable[AccountBaseline]) -> None: ...
    def outcome(
        self, acct: AccountBaseline, on_wait: Callable[[], None] | None = None
    ) -> AccountOutcome: ...
    def organization(self) -> OrganizationRead: ...
    def organization_read(self) -> OrganizationRead | None:
        """The organization if it has been read already (no call made)."""
        ...

    def close(self) -> None: ...


class PartsSource:
    """Outcomes from part files, as `merge` builds a run from its shards."""

    def __init__(self, parts: list[Part]):
        self.outcomes: dict[str, AccountOutcome] = {}
        for part in parts:
            for outcome in part.accounts:
                self.outcomes.setdefault(outcome.id, outcome)
        reads = [p.organization for p in parts if p.organization.error is None]
        self.org = reads[0] if reads else (parts[0].organization if parts else OrganizationRead())

    def start(self, accounts: Iterable[AccountBaseline]) -> None:
        pass

    def outcome(
        self, acct: AccountBaseline, on_wait: Callable[[], None] | None = None
    ) -> AccountOutcome:
        return self.outcomes.get(acct.id) or AccountOutcome(
            id=acct.id, name=acct.name, error=f"account {acct.id}: no part file holds it"
        )

    def organization(self) -> OrganizationRead:
        return self.org

    def organization_read(self) -> OrganizationRead | None:
        return self.org

    def close(self) -> None:
        pass
