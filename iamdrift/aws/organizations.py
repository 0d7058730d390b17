"""Reading the organization: member accounts, their OUs, and service control policies.

Only the management account (or a delegated administrator) may read these; a hub in
a member account, or in an account outside any organization, reads None. The
management account denied a read is an error that names the missing permission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from iamdrift.baselines.structure import Structure

NOT_IN_USE = "AWSOrganizationsNotInUseException"


def every_item(client, operation: str, key: str, **kwargs) -> list[Any]:
    """Every item of every page of a paginated read."""
    return [
        item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]
    ]


def _describe(org) -> tuple[str, str] | None:
    """(management account, organization id), or None outside any organization.

    DescribeOrganization answers alike on AWS and moto, where ListAccounts does not
    (moto lists nothing for an account outside any organization)."""
    try:
        found = org.describe_organization()["Organization"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == NOT_IN_USE:
            return None
        raise
    return found["MasterAccountId"], found["Id"]


@dataclass(frozen=True)
class OrganizationFound:
    """What the hub learns of its organization: its id and management account (any member
    may describe its organization), and the structure (None unless the hub may list it)."""

    org_id: str | None = None
    management: str | None = None
    structure: Structure | None = None


def collect_structure(org, hub_account: str) -> OrganizationFound:
    """The organization, read with read-only Organizations calls: OUs, accounts and SCPs
    when the hub is the management account or a delegated administrator; only the id and
    the management account for a member; nothing outside any organization."""
    described = _describe(org)
    if described is None:
        return OrganizationFound()
    management, org_id = described
    if hub_account == management:  # denied here: a permission is missing, an error naming it
        return OrganizationFound(org_id, management, _read(org))
    try:
        return OrganizationFound(org_id, management, _read(org))  # a delegated administrator
    except ClientError:  # a member account: it may describe its organization, not list it
        return OrganizationFound(org_id, management)


def _read(org) -> Structure:
    root = org.list_roots()["Roots"][0]
    paths = {root["Id"]: "Root"}
    accounts: dict[str, dict[str, str]] = {}
    queue = [root["Id"]]
    while queue:
        parent = queue.pop()
        for acct in every_item(org, "list_accounts_for_parent", "Accounts", ParentId=parent):
            if acct.get("Status", "ACTIVE") == "ACTIVE":
                accounts[acct["Id"]] = {"name": acct["Name"], "ou": paths[parent]}
        for ou in every_item(
            org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
        ):
            paths[ou["Id"]] = f"{paths[parent]}/{ou['Name']}"
            queue.append(ou["Id"])
    scps = {}
    ids = dict(paths)
    for policy in every_item(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"):
        ids[policy["Id"]] = policy["Name"]
        content = org.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"]
        targets = every_item(org, "list_targets_for_policy", "Targets", PolicyId=policy["Id"])
        scps[policy["Name"]] = {
            "document": json.loads(content),
            "targets": sorted(paths.get(t["TargetId"], t["TargetId"]) for t in targets),
        }
    structure = Structure.model_validate({"accounts": accounts, "service_control_policies": scps})
    structure.ids.update(ids)
    return structure
