"""Risky access, reported even when live state matches its baseline (pure).

Each risk is a Finding with aspect `risk:<kind>` and a message that says why it
matters and how to narrow it.
"""

from __future__ import annotations

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
        keys = _keys(stmt)
        aws = stmt["Principal"].get("AWS", [])
        for value in aws:
            acct = value.split(":")[4] if value.startswith("arn:") else None
            if value == "*":
                sev: Severity = "medium" if keys & NARROWING else "critical"
                out.append(
                    _risk(
                        account,
                        "role",
                        name,
                        "trust_anyone",
                        sev,
                        'trusts Principal "*": any AWS principal in any account whose own '
                        "policies allow it can assume the role; name the principals, or at "
                        "least require aws:PrincipalOrgID",
                        stmt,
                    )
                )
            elif value.endswith(":root") and acct != account and not (keys & NARROWING):
                # Trusting its own account's root delegates to that account's IAM policies,
                # the ordinary same-account pattern; another account's root is a way in.
                out.append(
                    _risk(
                        account,
                        "role",
                        name,
                        "trust_account_root",
                        "high",
                        f"trusts the whole account {acct} ({value}) without a narrowing "
                        "condition: anyone there whose policies allow sts:AssumeRole can "
                        "switch in; name the user or role, or add aws:PrincipalArn",
                        stmt,
                    )
                )
            if UNIQUE_ID.match(value):
                out.append(
                    _risk(
                        account,
                        "role",
                        name,
                        "trust_deleted_principal",
                        "medium",
                        f"trusts {value}, a bare unique id: the principal it named was "
                        "deleted, and a new one of the same name is not trusted; remove it "
                        "or name the intended principal again",
                        stmt,
                    )
                )
            if acct and acct != account and org.members and acct not in org.members:
                if acct not in third_parties:
                    out.append(
                        _risk(
                            account,
                            "role",
                            name,
                            "trust_outside_organization",
                            "high",
                            f"trusts account {acct}, which is outside the organization and "
                            "not declared as a third party in access.yaml; declare it or "
                            "remove the trust",
                            stmt,
                        )
                    )
                if "sts:externalid" not in keys:
                    out.append(
                        _risk(
                            account,
                            "role",
                            name,
                            "third_party_without_external_id",
                            "high",
                            f"trusts account {acct} outside the organization without an "
                            "sts:ExternalId condition, which leaves it open to the confused "
                            "deputy problem; require the ExternalId the third party gave you",
                            stmt,
                        )
                    )
        if admin and aws and "aws:multifactorauthpresent" not in keys:
            out.append(
                _risk(
                    account,
                    "role",
                    name,
                    "admin_without_mfa",
                    "high",
                    "has administrator permissions and can be assumed without MFA; add "
                    "Condition Bool aws:MultiFactorAuthPresent true to its trust",
                    stmt,
                )
            )
        if name == OAAR and org.management:
            others = [v for v in aws if v != f"arn:aws:iam::{org.management}:root"]
            others += [f"{k}:{v}" for k, vs in stmt["Principal"].items() if k != "AWS" for v in vs]
            if others:
                out.append(
                    _risk(
                        account,
                        "role",
                        name,
                        "oaar_trusts_other",
                        "high",
                        f"trusts {', '.join(others)}, not only the management account "
                        f"{org.management}: this administrator role is the organization's "
                        "way in and should trust nothing else",
                        stmt,
                    )
                )
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
                            "assume_any_role",
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
