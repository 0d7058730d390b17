"""Users: group memberships, attached and inline policies, permissions boundary, path."""


def test_user_matches_baseline(user):
    user.assert_matches_baseline()
