"""Groups: attached managed policies and inline policies (the AssumeRole grants live here)."""


def test_group_matches_baseline(group):
    group.assert_matches_baseline()
