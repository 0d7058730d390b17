"""The pytest plugin: baselines become tests, one per account and kind of check.

Tests are generated from the baselines alone (no AWS call at collection):
`test_roles_match_baseline[222222222222]` compares every role of that account,
declared or live. Each account is read once per process (all at once, bounded), and
its tests share what was found. An account that cannot be read makes its tests
error, never pass. The logic lives in the library; this maps tests to it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from iamdrift.aws import redact
from iamdrift.baselines.kinds import ENTITY_KINDS
from iamdrift.compare.findings import Finding
from iamdrift.plugin.collection import Collection
from iamdrift.plugin.html import HtmlReport
from iamdrift.plugin.outputs import Outputs
from iamdrift.plugin.recording import Recorder
from iamdrift.plugin.session import FRAGMENT, RESULT, Preloaded, Session
from iamdrift.plugin.targets import CHECKS, Target
from iamdrift.plugin.whole import SUBJECTS, record
from iamdrift.plugin.xdist import Distributed
from iamdrift.report.text import failure_text, waived_text


@dataclass
class Check:
    """The findings one test is about; `assert_matches_baseline` fails with all of them."""

    target: Target
    subject: str
    findings: list[Finding]
    waived: list[Finding] = field(default_factory=list)

    def assert_matches_baseline(self) -> None:
        if self.findings:
            pytest.fail(failure_text(self.subject, self.findings), pytrace=False)
        if self.waived:  # known drift under an unexpired waiver: an expected failure
            pytest.xfail(waived_text(self.waived))


class RiskWarning(UserWarning):
    """A risky access path: reported, but not failing the run unless access.yaml says so."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iamdrift", "iamdrift drift checks")
    group.addoption(
        "--baselines",
        default=os.environ.get("IAMDRIFT_BASELINES", "baselines"),
        help="directory of baselines (default: baselines)",
    )
    group.addoption(
        "--accounts", default=None, help="check only these account ids (comma-separated)"
    )
    group.addoption(
        "--entity",
        action="append",
        default=[],
        metavar="GLOB",
        help="check only these entities: NAME, KIND/NAME or ACCOUNT/KIND/NAME, globs allowed "
        "(repeatable)",
    )
    group.addoption(
        "--iamdrift-json", default=None, metavar="FILE", help="write the findings JSON here"
    )
    group.addoption(
        "--iamdrift-previous",
        default=None,
        metavar="FILE",
        help="the previous run's findings JSON, to mark findings new or resolved",
    )
    group.addoption("--iamdrift-run-id", default=None, help="the run's id, recorded in the JSON")
    group.addoption(
        "--iamdrift-concurrency",
        type=int,
        default=8,
        metavar="N",
        help="accounts read at once (default 8)",
    )
    group.addoption(
        "--account-timeout",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="an account not read completely within this time is an error (default 180)",
    )
    group.addoption(
        "--iamdrift-parts",
        action="append",
        default=[],
        metavar="FILE",
        help="check the outcomes in these part files instead of reading AWS (merge)",
    )
    group.addoption(
        "--iamdrift-part-out",
        default=None,
        metavar="FILE",
        help="write this process's outcomes as a part file (run --shard)",
    )
    group.addoption(
        "--shard", default=None, metavar="I/N", help="check only shard I of N of the accounts"
    )
    group.addoption(
        "--iamdrift-fresh",
        default=None,
        metavar="IDS",
        help="with --iamdrift-parts: read these accounts (comma-separated) and the "
        "organization now, the others as the parts hold them (an event run)",
    )
    group.addoption(
        "--iamdrift-events",
        default=None,
        metavar="FILE",
        help="the batch of CloudTrail events that set off this run (JSON, from watch), "
        "attached to the findings they explain",
    )


def pytest_configure(config: pytest.Config) -> None:
    redact.install()  # before anything logs: pytest keeps captured logs for the report
    # Known without pytest-xdist too, which a run loads only when asked for workers.
    config.addinivalue_line("markers", "xdist_group(name): the worker group of an account")
    pm = config.pluginmanager
    if pm.has_plugin("iamdrift-session"):
        return
    # The command line hands over the baselines it loaded and the reads it started.
    given = next((p for p in pm.get_plugins() if isinstance(p, Preloaded)), Preloaded())
    session = given.session = Session(config, given.baseline, given.source, given.carried)
    pm.register(session, "iamdrift-session")
    pm.register(Collection(session), "iamdrift-collection")
    pm.register(Recorder(session), "iamdrift-recorder")
    pm.register(Distributed(session), "iamdrift-xdist")
    pm.register(Outputs(session), "iamdrift-outputs")
    if pm.hasplugin("html"):
        pm.register(HtmlReport(session.report), "iamdrift-html")


def session_of(config: pytest.Config) -> Session:
    return config.pluginmanager.get_plugin("iamdrift-session")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for check in CHECKS:
        if check in metafunc.fixturenames:
            session = session_of(metafunc.config)
            metafunc.parametrize(
                check,
                [
                    pytest.param(t, id=t.account, marks=pytest.mark.xdist_group(t.group))
                    for t in session.targets(check)
                ],
                indirect=True,
            )


def _check(request: pytest.FixtureRequest, findings: list[Finding], subject: str) -> Check:
    failing, waived = session_of(request.config).judge(findings)
    result = request.node.stash[RESULT]
    result.findings, result.waived = failing, [*result.waived, *waived]
    return Check(request.param, subject, failing, waived)


def _account_check(request: pytest.FixtureRequest, check: str, subject: str) -> Check:
    """One account's check: its findings fail the test, its risks warn (unless access.yaml
    says they fail), known drift under a waiver is an expected failure."""
    session = session_of(request.config)
    acct, outcome = session.account_outcome(request)
    found = session.account_check(check, outcome)
    result = request.node.stash[RESULT]
    result.findings, result.risks, result.waived = found.findings, found.risks, found.waived
    for f in found.risks:
        warnings.warn(RiskWarning(f"[{f.severity}] {f.id}: {f.message}"), stacklevel=1)
    # A waived risk is a warning not given, not an expected failure.
    waived = [] if check == "risks" and not session.risks_fail else found.waived
    return Check(request.param, subject.format(acct.label), found.findings, waived)


def _kind_fixture(kind: str):
    @pytest.fixture(name=kind)
    def fixture(request: pytest.FixtureRequest) -> Check:
        return _account_check(request, kind, f"the {kind} of account {{}}")

    fixture.__doc__ = f"The {kind} of one account: declared and live (parametrized per account)."
    return fixture


users, groups, roles, policies = (_kind_fixture(k.check) for k in ENTITY_KINDS)


@pytest.fixture
def risks(request: pytest.FixtureRequest) -> Check:
    """Risky access in one account: warnings, or failures with `risks: fail` in access.yaml."""
    return _account_check(request, "risks", "access risks in account {}")


@pytest.fixture
def organization(request: pytest.FixtureRequest) -> Check:
    """Members, OUs and SCPs of the organization against the baselines."""
    session = session_of(request.config)
    acct = session.begin(request)
    findings, error = session.organization_findings()
    if error:
        _error(request, f"organization of {acct.label} could not be read: {error}")
    return _check(request, findings, f"the organization of {acct.label}")


def _whole(request: pytest.FixtureRequest, check: str) -> Check:
    """A check over every account, judged once all their outcomes are in."""
    session = session_of(request.config)
    session.begin(request)
    judged = session.judgement(check, session.wait_for_all())
    if judged.error:
        _error(request, judged.error, own=not judged.elsewhere)
    request.node.stash[FRAGMENT] = record(request.node.stash[RESULT], judged)
    return _check(request, judged.findings, SUBJECTS[check])


@pytest.fixture
def access(request: pytest.FixtureRequest) -> Check:
    """Who can assume which role across accounts, against access.yaml."""
    return _whole(request, "access")


@pytest.fixture
def identity_center(request: pytest.FixtureRequest) -> Check:
    """IAM Identity Center against identity_center.yaml: permission sets, group members, and
    in every account who is assigned which set and whether its role matches the set."""
    return _whole(request, "identity_center")


def _error(request: pytest.FixtureRequest, reason: str, own: bool = True) -> NoReturn:
    """Error the test (in setup, so pytest reports ERROR, never a pass).

    `own=False`: the cause is other accounts' error, already recorded on them.
    """
    result = request.node.stash[RESULT]
    if own:
        result.error = reason
    else:
        result.elsewhere = True
    pytest.fail(reason, pytrace=False)


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict, config: pytest.Config) -> None:
    """The report's Environment table: what was checked, not the Python packages.

    pytest-html renders these values as HTML, so they are escaped here.
    """
    import html

    if not config.getoption("iamdrift_json"):
        return  # the project's own test runs keep the usual table
    metadata.clear()
    metadata["Baselines"] = html.escape(str(config.getoption("baselines")))
    metadata["Accounts"] = html.escape(config.getoption("accounts") or "all with a baseline")
    metadata["Run"] = html.escape(str(config.getoption("iamdrift_run_id")))
