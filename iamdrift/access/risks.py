"""Risky access, reported even when live state matches its baseline (pure).

Each risk is a Finding with aspect `risk:<kind>` and a message that says why it
matters and how to narrow it. Each kind is declared once (`RISK_KINDS`): its name, its
title and one small rule, as PMapper keeps one checker per kind of edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from iamdrift.access.evaluate import ASSUME, SERVICE_ROLE_PATH, OrgContext, statement_applies
from iamdrift.access.graph import UNIQUE_ID
from iamdrift.access.projection import managed_policy
from iamdrift.baselines.models import AccountState
from iamdrift.compare.findings import Finding, Place, Severity, finding, sort_findings
from iamdrift.compare.policy import normalize

ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
OAAR = "OrganizationAccountAccessRole"
# Condition keys that narrow who, of a trusted account or of everyone, may assume a role.
NARROWING = {
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalaccount",
    "sts:externalid",
    "aws:principalorgpaths",
    "aws:sourceidentity",
    "sts:sourceidentity",
    "aws:userid",
    "aws:principaltag",
    "aws:multifactorauthpresent",
    "aws:sourceaccount",
    "aws:sourcearn",
}


def _keys(stmt: dict[str, Any]) -> set[str]:
    return {k.split("/", 1)[0] for pairs in stmt.get("Condition", {}).values() for k in pairs}


def _risk(
    account: str,
    kind: str,
    name: str,
    risk: str,
    severity: Severity,
    message: str,
    actual: Any = None,
) -> Finding:
    where = Place(account, kind, name, f"Account {account}")
    return finding(where, f"risk:{risk}", "unexpected", severity, message, actual=actual)


def _is_admin(role, state: AccountState, aws_policies: dict) -> bool:
    """AdministratorAccess attached, or any policy allowing every action on every resource."""
    if ADMIN_POLICY in role.managed_policies:
        return True
    docs = [normalize(d) for d in role.inline_policies.values()]
    docs += [managed_policy(a, state, aws_policies) for a in role.managed_policies]
    return any(
        s["Effect"] == "Allow" and s.get("Action") == ["*"] and s.get("Resource") == ["*"]
        for d in docs
        for s in d["Statement"]
    )


@dataclass(frozen=True)
class TrustStatement:
    """One Allow statement of a role's trust policy that admits sts:AssumeRole, with what
    the rules judge it by."""

    account: str
    role: str
    stmt: dict[str, Any]
    keys: set[str]  # condition keys, lower case, without their /suffix
    aws: list[str]  # AWS principals
    admin: bool  # the role is administrator
    org: OrgContext
    third_parties: dict[str, str]


Rule = Callable[[TrustStatement], Iterator[tuple[Severity, str]]]


@dataclass(frozen=True)
class RiskKind:
    """A kind of risky access: its id (`risk:<name>`), its title, and its rule, which yields
    (severity, message) for each way a trust statement has it."""

    name: str
    title: str
    rule: Rule


def _other_account(value: str) -> str | None:
    return value.split(":")[4] if value.startswith("arn:") else None


def _trust_anyone(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    if "*" in t.aws:
        yield (
            "medium" if t.keys & NARROWING else "critical",
            'trusts Principal "*": any AWS principal in any account whose own policies allow '
            "it can assume the role; name the principals, or at least require aws:PrincipalOrgID",
        )


def _trust_account_root(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    # Trusting its own account's root delegates to that account's IAM policies, the
    # ordinary same-account pattern; another account's root is a way in.
    for value in t.aws:
        acct = _other_account(value)
        if value.endswith(":root") and acct != t.account and not (t.keys & NARROWING):
            yield (
                "high",
                f"trusts the whole account {acct} ({value}) without a narrowing condition: "
                "anyone there whose policies allow sts:AssumeRole can switch in; name the "
                "user or role, or add aws:PrincipalArn",
            )


def _trust_deleted_principal(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    for value in t.aws:
        if UNIQUE_ID.match(value):
            yield (
                "medium",
                f"trusts {value}, a bare unique id: the principal it named was deleted, and a "
                "new one of the same name is not trusted; remove it or name the intended "
                "principal again",
            )


def _outsiders(t: TrustStatement) -> Iterator[str]:
    for value in t.aws:
        acct = _other_account(value)
        if acct and acct != t.account and t.org.members and acct not in t.org.members:
            yield acct


def _trust_outside_organization(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    for acct in _outsiders(t):
        if acct not in t.third_parties:
            yield (
                "high",
                f"trusts account {acct}, which is outside the organization and not declared "
                "as a third party in access.yaml; declare it or remove the trust",
            )


def _third_party_without_external_id(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    for acct in _outsiders(t):
        if "sts:externalid" not in t.keys:
            yield (
                "high",
                f"trusts account {acct} outside the organization without an sts:ExternalId "
                "condition, which leaves it open to the confused deputy problem; require the "
                "ExternalId the third party gave you",
            )


def _admin_without_mfa(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    if t.admin and t.aws and "aws:multifactorauthpresent" not in t.keys:
        yield (
            "high",
            "has administrator permissions and can be assumed without MFA; add Condition "
            "Bool aws:MultiFactorAuthPresent true to its trust",
        )


def _oaar_trusts_other(t: TrustStatement) -> Iterator[tuple[Severity, str]]:
    if t.role != OAAR or not t.org.management:
        return
    others = [v for v in t.aws if v != f"arn:aws:iam::{t.org.management}:root"]
    others += [f"{k}:{v}" for k, vs in t.stmt["Principal"].items() if k != "AWS" for v in vs]
    if others:
        yield (
            "high",
            f"trusts {', '.join(others)}, not only the management account {t.org.management}: "
            "this administrator role is the organization's way in and should trust nothing else",
        )


TRUST_RISKS: tuple[RiskKind, ...] = (
    RiskKind("trust_anyone", "role trusts any AWS principal", _trust_anyone),
    RiskKind("trust_account_root", "role trusts another whole account", _trust_account_root),
    RiskKind(
        "trust_deleted_principal", "role trusts a deleted principal", _trust_deleted_principal
    ),
    RiskKind(
        "trust_outside_organization",
        "role trusts an undeclared outside account",
        _trust_outside_organization,
    ),
    RiskKind(
        "third_party_without_external_id",
        "third party trusted without an ExternalId",
        _third_party_without_external_id,
    ),
    RiskKind("admin_without_mfa", "administrator role assumable without MFA", _admin_without_mfa),
    RiskKind(
        "oaar_trusts_other",
        "OrganizationAccountAccessRole trusts more than management",
        _oaar_trusts_other,
    ),
)
ASSUME_ANY_ROLE = RiskKind(
    "assume_any_role", "principal may assume any role", lambda t: iter(())
)  # judged from identity policies, by identity_risks
RISK_KINDS: dict[str, RiskKind] = {k.name: k for k in (*TRUST_RISKS, ASSUME_ANY_ROLE)}


def role_risks(
    account: str,
    name: str,
    role,
    state: AccountState,
    org: OrgContext,
    third_parties: dict[str, str],
    aws_policies: dict,
) -> list[Finding]:
    out: list[Finding] = []
    trust = normalize(role.trust_policy)
    admin = _is_admin(role, state, aws_policies)
    for stmt in trust["Statement"]:
        if (
            stmt["Effect"] != "Allow"
            or not statement_applies(stmt, ASSUME)
            or "Principal" not in stmt
        ):
            continue
        view = TrustStatement(
            account,
            name,
            stmt,
            _keys(stmt),
            stmt["Principal"].get("AWS", []),
            admin,
            org,
            third_parties,
        )
        for kind in TRUST_RISKS:
            for severity, message in kind.rule(view):
                out.append(_risk(account, "role", name, kind.name, severity, message, stmt))
    return out


def identity_risks(account: str, state: AccountState) -> list[Finding]:
    """Identity policies that allow sts:AssumeRole on every role ("Resource": "*").

    AWS managed policies are left out: AdministratorAccess is found by admin_without_mfa.
    """
    out = []
    entities = [("user", state.users), ("group", state.groups), ("role", state.roles)]
    for kind, named in entities:
        for name, entity in named.items():
            docs = [(f"inline policy {p}", normalize(d)) for p, d in entity.inline_policies.items()]
            docs += [
                (
                    f"policy {a.rsplit('/', 1)[-1]}",
                    normalize(state.policies[a.rsplit("/", 1)[-1]].document),
                )
                for a in entity.managed_policies
                if a.split(":")[4] != "aws" and a.rsplit("/", 1)[-1] in state.policies
            ]
            for label, doc in docs:
                if any(
                    s["Effect"] == "Allow"
                    and statement_applies(s, ASSUME)
                    and s.get("Resource") == ["*"]
                    and not s.get("Condition")
                    for s in doc["Statement"]
                ):
                    out.append(
                        _risk(
                            account,
                            kind,
                            name,
                            ASSUME_ANY_ROLE.name,
                            "high",
                            f"may assume any role in any account that trusts it ({label} "
                            'allows sts:AssumeRole on Resource "*"); list the role ARNs '
                            "it needs instead",
                            label,
                        )
                    )
    return out


def find_risks(
    account: str,
    state: AccountState,
    org: OrgContext,
    third_parties: dict[str, str],
    aws_policies: dict | None = None,
) -> list[Finding]:
    """Every risky access path of one account (judged alone: no other account is needed)."""
    aws_policies = aws_policies or {}
    out: list[Finding] = []
    for name, role in sorted(state.roles.items()):
        if not role.path.startswith(SERVICE_ROLE_PATH):
            out += role_risks(account, name, role, state, org, third_parties, aws_policies)
    out += identity_risks(account, state)
    unique = {f.id: f for f in out}  # one finding per role and risk, however many statements
    return sort_findings(list(unique.values()))
