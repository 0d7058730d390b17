"""Who can assume what: the cross-account access graph against access.yaml, and risky access."""


def test_cross_account_access_matches_baseline(access):
    access.assert_matches_baseline()


def test_no_risky_access(risks):
    risks.assert_matches_baseline()
