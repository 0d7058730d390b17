"""Collection: one pass over an account's IAM, normalized into AccountState.

GetAccountAuthorizationDetails (every page) gives users, groups, roles and
customer managed policies; ListRoles adds MaxSessionDuration, which GAAD omits.
AWS managed policies are compared by ARN, so their bodies are never fetched.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from iamdrift.baselines.models import AccountState
from iamdrift.errors import AccountUnreadable, aws_error_text

GAAD_FILTER = ["User", "Group", "Role", "LocalManagedPolicy"]


class IncompleteRead(Exception):
    pass


def _pages(client, operation: str, **kwargs) -> list[dict[str, Any]]:
    """Every page, and proof that the last one said it was the last."""
    pages = list(client.get_paginator(operation).paginate(**kwargs))
    if not pages or pages[-1].get("IsTruncated"):
        raise IncompleteRead(f"{operation} stopped before its last page")
    return pages


def decode_document(value: Any) -> dict[str, Any]:
    # botocore decodes policy documents; older or unusual responses are URL-encoded JSON.
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _arns(attached: list[dict[str, str]]) -> list[str]:
    return sorted(p["PolicyArn"] for p in attached)


def _inline(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["PolicyName"]: decode_document(p["PolicyDocument"]) for p in entries}


def _boundary(entry: dict[str, Any]) -> str | None:
    return (entry.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def state_from_responses(gaad_pages: list[dict], role_pages: list[dict]) -> AccountState:
    """Build AccountState from raw API pages (pure; the unit tests feed it directly)."""
    durations = {
        r["RoleName"]: r.get("MaxSessionDuration", 3600)
        for page in role_pages
        for r in page.get("Roles", [])
    }
    users: dict[str, Any] = {}
    tags: dict[str, dict[str, str]] = {}
    role_tags: dict[str, dict[str, str]] = {}
    groups: dict[str, Any] = {}
    roles: dict[str, Any] = {}
    policies: dict[str, Any] = {}
    for page in gaad_pages:
        for u in page.get("UserDetailList", []):
            users[u["UserName"]] = {
                "path": u.get("Path") or "/",
                "groups": sorted(u.get("GroupList", [])),
                "managed_policies": _arns(u.get("AttachedManagedPolicies", [])),
                "inline_policies": _inline(u.get("UserPolicyList", [])),
                "permissions_boundary": _boundary(u),
            }
            tags[u["UserName"]] = {t["Key"]: t["Value"] for t in u.get("Tags", [])}
        for g in page.get("GroupDetailList", []):
            groups[g["GroupName"]] = {
                "path": g.get("Path") or "/",
                "managed_policies": _arns(g.get("AttachedManagedPolicies", [])),
                "inline_policies": _inline(g.get("GroupPolicyList", [])),
            }
        for r in page.get("RoleDetailList", []):
            roles[r["RoleName"]] = {
                "path": r.get("Path") or "/",
                "trust_policy": decode_document(r["AssumeRolePolicyDocument"]),
                "managed_policies": _arns(r.get("AttachedManagedPolicies", [])),
                "inline_policies": _inline(r.get("RolePolicyList", [])),
                "max_session_duration": durations.get(r["RoleName"], 3600),
                "permissions_boundary": _boundary(r),
            }
            role_tags[r["RoleName"]] = {t["Key"]: t["Value"] for t in r.get("Tags", [])}
        for p in page.get("Policies", []):
            if p["Arn"].split(":")[4] == "aws":
                continue  # an AWS managed policy: compared by ARN only
            versions = p["PolicyVersionList"]
            default = next(v for v in versions if v.get("IsDefaultVersion"))
            # moto leaves PolicyName out; the ARN's last segment is the name.
            policies[p.get("PolicyName") or p["Arn"].rsplit("/", 1)[-1]] = {
                "path": p.get("Path") or "/",
                "document": decode_document(default["Document"]),
                "dormant_versions": {
                    v["VersionId"]: decode_document(v["Document"])
                    for v in versions
                    if not v.get("IsDefaultVersion") and "Document" in v
                },
            }
    missing = set(roles) - set(durations)
    if missing:
        raise IncompleteRead(f"ListRoles did not return role(s) {', '.join(sorted(missing))}")
    state = AccountState.model_validate(
        {"users": users, "groups": groups, "roles": roles, "policies": policies}
    )
    for name, user in state.users.items():
        user.tags = tags.get(name, {})
    for name, role in state.roles.items():
        role.tags = role_tags.get(name, {})
    return state


def read_iam(iam) -> AccountState:
    """Every page of GAAD and ListRoles from one IAM client, as AccountState."""
    gaad = _pages(iam, "get_account_authorization_details", Filter=GAAD_FILTER)
    return state_from_responses(gaad, _pages(iam, "list_roles"))


def collect_account(iam, account: str, role_arn: str | None) -> AccountState:
    """Read one account with its IAM client; any failure is AccountUnreadable, never a
    partial state."""
    try:
        return read_iam(iam)
    except (ClientError, BotoCoreError, IncompleteRead) as exc:
        raise AccountUnreadable(account, role_arn, aws_error_text(exc)) from exc
    except ValidationError as exc:
        raise AccountUnreadable(
            account, role_arn, f"IAM returned data iamdrift cannot interpret: {exc.errors()[0]}"
        ) from exc
    except (KeyError, StopIteration, ValueError) as exc:
        raise AccountUnreadable(account, role_arn, f"malformed IAM response: {exc!r}") from exc
