"""IAM's wildcard grammar: `*` and `?` are the only wildcards; brackets and every other
character are literal, in actions (without case) and resources (with case)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iamdrift.access.evaluate import iam_match

TEXT = st.text(alphabet="aB:/[]!-*?.", max_size=8)


def oracle(patterns: list[str], value: str, case: bool) -> bool:
    """Character by character: `*` any run, `?` one character, the rest themselves."""

    def one(p: str, v: str) -> bool:
        if not p:
            return not v
        if p[0] == "*":
            return any(one(p[1:], v[i:]) for i in range(len(v) + 1))
        if not v:
            return False
        same = p[0] == v[0] if case else p[0].lower() == v[0].lower()
        return (p[0] == "?" or same) and one(p[1:], v[1:])

    return any(one(p, value) for p in patterns)


@given(
    st.lists(TEXT, min_size=1, max_size=4), st.text(alphabet="aB:/[]!-.", max_size=8), st.booleans()
)
def test_iam_match_agrees_with_the_grammar(patterns, value, case):
    assert iam_match(patterns, value, case) == oracle(patterns, value, case)


def test_brackets_are_literal():
    assert not iam_match(["arn:aws:s3:::bucket-[12]"], "arn:aws:s3:::bucket-1", case=True)
    assert iam_match(["arn:aws:s3:::bucket-[12]"], "arn:aws:s3:::bucket-[12]", case=True)
    assert not iam_match(["s3:Get[O]bject"], "s3:GetObject", case=False)
    assert iam_match(["S3:get*"], "s3:GetObject", case=False)
    assert not iam_match(["arn:aws:s3:::B*"], "arn:aws:s3:::b1", case=True)
