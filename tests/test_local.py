"""Ways in inside an account (access/local.py): role chaining, IAM take-over, administrators,
as small worlds table by table, and a property test against a plain pair-by-pair oracle."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamdrift.access.evaluate import OrgContext, iam_match
from iamdrift.access.local import local_edges, take_over_candidates
from iamdrift.access.reach import Reachability
from iamdrift.baselines.models import AccountState, Credentials
from iamdrift.compare.policy import normalize

A = "111111111111"
ROOT = f"arn:aws:iam::{A}:root"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/bob"
R = f"arn:aws:iam::{A}:role/R"
R2 = f"arn:aws:iam::{A}:role/R2"
CHAIN = f"arn:aws:iam::{A}:role/Chain"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
BOUNDARY_S3 = "arn:aws:iam::aws:policy/S3Only"
BODIES = {
    ADMIN: normalize({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    BOUNDARY_S3: normalize({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
}
ALLOW_ALL = normalize({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _doc(action, resource="*", effect="Allow", **extra):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource, **extra}],
    }


def _trust(*principals, effect="Allow", **extra):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"AWS": list(principals)},
                "Action": "sts:AssumeRole",
                **extra,
            }
        ],
    }


def _deny(action, resource="*"):
    return normalize(_doc(action, resource, "Deny"))


def _user(name="alice", **fields):
    return {"users": {name: fields}}


def _world(*parts):
    out: dict = {"users": {}, "roles": {}, "groups": {}, "policies": {}}
    for part in parts:
        for key, value in part.items():
            out[key].update(value)
    return out


def _role(name="R", trust=None, **fields):
    return {"roles": {name: {"trust_policy": trust or _trust(ROOT), **fields}}}


def _reached(data, start, scps=None, management=None):
    state = AccountState.model_validate(data)
    org = OrgContext(management=management, members={A}, scp_levels={A: scps} if scps else {})
    admins, edges = local_edges(A, state, BODIES, org)
    graph = Reachability([], edges, admins)
    return {c.target: c for c in graph.reach(start)}, edges


ASSUME_R = {"P": _doc("sts:AssumeRole", R)}
ASSUME_ANY = {"P": _doc("sts:AssumeRole", "*")}

# name: (world, SCP levels, start, target, reaches)
CASES = {
    "trust names the user: no identity policy needed": (
        _world(_user(), _role(trust=_trust(ALICE))),
        None,
        ALICE,
        R,
        True,
    ),
    "trust names the account: the identity policy decides (none)": (
        _world(_user(), _role()),
        None,
        ALICE,
        R,
        False,
    ),
    "trust names the account, identity allows the role": (
        _world(_user(inline_policies=ASSUME_R), _role()),
        None,
        ALICE,
        R,
        True,
    ),
    "trust names the account, identity allows every role": (
        _world(_user(inline_policies=ASSUME_ANY), _role(), _role("R2")),
        None,
        ALICE,
        R2,
        True,
    ),
    "identity allows every role but denies this one": (
        _world(
            _user(
                inline_policies={
                    "P": _doc("sts:AssumeRole", "*"),
                    "D": _doc("sts:AssumeRole", R, "Deny"),
                }
            ),
            _role(),
            _role("R2"),
        ),
        None,
        ALICE,
        R,
        False,
    ),
    "... and still the others": (
        _world(
            _user(
                inline_policies={
                    "P": _doc("sts:AssumeRole", "*"),
                    "D": _doc("sts:AssumeRole", R, "Deny"),
                }
            ),
            _role(),
            _role("R2"),
        ),
        None,
        ALICE,
        R2,
        True,
    ),
    "trust names the account, a boundary without sts": (
        _world(_user(inline_policies=ASSUME_ANY, permissions_boundary=BOUNDARY_S3), _role()),
        None,
        ALICE,
        R,
        False,
    ),
    "trust names the user, a boundary does not limit a user": (
        _world(_user(permissions_boundary=BOUNDARY_S3), _role(trust=_trust(ALICE))),
        None,
        ALICE,
        R,
        True,
    ),
    "role chaining: trust names the role": (
        _world(
            _role("Chain", trust=_trust("arn:aws:iam::999999999999:root")),
            _role(trust=_trust(CHAIN)),
        ),
        None,
        CHAIN,
        R,
        True,
    ),
    "role chaining: the role's boundary still limits it": (
        _world(_role("Chain", permissions_boundary=BOUNDARY_S3), _role(trust=_trust(CHAIN))),
        None,
        CHAIN,
        R,
        False,
    ),
    "an identity Deny beats a trust that names the user": (
        _world(
            _user(inline_policies={"D": _doc("sts:AssumeRole", "*", "Deny")}),
            _role(trust=_trust(ALICE)),
        ),
        None,
        ALICE,
        R,
        False,
    ),
    "a trust Deny on the user": (
        _world(
            _user(inline_policies=ASSUME_ANY),
            _role(
                trust={
                    "Statement": [
                        *_trust(ROOT)["Statement"],
                        *_trust(ALICE, effect="Deny")["Statement"],
                    ]
                }
            ),
        ),
        None,
        ALICE,
        R,
        False,
    ),
    "an SCP denying sts:AssumeRole": (
        _world(_user(inline_policies=ASSUME_ANY), _role()),
        [[ALLOW_ALL, _deny("sts:AssumeRole")]],
        ALICE,
        R,
        False,
    ),
    "may rewrite the role's trust": (
        _world(_user(inline_policies={"P": _doc("iam:UpdateAssumeRolePolicy", R)}), _role()),
        None,
        ALICE,
        R,
        True,
    ),
    "may rewrite every role's trust": (
        _world(
            _user(
                inline_policies={
                    "P": _doc("iam:UpdateAssumeRolePolicy", f"arn:aws:iam::{A}:role/*")
                }
            ),
            _role(),
            _role("R2"),
        ),
        None,
        ALICE,
        R2,
        True,
    ),
    "may rewrite every role's trust, but an SCP protects this one": (
        _world(_user(inline_policies={"P": _doc("iam:UpdateAssumeRolePolicy", "*")}), _role()),
        [[ALLOW_ALL, _deny("iam:UpdateAssumeRolePolicy", R)]],
        ALICE,
        R,
        False,
    ),
    "may rewrite the role's trust, but an SCP denies it sts:AssumeRole there": (
        _world(_user(inline_policies={"P": _doc("iam:UpdateAssumeRolePolicy", R)}), _role()),
        [[ALLOW_ALL, _deny("sts:AssumeRole", R)]],
        ALICE,
        R,
        False,
    ),
    "may rewrite every role's trust, but an SCP denies sts:AssumeRole on this one": (
        _world(_user(inline_policies={"P": _doc("iam:UpdateAssumeRolePolicy", "*")}), _role()),
        [[ALLOW_ALL, _deny("sts:AssumeRole", R)]],
        ALICE,
        R,
        False,
    ),
    "may make access keys for another user": (
        _world(_user(inline_policies={"P": _doc("iam:CreateAccessKey", BOB)}), _user("bob")),
        None,
        ALICE,
        BOB,
        True,
    ),
    "may set another user's password": (
        _world(_user(inline_policies={"P": _doc("iam:CreateLoginProfile", "*")}), _user("bob")),
        None,
        ALICE,
        BOB,
        True,
    ),
    "may make access keys only with MFA: still an edge, with its condition": (
        _world(
            _user(
                inline_policies={
                    "P": _doc(
                        "iam:CreateAccessKey",
                        BOB,
                        Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                    )
                }
            ),
            _user("bob"),
        ),
        None,
        ALICE,
        BOB,
        True,
    ),
    "may only read IAM": (
        _world(
            _user(inline_policies={"P": _doc(["iam:Get*", "iam:List*"])}), _user("bob"), _role()
        ),
        None,
        ALICE,
        BOB,
        False,
    ),
    "administrator becomes any role": (
        _world(
            _user(managed_policies=[ADMIN]), _role(trust=_trust("arn:aws:iam::999999999999:root"))
        ),
        None,
        ALICE,
        R,
        True,
    ),
    "administrator becomes any user": (
        _world(_user(managed_policies=[ADMIN]), _user("bob")),
        None,
        ALICE,
        BOB,
        True,
    ),
    "may put a policy on its own group: administrator": (
        _world(
            _user(groups=["G"]),
            {
                "groups": {
                    "G": {
                        "inline_policies": {
                            "P": _doc("iam:PutGroupPolicy", f"arn:aws:iam::{A}:group/G")
                        }
                    }
                }
            },
        ),
        None,
        ALICE,
        f"admin@{A}",
        True,
    ),
    "may make a new version of its own policy: administrator": (
        _world(
            _user(managed_policies=[f"arn:aws:iam::{A}:policy/Mine"]),
            {
                "policies": {
                    "Mine": {
                        "document": _doc("iam:CreatePolicyVersion", f"arn:aws:iam::{A}:policy/Mine")
                    }
                }
            },
        ),
        None,
        ALICE,
        f"admin@{A}",
        True,
    ),
    "may create a role and grant it: administrator": (
        _world(_user(inline_policies={"P": _doc(["iam:CreateRole", "iam:AttachRolePolicy"], "*")})),
        None,
        ALICE,
        f"admin@{A}",
        True,
    ),
    "may grant another role only: not administrator": (
        _world(_user(inline_policies={"P": _doc("iam:PutRolePolicy", R)}), _role()),
        None,
        ALICE,
        f"admin@{A}",
        False,
    ),
}


# action alice may call on bob (or on every user), what bob holds, does alice reach bob
TAKE_OVER = [
    ("iam:CreateAccessKey", BOB, Credentials(False, 1), True),
    ("iam:CreateAccessKey", BOB, Credentials(True, 2), False),  # at most two keys
    ("iam:CreateLoginProfile", BOB, Credentials(True, 0), False),  # has a password already
    ("iam:CreateLoginProfile", BOB, Credentials(False, 2), True),
    ("iam:UpdateLoginProfile", BOB, Credentials(False, 0), False),  # no password to change
    ("iam:UpdateLoginProfile", BOB, Credentials(True, 2), True),
    ("iam:UpdateLoginProfile", "*", Credentials(False, 0), False),  # on every user alike
    ("iam:CreateAccessKey", "*", Credentials(True, 1), True),
    ("iam:CreateAccessKey", BOB, None, True),  # not read: assumed to succeed
]


@pytest.mark.parametrize(("action", "resource", "held", "reaches"), TAKE_OVER)
def test_a_take_over_only_where_its_call_would_succeed(action, resource, held, reaches):
    data = _world(_user(inline_policies={"P": _doc(action, resource)}), _user("bob"))
    state = AccountState.model_validate(data)
    org = OrgContext(members={A})
    _, edges = local_edges(A, state, BODIES, org)
    # whose credentials are read: bob, or every user (alice too) for a take-over of any
    assert take_over_candidates(edges, A) == ([BOB] if resource == BOB else [ALICE, BOB])
    admins, edges = local_edges(A, state, BODIES, org, {BOB: held} if held else None)
    reached = {c.target for c in Reachability([], edges, admins).reach(ALICE)}
    assert (BOB in reached) is reaches, [(e.principal, e.target) for e in edges]


def test_an_administrators_take_over_needs_no_credentials_read():
    data = _world(_user(managed_policies=[ADMIN]), _user("bob"))
    _, edges = local_edges(A, AccountState.model_validate(data), BODIES, OrgContext(members={A}))
    assert take_over_candidates(edges, A) == []


@pytest.mark.parametrize("case", CASES)
def test_ways_in_inside_an_account(case):
    data, scps, start, target, expected = CASES[case]
    reached, edges = _reached(data, start, scps)
    assert (target in reached) is expected, [(e.principal, e.target, e.path) for e in edges]
    if expected:
        for hop in reached[target].hops:
            assert hop.path, hop  # every hop says why


def test_a_condition_travels_on_the_hop():
    data = _world(
        _user(inline_policies=ASSUME_R),
        _role(trust=_trust(ROOT, Condition={"StringEquals": {"sts:ExternalId": "x"}})),
    )
    reached, _ = _reached(data, ALICE)
    assert reached[R].hops[-1].conditions == {"StringEquals": {"sts:externalid": ["x"]}}


def test_the_management_account_is_not_bound_by_scps():
    data = _world(_user(inline_policies=ASSUME_ANY), _role())
    scps = [[ALLOW_ALL, _deny("sts:AssumeRole")]]
    state = AccountState.model_validate(data)
    org = OrgContext(management=A, members={A}, scp_levels={A: scps})
    _, edges = local_edges(A, state, BODIES, org)
    assert R in {e.target for e in edges}


def test_what_is_shared_is_one_node_not_an_edge_per_pair():
    """300 users allowed to assume any role, 300 roles trusting the account, one
    administrator: edges grow with principals, not with their pairs."""
    n = 300
    users = {f"u{i}": {"inline_policies": ASSUME_ANY} for i in range(n)}
    users["boss"] = {"managed_policies": [ADMIN]}
    roles = {f"r{i}": {"trust_policy": _trust(ROOT)} for i in range(n)}
    state = AccountState.model_validate({"users": users, "roles": roles})
    admins, edges = local_edges(A, state, BODIES, OrgContext(members={A}))
    assert admins == [f"arn:aws:iam::{A}:user/boss"]
    assert len(edges) <= 5 * n, len(edges)  # 4n + 4: roles@, users@, assumers@ and back
    graph = Reachability([], edges, admins)
    reached = {c.target for c in graph.reach(f"arn:aws:iam::{A}:user/u7")}
    assert {f"arn:aws:iam::{A}:role/r{i}" for i in range(n)} <= reached


# --- property: the reported closure is exactly the closure of pairs judged one by one ----

NAMES = ["u0", "u1", "r0", "r1", "r2"]


def _arn(name: str) -> str:
    return f"arn:aws:iam::{A}:{'user' if name[0] == 'u' else 'role'}/{name}"


ACTIONS = ["sts:AssumeRole", "iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey"]
RESOURCES = ["*", f"arn:aws:iam::{A}:role/*", f"arn:aws:iam::{A}:user/*", *map(_arn, NAMES)]
statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.sampled_from(ACTIONS),
        "Resource": st.sampled_from(RESOURCES),
    }
)
trusted = st.lists(
    st.sampled_from([ROOT, "*", *map(_arn, NAMES)]), min_size=1, max_size=2, unique=True
)


def _oracle(policies: dict[str, list[dict]], trusts: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Each pair judged on its own from the documented rules, no shared nodes."""

    def decision(who: str, action: str, resource: str) -> str:
        hits = [
            s["Effect"]
            for s in policies[who]
            if iam_match([s["Action"]], action, case=False)
            and iam_match([s["Resource"]], resource, case=True)
        ]
        return "deny" if "Deny" in hits else "allow" if hits else "none"

    pairs = set()
    for who in policies:
        for target in NAMES:
            if target == who:
                continue
            arn = _arn(target)
            if target[0] == "r":
                named = trusts[target]
                assume = decision(who, "sts:AssumeRole", arn)
                if assume != "deny" and (
                    _arn(who) in named or "*" in named or (ROOT in named and assume == "allow")
                ):
                    pairs.add((who, target))
                if decision(who, "iam:UpdateAssumeRolePolicy", arn) == "allow":
                    pairs.add((who, target))
            elif decision(who, "iam:CreateAccessKey", arn) == "allow":
                pairs.add((who, target))
    return pairs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({n: st.lists(statements, max_size=3) for n in NAMES}),
    st.fixed_dictionaries({n: trusted for n in NAMES if n[0] == "r"}),
)
def test_reported_reach_is_the_closure_of_pairs_judged_one_by_one(policies, trusts):
    data: dict = {"users": {}, "roles": {}}
    for name in NAMES:
        fields = {"inline_policies": {"P": {"Version": "2012-10-17", "Statement": policies[name]}}}
        if not policies[name]:
            fields = {}
        if name[0] == "u":
            data["users"][name] = fields
        else:
            data["roles"][name] = {**fields, "trust_policy": _trust(*trusts[name])}
    state = AccountState.model_validate(data)
    admins, edges = local_edges(A, state, {}, OrgContext(members={A}))
    assert admins == []  # no statement here grants a way to give oneself anything
    graph = Reachability([], edges, admins)
    pairs = _oracle(policies, trusts)
    for start in NAMES:
        expected, frontier = set(), {start}
        while frontier:
            step = {t for s, t in pairs if s in frontier} - expected - {start}
            expected |= step
            frontier = step
        got = {c.target for c in graph.reach(_arn(start))} - {_arn(start)}
        assert got == {_arn(n) for n in expected}, (start, pairs, edges)
