"""What to do about a finding: accept it into the baseline, or put IAM back."""

from __future__ import annotations

_PUT_INLINE = (
    "aws iam put-{kind}-policy --{kind}-name {name} --policy-name {policy} "
    "--policy-document file://expected.json"
)


def _command(kind: str, name: str, aspect: str, change: str, account: str) -> str:
    if kind == "access":
        return (
            "narrow the role's trust policy or the principal's identity policy (the finding's "
            "path names both), or declare the edge in access.yaml"
        )
    if aspect.startswith("risk:"):
        return "the message says how"
    if kind == "account":
        return (
            f"write its baseline with `runner.py snapshot --accounts {name}`"
            if change == "unexpected"
            else "find out why it left the organization"
        )
    if aspect == "existence":
        if change == "unexpected":
            return (
                f"find who created it (CloudTrail: Create{kind.capitalize()} {name}), "
                "then delete it"
            )
        return "recreate it as the baseline declares"
    if aspect == "trust_policy":
        return (
            f"aws iam update-assume-role-policy --role-name {name} "
            "--policy-document file://expected.json"
        )
    if aspect.startswith("inline_policy:"):
        policy = aspect.split(":", 1)[1]
        if change == "unexpected":
            return f"aws iam delete-{kind}-policy --{kind}-name {name} --policy-name {policy}"
        return _PUT_INLINE.format(kind=kind, name=name, policy=policy)
    if aspect == "managed_policies":
        return (
            f"aws iam attach-{kind}-policy / detach-{kind}-policy --{kind}-name {name} "
            "--policy-arn ARN for each ARN added or removed"
        )
    if aspect == "groups":
        return (
            f"aws iam add-user-to-group / remove-user-from-group --user-name {name} --group-name G"
        )
    if aspect == "max_session_duration":
        return f"aws iam update-role --role-name {name} --max-session-duration SECONDS"
    if aspect == "permissions_boundary":
        return (
            f"aws iam put-{kind}-permissions-boundary (or delete-{kind}-permissions-boundary) "
            f"--{kind}-name {name}"
        )
    if aspect.startswith("dormant_version:"):
        version = aspect.split(":", 1)[1]
        return (
            f"aws iam delete-policy-version --policy-arn arn:aws:iam::{account}:policy/{name} "
            f"--version-id {version}"
        )
    if aspect == "document":
        return (
            f"aws iam create-policy-version --policy-arn arn:aws:iam::{account}:policy/{name} "
            "--policy-document file://expected.json --set-as-default"
        )
    return "change it back to what the baseline declares"


def remediation(kind: str, name: str, aspect: str, change: str, account: str) -> str:
    """A hint that names the command, e.g. for a widened trust policy.

    >>> remediation("role", "R", "trust_policy", "changed", "222222222222")[:78]
    'If the change was reviewed and intended, accept it with `runner.py accept 2222'
    """
    fix = _command(kind, name, aspect, change, account)
    if aspect.startswith("risk:"):
        return (
            f"Narrow it ({fix}), or, while that is planned, waive "
            f"{account}/{kind}/{name}/{aspect} in waivers.yaml with an owner and an expiry."
        )
    if kind == "account" and change == "unexpected":
        return f"If the account belongs in the audit, {fix}; otherwise find out who created it."
    finding_id = f"{account}/{kind}/{name}/{aspect}"
    return (
        f"If the change was reviewed and intended, accept it with `runner.py accept "
        f"{finding_id}` and commit the baseline diff (or waive it in waivers.yaml for a "
        f"while). Otherwise: {fix}."
    )
