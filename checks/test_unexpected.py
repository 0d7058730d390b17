"""Entities that exist in an account but that no baseline declares."""


def test_no_undeclared_entities(unexpected):
    unexpected.assert_matches_baseline()
