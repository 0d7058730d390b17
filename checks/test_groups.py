"""Groups: attached managed policies and inline policies (the AssumeRole grants live here);
and no group that the baseline does not declare."""


def test_groups_match_baseline(groups):
    groups.assert_matches_baseline()
