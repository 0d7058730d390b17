"""`iamdrift plan FILE...`: what a Terraform plan or CloudFormation change set would do to
the organization's baselines and access, before it is applied.

Exit 0 when the change keeps the organization matching its baselines, 1 when it would
drift or cannot be judged (an account unreadable, a value known only after apply), 2 for
bad input.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel

from iamdrift.access.graph import AccessRow
from iamdrift.access.projection import LocalEdge
from iamdrift.audit.auditor import Auditor
from iamdrift.audit.predict import predict, stored_part
from iamdrift.baselines.baseline import Baseline
from iamdrift.baselines.load import load_baselines
from iamdrift.changes.read import read_changes
from iamdrift.compare.findings import Finding
from iamdrift.compare.waivers import apply_waivers
from iamdrift.report import history
from iamdrift.report.results import AccountSummary, RunReport
from iamdrift.report.table import e

COMMENT_LIMIT = 65_000  # GitHub refuses a comment over 65,536 characters


class PlanSummary(BaseModel):
    """`plan` of the plan's findings JSON: what was read, and what it was judged against."""

    files: list[str]
    addresses: dict[str, list[str]]  # account -> the plan's resource addresses there
    ignored: dict[str, int]  # resource types counted and left alone
    basis: str | None = None  # the run the untouched accounts come from, and its time
    existing: list[Finding] = []  # drift before the change, still there after
    resolved: list[Finding] = []  # drift the change would end
    access_gained: list[AccessRow] = []
    access_lost: list[AccessRow] = []
    inside_gained: list[LocalEdge] = []
    inside_lost: list[LocalEdge] = []
    errors: dict[str, str] = {}  # what could not be judged: an account, the organization, access


class PlanReport(RunReport):
    """The run's findings schema for the predicted organization, plus `plan`."""

    plan: PlanSummary


def parse_providers(values: list[str]) -> dict[str, str]:
    """`aws.prod=222222222222` -> {"aws.prod": "222222222222"}; ValueError otherwise."""
    out = {}
    for value in values:
        alias, _, account = value.partition("=")
        if not alias or not (account.isdigit() and len(account) == 12):
            raise ValueError(f"expected --provider ALIAS=ACCOUNT_ID, got {value!r}")
        out[alias] = account
    return out


def run_plan(
    files: list[str], baselines: str, report_dir: str, providers: dict[str, str],
    account: str | None, concurrency: int = 8,
) -> tuple[PlanReport, int, Baseline]:  # fmt: skip
    """Read the files, predict, judge. Raises PlanError (bad input) or BaselineError."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    changes, ignored = read_changes(files, providers, account)
    # Only the touched accounts' files are parsed whole; the others by their header.
    baseline = load_baselines(baselines, only=set(changes))
    run_dir = history.latest_complete(Path(report_dir))
    part, basis = stored_part(run_dir.parent if run_dir else None)
    auditor = Auditor(baseline, workers=concurrency)
    try:
        prediction = predict(baseline, changes, auditor, part)
    finally:
        auditor.close()
    failing, waived = apply_waivers(prediction.new, baseline.waivers, date.today())
    summaries = [
        AccountSummary(
            id=a, name=baseline.accounts[a].name if a in baseline.accounts else a,
            status="error" if a in prediction.errors else (
                "drift" if any(f.account == a for f in failing) else "compliant"),
            error=prediction.errors.get(a),
            findings=sum(f.account == a for f in failing),
        )
        for a in sorted({*prediction.after, *prediction.errors} & set(baseline.accounts))
    ]  # fmt: skip
    judged = prediction.access_after
    report = PlanReport(
        run_id=f"plan-{started.replace(':', '').replace('-', '')[:15]}Z",
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        accounts=summaries,
        findings=failing,
        waived=waived,
        risks=prediction.risks_added,
        access=judged.rows if judged else [],
        rules=judged.rules if judged else [],
        plan=PlanSummary(
            files=[str(f) for f in files],
            addresses={a: c.addresses for a, c in sorted(changes.items())},
            ignored=dict(sorted(ignored.items())),
            basis=f"{basis.run_id} ({basis.started})" if basis else None,
            existing=prediction.existing,
            resolved=prediction.resolved,
            access_gained=prediction.gained,
            access_lost=prediction.lost,
            inside_gained=prediction.gained_inside,
            inside_lost=prediction.lost_inside,
            errors=prediction.errors,
        ),
    )
    code = 1 if failing or prediction.errors else 0
    return report, code, baseline


def terminal(report: PlanReport, code: int) -> list[str]:
    p = report.plan
    addresses = sum(len(v) for v in p.addresses.values())
    lines = [
        f"plan: {addresses} IAM change(s) in {len(p.addresses)} account(s)"
        + (f"; {sum(p.ignored.values())} other resource(s) left alone" if p.ignored else ""),
        f"untouched accounts as of run {p.basis}"
        if p.basis
        else "no earlier run: every account read",
    ]
    lines += [f"{what}: cannot be judged: {why}" for what, why in p.errors.items()]
    lines += [f"would cause: {f.id}: {f.message}" for f in report.findings]
    lines += [f"waived: {f.id}" for f in report.waived]
    lines += [f"risk added: {f.id}: {f.message}" for f in report.risks]
    lines += [f"access gained: {r.principal} -> {r.role}" for r in p.access_gained]
    lines += [f"access lost: {r.principal} -> {r.role}" for r in p.access_lost]
    lines += [f"inside gained: {x.principal} -> {x.target} ({x.kind})" for x in p.inside_gained]
    lines += [f"inside lost: {x.principal} -> {x.target} ({x.kind})" for x in p.inside_lost]
    if p.existing:
        lines.append(
            f"{len(p.existing)} finding(s) already there before this change (not its doing)"
        )
    if p.resolved:
        lines.append(f"{len(p.resolved)} finding(s) this change would resolve")
    verdict = {
        0: "keeps the organization matching its baselines",
        1: "would drift, or cannot be judged",
    }
    lines.append(f"verdict: the change {verdict[code]} (exit {code})")
    return lines


def c(value: object) -> str:
    """A value from a plan, AWS or a baseline as code in a comment: escaped, since GitHub
    renders HTML in Markdown and a for_each key in an address can hold anything."""
    return f"<code>{e(value)}</code>"


def markdown(report: PlanReport, code: int) -> str:
    """A pull request comment: what the change would cause, by account, the access it opens
    and closes, details folded; cut to GitHub's size with a note."""
    p = report.plan
    head = "✅ keeps the organization matching its baselines" if code == 0 else (
        "❌ would drift from the baselines, or cannot be judged")  # fmt: skip
    out = [f"### iamdrift plan: {head}", ""]
    if p.basis:
        out.append(f"Accounts the change does not touch are judged as of run {c(p.basis)}.")
    listed = {a.id for a in report.accounts}
    out += [
        f"\n**Cannot be judged** ({e(k)}): {e(v)}" for k, v in p.errors.items() if k not in listed
    ]
    for a in report.accounts:
        mine = [f for f in report.findings if f.account == a.id]
        out += ["", f"#### Account {a.id} ({e(a.name)}): {a.status}"]
        if a.error:
            out.append(f"Cannot be judged: {e(a.error)}")
        out += [f"- **{f.severity}** {c(f.id)}: {e(f.message)}" for f in mine]
        out.append(f"<details><summary>{len(p.addresses.get(a.id, []))} change(s)</summary>\n")
        out += [f"- {c(x)}" for x in p.addresses.get(a.id, [])]
        out.append("\n</details>")
    others = [f for f in report.findings if f.account not in {a.id for a in report.accounts}]
    if others:
        out += ["", "#### Across the organization"]
        out += [f"- **{f.severity}** {c(f.id)}: {e(f.message)}" for f in others]
    if p.access_gained or p.access_lost:
        out += ["", "#### Access across accounts", "", "| | principal | role |", "|---|---|---|"]
        out += [f"| gained | {c(r.principal)} | {c(r.role)} |" for r in p.access_gained]
        out += [f"| lost | {c(r.principal)} | {c(r.role)} |" for r in p.access_lost]
    if p.inside_gained or p.inside_lost:
        out += ["", "<details><summary>Access inside accounts</summary>\n"]
        out += [f"- gained: {c(x.principal)} → {c(x.target)} ({x.kind})" for x in p.inside_gained]
        out += [f"- lost: {c(x.principal)} → {c(x.target)} ({x.kind})" for x in p.inside_lost]
        out.append("\n</details>")
    if report.risks:
        out += ["", f"<details><summary>{len(report.risks)} risk(s) added</summary>\n"]
        out += [f"- {c(f.id)}: {e(f.message)}" for f in report.risks]
        out.append("\n</details>")
    if p.existing:
        out += ["", f"<details><summary>{len(p.existing)} finding(s) already there before "
                "this change</summary>\n"]  # fmt: skip
        out += [f"- {c(f.id)}" for f in p.existing]
        out.append("\n</details>")
    text = "\n".join(out) + "\n"
    if len(text) > COMMENT_LIMIT:
        note = "\n\n_Cut to fit a comment: the full list is in the plan's JSON and SARIF._\n"
        text = text[: COMMENT_LIMIT - len(note)].rsplit("\n", 1)[0] + note
    return text


def main_plan(args) -> int:
    """The command: outputs, and --accept. Bad input is one line and exit 2."""
    import sys

    from iamdrift.baselines.yamlio import write_atomic
    from iamdrift.changes.references import PlanError

    try:
        providers = parse_providers(args.provider)
        report, code, baseline = run_plan(
            args.files, args.baselines, args.report_dir, providers, args.account, args.concurrency
        )
    except (PlanError, ValueError) as exc:
        print(f"invalid plan: {exc}", file=sys.stderr)
        return 2
    print("\n".join(terminal(report, code)))
    if args.markdown:
        write_atomic(Path(args.markdown), markdown(report, code))
    if args.json_path:
        report.write(args.json_path)
    if args.sarif:
        from iamdrift.report.sarif import sarif_log

        write_atomic(Path(args.sarif), json.dumps(sarif_log(report, baseline), indent=1) + "\n")
    if args.accept:
        from iamdrift.cli.accept import Refused, accept_findings

        try:
            written = accept_findings(baseline, [*report.findings, *report.waived])
        except Refused as exc:
            print(f"nothing accepted:\n{exc}", file=sys.stderr)
            return 2
        for finding_id, path in written:
            print(f"accepted {finding_id} into {path}")
    return code
