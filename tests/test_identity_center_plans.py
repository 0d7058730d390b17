"""Identity Center changes applied (pure): to the organization's read, and to one account's
provisioned roles and assignments, as AWS does it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamdrift.audit.predict_identity_center import AccountPlan, apply_to_account
from iamdrift.baselines.identity_center import (
    AccountAssignments,
    Assigned,
    IdentityCenterRead,
    IdentityGroup,
    PermissionSet,
)
from iamdrift.baselines.models import AccountState, ManagedPolicy, Role
from iamdrift.changes.identity_center import (
    AccountAssignment,
    DirectoryEntry,
    GroupMembership,
    IcEffect,
    PermissionSetChange,
    PermissionSetPolicy,
    Ref,
    apply_identity_center,
)
from iamdrift.compare.identity_center import RESERVED_PATH

ACCOUNT = "222222222222"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ROLE = "AWSReservedSSO_Audit_0123456789abcdef"
OPS = Assigned(principal="group:Ops", permission_set="Audit")
DEV = Assigned(principal="group:Dev", permission_set="Audit")


def _ic(**sets: PermissionSet) -> IdentityCenterRead:
    return IdentityCenterRead(
        instance="arn:aws:sso:::instance/ssoins-0123456789abcdef",
        store="d-1",
        permission_sets=sets or {"Audit": PermissionSet(managed_policies=[READ])},
        set_arns={"arn:ps-audit": "Audit"},
        principals={"g-ops": "group:Ops", "g-dev": "group:Dev", "u-bob": "user:bob"},
        groups={"Ops": IdentityGroup(members=["bob"]), "Dev": IdentityGroup()},
        users=["bob"],
        provisioned_to={ACCOUNT: ["Audit"]},
    )


def _role(*managed: str) -> Role:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_ab_DO_NOT_DELETE"
                },
                "Action": "sts:AssumeRoleWithSAML",
            }
        ],
    }
    return Role(
        path=RESERVED_PATH,
        trust_policy=trust,
        managed_policies=list(managed),
        max_session_duration=43200,
    )


LIVE = AccountState(roles={ROLE: _role(READ)})
ASSIGNED = AccountAssignments(provisioned=["Audit"], assignments=[OPS])
CUSTOMER = PermissionSet(customer_managed_policies=["/team/Reader"])


def _account(effects: list[IcEffect], state=LIVE, assigned=ASSIGNED, **sets) -> AccountPlan:
    plan = apply_identity_center(_ic(**sets), effects)
    assert not plan.unresolved, plan.unresolved
    return apply_to_account(plan, ACCOUNT, state, assigned, set())


def _assign(who: str, present: bool, ps: str = "Audit", account: str = ACCOUNT):
    return AccountAssignment("GROUP", Ref(name=who), Ref(name=ps), account, present)


@pytest.mark.parametrize(
    "effects, state, assigned, sets, want, assignments, outdated",
    [
        # A set assigned where it is not provisioned: its role is made, suffix unknown.
        (
            [_assign("Ops", True, "Admin")],
            LIVE,
            ASSIGNED,
            {
                "Audit": PermissionSet(managed_policies=[READ]),
                "Admin": PermissionSet(managed_policies=[ADMIN]),
            },
            {ROLE: [READ], "AWSReservedSSO_Admin_*": [ADMIN]},
            {OPS, Assigned(principal="group:Ops", permission_set="Admin")},
            set(),
        ),
        # A set referencing a policy the account lacks: Identity Center does not assign it.
        (
            [_assign("Ops", True, "Team")],
            LIVE,
            ASSIGNED,
            {"Audit": PermissionSet(), "Team": CUSTOMER},
            {ROLE: [READ]},
            {OPS},
            set(),
        ),
        # The set's last assignment here removed: its role goes with it.
        ([_assign("Ops", False)], LIVE, ASSIGNED, {}, {}, set(), set()),
        # One of two removed: the role stays.
        (
            [_assign("Ops", False)],
            LIVE,
            AccountAssignments(provisioned=["Audit"], assignments=[OPS, DEV]),
            {},
            {ROLE: [READ]},
            {DEV},
            set(),
        ),
        # A changed set is provisioned again: the role takes the set's policies.
        (
            [PermissionSetPolicy(Ref(id="arn:ps-audit"), "managed_policies", ADMIN, True)],
            LIVE,
            ASSIGNED,
            {},
            {ROLE: [ADMIN, READ]},
            {OPS},
            set(),
        ),
        # ...unless the account lacks a policy it references: outdated, the role as it was.
        (
            [
                PermissionSetPolicy(
                    Ref(name="Audit"), "customer_managed_policies", "/team/Reader", True
                )
            ],
            LIVE,
            ASSIGNED,
            {},
            {ROLE: [READ]},
            {OPS},
            {"Audit"},
        ),
        # ...and with the policy there, the role references it in the account.
        (
            [
                PermissionSetPolicy(
                    Ref(name="Audit"), "customer_managed_policies", "/team/Reader", True
                )
            ],
            LIVE.model_copy(
                update={
                    "policies": {
                        "Reader": ManagedPolicy(
                            path="/team/",
                            document={
                                "Version": "2012-10-17",
                                "Statement": [
                                    {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
                                ],
                            },
                        )
                    }
                }
            ),
            ASSIGNED,
            {},
            {ROLE: [f"arn:aws:iam::{ACCOUNT}:policy/team/Reader", READ]},
            {OPS},
            set(),
        ),
    ],
)
def test_one_account_after_the_plan(effects, state, assigned, sets, want, assignments, outdated):
    after = _account(effects, state, assigned, **sets)
    have = {n: sorted(r.managed_policies) for n, r in after.state.roles.items()}
    assert have == {n: sorted(p) for n, p in want.items()}
    assert set(after.assigned.assignments) == assignments
    assert after.outdated == outdated
    assert set(after.assigned.provisioned) == {n.split("_")[1] for n in want}


def test_a_new_role_trusts_the_accounts_identity_center_provider():
    after = _account(
        [_assign("Ops", True, "Admin")],
        Admin=PermissionSet(managed_policies=[ADMIN]),
        Audit=PermissionSet(managed_policies=[READ]),
    )
    new = after.state.roles["AWSReservedSSO_Admin_*"]
    assert new.trust_policy == LIVE.roles[ROLE].trust_policy and new.path == RESERVED_PATH
    assert after.groups == set()  # Ops is assigned here already


@pytest.mark.parametrize(
    "effect, members, pending",
    [
        (GroupMembership(Ref(id="g-ops"), Ref(name="carol"), True), ["bob", "carol"], {}),
        (GroupMembership(Ref(name="Ops"), Ref(id="u-bob"), False), [], {}),
        (GroupMembership(Ref(id="g-dev"), Ref(id="u-bob"), True), ["bob"], {"Dev": {"bob": True}}),
        (DirectoryEntry("user", "bob", False), [], {}),
    ],
)
def test_members_declared_change_in_the_read_others_wait_for_their_carrier(
    effect, members, pending
):
    plan = apply_identity_center(_ic(), [effect])
    assert plan.read.groups["Ops"].members == members
    assert plan.members == pending


def test_a_reference_to_nothing_is_unresolved():
    plan = apply_identity_center(
        _ic(),
        [
            AccountAssignment(
                "GROUP", Ref(id="g-gone"), Ref(id="arn:ps-audit"), ACCOUNT, True, "a.x"
            )
        ],
    )
    assert [u.address for u in plan.unresolved] == ["a.x"]


def test_deleting_a_set_touches_where_it_is_provisioned():
    plan = apply_identity_center(_ic(), [PermissionSetChange(Ref(name="Audit"), None)])
    assert "Audit" not in plan.read.permission_sets and plan.touched == {ACCOUNT}
    assert (
        _account([PermissionSetChange(Ref(name="Audit"), None), _assign("Ops", False)]).state.roles
        == {}
    )


@given(st.lists(st.tuples(st.sampled_from(["Ops", "Dev"]), st.booleans()), max_size=8))
def test_the_last_word_on_each_assignment_holds(steps):
    """Whatever the order of assignments and removals, each principal ends as its last
    effect says, and the set's role exists exactly when someone holds the set."""
    after = _account([_assign(who, present) for who, present in steps])
    final = {"Ops": True} | {who: present for who, present in steps}
    want = {Assigned(principal=f"group:{w}", permission_set="Audit") for w, p in final.items() if p}
    assert set(after.assigned.assignments) == want
    assert (ROLE in after.state.roles) == bool(want)
