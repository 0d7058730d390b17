"""The organization compared with what is declared (pure): accounts that have no baseline
or left, accounts moved or renamed, SCPs created, deleted, changed, attached, detached.
"""

from __future__ import annotations

from iamdrift.baselines.structure import Structure
from iamdrift.compare.findings import Finding, Place, finding, sort_findings
from iamdrift.compare.meaning import equivalent
from iamdrift.compare.policy import normalize


def _org(management: str, kind: str, name: str) -> Place:
    return Place(management, kind, name, f"Organization of {management}")


def diff_membership(
    management: str, declared: dict[str, str], live: dict[str, str]
) -> list[Finding]:
    """Accounts in the organization without a baseline, and declared accounts not in it.

    >>> [f.id for f in diff_membership("111111111111", {"111111111111": "M"},
    ...                                {"111111111111": "M", "444444444444": "New"})]
    ['111111111111/account/444444444444/existence']
    """
    out = [
        finding(
            _org(management, "account", a),
            "existence",
            "unexpected",
            "high",
            f"({live[a]}) is a member but has no baseline, so nothing checks who can assume "
            "roles in it",
            actual={"id": a, "name": live[a]},
        )
        for a in sorted(live.keys() - declared.keys())
    ] + [
        finding(
            _org(management, "account", a),
            "existence",
            "missing",
            "medium",
            f"({declared[a]}) has a baseline but is not an active member of the organization",
            expected={"id": a, "name": declared[a]},
        )
        for a in sorted(declared.keys() - live.keys())
    ]
    return sort_findings(out)


def diff_structure(management: str, expected: Structure, actual: Structure) -> list[Finding]:
    """Accounts added, gone, renamed or moved; SCPs created, deleted, changed, (de)attached."""
    out: list[Finding] = []
    want_accts, have_accts = expected.accounts, actual.accounts
    for acct in sorted(want_accts.keys() | have_accts.keys()):
        w, h = want_accts.get(acct), have_accts.get(acct)
        where = _org(management, "account", acct)
        if w is None:
            out.append(
                finding(
                    where,
                    "membership",
                    "unexpected",
                    "high",
                    f"({h.name}) joined the organization in {h.ou}, and structure.yaml lacks it",
                    actual=h.model_dump(),
                    live=h.model_dump(),
                )
            )
        elif h is None:
            out.append(
                finding(
                    where,
                    "membership",
                    "missing",
                    "medium",
                    f"({w.name}) is declared but is not an active member",
                    expected=w.model_dump(),
                )
            )
        elif w.ou != h.ou:
            out.append(
                finding(
                    where,
                    "ou",
                    "changed",
                    "high",
                    f"({h.name}) moved from {w.ou} to {h.ou}, which changes the SCPs over it",
                    w.ou,
                    h.ou,
                    h.ou,
                )
            )
        elif w.name != h.name:
            out.append(
                finding(
                    where,
                    "name",
                    "changed",
                    "low",
                    f"is named {h.name!r}, structure.yaml says {w.name!r}",
                    w.name,
                    h.name,
                    h.name,
                )
            )
    want_scps, have_scps = expected.service_control_policies, actual.service_control_policies
    for name in sorted(want_scps.keys() | have_scps.keys()):
        w, h = want_scps.get(name), have_scps.get(name)
        where = _org(management, "scp", name)
        if w is None:
            out.append(
                finding(
                    where,
                    "existence",
                    "unexpected",
                    "high",
                    f"exists (attached to {', '.join(h.targets) or 'nothing'}) but is not declared",
                    actual=normalize(h.document),
                    live={"document": h.document.as_json(), "targets": h.targets},
                )
            )
            continue
        if h is None:
            out.append(
                finding(
                    where,
                    "existence",
                    "missing",
                    "high",
                    "is declared but does not exist: the guardrail it set is gone",
                    expected=normalize(w.document),
                )
            )
            continue
        if not equivalent(normalize(w.document), normalize(h.document)):
            out.append(
                finding(
                    where,
                    "document",
                    "changed",
                    "high",
                    "differs from the baseline",
                    normalize(w.document),
                    normalize(h.document),
                    h.document.as_json(),
                )
            )
        gone = sorted(set(w.targets) - set(h.targets))
        new = sorted(set(h.targets) - set(w.targets))
        if gone or new:
            parts = [f"attached to {', '.join(new)}"] if new else []
            parts += [f"detached from {', '.join(gone)}"] if gone else []
            out.append(
                finding(
                    where,
                    "targets",
                    "changed",
                    "high",
                    f"is {'; '.join(parts)}",
                    sorted(w.targets),
                    sorted(h.targets),
                    sorted(h.targets),
                )
            )
    return sort_findings(out)
