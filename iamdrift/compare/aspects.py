"""Every kind of thing a finding is about, and every aspect of it, declared once.

A finding's id is `ACCOUNT/KIND/NAME/ASPECT`, where ASPECT is a family (`trust_policy`)
or a family with a parameter (`inline_policy:AssumeAny`, `dormant_version:v3`,
`risk:admin_without_mfa`). Each family says here what it is, what widening means for
it, how to put IAM back, where it lives in the baselines (the key path that SARIF
points at and `accept` writes to) and how `accept` writes it. Adding an aspect is one
entry here plus the diff that finds it.

>>> aspect_of("role", "inline_policy:Extra").title
'inline policy'
>>> location("222222222222", "role", "R", "inline_policy:Extra")
('account', ('roles', 'R', 'inline_policies', 'Extra'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from iamdrift.baselines.kinds import ENTITY_KINDS, NAMES


class Accept(Enum):
    """How `accept` writes a finding's live value at its location."""

    VALUE = "value"  # set the value at the key path (delete it when nothing is live)
    ENTRY = "entry"  # add the live entry at the key path, or delete it when it is gone
    EDGE = "edge"  # add, replace or drop the edge in access.yaml's list
    ASSIGNMENT = "assignment"  # add or drop the account in identity_center.yaml's assignment
    ACCOUNT_FILE = "account file"  # the account left: its baseline file goes
    REFUSED = "refused"  # not drift: `refusal` says what to do instead


@dataclass(frozen=True)
class Kind:
    """A resource type findings are about."""

    name: str  # user, group, role, policy, account, scp, access
    file: str  # the file that declares it: account, structure, access, organization,
    # identity_center
    section: str  # its section in that file (`roles`), "" where it has none
    cloudformation: str  # the resource type OCSF and SARIF readers know
    title: str = ""  # how a message names it, when not by its name (`sso_group`)

    def arn(self, account: str, name: str) -> str:
        if self.file == "account":
            return f"arn:aws:iam::{account}:{self.name}/{name}"
        if self.name == "access":  # PRINCIPAL->ACCOUNT:ROLE: the role is the resource
            return f"arn:aws:iam::{account}:role/{name.rsplit(':', 1)[-1]}"
        if self.name == "reach":  # PRINCIPAL->TARGET: the target account is the resource
            return f"arn:aws:iam::{account}:root"
        if self.file == "identity_center":
            return f"identitycenter:{account}:{self.name}/{name}"
        return f"{self.name}/{name}"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        *(Kind(k.name, "account", k.section, k.cloudformation) for k in ENTITY_KINDS),
        Kind("account", "structure", "accounts", "AWS::Organizations::Account"),
        Kind("scp", "structure", "service_control_policies", "AWS::Organizations::Policy"),
        Kind("access", "access", "edges", "AWS::IAM::Role"),
        Kind("reach", "access", "rules", "AWS::IAM::Role"),
        Kind("permission_set", "identity_center", "permission_sets", "AWS::SSO::PermissionSet"),
        Kind("assignment", "identity_center", "assignments", "AWS::SSO::Assignment"),
        Kind(
            "sso_group",
            "identity_center",
            "groups",
            "AWS::IdentityStore::Group",
            "Identity Center group",
        ),
    )
}
ENTITY = NAMES  # kinds with a section in an account's file


@dataclass(frozen=True)
class Ref:
    """A finding's subject, as the fix text needs it."""

    account: str
    kind: str
    name: str
    param: str
    change: str


@dataclass(frozen=True)
class Aspect:
    family: str
    kinds: tuple[str, ...]
    title: str
    widening: str  # what a wider live value means for it
    fix: Callable[[Ref], str]  # how to put IAM back as the baseline declares
    accept: Accept = Accept.VALUE
    # Key path under the entity (or entry) in its file; "{param}" is the aspect's parameter.
    path: tuple[str, ...] = ()
    refusal: str = ""


def _existence_fix(r: Ref) -> str:
    if r.change == "unexpected":
        event = f"Create{r.kind.capitalize()}"
        return f"find who created it (CloudTrail: {event} {r.name}), then delete it"
    return "recreate it as the baseline declares"


def _inline_fix(r: Ref) -> str:
    if r.change == "unexpected":
        return f"aws iam delete-{r.kind}-policy --{r.kind}-name {r.name} --policy-name {r.param}"
    return (
        f"aws iam put-{r.kind}-policy --{r.kind}-name {r.name} --policy-name {r.param} "
        "--policy-document file://expected.json"
    )


def _account_fix(r: Ref) -> str:
    if r.change == "unexpected":
        return f"write its baseline with `runner.py snapshot --accounts {r.name}`"
    return "find out why it left the organization"


_EDGE_FIX = (
    "narrow the role's trust policy or the principal's identity policy (the finding's path "
    "names both), or declare the edge in access.yaml"
)
_BACK = "change it back to what the baseline declares"
_SSO = "aws sso-admin"


def _set_fix(r: Ref) -> str:
    return (
        f"change permission set {r.name} back with `{_SSO}` (put-inline-policy-to-permission-set"
        ", attach-/detach-managed-policy-..., update-permission-set), then "
        f"`{_SSO} provision-permission-set --target-type ALL_PROVISIONED_ACCOUNTS`"
    )


def _assignment_fix(r: Ref) -> str:
    verb = "delete" if r.change == "unexpected" else "create"
    return (
        f"`{_SSO} {verb}-account-assignment --target-id {r.account} --target-type AWS_ACCOUNT` "
        f"for {r.name} (SET:group|user:NAME)"
    )


# A table, one aspect to a few lines, laid out to be read as one.
# fmt: off
ASPECTS: tuple[Aspect, ...] = (
    Aspect("existence", ENTITY, "existence", "an entity nobody declared", _existence_fix,
           Accept.ENTRY),
    Aspect("trust_policy", ("role",), "trust policy", "more principals may assume the role",
           lambda r: f"aws iam update-assume-role-policy --role-name {r.name} "
                     "--policy-document file://expected.json", path=("trust_policy",)),
    Aspect("inline_policy", ("user", "group", "role"), "inline policy",
           "the principal may do more", _inline_fix, path=("inline_policies", "{param}")),
    Aspect("managed_policies", ("user", "group", "role"), "managed policies",
           "more policies attached",
           lambda r: f"aws iam attach-{r.kind}-policy / detach-{r.kind}-policy "
                     f"--{r.kind}-name {r.name} --policy-arn ARN for each ARN added or removed",
           path=("managed_policies",)),
    Aspect("groups", ("user",), "group memberships", "membership of more groups",
           lambda r: f"aws iam add-user-to-group / remove-user-from-group --user-name {r.name} "
                     "--group-name G", path=("groups",)),
    Aspect("max_session_duration", ("role",), "maximum session duration",
           "sessions last longer",
           lambda r: f"aws iam update-role --role-name {r.name} --max-session-duration SECONDS",
           path=("max_session_duration",)),
    Aspect("permissions_boundary", ("user", "role"), "permissions boundary",
           "the ceiling on permissions lifted",
           lambda r: f"aws iam put-{r.kind}-permissions-boundary (or "
                     f"delete-{r.kind}-permissions-boundary) --{r.kind}-name {r.name}",
           path=("permissions_boundary",)),
    Aspect("path", ENTITY, "path", "none", lambda r: _BACK, path=("path",)),
    Aspect("document", ("policy",), "policy document", "the policy allows more",
           lambda r: f"aws iam create-policy-version --policy-arn "
                     f"arn:aws:iam::{r.account}:policy/{r.name} --policy-document "
                     "file://expected.json --set-as-default", path=("document",)),
    Aspect("dormant_version", ("policy",), "dormant policy version",
           "a non-default version allows more than the default",
           lambda r: f"aws iam delete-policy-version --policy-arn "
                     f"arn:aws:iam::{r.account}:policy/{r.name} --version-id {r.param}",
           path=("dormant_versions", "{param}")),
    Aspect("risk", ENTITY, "risky access", "risky access", lambda r: "the message says how",
           Accept.REFUSED, path=("{risk_at}",),
           refusal="is a risk, not drift: narrow the access, or waive it in waivers.yaml"),
    Aspect("existence", ("account",), "membership", "an account without a baseline",
           _account_fix, Accept.ACCOUNT_FILE),
    Aspect("membership", ("account",), "membership in structure.yaml",
           "an account nobody declared", _account_fix, Accept.ENTRY),
    Aspect("ou", ("account",), "organizational unit", "other SCPs apply", lambda r: _BACK,
           path=("ou",)),
    Aspect("name", ("account",), "account name", "none", lambda r: _BACK, path=("name",)),
    Aspect("existence", ("scp",), "existence", "a guardrail nobody declared", lambda r: _BACK,
           Accept.ENTRY),
    Aspect("document", ("scp",), "SCP document", "the guardrail allows more", lambda r: _BACK,
           path=("document",)),
    Aspect("targets", ("scp",), "SCP targets", "the guardrail moved", lambda r: _BACK,
           path=("targets",)),
    Aspect("edge", ("access",), "cross-account edge", "a principal may assume a role",
           lambda r: _EDGE_FIX, Accept.EDGE),
    Aspect("conditions", ("access",), "edge conditions",
           "the conditions access.yaml requires are gone", lambda r: _EDGE_FIX, Accept.EDGE),
    Aspect("existence", ("permission_set",), "permission set",
           "a permission set nobody declared", _set_fix, Accept.ENTRY),
    *(Aspect(family, ("permission_set",), title, widening, _set_fix, path=(family,))
      for family, title, widening in (
          ("inline_policy", "inline policy", "a session may do more"),
          ("managed_policies", "managed policies", "more policies attached"),
          ("customer_managed_policies", "customer managed policy references",
           "more policies referenced"),
          ("permissions_boundary", "permissions boundary", "the ceiling on permissions lifted"),
          ("session_duration", "session duration", "sessions last longer"))),
    Aspect("provisioned", ("permission_set",), "provisioned role",
           "the role in the account grants more than its set", lambda r:
           f"provision the set again (`{_SSO} provision-permission-set --target-id "
           f"{r.account}`), which puts the role back, and find who changed the role",
           Accept.REFUSED, path=(), refusal="is a role changed outside Identity Center: "
           "provision the set again (or waive it in waivers.yaml for a while)"),
    Aspect("outdated", ("permission_set",), "provisioning pending",
           "the account still has the set's previous version", lambda r:
           f"`{_SSO} provision-permission-set --target-type AWS_ACCOUNT --target-id "
           f"{r.account}` for {r.name}", Accept.REFUSED, path=(),
           refusal="is a set not provisioned again: provision it (or waive it for a while)"),
    Aspect("existence", ("assignment",), "assignment",
           "a principal may sign in to the account with a set", _assignment_fix,
           Accept.ASSIGNMENT),
    Aspect("members", ("sso_group",), "members",
           "more people sign in with the group's sets", lambda r:
           f"`aws identitystore delete-group-membership` for each member added to {r.name}",
           path=("members",)),
    Aspect("existence", ("sso_group",), "group", "none", lambda r: _BACK, Accept.ENTRY),
    Aspect("unknown", (*ENTITY, "account"), "value known only after apply",
           "what it grants cannot be told before apply",
           lambda r: "make the value known at plan time (a literal, or a data source), or "
           "apply in two steps", Accept.REFUSED, path=(),
           refusal="is known only after apply: nothing to write until it is"),
    Aspect("rule", ("reach",), "reachability rule", "a principal may reach what a rule forbids",
           lambda r: "cut a hop of the chain (the finding's actual value lists each, with the "
           "statements that allow it)", Accept.REFUSED, path=(),
           refusal="breaks a rule of access.yaml: cut the chain, or change the rule by hand "
           "(or waive it in waivers.yaml for a while)"),
)
# fmt: on

_BY_KEY = {(kind, a.family): a for a in ASPECTS for kind in a.kinds}


def split(aspect: str) -> tuple[str, str]:
    """`inline_policy:Extra` -> ("inline_policy", "Extra"); `groups` -> ("groups", "")."""
    family, _, param = aspect.partition(":")
    return family, param


def aspect_of(kind: str, aspect: str) -> Aspect:
    """The declared aspect; one not declared here (a field added to the models later) is
    a plain value under the entity, accepted as such."""
    family, _ = split(aspect)
    found = _BY_KEY.get((kind, family))
    if found is None:
        return Aspect(
            family, (kind,), family.replace("_", " "), "", lambda r: _BACK, path=(family,)
        )
    return found


def location(account: str, kind: str, name: str, aspect: str) -> tuple[str, tuple[str, ...]]:
    """(which file, key path in it) of what a finding is about: SARIF points at its line,
    `accept` writes there. The file is `account` (that account's own), `structure`,
    `access` or `organization`."""
    k, a = KINDS[kind], aspect_of(kind, aspect)
    _, param = split(aspect)
    if kind == "access":
        return "access", ("edges",)
    if kind == "reach":
        return "access", ("rules",)
    if kind == "assignment":
        return "identity_center", ("assignments",)
    if kind == "account" and a.family == "existence":
        return "organization", ()
    risk_at = "trust_policy" if kind == "role" else "inline_policies"
    tail = tuple(p.format(param=param, risk_at=risk_at) for p in a.path)
    return k.file, (k.section, name, *tail)


def rule(kind: str, aspect: str) -> tuple[str, str, str]:
    """(id, name, short description) of the SARIF rule for an aspect: one per kind and
    family, one per kind of risk.

    >>> rule("role", "inline_policy:Extra")
    ('iamdrift/role/inline_policy', 'role-inline-policy', 'role inline policy')
    """
    family, _ = split(aspect)
    family = aspect if family == "risk" else family
    name = f"{kind}-{family}".replace(":", "-").replace("_", "-")
    return f"iamdrift/{kind}/{family}", name, f"{kind} {family.replace('_', ' ')}"


def remediation(account: str, kind: str, name: str, aspect: str, change: str) -> str:
    """What to do about a finding: accept it into the baseline, or put IAM back.

    >>> remediation("222222222222", "role", "R", "trust_policy", "changed")[:78]
    'If the change was reviewed and intended, accept it with `runner.py accept 2222'
    """
    family, param = split(aspect)
    fix = aspect_of(kind, aspect).fix(Ref(account, kind, name, param, change))
    finding_id = f"{account}/{kind}/{name}/{aspect}"
    if family == "risk":
        return (
            f"Narrow it ({fix}), or, while that is planned, waive {finding_id} in waivers.yaml "
            "with an owner and an expiry."
        )
    if kind == "account" and family == "existence" and change == "unexpected":
        return f"If the account belongs in the audit, {fix}; otherwise find out who created it."
    return (
        f"If the change was reviewed and intended, accept it with `runner.py accept "
        f"{finding_id}` and commit the baseline diff (or waive it in waivers.yaml for a "
        f"while). Otherwise: {fix}."
    )
