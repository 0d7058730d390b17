"""pytest glue: options, parametrization from baselines, per-account fixtures, reports.

Tests are generated from the baselines alone (no AWS call at collection). Each
account is read once per process, all accounts concurrently; its tests share
the findings. An account that cannot be read makes its tests error, never pass.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from iamdrift.access import OrgContext, arn_of, build_graph, diff_access, policy_bodies_needed
from iamdrift.audit import AccountResult, Auditor
from iamdrift.baseline import AccountBaseline, Baseline, load_baselines
from iamdrift.errors import BaselineError, aws_error_text
from iamdrift.findings import SEVERITY_ORDER, Finding, sort_findings
from iamdrift.html_report import access_matrix_html, badge, findings_html, summary_html
from iamdrift.models import ENTITY_KINDS
from iamdrift.organization import diff_membership
from iamdrift.orgstate import diff_structure, scp_levels
from iamdrift.progress import Progress
from iamdrift.render import failure_text
from iamdrift.results import RunResults
from iamdrift.risks import find_risks

_PLURAL = {v: k for k, v in ENTITY_KINDS.items()}  # user -> users
RECORD = pytest.StashKey[dict[str, Any]]()


@dataclass(frozen=True)
class Target:
    """What one test checks: an entity, a kind of entity, or an organization."""

    account: str
    kind: str
    name: str

    @property
    def id(self) -> str:
        return (
            f"{self.account}/{self.kind}/{self.name}"
            if self.name
            else f"{self.account}/{self.kind}"
        )


@dataclass
class Check:
    """The findings one test is about; `assert_matches_baseline` fails with all of them."""

    target: Target
    subject: str
    findings: list[Finding]

    def assert_matches_baseline(self) -> None:
        if self.findings:
            pytest.fail(failure_text(self.subject, self.findings), pytrace=False)


class IamDrift:
    """Per-session state: baselines, the auditor, and what the run found."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self._baseline: Baseline | None = None
        self.results = RunResults(run_id=config.getoption("iamdrift_run_id"))
        previous = config.getoption("iamdrift_previous")
        if previous and Path(previous).exists():
            self.results.previous = json.loads(Path(previous).read_text())
        self.auditor = Auditor(workers=config.getoption("iamdrift_concurrency"))
        self.is_worker = hasattr(config, "workerinput")
        self.html_extras = config.pluginmanager.hasplugin("html")
        self.terminal = None
        self._org: OrgContext | None = None

    @property
    def baseline(self) -> Baseline:
        if self._baseline is None:
            try:
                self._baseline = load_baselines(self.config.getoption("baselines"))
            except BaselineError as exc:
                pytest.exit(f"invalid baselines:\n{exc}", returncode=2)
        return self._baseline

    def selected(self) -> list[AccountBaseline]:
        raw = self.config.getoption("accounts")
        ids = [a.strip() for a in raw.split(",") if a.strip()] if raw else None
        try:
            return self.baseline.select(ids)
        except BaselineError as exc:
            pytest.exit(str(exc), returncode=2)

    def targets(self, fixture: str) -> list[Target]:
        out: list[Target] = []
        for acct in self.selected():
            if fixture == "unexpected":
                out += [Target(acct.id, kind, "") for kind in ENTITY_KINDS]
            elif fixture == "organization":
                org = self.baseline.organization
                if (
                    acct.is_management
                    and org
                    and (org.discover_accounts or self.baseline.structure)
                ):
                    out.append(Target(acct.id, "organization", ""))
            elif fixture == "risks":
                out.append(Target(acct.id, "risks", ""))
            elif fixture == "access":
                # The graph spans every account: only a run over all of them can judge it.
                whole = len(self.selected()) == len(self.baseline.accounts)
                first = acct.is_management or acct.id == min(self.baseline.accounts)
                if self.baseline.access and whole and first and not out:
                    out.append(Target(acct.id, "access", ""))
            else:
                out += [
                    Target(acct.id, fixture, n) for n in getattr(acct.expected, _PLURAL[fixture])
                ]
        return out

    def begin(self, request: pytest.FixtureRequest) -> AccountBaseline:
        """The account a test is about; what the test finds is recorded on it from here on."""
        acct = self.baseline.accounts[request.param.account]
        request.node.stash[RECORD] = {
            "account": acct.id,
            "name": acct.name,
            "findings": [],
            "error": None,
        }
        return acct

    def unreadable(self, request: pytest.FixtureRequest, reason: str, own: bool = True) -> NoReturn:
        """Error the test (in setup, so pytest reports ERROR, never a pass).

        `own=False`: the cause is other accounts' error, already recorded on them.
        """
        record = request.node.stash[RECORD]
        if own:
            record["error"] = reason
        else:
            record["elsewhere"] = True
        pytest.fail(reason, pytrace=False)

    def account_result(
        self, request: pytest.FixtureRequest
    ) -> tuple[AccountBaseline, AccountResult]:
        acct = self.begin(request)
        if self.auditor.progress is None:
            result = self.auditor.result(acct)
        else:
            result = self.auditor.result(acct, on_wait=self.show_progress)
            self.show_progress(waiting=False)
        if result.error:
            self.unreadable(request, str(result.error))
        return acct, result

    def org_context(self) -> OrgContext:
        """Members, management account and SCPs (read once; from the baselines if the hub
        may not read Organizations, in which case SCPs are unknown and assumed to allow)."""
        if self._org is None:
            structure = self.auditor.hub().structure() if self.baseline.management_account else None
            self._org = OrgContext(
                management=self.baseline.management_account,
                members=set(structure.accounts) if structure else set(self.baseline.accounts),
                scp_levels=scp_levels(structure) if structure else {},
            )
        return self._org

    def show_progress(self, waiting: bool = True) -> None:
        # Tests run with output captured; progress is for the person watching, so past it.
        if not self.auditor.progress.has_output(waiting):
            return
        capman = self.config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
            self.auditor.progress.render(self.terminal, waiting)

    def check(self, request: pytest.FixtureRequest, findings: list[Finding], subject: str) -> Check:
        request.node.stash[RECORD]["findings"] = [f.as_json() for f in findings]
        return Check(request.param, subject, findings)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start reading every account the selected tests need, before the first test runs."""
        params = [getattr(getattr(i, "callspec", None), "params", {}) for i in session.items]
        self.auditor.keep_state = any("access" in p or "risks" in p for p in params)
        if self.is_worker or session.config.option.collectonly:
            return  # each xdist worker reads only the accounts of the tests it is given
        needed = {t.account for p in params for t in p.values() if isinstance(t, Target)}
        if needed:
            tr = self.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                self.terminal = tr
                self.auditor.progress = Progress(
                    len(needed), tty=bool(tr.isatty()) and not os.environ.get("CI")
                )
            self.auditor.start(a for a in self.selected() if a.id in needed)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """A check with nothing to check (no roles declared, say) is left out, not skipped."""
        empty = [
            i
            for i in items
            if any(
                not isinstance(p, Target) and f in _FIXTURES
                for f, p in getattr(getattr(i, "callspec", None), "params", {}).items()
            )
        ]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        record = item.stash.get(RECORD, None)
        if record is not None:
            record = dict(record)
            if report.failed and not (
                record["error"] or record["findings"] or record.get("elsewhere")
            ):
                # A check that broke without a finding leaves the account unknown: an error.
                last = (report.longreprtext or "check failed").strip().splitlines()[-1]
                record["error"] = f"check {item.nodeid} could not complete: {last}"
            fragments = [record.pop("html", "")]
            report.iamdrift = record  # travels to the xdist controller with the report
            if record["findings"]:
                previous = self.results.previous
                ids = {f["id"] for f in previous["findings"]} if previous else None
                fragments.insert(0, findings_html(record["findings"], ids))
            if report.when == "call" and self.html_extras and any(fragments):
                extra = {
                    "name": "findings",
                    "format_type": "html",
                    "extension": "html",
                    "mime_type": None,
                    "content": "".join(fragments),
                }
                report.extras = [*getattr(report, "extras", []), extra]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "iamdrift", None)
        if record and not self.is_worker:
            self.results.record(
                record["account"],
                record["name"],
                record["findings"],
                record["error"],
                record.get("risks", []),
                record.get("access", []),
            )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.auditor.progress:
            self.show_progress(waiting=False)
        self.auditor.close()
        path = self.config.getoption("iamdrift_json")
        if path and not self.is_worker:
            self.results.write(path)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.results.accounts:
            return
        terminalreporter.section("iamdrift")
        for a in sorted(self.results.accounts.values(), key=lambda a: a.id):
            counts = self.results.severity_counts(a)
            detail = a.error or ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no drift"
            terminalreporter.write_line(f"{a.id} ({a.name}): {a.status}: {detail}")


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


def pytest_configure(config: pytest.Config) -> None:
    state = IamDrift(config)
    config.stash[_STATE] = state
    config.pluginmanager.register(state, "iamdrift-state")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlReport(state), "iamdrift-html")


_STATE = pytest.StashKey[IamDrift]()
_FIXTURES = ("user", "group", "role", "policy", "unexpected", "organization", "access", "risks")


def state_of(config: pytest.Config) -> IamDrift:
    return config.stash[_STATE]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture in _FIXTURES:
        if fixture in metafunc.fixturenames:
            targets = state_of(metafunc.config).targets(fixture)
            metafunc.parametrize(
                fixture,
                [
                    pytest.param(t, id=t.id, marks=pytest.mark.xdist_group(t.account))
                    for t in targets
                ],
                indirect=True,
            )


def _entity_check(request: pytest.FixtureRequest) -> Check:
    state = state_of(request.config)
    target: Target = request.param
    acct, result = state.account_result(request)
    mine = [
        f for f in result.findings if f.resource_type == target.kind and f.resource == target.name
    ]
    return state.check(request, mine, f"{target.kind} {target.name} in account {acct.label}")


def _entity_fixture(kind: str):
    @pytest.fixture(name=kind)
    def fixture(request: pytest.FixtureRequest) -> Check:
        return _entity_check(request)

    fixture.__doc__ = f"The findings of one {kind} of the baselines (parametrized per account)."
    return fixture


user, group, role, policy = (_entity_fixture(k) for k in ("user", "group", "role", "policy"))


@pytest.fixture
def unexpected(request: pytest.FixtureRequest) -> Check:
    state = state_of(request.config)
    target: Target = request.param
    acct, result = state.account_result(request)
    declared = getattr(acct.expected, target.kind)
    singular = ENTITY_KINDS[target.kind]
    mine = [
        f for f in result.findings if f.resource_type == singular and f.resource not in declared
    ]
    return state.check(request, mine, f"the set of {target.kind} in account {acct.label}")


@pytest.fixture
def organization(request: pytest.FixtureRequest) -> Check:
    state = state_of(request.config)
    acct = state.begin(request)
    try:
        live = state.auditor.hub().organization_accounts()
    except Exception as exc:
        live, reason = None, aws_error_text(exc)
    else:
        reason = "the hub credentials may not list the organization's accounts"
    if live is None:
        state.unreadable(request, f"organization of {acct.label} could not be read: {reason}")
    declared = {a.id: a.name for a in state.baseline.accounts.values()}
    findings = diff_membership(acct.id, declared, live)
    if state.baseline.structure is not None:
        try:
            structure = state.auditor.hub().structure()
        except Exception as exc:
            structure, reason = None, aws_error_text(exc)
        if structure is None:
            state.unreadable(
                request, f"organization structure of {acct.label} could not be read: {reason}"
            )
        findings = sort_findings(
            findings + diff_structure(acct.id, state.baseline.structure, structure)
        )
    return state.check(request, findings, f"the organization of {acct.label}")


class RiskWarning(UserWarning):
    """A risky access path: reported, but not failing the run unless access.yaml says so."""


@pytest.fixture
def risks(request: pytest.FixtureRequest) -> Check:
    state = state_of(request.config)
    acct, result = state.account_result(request)
    access = state.baseline.access
    try:
        org = state.org_context()
        bodies = state.auditor.hub().aws_policy_bodies(
            policy_bodies_needed({acct.id: result.state})
        )
    except Exception as exc:
        state.unreadable(
            request, f"risks of {acct.label} could not be judged: {aws_error_text(exc)}"
        )
    found = find_risks({acct.id: result.state}, org, access.third_parties if access else {}, bodies)
    if access and access.risks == "fail":
        return state.check(request, found, f"access risks in account {acct.label}")
    request.node.stash[RECORD]["risks"] = [f.as_json() for f in found]
    for f in found:
        warnings.warn(RiskWarning(f"[{f.severity}] {f.id}: {f.message}"), stacklevel=1)
    return state.check(request, [], f"access risks in account {acct.label}")


@pytest.fixture
def access(request: pytest.FixtureRequest) -> Check:
    state = state_of(request.config)
    state.begin(request)
    results = [state.auditor.result(a) for a in state.selected()]
    unread = [r.account.label for r in results if r.error]
    if unread:
        state.unreadable(
            request,
            "the access graph needs every account, and these could not be "
            f"read: {', '.join(unread)}",
            own=False,
        )
    states = {r.account.id: r.state for r in results}
    try:
        org = state.org_context()
        bodies = state.auditor.hub().aws_policy_bodies(policy_bodies_needed(states))
    except Exception as exc:
        state.unreadable(request, f"the access graph could not be built: {aws_error_text(exc)}")
    graph = build_graph(states, org, bodies)
    expected = state.baseline.access
    findings, rows = diff_access(expected, graph, org)
    risky = {
        arn_of(f.account, "role", states[f.account].roles[f.resource].path, f.resource)
        for f in find_risks(states, org, expected.third_parties, bodies)
        if f.resource_type == "role"
    }
    record = request.node.stash[RECORD]
    record["access"] = rows
    record["html"] = access_matrix_html(rows, risky)
    return state.check(request, findings, "cross-account access")


def _top_severity(findings: list[dict[str, Any]]) -> str:
    return min((f["severity"] for f in findings), key=SEVERITY_ORDER.__getitem__, default="")


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict, config: pytest.Config) -> None:
    """The report's Environment table: what was checked, not the Python packages.

    pytest-html renders these values as HTML, so they are escaped here.
    """
    if not config.getoption("iamdrift_json"):
        return  # the project's own test runs keep the usual table
    metadata.clear()
    metadata["Baselines"] = html.escape(str(config.getoption("baselines")))
    metadata["Accounts"] = html.escape(config.getoption("accounts") or "all with a baseline")
    metadata["Run"] = html.escape(str(config.getoption("iamdrift_run_id")))


class HtmlReport:
    """pytest-html hooks. pytest-html inserts cells raw, so every value is escaped here."""

    def __init__(self, state: IamDrift):
        self.state = state

    def pytest_html_report_title(self, report) -> None:
        report.title = "iamdrift: cross-account IAM drift report"

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
        cells.insert(3, "<th>Findings</th>")

    def pytest_html_results_table_row(self, report, cells: list[str]) -> None:
        test_id = report.nodeid + ("" if report.when == "call" else f"::{report.when}")
        cells[1] = f'<td class="col-testId">{html.escape(test_id)}</td>'
        record = getattr(report, "iamdrift", None) or {}
        findings = record.get("findings", [])
        severity = "error" if record.get("error") else _top_severity(findings)
        cells.insert(2, f'<td class="col-severity">{badge(severity) if severity else ""}</td>')
        ids = "<br>".join(html.escape(f"{f['severity']}: {f['id']}") for f in findings)
        cells.insert(3, f'<td class="col-findings">{ids}</td>')

    def pytest_html_results_summary(
        self, prefix: list[str], summary, postfix, session=None
    ) -> None:
        prefix.append(summary_html(self.state.results.as_json()))
