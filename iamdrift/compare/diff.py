"""Compare expected and live AccountState: pure, no I/O.

>>> from iamdrift.baselines.models import AccountState
>>> diff_account("222222222222", AccountState(), AccountState())
[]
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from iamdrift.baselines.identity_center import seconds
from iamdrift.baselines.kinds import ENTITY_KINDS, by_section
from iamdrift.baselines.models import AccountState, IgnoreRules, as_baseline
from iamdrift.baselines.policy import PolicyDocument, StrictModel
from iamdrift.compare.aspects import aspect_of
from iamdrift.compare.findings import Finding, Place, Severity, finding, sort_findings
from iamdrift.compare.meaning import equivalent, widens
from iamdrift.compare.policy import normalize, statement_delta

# Severity of an entity that should not exist / that is gone.
_UNEXPECTED: dict[str, Severity] = {
    "user": "high",
    "role": "high",
    "group": "medium",
    "policy": "medium",
    "permission_set": "high",
}


def is_ignored(patterns: list[str], path: str, name: str) -> bool:
    return any(fnmatchcase(path + name, p) or fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class Selection:
    """Entities asked for by `--entity`: globs on `NAME`, `KIND/NAME` or `ACCOUNT/KIND/NAME`.

    >>> Selection(("role/Member*",)).wants("222222222222", "role", "MemberReadOnlyAccess")
    True
    """

    patterns: tuple[str, ...]

    def wants(self, account: str, kind: str, name: str) -> bool:
        keys = (name, f"{kind}/{name}", f"{account}/{kind}/{name}")
        return any(fnmatchcase(k, p) for p in self.patterns for k in keys)

    def has(self, f: Finding) -> bool:
        return self.wants(f.account, f.resource_type, f.resource)


def compared(
    expected: AccountState,
    actual: AccountState,
    ignore: IgnoreRules | None = None,
    selection: Selection | None = None,
    account: str = "",
) -> dict[str, list[str]]:
    """The names compared, per kind: declared or live, minus live ones that an ignore
    pattern hides (unless declared), limited to a selection when one is given."""
    ignore = ignore or IgnoreRules()
    out = {}
    for kind in ENTITY_KINDS:
        want, have = getattr(expected, kind.section), getattr(actual, kind.section)
        patterns = getattr(ignore, kind.section)
        out[kind.section] = [
            name
            for name in sorted(want.keys() | have.keys())
            if (name in want or not is_ignored(patterns, have[name].path, name))
            and (selection is None or selection.wants(account, kind.name, name))
        ]
    return out


def diff_account(
    account: str,
    expected: AccountState,
    actual: AccountState,
    ignore: IgnoreRules | None = None,
    label: str | None = None,
    selection: Selection | None = None,
    names: dict[str, list[str]] | None = None,
) -> list[Finding]:
    """Every difference between `expected` and `actual`, most severe first.

    Live entities matching an ignore pattern are skipped unless the baseline names them;
    `names` is what `compared` gave, when the caller has it already.
    """
    ctx = _Context(account, label or account)
    names = names or compared(expected, actual, ignore, selection, account)
    for kind, kind_names in names.items():
        want, have = getattr(expected, kind), getattr(actual, kind)
        for name in kind_names:
            ctx.entity(by_section(kind).name, name, want.get(name), have.get(name))
    return sort_findings(ctx.findings)


def diff_entity(
    where: Place, kind: str, want: StrictModel | None, have: StrictModel | None
) -> list[Finding]:
    """The differences of one entity outside an account's file (a permission set), by the
    same rules as an account's entities."""
    ctx = _Context(where.account, where.context, where.context)
    ctx.entity(kind, where.name, want, have)
    return ctx.findings


class _Context:
    def __init__(self, account: str, label: str, context: str | None = None):
        self.account = account
        self.label = label
        self.context = context or f"Account {label}"
        self.findings: list[Finding] = []

    def add(
        self,
        kind: str,
        name: str,
        aspect: str,
        change: str,
        severity: Severity,
        expected: Any,
        actual: Any,
        what: str,
        live: Any = None,
    ) -> None:
        where = Place(self.account, kind, name, self.context)
        self.findings.append(finding(where, aspect, change, severity, what, expected, actual, live))  # type: ignore[arg-type]

    def entity(self, kind: str, name: str, want: StrictModel | None, have: StrictModel | None):
        if have is None:
            assert want is not None
            self.add(
                kind,
                name,
                "existence",
                "missing",
                "medium",
                _dump(want),
                None,
                "is in the baseline but does not exist",
            )
            return
        if want is None:
            severity = _UNEXPECTED[kind]
            trust = getattr(have, "trust_policy", None)
            if trust is not None and _admits_outsiders(normalize(trust), self.account):
                severity = "critical"
            self.add(
                kind,
                name,
                "existence",
                "unexpected",
                severity,
                None,
                _dump(have),
                "exists but is not in the baseline",
                # Without its other versions: a wider one is a finding of its own once the
                # policy is declared, never accepted along with it unseen.
                live={k: v for k, v in as_baseline(have).items() if k != "dormant_versions"},
            )
            return
        for field in type(want).model_fields:
            w, h = getattr(want, field), getattr(have, field)
            if field == "dormant_versions":
                self.dormant(name, have.document, w, h)  # type: ignore[attr-defined]
            elif field == "inline_policies":
                self.inline(kind, name, w, h)
            elif isinstance(w, PolicyDocument) or isinstance(h, PolicyDocument):
                self.policy(kind, name, field, w, h)
            elif isinstance(w, list):
                self.members(kind, name, field, w, h)
            elif w != h:
                self.scalar(kind, name, field, w, h)

    def policy(
        self,
        kind,
        name,
        aspect,
        want: PolicyDocument | None,
        have: PolicyDocument | None,
        subject: str | None = None,
    ):
        w = normalize(want) if want is not None else None
        h = normalize(have) if have is not None else None
        if equivalent(w, h):
            return
        subject = subject or aspect_of(kind, aspect).title
        wider = widens(w, h)
        trust = aspect == "trust_policy"
        if w is None:
            change, what = "unexpected", f"has {subject} that the baseline does not declare"
        elif h is None:
            change, what = "missing", f"lacks {subject} that the baseline declares"
        else:
            added, removed = statement_delta(w, h)
            change = "changed"
            what = (
                f"{subject} differs from the baseline ({added} statement(s) added, "
                f"{removed} removed)"
            )
        if change != "missing":
            what += " and grants more access" if wider else " and grants no more access"
        severity: Severity = (
            ("critical" if trust else "high") if wider else ("medium" if trust else "low")
        )
        live = have.as_json() if have is not None else None
        self.add(kind, name, aspect, change, severity, w, h, what, live)

    def dormant(
        self,
        name: str,
        default: PolicyDocument,
        declared: dict[str, PolicyDocument],
        live: dict[str, PolicyDocument],
    ) -> None:
        """Non-default versions that would grant more than the default, undeclared."""
        expected = [normalize(d) for d in declared.values()]
        for version, doc in sorted(wider_versions(default, live).items()):
            dormant = normalize(doc)
            if any(equivalent(dormant, d) for d in expected):
                continue
            self.add(
                "policy",
                name,
                f"dormant_version:{version}",
                "unexpected",
                "critical" if _grants_everything(dormant) else "high",
                None,
                dormant,
                f"has a non-default version {version} that grants more than the default "
                "version: one iam:SetDefaultPolicyVersion away from being in force",
                doc.as_json(),
            )

    def inline(self, kind, name, want: dict[str, PolicyDocument], have: dict[str, PolicyDocument]):
        for policy_name in sorted(want.keys() | have.keys()):
            self.policy(
                kind,
                name,
                f"inline_policy:{policy_name}",
                want.get(policy_name),
                have.get(policy_name),
                subject=f"inline policy {policy_name}",
            )

    def members(self, kind, name, aspect, want: list[str], have: list[str]):
        added, removed = sorted(set(have) - set(want)), sorted(set(want) - set(have))
        if not added and not removed:
            return
        parts = []
        if added:
            parts.append("added " + ", ".join(added))
        if removed:
            parts.append("removed " + ", ".join(removed))
        severity: Severity = "high" if added else "low"
        self.add(
            kind,
            name,
            aspect,
            "changed",
            severity,
            sorted(set(want)),
            sorted(set(have)),
            f"{aspect_of(kind, aspect).title} differ from the baseline: {'; '.join(parts)}",
            sorted(set(have)),
        )

    def scalar(self, kind, name, aspect, want: Any, have: Any):
        if aspect == "permissions_boundary":
            # Losing a boundary lifts a ceiling on permissions.
            severity: Severity = "high" if have is None else ("low" if want is None else "medium")
        elif aspect == "max_session_duration":
            severity = "medium" if have > want else "low"
        elif aspect == "session_duration":  # ISO 8601 (`PT8H`), as Identity Center keeps it
            severity = "medium" if seconds(have) > seconds(want) else "low"
        else:
            severity = "low"
        change = "missing" if have is None else ("unexpected" if want is None else "changed")
        self.add(
            kind,
            name,
            aspect,
            change,
            severity,
            want,
            have,
            f"{aspect_of(kind, aspect).title} is {_show(have)}, the baseline says {_show(want)}",
            have,
        )


def _show(value: Any) -> str:
    return "not set" if value is None else str(value)


def _dump(entity: StrictModel) -> dict[str, Any]:
    data = entity.model_dump(exclude_none=True)
    for key in ("trust_policy", "document", "inline_policy"):
        if key in data:
            data[key] = normalize(getattr(entity, key))
    if "inline_policies" in data:
        data["inline_policies"] = {k: normalize(v) for k, v in entity.inline_policies.items()}  # type: ignore[attr-defined]
    return data


def wider_versions(
    default: PolicyDocument, versions: dict[str, PolicyDocument]
) -> dict[str, PolicyDocument]:
    """The non-default versions of a policy that grant more than its default version."""
    in_force = normalize(default)
    return {v: d for v, d in versions.items() if widens(in_force, normalize(d))}


def _grants_everything(policy: dict[str, Any]) -> bool:
    return any(
        s["Effect"] == "Allow" and s.get("Action") == ["*"] and s.get("Resource") == ["*"]
        for s in policy["Statement"]
    )


def _admits_outsiders(trust: dict[str, Any], account: str) -> bool:
    """Does a trust policy let principals of other accounts, or anyone, assume the role?"""
    for stmt in trust["Statement"]:
        if stmt["Effect"] != "Allow":
            continue
        if "NotPrincipal" in stmt or "Federated" in stmt.get("Principal", {}):
            return True
        if any(
            a == "*" or f":{account}:" not in a for a in stmt.get("Principal", {}).get("AWS", [])
        ):
            return True
    return False
