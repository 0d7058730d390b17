"""Policies compared by the requests they allow and deny: property tests against an oracle.

The oracle evaluates a policy over a finite universe of concrete requests (principal,
action, resource, request context) the way IAM matches a statement, and returns the
requests each effect covers. Rewrites that keep the meaning (split, merge, reorder,
duplicate, add a covered statement) must compare equal; changes by one principal,
action, resource or condition value that the oracle sees must not; and `equivalent`
must never call two policies equal that the oracle tells apart.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from fnmatch import fnmatchcase

import moto.iam.aws_managed_policies as moto_policies
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamdrift.compare.meaning import equivalent, glob_covers, widens
from iamdrift.compare.policy import normalize

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "iam:GetRole", "sts:AssumeRole"]
ACTION_PATTERNS = [*ACTIONS, "s3:Get*", "s3:*", "iam:Get*"]
RESOURCES = ["arn:aws:s3:::a/x", "arn:aws:s3:::a/y", "arn:aws:s3:::b/x", "*"]
RESOURCE_PATTERNS = [*RESOURCES, "arn:aws:s3:::a/*"]
PRINCIPALS = [
    "arn:aws:iam::111111111111:user/u",
    "arn:aws:iam::111111111111:role/r",
    "arn:aws:iam::222222222222:root",
]
TEAM = "aws:principaltag/team"
CONDITIONS = [
    ("StringEquals", TEAM, ["a"]),
    ("StringEquals", TEAM, ["a", "b"]),
    ("StringNotEquals", TEAM, ["b"]),
    ("Bool", "aws:multifactorauthpresent", ["true"]),
]
CONTEXTS = [
    {TEAM: team, "aws:multifactorauthpresent": mfa}
    for team in ("a", "b", "c", None)
    for mfa in ("true", None)
]


def _matches_condition(op: str, key: str, values: list[str], context: dict) -> bool:
    present = context.get(key.lower())
    if op == "StringNotEquals":
        return present is None or present not in values
    return present is not None and present in values  # StringEquals, Bool


def _matches(stmt: dict, principal: str | None, action: str, resource: str, ctx: dict) -> bool:
    def listed(name: str, value: str, case: bool) -> bool:
        patterns = stmt[name] if isinstance(stmt[name], list) else [stmt[name]]
        if case:
            return any(fnmatchcase(value, p) for p in patterns)
        return any(fnmatchcase(value.lower(), p.lower()) for p in patterns)

    if "Action" in stmt and not listed("Action", action, False):
        return False
    if "NotAction" in stmt and listed("NotAction", action, False):
        return False
    if "Resource" in stmt and not listed("Resource", resource, True):
        return False
    if "Principal" in stmt:
        aws = stmt["Principal"]["AWS"]
        aws = aws if isinstance(aws, list) else [aws]
        if principal not in aws and "*" not in aws:
            return False
    for op, pairs in stmt.get("Condition", {}).items():
        for key, values in pairs.items():
            if not _matches_condition(
                op, key, values if isinstance(values, list) else [values], ctx
            ):
                return False
    return True


def oracle(policy: dict) -> dict[str, frozenset]:
    """Per effect, every request of the universe that some statement of that effect matches."""
    principals = [*PRINCIPALS, "arn:aws:iam::333333333333:user/other"]
    resources = [*RESOURCES[:-1], "arn:aws:s3:::a/z", "arn:aws:s3:::c/q"]
    actions = [*ACTIONS, "s3:GetBucketPolicy", "ec2:RunInstances"]
    out: dict[str, set] = {"Allow": set(), "Deny": set()}
    stmts = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    for stmt in stmts:
        who = principals if "Principal" in stmt else [None]
        for p, a, r, (n, ctx) in itertools.product(who, actions, resources, enumerate(CONTEXTS)):
            if _matches(stmt, p, a, r, ctx):
                out[stmt["Effect"]].add((p, a.lower(), r, n))
    return {k: frozenset(v) for k, v in out.items()}


def statements(trust: bool):
    pick = lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)  # noqa: E731
    condition = st.lists(st.sampled_from(CONDITIONS), max_size=2, unique_by=lambda c: (c[0], c[1]))

    def build(effect, actions, resources, principals, conditions):
        stmt = {"Effect": effect, "Action": actions}
        if trust:
            stmt["Principal"] = {"AWS": principals}
        else:
            stmt["Resource"] = resources
        if conditions:
            block: dict = {}
            for op, key, values in conditions:
                block.setdefault(op, {})[key] = values
            stmt["Condition"] = block
        return stmt

    return st.builds(
        build,
        st.sampled_from(["Allow", "Allow", "Deny"]),
        pick(ACTION_PATTERNS),
        pick(RESOURCE_PATTERNS),
        pick(PRINCIPALS),
        condition,
    )


def policies(trust: bool = False):
    return st.builds(
        lambda s: {"Version": "2012-10-17", "Statement": s},
        st.lists(statements(trust), min_size=1, max_size=4),
    )


def _eq(a: dict, b: dict) -> bool:
    return equivalent(normalize(a), normalize(b))


def _split(policy: dict) -> dict:
    """One statement per principal, action and resource."""
    out = []
    for s in policy["Statement"]:
        keys = [k for k in ("Principal", "Action", "Resource") if k in s]
        values = [s[k]["AWS"] if k == "Principal" else s[k] for k in keys]
        for combo in itertools.product(*values):
            new = copy.deepcopy(s)
            for k, v in zip(keys, combo, strict=True):
                new[k] = {"AWS": [v]} if k == "Principal" else [v]
            out.append(new)
    return {**policy, "Statement": out}


def _merge(policy: dict) -> dict:
    """Statements alike but for their actions become one statement."""
    groups: dict[str, dict] = {}
    for s in policy["Statement"]:
        key = json.dumps({k: v for k, v in s.items() if k != "Action"}, sort_keys=True)
        if key in groups:
            groups[key]["Action"] = sorted({*groups[key]["Action"], *s["Action"]})
        else:
            groups[key] = copy.deepcopy(s)
    return {**policy, "Statement": list(groups.values())}


def _covered(stmt: dict) -> dict:
    """A statement that `stmt` covers: one of its actions, under one more condition."""
    new = copy.deepcopy(stmt)
    new["Action"] = new["Action"][:1]
    new.setdefault("Condition", {}).setdefault("Null", {})["aws:sourceip"] = ["false"]
    return new


REWRITES = {
    "split": _split,
    "merge": lambda p: _merge(_split(p)),
    "reorder": lambda p: {
        **p,
        "Statement": [
            {**s, "Action": list(reversed(s["Action"]))} for s in reversed(p["Statement"])
        ],
    },
    "duplicate": lambda p: {**p, "Statement": [*p["Statement"], p["Statement"][0]]},
    "subsumed": lambda p: {**p, "Statement": [*p["Statement"], _covered(p["Statement"][0])]},
    "single object": lambda p: {"Statement": p["Statement"][0], "Version": "2012-10-17"},
}


@pytest.mark.parametrize("rewrite", REWRITES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), trust=policies(trust=True))
def test_rewrites_that_keep_the_meaning_compare_equal(rewrite, policy, trust):
    for p in (policy, trust):
        if rewrite == "single object":
            p = {**p, "Statement": p["Statement"][:1]}
        q = REWRITES[rewrite](p)
        assert oracle(p) == oracle(q)  # the rewrite keeps the meaning...
        assert _eq(p, q), json.dumps([p, q])  # ...and the comparison sees it


def _changes(policy: dict):
    """Single edits: one principal, action, resource or condition value more or less."""
    for i, s in enumerate(policy["Statement"]):
        for field, pool in (("Action", ACTION_PATTERNS), ("Resource", RESOURCE_PATTERNS)):
            if field not in s:
                continue
            for extra in pool:
                if extra not in s[field]:
                    yield _edit(policy, i, field, [*s[field], extra])
            if len(s[field]) > 1:
                yield _edit(policy, i, field, s[field][1:])
        if "Principal" in s:
            aws = s["Principal"]["AWS"]
            for extra in [*PRINCIPALS, "arn:aws:iam::333333333333:user/other", "*"]:
                if extra not in aws:
                    yield _edit(policy, i, "Principal", {"AWS": [*aws, extra]})
            if len(aws) > 1:
                yield _edit(policy, i, "Principal", {"AWS": aws[1:]})
        for op, pairs in s.get("Condition", {}).items():
            for key, values in pairs.items():
                block = copy.deepcopy(s["Condition"])
                block[op][key] = [*values, "c"]
                yield _edit(policy, i, "Condition", block)
        yield _edit(policy, i, "Effect", "Deny" if s["Effect"] == "Allow" else "Allow")


def _edit(policy: dict, index: int, field: str, value) -> dict:
    new = copy.deepcopy(policy)
    new["Statement"][index][field] = value
    return new


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), trust=policies(trust=True), pick=st.integers(0, 10**6))
def test_changes_to_what_is_allowed_or_denied_compare_different(policy, trust, pick):
    for p in (policy, trust):
        changes = list(_changes(p))
        q = changes[pick % len(changes)]
        if oracle(p) != oracle(q):
            assert not _eq(p, q), json.dumps([p, q])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=policies(), b=policies())
def test_equal_is_never_said_of_policies_that_differ(a, b):
    if _eq(a, b):
        assert oracle(a) == oracle(b)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=policies(), b=policies())
def test_widening_is_said_of_every_change_that_allows_more(a, b):
    before, after = oracle(a), oracle(b)
    allows_more = bool((after["Allow"] - before["Allow"]) | (before["Deny"] - after["Deny"]))
    if allows_more:
        assert widens(normalize(a), normalize(b))


@pytest.mark.parametrize(
    ("broad", "narrow", "covered"),
    [
        ("*", "anything", True),
        ("s3:*", "s3:get*", True),
        ("s3:get*", "s3:*", False),
        ("s3:get?bject", "s3:getobject", True),
        ("a*b*", "a*", False),
        ("a*", "a*b*", True),
        ("arn:aws:s3:::a/*", "arn:aws:s3:::a/x", True),
        ("arn:aws:s3:::a/x", "arn:aws:s3:::a/*", False),
    ],
)
def test_glob_coverage(broad, narrow, covered):
    assert glob_covers(broad, narrow) is covered


CORPUS = json.loads(moto_policies.aws_managed_policies_data)


def _corpus(n: int = 80) -> list[tuple[str, dict]]:
    """AWS's own managed policies with at least one multi-action statement."""
    names = sorted(CORPUS)
    random.Random(7).shuffle(names)
    out = []
    for name in names:
        doc = CORPUS[name]["Document"]
        stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        if any(isinstance(s.get("Action"), list) and len(s["Action"]) > 1 for s in stmts):
            out.append((name, {**doc, "Statement": stmts}))
        if len(out) == n:
            return out
    return out


def test_aws_managed_policies_split_per_action_compare_equal_and_a_removal_is_seen():
    for name, doc in _corpus():
        split = {
            **doc,
            "Statement": [
                {**s, "Action": a} if isinstance(s.get("Action"), list) else s
                for s in doc["Statement"]
                for a in (s["Action"] if isinstance(s.get("Action"), list) else [None])
            ],
        }
        assert _eq(doc, split), name
        reformatted = json.loads(json.dumps(doc, sort_keys=True))
        reformatted["Statement"] = list(reversed(reformatted["Statement"]))
        assert _eq(doc, reformatted), name
        removed = _remove_an_uncovered_action(doc)
        if removed is not None:
            assert not _eq(doc, removed), name
            assert not widens(normalize(doc), normalize(removed)), name


def _remove_an_uncovered_action(doc: dict) -> dict | None:
    """Drop an Allow action that no other pattern of the policy covers: less is allowed."""
    allows = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    if any("NotAction" in s for s in doc["Statement"]):
        return None
    patterns = [
        a.lower()
        for s in allows
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    for i, s in enumerate(doc["Statement"]):
        if s["Effect"] != "Allow" or not isinstance(s.get("Action"), list) or len(s["Action"]) < 2:
            continue
        for action in s["Action"]:
            a = action.lower()
            if sum(glob_covers(p, a) for p in patterns) == 1:  # only itself
                new = copy.deepcopy(doc)
                new["Statement"][i]["Action"] = [x for x in s["Action"] if x != action]
                return new
    return None
