"""The organization: every member has a baseline and every baseline a member; OUs and SCPs
as structure.yaml declares them."""


def test_organization_matches_baselines(organization):
    organization.assert_matches_baseline()
