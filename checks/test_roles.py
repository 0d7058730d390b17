"""Roles: who may assume them (trust policy) and what they may then do."""


def test_role_matches_baseline(role):
    role.assert_matches_baseline()
