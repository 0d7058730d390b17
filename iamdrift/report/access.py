"""`access who-can-reach TARGET` and `access reach PRINCIPAL`: a reviewer's questions,
answered from a stored run (no AWS call); Refused when a run or a target is unknown.

TARGET is a role ARN, an account (id or name: any of its roles), an OU path (`Root/Prod`:
any role of an account in it or below it), or `admin@ACCOUNT` (administrator of that
account, id or name).
"""

from __future__ import annotations

import json
from pathlib import Path

from iamdrift.access.edge import account_of
from iamdrift.access.reach import Chain, Reachability
from iamdrift.errors import Refused
from iamdrift.report.history import run_report
from iamdrift.report.results import RunReport


def _account(run: RunReport, text: str) -> str:
    by_name = {a.name: a.id for a in run.accounts}
    if text in by_name:
        return by_name[text]
    if text.isdigit() and len(text) == 12:
        return text
    known = ", ".join(sorted(by_name)) or "none"
    raise Refused(f"{text!r} is not an account id or a name of this run's accounts ({known})")


def _targets(run: RunReport, graph: Reachability, target: str) -> tuple[set[str], str]:
    """The graph nodes a TARGET names, and how to label it."""
    if target.startswith("admin@"):
        account = _account(run, target.split("@", 1)[1])
        return {f"admin@{account}"}, f"admin@{account}"
    if target.startswith("arn:"):
        return {target}, target
    if target == "Root" or target.startswith("Root/"):
        under = [a.id for a in run.accounts if a.ou and (a.ou + "/").startswith(target + "/")]
        if not any(a.ou for a in run.accounts):
            raise Refused(f"{target}: this run did not read the organization's OUs")
        if not under:
            raise Refused(f"{target}: no account of this run is in that OU or below it")
        return {n for n in graph.nodes() if account_of(n) in under and ":role/" in n}, target
    account = _account(run, target)
    return {n for n in graph.nodes() if account_of(n) == account and ":role/" in n}, account


def answer(
    question: str,
    subject: str,
    report_dir: str | Path,
    run_id: str | None = None,
    max_hops: int = 10,
) -> tuple[RunReport, list[Chain]]:
    """The chains that answer `question` (who-can-reach, reach) about `subject`.
    Raises Refused for an unknown run or target."""
    try:
        run = run_report(Path(report_dir), run_id)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    graph = Reachability(run.access, run.local_access, run.administrators)
    if question == "reach":
        return run, graph.reach(subject, max_hops)
    nodes, label = _targets(run, graph, subject)
    return run, graph.who_can_reach(nodes, label, max_hops)


def render(run: RunReport, question: str, subject: str, chains: list[Chain], as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {
                "run": run.run_id,
                "question": question,
                "subject": subject,
                "chains": [c.as_json() for c in chains],
            },
            indent=1,
        )
    head = f"run {run.run_id}: {question} {subject}: {len(chains)} answer(s)"
    if not run.access:
        head += " (this run has no access graph: access.yaml, and every account read)"
    return "\n".join([head, *(line for c in chains for line in c.lines())])
