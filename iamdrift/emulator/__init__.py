"""A local AWS for the demo, the tests and the benchmarks: moto's server on 127.0.0.1, what
AWS documents and moto lacks (Identity Center's provisioning in `sso`, request quotas in
`quota`), and the seed's organization (`seed`). Nothing here is used against real AWS;
`iamdrift` itself only reads.
"""

from iamdrift.emulator.seed import (
    assign,
    build_identity_center,
    build_seed_organization,
    group_id,
    ic_group,
    identity_center,
    permission_set,
    set_arn,
)
from iamdrift.emulator.server import (
    ACCOUNT_B,
    ADMIN,
    ASSUME,
    DEMO,
    EMULATED_MANAGED_POLICIES,
    MANAGEMENT,
    READ_ONLY,
    Emulator,
    allow,
    emulator_env,
    moto_server,
    pinned_account_ids,
    trust,
)

__all__ = [
    "ACCOUNT_B",
    "ADMIN",
    "ASSUME",
    "DEMO",
    "EMULATED_MANAGED_POLICIES",
    "MANAGEMENT",
    "READ_ONLY",
    "Emulator",
    "allow",
    "assign",
    "build_identity_center",
    "build_seed_organization",
    "emulator_env",
    "group_id",
    "ic_group",
    "identity_center",
    "moto_server",
    "permission_set",
    "pinned_account_ids",
    "set_arn",
    "trust",
]
