"""An event run's source: the accounts its events touched read now, the rest carried; the
organization read again only when an event touched it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from iamdrift.audit.auditor import Auditor
from iamdrift.audit.carried import CarriedSource
from iamdrift.audit.outcome import AccountOutcome, OrganizationRead, Part
from iamdrift.baselines.baseline import Baseline

STARTED = "2026-12-01T02:00:00+00:00"


class Unreachable:
    """A hub that records being asked: reading the organization anew."""

    def __init__(self, asked: list[str]):
        self.asked = asked

    def account(self) -> str:
        self.asked.append("account")
        raise RuntimeError("the organization was read again")


def _source(org: OrganizationRead, touched: bool, asked: list[str]) -> CarriedSource:
    part = Part(
        baselines="x",
        started=STARTED,
        organization=org,
        accounts=[
            AccountOutcome(id="111111111111", name="a"),
            AccountOutcome(id="222222222222", name="b", read_at="2026-11-30T02:00:00+00:00"),
            AccountOutcome(id="333333333333", name="c", error="AccessDenied"),
        ],
    )
    auditor = Auditor(Baseline(Path("."), None), hub_factory=lambda: Unreachable(asked))
    return CarriedSource(auditor, part, ["111111111111"], organization=touched)


GOOD = OrganizationRead(hub_account="123456789012", org_id="o-1")


@pytest.mark.parametrize(
    "org, touched, read_again",
    [
        (GOOD, False, False),  # IAM events only: the latest run's read stands
        (GOOD, True, True),  # an Organizations or Identity Center event: read again
        (OrganizationRead(error="AccessDenied"), False, True),  # an error is never carried
        (GOOD.model_copy(update={"identity_center_error": "throttled"}), False, True),
    ],
)
def test_the_organization_is_carried_only_when_no_event_touched_it(org, touched, read_again):
    asked: list[str] = []
    source = _source(org, touched, asked)
    got = source.organization()
    assert bool(asked) is read_again
    if read_again:
        assert got.error == "the organization was read again"
    else:
        assert got.org_id == "o-1" and got.read_at == STARTED


def test_which_accounts_are_read_and_how_old_the_carried_ones_are():
    source = _source(GOOD, False, [])
    ids = ("111111111111", "222222222222", "333333333333")
    reads = {a: source.reads(SimpleNamespace(id=a)) for a in ids}  # only its id is asked
    # The touched account, and the one the latest run could not read, are read now.
    assert reads == {"111111111111": True, "222222222222": False, "333333333333": True}
    assert source.held("222222222222").read_at == "2026-11-30T02:00:00+00:00"  # its own time
