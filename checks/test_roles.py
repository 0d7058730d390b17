"""Roles: who may assume them (trust policy) and what they may then do; and no role that
the baseline does not declare."""


def test_roles_match_baseline(roles):
    roles.assert_matches_baseline()
