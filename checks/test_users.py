"""Users: group memberships, attached and inline policies, permissions boundary, path; and no
user that the baseline does not declare."""


def test_users_match_baseline(users):
    users.assert_matches_baseline()
