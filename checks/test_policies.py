"""Customer managed policies: the default version's document."""


def test_managed_policy_matches_baseline(policy):
    policy.assert_matches_baseline()
