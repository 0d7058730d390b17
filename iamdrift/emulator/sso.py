"""IAM Identity Center's provisioning, on moto's server, as AWS documents it.

moto 5.2 keeps permission sets and assignments but provisions nothing: no
`AWSReservedSSO_*` role appears in the member account, `ProvisionPermissionSet`
ignores its target, `ListPermissionSetsProvisionedToAccount` ignores `AccountId` and
`ProvisioningStatus`, the permissions boundary operations are missing, and every account
has an instance in every region. The emulator adds what AWS documents, each behaviour
with the sentence it follows beside it (tests/test_emulator_sso.py holds a contract test
for each). Nothing here is used against real AWS.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
INLINE_NAME = "AwsSSOInlinePolicy"
# "IAM Identity Center automatically creates IAM roles in each assigned account for each
# permission set, and configures these roles with a maximum session duration of 12 hours"
# (IAM Identity Center User Guide, "Set session duration").
ROLE_SESSION = 43200
_CHANGES = (
    "put_inline_policy_to_permission_set",
    "delete_inline_policy_from_permission_set",
    "attach_managed_policy_to_permission_set",
    "detach_managed_policy_from_permission_set",
    "attach_customer_managed_policy_reference_to_permission_set",
    "detach_customer_managed_policy_reference_from_permission_set",
    "update_permission_set",
)
# moto makes an instance in every region of every account; AWS: "You can create only one
# instance per account and across all AWS Regions" (CloudFormation, AWS::SSO::Instance).
# The region the emulator's one instance is answered in (its primary Region).
HOME = {"region": "us-east-1"}


@dataclass
class _Provisioning:
    version: dict[str, int] = field(default_factory=dict)  # set ARN -> its current version
    provisioned: dict[tuple[str, str], int] = field(default_factory=dict)  # (set, acct) -> v
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (set, acct) -> role
    made: dict[tuple[str, str], int] = field(default_factory=dict)  # times each role was made
    boundary: dict[str, dict[str, Any]] = field(default_factory=dict)  # set ARN -> boundary
    saml: dict[str, str] = field(default_factory=dict)  # account -> provider name


def _state(backend) -> _Provisioning:
    return backend.__dict__.setdefault("_iamdrift_provisioning", _Provisioning())


def _customer_policies(backend, set_arn: str, ps, account: str) -> tuple[list[str], str | None]:
    """The ARNs in `account` of the customer managed policies a set references, and of its
    boundary (an AWS managed one, or a customer managed one looked up in the account)."""
    local = f"arn:aws:iam::{account}:policy"
    attached = [f"{local}{r.path or '/'}{r.name}" for r in ps.customer_managed_policies]
    bound = _state(backend).boundary.get(set_arn)
    if not bound:
        return attached, None
    ref = bound.get("CustomerManagedPolicyReference")
    if not ref:
        return attached, bound["ManagedPolicyArn"]
    return attached, f"{local}{ref.get('Path') or '/'}{ref['Name']}"


def _unprovisionable(backend, instance_arn: str, set_arn: str, account: str) -> str | None:
    """Why the set cannot be provisioned into `account`, or None. "IAM Identity Center fails
    to assign the permission set if the policy doesn't exist in your member account" (User
    Guide, "Customer managed policies")."""
    from moto.iam.models import iam_backends

    ps = backend._find_permission_set(instance_arn, set_arn)
    attached, boundary = _customer_policies(backend, set_arn, ps, account)
    have = {p.arn for p in iam_backends[account]["global"].managed_policies.values()}
    lacking = [a for a in [*attached, boundary] if a and ":iam::aws:" not in a and a not in have]
    if lacking:
        return f"Customer managed policy {', '.join(lacking)} does not exist in {account}"
    return None


def _provision(backend, instance_arn: str, set_arn: str, account: str) -> None:
    """Create or bring up to date the set's role in `account`, as Identity Center does."""
    from moto.iam.models import iam_backends

    state = _state(backend)
    ps = backend._find_permission_set(instance_arn, set_arn)
    iam = iam_backends[account]["global"]
    key = (set_arn, account)
    name = state.roles.get(key)
    if name is not None:
        _empty(iam, name)
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
        # A role made again after its last assignment was removed gets "a different, unique
        # suffix" (User Guide, "Referencing permission sets in resource policies, Amazon EKS,
        # and AWS KMS"): derived from how often it was made, so reports stay reproducible.
        made = state.made[key] = state.made.get(key, 0) + 1
        again = [str(made)] if made > 1 else []
        name = f"AWSReservedSSO_{ps.name}_{_hash(account, ps.name, *again)}"
        iam.create_role(name, json.dumps(trust), ROLE_PATH, None, "", [], str(ROLE_SESSION))
        state.roles[key] = name
    attached, boundary = _customer_policies(backend, set_arn, ps, account)
    for arn in [*(p.arn for p in ps.managed_policies), *attached]:
        iam.attach_role_policy(arn, name)
    if ps.inline_policy:
        iam.put_role_policy(name, INLINE_NAME, ps.inline_policy)
    iam.get_role(name).permissions_boundary_arn = boundary
    state.provisioned[key] = state.version.get(set_arn, 0)


def _hash(*parts: str) -> str:
    """16 hex digits, the same for the same parts (reports stay reproducible)."""
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

    create, delete, instances = (
        R.create_account_assignment,
        R.delete_account_assignment,
        R.list_instances,
    )

    def create_account_assignment(self) -> str:
        p = params(self)
        backend = self.ssoadmin_backend
        why = _unprovisionable(backend, p["InstanceArn"], p["PermissionSetArn"], p["TargetId"])
        if why is not None:  # the assignment is not made (DescribeAccountAssignmentCreation-
            # Status: Status FAILED with its FailureReason)
            return json.dumps(
                {
                    "AccountAssignmentCreationStatus": {
                        "Status": "FAILED",
                        "FailureReason": why,
                        "TargetId": p["TargetId"],
                        "PermissionSetArn": p["PermissionSetArn"],
                        "PrincipalId": p["PrincipalId"],
                        "PrincipalType": p["PrincipalType"],
                    }
                }
            )
        out = create(self)
        _provision(backend, p["InstanceArn"], p["PermissionSetArn"], p["TargetId"])
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

    def list_instances(self) -> str:
        if self.region != HOME["region"]:
            return json.dumps({"Instances": []})
        return instances(self)

    def provision_permission_set(self) -> str:
        """An account the set cannot be provisioned into keeps the previous version ("the
        corresponding IAM policies attached to roles in your accounts will not be updated
        automatically", CreateAccountAssignment, API Reference) and the request fails."""
        p = params(self)
        backend, set_arn = self.ssoadmin_backend, p["PermissionSetArn"]
        if p.get("TargetType") == "ALL_PROVISIONED_ACCOUNTS":
            accounts = sorted(a for s, a in _state(backend).provisioned if s == set_arn)
        else:
            accounts = [p["TargetId"]]
        failed = []
        for account in accounts:
            why = _unprovisionable(backend, p["InstanceArn"], set_arn, account)
            if why is None:
                _provision(backend, p["InstanceArn"], set_arn, account)
            else:
                failed.append(why)
        status = (
            {"Status": "FAILED", "FailureReason": "; ".join(failed)}
            if failed
            else {"Status": "SUCCEEDED"}
        )
        return json.dumps(
            {"PermissionSetProvisioningStatus": {**status, "PermissionSetArn": set_arn}}
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
        list_instances,
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
