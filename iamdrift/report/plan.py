"""A plan's judgement as people and scripts read it: the findings JSON with `plan` (what
was read, what it was judged against), the terminal's lines and a pull request comment."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from iamdrift.access.edge import AccessRow, Edge
from iamdrift.compare.accept import refusal
from iamdrift.compare.findings import Finding
from iamdrift.compare.policy import admitted
from iamdrift.report.results import RunReport
from iamdrift.report.table import e
from iamdrift.report.text import unified

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
    inside_gained: list[Edge] = []
    inside_lost: list[Edge] = []
    errors: dict[str, str] = {}  # what could not be judged: an account, the organization, access
    # The command that writes the plan's findings into the baselines.
    accept: str | None = None


class PlanReport(RunReport):
    """The run's findings schema for the predicted organization, plus `plan`."""

    plan: PlanSummary


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


def _chain(f: Finding) -> list[str]:
    """An access finding's way in: each hop of a rule's chain, or the edge's statements."""
    value: Any = f.actual if isinstance(f.actual, dict) else f.live
    if not isinstance(value, dict):
        return []
    if value.get("hops"):
        hops = value["hops"]
    elif value.get("path"):
        hops = [value]
    else:
        return []
    return [
        f"{c(h.get('principal'))} → {c(h.get('role'))}"
        + (f" ({e(h['kind'])})" if h.get("kind") else "")
        + "".join(f"<br>&nbsp;&nbsp;{e(why)}" for why in h.get("path") or [])
        for h in hops
    ]


def _folded(f: Finding, accept: str | None) -> str:
    """What a reviewer needs under a finding: whom a trust now admits, the chain that makes
    an access edge, the normalized diff (expected vs planned), how to accept it."""
    parts = []
    new = admitted(f.expected, f.actual) if f.aspect == "trust_policy" else []
    if new:
        parts.append("Would admit: " + ", ".join(c(p) for p in new))
    chain = _chain(f) if f.resource_type == "access" else []
    if chain:
        parts.append("Chain:<br>" + "<br>".join(chain))
    if f.expected is not None or f.actual is not None:
        diff = unified(f.expected, f.actual).replace("actual (live", "planned (after apply")
        parts.append(f"<pre>{e(diff)}</pre>")
    why = refusal(f)
    if why:
        parts.append(f"Cannot be accepted: {e(why)}")
    elif accept:
        parts.append(f"Accept it into the baselines: {c(accept)}")
    body = "\n\n".join(parts)
    return f"<details><summary>details</summary>\n\n{body}\n\n</details>\n"


def _findings(findings: list[Finding], accept: str | None) -> list[str]:
    return [f"- **{f.severity}** {c(f.id)}: {e(f.message)}\n{_folded(f, accept)}" for f in findings]


def markdown(report: PlanReport, code: int) -> str:
    """A pull request comment: what the change would cause, by account, each finding with its
    details folded under it, the risks it adds apart, the access it opens and closes; cut to
    GitHub's size at a block's end, with a note."""
    p = report.plan
    head = (
        "✅ keeps the organization matching its baselines"
        if code == 0
        else ("❌ would drift from the baselines, or cannot be judged")
    )
    blocks = [f"### iamdrift plan: {head}\n"]
    if p.basis:
        blocks.append(f"Accounts the change does not touch are judged as of run {c(p.basis)}.")
    listed = {a.id for a in report.accounts}
    blocks += [
        f"\n**Cannot be judged** ({e(k)}): {e(v)}" for k, v in p.errors.items() if k not in listed
    ]
    for a in report.accounts:
        mine = [f for f in report.findings if f.account == a.id]
        out = [f"\n#### Account {a.id} ({e(a.name)}): {a.status}"]
        if a.error:
            out.append(f"Cannot be judged: {e(a.error)}")
        out += _findings(mine, p.accept)
        out.append(f"<details><summary>{len(p.addresses.get(a.id, []))} change(s)</summary>\n")
        out += [f"- {c(x)}" for x in p.addresses.get(a.id, [])]
        out.append("\n</details>")
        blocks.append("\n".join(out))
    others = [f for f in report.findings if f.account not in listed]
    if others:
        blocks.append("\n".join(["\n#### Across the organization", *_findings(others, p.accept)]))
    if report.risks:
        risks = _findings(report.risks, None)
        blocks.append("\n".join([f"\n#### Risks this change adds ({len(risks)})", *risks]))
    if p.access_gained or p.access_lost:
        out = ["\n#### Access across accounts", "", "| | principal | role |", "|---|---|---|"]
        out += [f"| gained | {c(r.principal)} | {c(r.role)} |" for r in p.access_gained]
        out += [f"| lost | {c(r.principal)} | {c(r.role)} |" for r in p.access_lost]
        blocks.append("\n".join(out))
    if p.inside_gained or p.inside_lost:
        out = ["\n<details><summary>Access inside accounts</summary>\n"]
        out += [f"- gained: {c(x.principal)} → {c(x.target)} ({x.kind})" for x in p.inside_gained]
        out += [f"- lost: {c(x.principal)} → {c(x.target)} ({x.kind})" for x in p.inside_lost]
        out.append("\n</details>")
        blocks.append("\n".join(out))
    if p.existing:
        out = [
            f"\n<details><summary>{len(p.existing)} finding(s) already there before "
            "this change</summary>\n",
            *(f"- {c(f.id)}" for f in p.existing),
            "\n</details>",
        ]
        blocks.append("\n".join(out))
    note = "\n_Cut to fit a comment: the full list is in the plan's JSON and SARIF._\n"
    text = ""
    for block in blocks:
        if len(text) + len(block) + 1 > COMMENT_LIMIT - len(note):
            return text + note
        text += block + "\n"
    return text
