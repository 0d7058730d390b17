"""IAM Identity Center's provisioning, on moto's server, as AWS documents it.

moto 5.2 keeps permission sets and assignments but provisions nothing: no
`AWSReservedSSO_*` role appears in the member account, `ProvisionPermissionSet`
ignores its target, `ListPermissionSetsProvisionedToAccount` ignores `AccountId` and
`ProvisioningStatus`, and the permissions boundary operations are missing. AWS:
creating an assignment provisions the set into the account (a role named
`AWSReservedSSO_<set>_<hash>` under `/aws-reserved/sso.amazonaws.com/`); changing a
set leaves the accounts on the old version until it is provisioned again; removing the
last assignment of a set from an account removes the role
(https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
The emulator adds exactly that, so the demo and the end-to-end tests read what AWS would
answer. Nothing here is used against real AWS.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from iamdrift.baselines.identity_center import seconds

ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
INLINE_NAME = "AwsSSOInlinePolicy"
_CHANGES = (
    "put_inline_policy_to_permission_set",
    "delete_inline_policy_from_permission_set",
    "attach_managed_policy_to_permission_set",
    "detach_managed_policy_from_permission_set",
    "attach_customer_managed_policy_reference_to_permission_set",
    "detach_customer_managed_policy_reference_from_permission_set",
    "update_permission_set",
)


@dataclass
class _Provisioning:
    version: dict[str, int] = field(default_factory=dict)  # set ARN -> its current version
    provisioned: dict[tuple[str, str], int] = field(default_factory=dict)  # (set, acct) -> v
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (set, acct) -> role
    boundary: dict[str, dict[str, Any]] = field(default_factory=dict)  # set ARN -> boundary
    saml: dict[str, str] = field(default_factory=dict)  # account -> provider name


def _state(backend) -> _Provisioning:
    return backend.__dict__.setdefault("_iamdrift_provisioning", _Provisioning())


def _provision(backend, instance_arn: str, set_arn: str, account: str) -> None:
    """Create or bring up to date the set's role in `account`, as Identity Center does."""
    from moto.iam.models import iam_backends

    state = _state(backend)
    ps = backend._find_permission_set(instance_arn, set_arn)
    iam = iam_backends[account]["global"]
    key = (set_arn, account)
    duration = seconds(ps.session_duration or "PT1H")
    name = state.roles.get(key)
    if name is not None:
        _empty(iam, name)
        role = iam.get_role(name)
        role.max_session_duration = duration
    else:
        provider = state.saml.setdefault(account, f"AWSSSO_{_hash(account)}_DO_NOT_DELETE")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{account}:saml-provider/{provider}"},
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}
                    },
                }
            ],
        }
        name = f"AWSReservedSSO_{ps.name}_{_hash(account, ps.name)}"
        iam.create_role(
            name, json.dumps(trust), ROLE_PATH, None, "", [], str(duration)
        )
        state.roles[key] = name
    for policy in ps.managed_policies:
        iam.attach_role_policy(policy.arn, name)
    for ref in ps.customer_managed_policies:
        arn = f"arn:aws:iam::{account}:policy{ref.path}{ref.name}"
        if any(p.arn == arn for p in iam.managed_policies.values()):
            iam.attach_role_policy(arn, name)
    if ps.inline_policy:
        iam.put_role_policy(name, INLINE_NAME, ps.inline_policy)
    bound = state.boundary.get(set_arn)
    if bound:
        ref = bound.get("CustomerManagedPolicyReference")
        arn = (
            f"arn:aws:iam::{account}:policy{ref.get('Path', '/')}{ref['Name']}"
            if ref
            else bound["ManagedPolicyArn"]
        )
        iam.get_role(name).permissions_boundary_arn = arn
    state.provisioned[key] = state.version.get(set_arn, 0)


def _hash(*parts: str) -> str:
    """16 hex digits, the same for the same set in the same account (reports stay stable)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def _empty(iam, name: str) -> None:
    role = iam.get_role(name)
    for arn in list(role.managed_policies):
        iam.detach_role_policy(arn, name)
    for policy in list(role.policies):
        iam.delete_role_policy(name, policy)
    role.permissions_boundary_arn = None


def _deprovision(backend, set_arn: str, account: str) -> None:
    from moto.iam.models import iam_backends

    state = _state(backend)
    name = state.roles.pop((set_arn, account), None)
    state.provisioned.pop((set_arn, account), None)
    if name is not None:
        iam = iam_backends[account]["global"]
        _empty(iam, name)
        iam.delete_role(name)


def install() -> None:
    """Teach moto's sso-admin responses provisioning (idempotent)."""
    from moto.ssoadmin.responses import SSOAdminResponse as R

    if getattr(R, "_iamdrift", False):
        return
    R._iamdrift = True

    def params(self) -> dict[str, Any]:
        return json.loads(self.body or "{}")

    create, delete = R.create_account_assignment, R.delete_account_assignment

    def create_account_assignment(self) -> str:
        out = create(self)
        p = params(self)
        _provision(self.ssoadmin_backend, p["InstanceArn"], p["PermissionSetArn"], p["TargetId"])
        return out

    def delete_account_assignment(self) -> str:
        out = delete(self)
        p = params(self)
        left = [
            a
            for a in self.ssoadmin_backend.account_assignments
            if a.permission_set_arn == p["PermissionSetArn"] and a.target_id == p["TargetId"]
        ]
        if not left:
            _deprovision(self.ssoadmin_backend, p["PermissionSetArn"], p["TargetId"])
        return out

    def provision_permission_set(self) -> str:
        p = params(self)
        backend, set_arn = self.ssoadmin_backend, p["PermissionSetArn"]
        if p.get("TargetType") == "ALL_PROVISIONED_ACCOUNTS":
            accounts = sorted(a for s, a in _state(backend).provisioned if s == set_arn)
        else:
            accounts = [p["TargetId"]]
        for account in accounts:
            _provision(backend, p["InstanceArn"], set_arn, account)
        return json.dumps(
            {
                "PermissionSetProvisioningStatus": {
                    "Status": "SUCCEEDED",
                    "PermissionSetArn": set_arn,
                }
            }
        )

    def _status(self, set_arn: str, account: str) -> bool:
        state = _state(self.ssoadmin_backend)
        wanted = params(self).get("ProvisioningStatus")
        if (set_arn, account) not in state.provisioned:
            return False
        latest = state.provisioned[(set_arn, account)] == state.version.get(set_arn, 0)
        if wanted == "LATEST_PERMISSION_SET_PROVISIONED":
            return latest
        if wanted == "LATEST_PERMISSION_SET_NOT_PROVISIONED":
            return not latest
        return True

    def list_permission_sets_provisioned_to_account(self) -> str:
        account = params(self)["AccountId"]
        sets = sorted({s for s, a in _state(self.ssoadmin_backend).provisioned if a == account})
        return json.dumps({"PermissionSets": [s for s in sets if _status(self, s, account)]})

    def list_accounts_for_provisioned_permission_set(self) -> str:
        set_arn = params(self)["PermissionSetArn"]
        accounts = sorted({a for s, a in _state(self.ssoadmin_backend).provisioned if s == set_arn})
        return json.dumps({"AccountIds": [a for a in accounts if _status(self, set_arn, a)]})

    def put_permissions_boundary_to_permission_set(self) -> str:
        p = params(self)
        _state(self.ssoadmin_backend).boundary[p["PermissionSetArn"]] = p["PermissionsBoundary"]
        _bump(self, p["PermissionSetArn"])
        return "{}"

    def get_permissions_boundary_for_permission_set(self) -> str:
        found = _state(self.ssoadmin_backend).boundary.get(params(self)["PermissionSetArn"])
        if found is None:
            from moto.ssoadmin.exceptions import ResourceNotFoundException

            raise ResourceNotFoundException("Permissions boundary not found")
        return json.dumps({"PermissionsBoundary": found})

    def delete_permissions_boundary_from_permission_set(self) -> str:
        set_arn = params(self)["PermissionSetArn"]
        _state(self.ssoadmin_backend).boundary.pop(set_arn, None)
        _bump(self, set_arn)
        return "{}"

    def _bump(self, set_arn: str) -> None:
        versions = _state(self.ssoadmin_backend).version
        versions[set_arn] = versions.get(set_arn, 0) + 1

    for name in _CHANGES:
        setattr(R, name, _bumping(getattr(R, name), params, _bump))
    for fn in (
        create_account_assignment,
        delete_account_assignment,
        provision_permission_set,
        list_permission_sets_provisioned_to_account,
        list_accounts_for_provisioned_permission_set,
        put_permissions_boundary_to_permission_set,
        get_permissions_boundary_for_permission_set,
        delete_permissions_boundary_from_permission_set,
    ):
        setattr(R, fn.__name__, fn)


def _bumping(original, params, bump):
    def changed(self) -> str:
        out = original(self)
        bump(self, params(self)["PermissionSetArn"])
        return out

    return changed
