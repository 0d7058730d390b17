"""Customer managed policies: the default version's document; and no undeclared policy."""


def test_policies_match_baseline(policies):
    policies.assert_matches_baseline()
