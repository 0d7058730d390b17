"""IAM Identity Center: permission sets and group members as identity_center.yaml declares
them, and in every account who is assigned which set, its role as the set says."""


def test_identity_center_matches_baseline(identity_center):
    identity_center.assert_matches_baseline()
