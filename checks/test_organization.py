"""Organization membership: every member account has a baseline, every baseline a member."""


def test_organization_members_match_baselines(organization):
    organization.assert_matches_baseline()
