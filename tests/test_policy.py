"""Comparison by meaning: forms that mean the same are equal, real differences are not."""

from __future__ import annotations

import pytest

from iamdrift.compare.meaning import widens
from iamdrift.compare.policy import normalize

ROLE = "arn:aws:iam::222222222222:role/MemberReadOnlyAccess"
DEMO1 = "arn:aws:iam::111111111111:user/demo1"


def doc(*statements, version="2012-10-17"):
    return {"Version": version, "Statement": list(statements)}


def stmt(**kw):
    return {"Effect": "Allow", **kw}


BASE = doc(stmt(Action="sts:AssumeRole", Principal={"AWS": DEMO1}))

SAME = {
    "Statement as object, not list": (
        doc(stmt(Action="sts:AssumeRole", Principal={"AWS": DEMO1})),
        {
            "Version": "2012-10-17",
            "Statement": stmt(Action="sts:AssumeRole", Principal={"AWS": DEMO1}),
        },
    ),
    "one-item list vs string (Action, Principal)": (
        BASE,
        doc(stmt(Action=["sts:AssumeRole"], Principal={"AWS": [DEMO1]})),
    ),
    "action case": (BASE, doc(stmt(Action="STS:assumeROLE", Principal={"AWS": DEMO1}))),
    "account id vs root ARN": (
        doc(stmt(Action="sts:AssumeRole", Principal={"AWS": "111111111111"})),
        doc(stmt(Action="sts:AssumeRole", Principal={"AWS": "arn:aws:iam::111111111111:root"})),
    ),
    '"*" vs {"AWS": "*"}': (
        doc(stmt(Action="sts:AssumeRole", Principal="*")),
        doc(stmt(Action="sts:AssumeRole", Principal={"AWS": "*"})),
    ),
    "order of statements": (
        doc(stmt(Action="s3:GetObject", Resource="*"), stmt(Action="ec2:Describe*", Resource="*")),
        doc(stmt(Action="ec2:Describe*", Resource="*"), stmt(Action="s3:GetObject", Resource="*")),
    ),
    "order of actions and resources": (
        doc(stmt(Action=["a:B", "c:D"], Resource=["arn:x:1", "arn:x:2"])),
        doc(stmt(Action=["c:D", "a:B"], Resource=["arn:x:2", "arn:x:1"])),
    ),
    "order of condition values, string vs list": (
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"AWS": DEMO1},
                Condition={"StringEquals": {"sts:ExternalId": ["b", "a"]}},
            )
        ),
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"AWS": DEMO1},
                Condition={"StringEquals": {"sts:ExternalId": ["a", "b"]}},
            )
        ),
    ),
    "condition value as bool vs string": (
        doc(
            stmt(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": True}})
        ),
        doc(
            stmt(
                Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
        ),
    ),
    "condition key case": (
        doc(
            stmt(
                Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
        ),
        doc(
            stmt(
                Action="*", Resource="*", Condition={"Bool": {"AWS:multifactorauthpresent": "true"}}
            )
        ),
    ),
    "duplicate statements and values collapse": (
        doc(stmt(Action=["sts:AssumeRole", "sts:assumerole"], Resource=ROLE)),
        doc(
            stmt(Action="sts:AssumeRole", Resource=ROLE),
            stmt(Action="sts:AssumeRole", Resource=ROLE),
        ),
    ),
    "Sid is a label": (
        doc(stmt(Sid="One", Action="sts:AssumeRole", Resource=ROLE)),
        doc(stmt(Action="sts:AssumeRole", Resource=ROLE)),
    ),
}

DIFFERENT = {
    "Action vs NotAction": (
        doc(stmt(Action="iam:*", Resource="*")),
        doc(stmt(NotAction="iam:*", Resource="*")),
    ),
    "Resource vs NotResource": (
        doc(stmt(Action="*", Resource=ROLE)),
        doc(stmt(Action="*", NotResource=ROLE)),
    ),
    "ARN case": (
        BASE,
        doc(
            stmt(Action="sts:AssumeRole", Principal={"AWS": "arn:aws:iam::111111111111:user/Demo1"})
        ),
    ),
    "resource ARN case": (
        doc(stmt(Action="sts:AssumeRole", Resource=ROLE)),
        doc(stmt(Action="sts:AssumeRole", Resource=ROLE.lower())),
    ),
    "Bool vs BoolIfExists": (
        doc(
            stmt(
                Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
        ),
        doc(
            stmt(
                Action="*",
                Resource="*",
                Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
            )
        ),
    ),
    "condition key added": (
        BASE,
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"AWS": DEMO1},
                Condition={"StringEquals": {"sts:ExternalId": "x"}},
            )
        ),
    ),
    "condition key removed": (
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"AWS": DEMO1},
                Condition={"StringEquals": {"sts:ExternalId": "x", "aws:PrincipalOrgID": "o-1"}},
            )
        ),
        doc(
            stmt(
                Action="sts:AssumeRole",
                Principal={"AWS": DEMO1},
                Condition={"StringEquals": {"sts:ExternalId": "x"}},
            )
        ),
    ),
    "condition value case": (
        doc(stmt(Action="*", Resource="*", Condition={"StringEquals": {"sts:ExternalId": "Abc"}})),
        doc(stmt(Action="*", Resource="*", Condition={"StringEquals": {"sts:ExternalId": "abc"}})),
    ),
    "Effect": (
        doc(stmt(Action="s3:*", Resource="*")),
        doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    ),
    "principal widened to the account": (
        BASE,
        doc(stmt(Action="sts:AssumeRole", Principal={"AWS": "111111111111"})),
    ),
    "Principal vs NotPrincipal": (
        BASE,
        doc(stmt(Action="sts:AssumeRole", NotPrincipal={"AWS": DEMO1})),
    ),
    "principal type": (
        doc(stmt(Action="sts:AssumeRole", Principal={"Service": "ec2.amazonaws.com"})),
        doc(stmt(Action="sts:AssumeRole", Principal={"Federated": "ec2.amazonaws.com"})),
    ),
}


@pytest.mark.parametrize("case", SAME)
def test_same_meaning_is_equal(case):
    a, b = SAME[case]
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize("case", DIFFERENT)
def test_different_meaning_stays_different(case):
    a, b = DIFFERENT[case]
    assert normalize(a) != normalize(b)


WIDENING = {
    "principal widened to the account root": (
        BASE,
        DIFFERENT["principal widened to the account"][1],
        True,
    ),
    "narrowed back to one user": (DIFFERENT["principal widened to the account"][1], BASE, False),
    "condition removed": (DIFFERENT["condition key added"][1], BASE, True),
    "condition added": (BASE, DIFFERENT["condition key added"][1], False),
    "action added": (
        BASE,
        doc(stmt(Action=["sts:AssumeRole", "sts:TagSession"], Principal={"AWS": DEMO1})),
        True,
    ),
    "resource narrowed from *": (
        doc(stmt(Action="sts:AssumeRole", Resource="*")),
        doc(stmt(Action="sts:AssumeRole", Resource=ROLE)),
        False,
    ),
    "deny removed": (
        doc(stmt(Action="*", Resource="*"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}),
        doc(stmt(Action="*", Resource="*")),
        True,
    ),
    "deny added": (
        doc(stmt(Action="*", Resource="*")),
        doc(stmt(Action="*", Resource="*"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}),
        False,
    ),
    "statement removed": (
        doc(stmt(Action="a:B", Resource="*"), stmt(Action="c:D", Resource="*")),
        doc(stmt(Action="a:B", Resource="*")),
        False,
    ),
    "Action swapped for NotAction": (
        doc(stmt(Action="iam:*", Resource="*")),
        doc(stmt(NotAction="iam:*", Resource="*")),
        True,
    ),
}


@pytest.mark.parametrize("case", WIDENING)
def test_widening_is_told_apart_from_narrowing(case):
    before, after, wider = WIDENING[case]
    assert widens(normalize(before), normalize(after)) is wider
