"""IAM Identity Center: the pure comparison (tables of cases, a property), loading and
validating identity_center.yaml, and end to end on moto: snapshot then a clean run, each
finding kind with its id, accept, the access graph's edges, fail closed."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamdrift.baselines.identity_center import (
    Assigned,
    Assignment,
    IdentityCenterFile,
    IdentityCenterRead,
    IdentityGroup,
    PermissionSet,
    seconds,
)
from iamdrift.baselines.load import load_baselines
from iamdrift.baselines.models import AccountState, Role
from iamdrift.compare.identity_center import (
    AccountIdentityCenter,
    diff_account_assignments,
    diff_organization,
    expected_in,
    role_of,
)
from iamdrift.emulator import (
    ACCOUNT_B,
    ADMIN,
    DEMO,
    MANAGEMENT,
    READ_ONLY,
    allow,
    assign,
    group_id,
    ic_group,
    identity_center,
    set_arn,
    trust,
)
from iamdrift.errors import BaselineError
from tests.conftest import SHIPPED_BASELINES

ROLE = "AWSReservedSSO_Admin_0123456789abcdef"
SAML = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::222222222222:saml-provider/AWSSSO_1_DO_NOT_DELETE"
            },
            "Action": "sts:AssumeRoleWithSAML",
        }
    ]
}


def _role(**fields) -> Role:
    return Role(path="/aws-reserved/sso.amazonaws.com/", trust_policy=SAML, **fields)


def _account(live, expected=(), outdated=(), provisioned=(), sets=None) -> AccountIdentityCenter:
    return AccountIdentityCenter(
        DEMO,
        "DEMO",
        set(expected),
        set(live),
        list(provisioned),
        sets or {"Admin": PermissionSet(managed_policies=[ADMIN], session_duration="PT8H")},
        set(outdated),
    )


G = Assigned(principal="group:Ops", permission_set="Admin")
H = Assigned(principal="group:Audit", permission_set="Admin")


@pytest.mark.parametrize(
    ("live", "expected", "admin", "want"),
    [
        ([G], [], {"Admin"}, [("Admin:group:Ops/existence", "critical", "administrator")]),
        ([G], [], set(), [("Admin:group:Ops/existence", "high", "a permission set")]),
        ([G, H], [H], set(), [("Admin:group:Ops/existence", "high", "new principal")]),
        ([], [G], set(), [("Admin:group:Ops/existence", "medium", "not assigned")]),
        ([G], [G], {"Admin"}, []),
    ],
)
def test_assignment_findings(live, expected, admin, want):
    found = diff_account_assignments(_account(live, expected), AccountState(), admin)
    got = [(f.id.split("/", 2)[2], f.severity) for f in found]
    assert got == [(f"{w[0]}", w[1]) for w in want]
    for f, w in zip(found, want, strict=True):
        assert w[2] in f.message and f.resource_type == "assignment"


# As Identity Center makes it: a 12-hour role whatever the set's session (User Guide, "Set
# session duration"); the set's own duration is judged on the set.
_PROVISIONED = {"managed_policies": [ADMIN], "max_session_duration": 43200}


@pytest.mark.parametrize(
    ("role", "outdated", "want"),
    [
        (_PROVISIONED, False, []),
        ({**_PROVISIONED, "managed_policies": [ADMIN, READ_ONLY]}, False, ("provisioned", "high")),
        ({**_PROVISIONED, "max_session_duration": 3600}, False, []),
        ({**_PROVISIONED, "max_session_duration": 28800}, False, []),
        (
            {**_PROVISIONED, "inline_policies": {"AwsSSOInlinePolicy": allow("s3:*", "*")}},
            False,
            ("provisioned", "high"),
        ),
        (
            {**_PROVISIONED, "inline_policies": {"x": allow("s3:*", "*")}},
            False,
            ("provisioned", "high"),
        ),
        ({**_PROVISIONED, "managed_policies": []}, True, ("outdated", "medium")),
        ({**_PROVISIONED, "managed_policies": [ADMIN, READ_ONLY]}, True, ("outdated", "high")),
        (None, False, ("provisioned", "medium")),
    ],
)
def test_provisioned_role_against_its_set(role, outdated, want):
    state = AccountState(roles={ROLE: _role(**role)} if role is not None else {})
    ic = _account([G], [G], {"Admin"} if outdated else (), ["Admin"])
    found = [
        f for f in diff_account_assignments(ic, state, set()) if f.resource_type == "permission_set"
    ]
    assert [(f.aspect, f.severity) for f in found] == ([want] if want else [])
    if want:
        assert found[0].id == f"{DEMO}/permission_set/Admin/{want[0]}"


CUSTOMER = PermissionSet(customer_managed_policies=["/team/Reader"], permissions_boundary="/Bound")


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_customer_managed_policies_are_looked_up_in_the_instances_partition(partition):
    local = f"arn:{partition}:iam::{DEMO}:policy"
    doc = allow("s3:GetObject", "*")
    state = AccountState.model_validate(
        {
            "roles": {
                ROLE: {
                    "path": "/aws-reserved/sso.amazonaws.com/",
                    "trust_policy": SAML,
                    "managed_policies": [f"{local}/team/Reader"],
                    "permissions_boundary": f"{local}/Bound",
                }
            },
            "policies": {"Reader": {"path": "/team/", "document": doc}, "Bound": {"document": doc}},
        }
    )
    ic = _account([G], [G], (), ["Admin"], {"Admin": CUSTOMER})
    ic.partition = partition
    assert diff_account_assignments(ic, state, set()) == []


@pytest.mark.parametrize(
    ("assigned", "outdated", "want"),
    [
        # The assignment failed: declared, not there, and the message says why.
        (
            False,
            False,
            ("assignment", "existence", "lacks the customer managed policy /Bound, /team/Reader"),
        ),
        # A set changed to reference it: provisioning failed, the role keeps the old version.
        (
            True,
            True,
            (
                "permission_set",
                "outdated",
                "lacks the customer managed policy /Bound, /team/Reader",
            ),
        ),
    ],
)
def test_a_customer_managed_policy_missing_in_the_account_is_a_finding(assigned, outdated, want):
    state = AccountState(roles={ROLE: _role(**_PROVISIONED)} if assigned else {})
    ic = _account(
        [G] if assigned else [],
        [G],
        {"Admin"} if outdated else (),
        ["Admin"] if assigned else [],
        {"Admin": CUSTOMER},
    )
    found = diff_account_assignments(ic, state, set())
    assert [(f.resource_type, f.aspect) for f in found] == [want[:2]]
    assert want[2] in found[0].message


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("PT1H", "PT1H"),
        ("PT60M", "PT1H"),
        ("PT3600S", "PT1H"),
        ("PT1H5M40S", "PT1H5M40S"),
        ("PT12H", "PT12H"),
        ("P0DT8H", "PT8H"),
        ("PT1H30M", "PT1H30M"),
        ("PT90M", "PT1H30M"),
    ],
)
def test_every_iso_duration_the_api_allows(text, canonical):
    assert PermissionSet(session_duration=text).session_duration == canonical


@pytest.mark.parametrize("text", ["PT30M", "PT13H", "P1D", "1h", "PT", "P1Y", ""])
def test_sessions_outside_one_to_twelve_hours_are_refused(text):
    with pytest.raises(ValueError, match=r"session|ISO 8601"):
        PermissionSet(session_duration=text)


def test_role_of_resolves_references_in_the_account():
    content = PermissionSet(
        customer_managed_policies=["/audit/DenySecrets"],
        permissions_boundary="/Boundary",
        session_duration="PT1H30M",
    )
    assert role_of(content, DEMO) == {
        "managed_policies": [f"arn:aws:iam::{DEMO}:policy/audit/DenySecrets"],
        "inline_policy": None,
        "permissions_boundary": f"arn:aws:iam::{DEMO}:policy/Boundary",
    }


@pytest.mark.parametrize(
    ("want", "have", "aspect", "severity"),
    [
        (PermissionSet(), PermissionSet(inline_policy=allow("s3:*", "*")), "inline_policy", "high"),
        (
            PermissionSet(inline_policy=allow("s3:*", "*")),
            PermissionSet(inline_policy=allow("s3:GetObject", "*")),
            "inline_policy",
            "low",
        ),
        (PermissionSet(), PermissionSet(managed_policies=[ADMIN]), "managed_policies", "high"),
        (PermissionSet(managed_policies=[ADMIN]), PermissionSet(), "managed_policies", "low"),
        (PermissionSet(), PermissionSet(session_duration="PT12H"), "session_duration", "medium"),
        (PermissionSet(session_duration="PT8H"), PermissionSet(), "session_duration", "low"),
        (
            PermissionSet(permissions_boundary=READ_ONLY),
            PermissionSet(),
            "permissions_boundary",
            "high",
        ),
        (
            PermissionSet(),
            PermissionSet(customer_managed_policies=["/X"]),
            "customer_managed_policies",
            "high",
        ),
        (None, PermissionSet(), "existence", "high"),
        (PermissionSet(), None, "existence", "medium"),
    ],
)
def test_permission_set_compared_by_meaning(want, have, aspect, severity):
    read = IdentityCenterRead(instance="i", store="s")
    file = IdentityCenterFile()
    if want is not None:
        file.permission_sets["S"] = want
    if have is not None:
        read.permission_sets["S"] = have
    found = diff_organization(MANAGEMENT, file, read)
    assert [(f.id, f.severity) for f in found] == [
        (f"{MANAGEMENT}/permission_set/S/{aspect}", severity)
    ]


def test_same_meaning_is_no_finding():
    doc = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "S3:GetObject", "Resource": "*"},
    }
    read = IdentityCenterRead(instance="i", store="s")
    read.permission_sets["S"] = PermissionSet(inline_policy=allow("s3:getobject", "*"))
    file = IdentityCenterFile(permission_sets={"S": PermissionSet(inline_policy=doc)})
    assert diff_organization(MANAGEMENT, file, read) == []


@pytest.mark.parametrize(
    ("declared", "live", "want"),
    [
        (["bob"], ["bob", "mallory"], [("members", "high")]),
        (["bob", "eve"], ["bob"], [("members", "low")]),
        (None, ["anyone"], []),
        (["bob"], None, [("existence", "medium")]),
    ],
)
def test_group_members(declared, live, want):
    read = IdentityCenterRead(instance="i", store="s")
    if live is not None:
        read.groups["Ops"] = IdentityGroup(members=live)
    file = IdentityCenterFile(groups={"Ops": IdentityGroup(members=declared)})
    assert [(f.aspect, f.severity) for f in diff_organization(MANAGEMENT, file, read)] == want


@pytest.mark.parametrize(
    ("accounts", "ous", "account_ou", "held"),
    [
        (["DEMO"], [], "Root", True),
        ([DEMO], [], "Root", True),
        (["AccountB"], [], "Root", False),
        ([], ["Root/Prod"], "Root/Prod", True),
        ([], ["Root/Prod"], "Root/Prod/Web", True),
        ([], ["Root/Prod"], "Root/Production", False),
        ([], ["Root"], None, False),
    ],
)
def test_expected_assignments_by_account_name_and_ou(accounts, ous, account_ou, held):
    file = IdentityCenterFile(
        assignments=[Assignment(group="G", permission_set="S", accounts=accounts, ous=ous)]
    )
    assert bool(expected_in(file, DEMO, "DEMO", account_ou)) is held


@pytest.mark.parametrize(
    "raw",
    [
        {"group": "G", "user": "u", "permission_set": "S", "accounts": ["A"]},
        {"permission_set": "S", "accounts": ["A"]},
        {"group": "G", "permission_set": "S"},
        {"group": "G", "permission_set": "S/x", "accounts": ["A"]},
    ],
)
def test_assignment_shape_refused(raw):
    with pytest.raises(ValueError):
        Assignment.model_validate(raw)


def test_seconds():
    assert [seconds(d) for d in ("PT1H", "PT12H", "PT30M", "PT1H30M")] == [3600, 43200, 1800, 5400]


names = st.sampled_from(["group:A", "group:B", "user:c"])
sets_ = st.sampled_from(["Admin", "Read"])
assignments = st.frozensets(st.builds(Assigned, principal=names, permission_set=sets_))


@settings(max_examples=150, deadline=None)
@given(live=assignments, expected=assignments, admin=st.frozensets(sets_))
def test_assignment_findings_are_the_difference(live, expected, admin):
    """One finding per assignment in one side only; critical exactly for an added
    administrator set, medium exactly for a removed one."""
    found = diff_account_assignments(_account(live, expected), AccountState(), set(admin))
    ids = {f.resource for f in found}
    assert ids == {a.name for a in live ^ expected}
    for f in found:
        a = next(x for x in live ^ expected if x.name == f.resource)
        if a in live:
            assert f.severity == ("critical" if a.permission_set in admin else "high")
        else:
            assert f.severity == "medium"


# --- identity_center.yaml ------------------------------------------------------------


def _copy(tmp_path):
    dest = tmp_path / "baselines"
    shutil.copytree(SHIPPED_BASELINES, dest)
    return dest


@pytest.mark.parametrize(
    ("old", "new", "key", "marker"),
    [
        (
            "permission_set: SecurityAudit\n",
            "permission_set: SecurityAudits\n",
            "assignments[1].permission_set",
            "SecurityAudits",
        ),
        (
            '"222222222222", "333333333333"]',
            '"222222222222", "AccountC"]',
            "assignments[1].accounts[1]",
            "AccountC",
        ),
        (
            'accounts: ["222222222222", "333333333333"]',
            "ous: [Root/Nowhere]",
            "assignments[1].ous[0]",
            "Root/Nowhere",
        ),
    ],
)
def test_validate_refuses_unknown_names(tmp_path, old, new, key, marker):
    baselines = _copy(tmp_path)
    path = baselines / "identity_center.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if marker in t)
    with pytest.raises(BaselineError) as caught:
        load_baselines(baselines)
    problems = [p for p in caught.value.problems if p.key == key]
    assert problems and problems[0].line == line, caught.value.problems
    assert problems[0].file.endswith("identity_center.yaml")


def test_shipped_file_loads():
    ic = load_baselines(SHIPPED_BASELINES).identity_center
    assert ic is not None and set(ic.permission_sets) == {"AdministratorAccess", "SecurityAudit"}


# --- end to end on moto --------------------------------------------------------------

pytestmark_e2e = pytest.mark.e2e


def _ids(result) -> set[str]:
    assert result.summary, result.stdout[-3000:] + result.stderr
    return {f["id"] for f in result.summary["findings"]}


@pytest.mark.e2e
def test_snapshot_then_run_is_clean_with_identity_center_edges(world):
    target = world.tmp / "snap"
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    written = (target / "identity_center.yaml").read_text()
    assert "PlatformAdmins" in written and "AdministratorAccess" in written
    demo_file = next((target / "accounts").glob(f"{DEMO}-*.yaml")).read_text()
    assert "AWSReservedSSO" not in demo_file  # declared by their set instead
    run = world.cli("run", "--baselines", str(target))
    assert run.code == 0, run.stdout[-3000:]
    edges = {
        (r["principal"], r["role"].split(":")[4], r["status"])
        for r in run.summary["access"]
        if r["principal"].startswith("identitycenter:")
    }
    assert edges == {
        ("identitycenter:group/PlatformAdmins", DEMO, "expected"),
        ("identitycenter:group/SecurityAuditors", DEMO, "expected"),
        ("identitycenter:group/SecurityAuditors", ACCOUNT_B, "expected"),
    }
    members = {
        (e["principal"], e["target"]) for e in run.summary["local_access"] if e["kind"] == "member"
    }
    assert ("identitycenter:user/bob", "identitycenter:group/PlatformAdmins") in members
    reach = world.cli(
        "access",
        "who-can-reach",
        f"admin@{DEMO}",
        "--json",
        "--report-dir",
        str(world.tmp / "reports"),
    )
    assert reach.code == 0, reach.stderr
    starts = {c["start"] for c in json.loads(reach.stdout)["chains"]}
    assert {"identitycenter:user/bob", "identitycenter:group/PlatformAdmins"} <= starts
    assert "identitycenter:user/alice" not in starts


@pytest.mark.e2e
def test_each_finding_kind_then_accept(world):
    baselines = world.baselines_copy()
    emu = world.emu
    instance, store = identity_center(emu)
    sso, ids = emu.client("sso-admin"), emu.client("identitystore")
    audit, admin = set_arn(emu, "SecurityAudit"), set_arn(emu, "AdministratorAccess")
    assert world.cli("run", "--baselines", str(baselines)).code == 0

    assign(emu, admin, group_id(emu, "SecurityAuditors"), [DEMO])  # admin set, new group
    sso.delete_account_assignment(
        InstanceArn=instance,
        TargetId=ACCOUNT_B,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=audit,
        PrincipalType="GROUP",
        PrincipalId=group_id(emu, "SecurityAuditors"),
    )
    ic_group(emu, "Contractors", [])
    assign(emu, audit, group_id(emu, "Contractors"), [DEMO])  # a new principal, held set
    mallory = ids.create_user(
        IdentityStoreId=store,
        UserName="mallory",
        DisplayName="m",
        Name={"GivenName": "m", "FamilyName": "m"},
    )["UserId"]
    ids.create_group_membership(
        IdentityStoreId=store, GroupId=group_id(emu, "PlatformAdmins"), MemberId={"UserId": mallory}
    )
    sso.attach_managed_policy_to_permission_set(  # widened, not provisioned again
        InstanceArn=instance, PermissionSetArn=audit, ManagedPolicyArn=ADMIN
    )
    role = next(
        r["RoleName"]
        for r in emu.iam(DEMO).list_roles(PathPrefix="/aws-reserved/")["Roles"]
        if r["RoleName"].startswith("AWSReservedSSO_AdministratorAccess_")
    )
    emu.iam(DEMO).put_role_policy(  # changed by hand
        RoleName=role, PolicyName="extra", PolicyDocument=json.dumps(allow("s3:*", "*"))
    )
    drift = world.cli("run", "--baselines", str(baselines))
    assert drift.code == 1
    expected = {
        f"{DEMO}/assignment/AdministratorAccess:group:SecurityAuditors/existence": "critical",
        f"{DEMO}/assignment/SecurityAudit:group:Contractors/existence": "high",
        f"{ACCOUNT_B}/assignment/SecurityAudit:group:SecurityAuditors/existence": "medium",
        f"{MANAGEMENT}/permission_set/SecurityAudit/managed_policies": "high",
        f"{MANAGEMENT}/sso_group/PlatformAdmins/members": "high",
        f"{DEMO}/permission_set/SecurityAudit/outdated": "medium",
        f"{DEMO}/permission_set/AdministratorAccess/provisioned": "high",
    }
    got = {f["id"]: f["severity"] for f in drift.summary["findings"] if f["id"] in expected}
    assert got == expected, _ids(drift)
    assert (
        "new principal"
        in drift.finding(f"{DEMO}/assignment/SecurityAudit:group:Contractors/existence")["message"]
    )
    assert drift.account(DEMO)["status"] == "drift"
    rows = {(r["principal"], r["role"].split(":")[4], r["status"]) for r in drift.summary["access"]}
    assert ("identitycenter:group/SecurityAuditors", DEMO, "unexpected") in rows

    accepted = world.cli(
        "accept",
        "--baselines",
        str(baselines),
        "--report-dir",
        str(world.tmp / "reports"),
        "*/assignment/*",
        "*/permission_set/SecurityAudit/managed_policies",
        "*/sso_group/*",
    )
    assert accepted.code == 0, accepted.stdout + accepted.stderr
    refused = world.cli(
        "accept",
        "--baselines",
        str(baselines),
        "--report-dir",
        str(world.tmp / "reports"),
        f"{DEMO}/permission_set/AdministratorAccess/provisioned",
    )
    assert refused.code == 2 and "provision the set again" in refused.stdout + refused.stderr

    sso.provision_permission_set(
        InstanceArn=instance, PermissionSetArn=audit, TargetType="ALL_PROVISIONED_ACCOUNTS"
    )
    sso.provision_permission_set(
        InstanceArn=instance, PermissionSetArn=admin, TargetType="AWS_ACCOUNT", TargetId=DEMO
    )
    clean = world.cli("run", "--baselines", str(baselines))
    assert clean.code == 0, sorted(_ids(clean))


@pytest.mark.e2e
def test_unreadable_identity_center_fails_closed(world):
    baselines = world.baselines_copy()
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"deny_sso": {"ListAccountAssignments": ACCOUNT_B}}))
    result = world.cli("run", "--baselines", str(baselines), "--", "-p", "tests.faults", env=env)
    assert result.code == 1
    assert result.account(ACCOUNT_B)["status"] == "error"
    assert "ListAccountAssignments" in result.account(ACCOUNT_B)["error"]
    assert result.account(DEMO)["status"] == "compliant"
    env = world.env(IAMDRIFT_FAULTS=json.dumps({"deny_sso": {"ListPermissionSets": "*"}}))
    result = world.cli("run", "--baselines", str(baselines), "--", "-p", "tests.faults", env=env)
    assert result.code == 1
    assert "ListPermissionSets" in result.account(MANAGEMENT)["error"]


@pytest.mark.parametrize(
    ("kind", "name", "aspect", "marker"),
    [
        (
            "permission_set",
            "SecurityAudit",
            "managed_policies",
            "managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]",
        ),
        ("sso_group", "PlatformAdmins", "members", "members: [bob]"),
        ("assignment", "AdministratorAccess:group:SecurityAuditors", "existence", "assignments:"),
    ],
)
def test_sarif_points_at_identity_center_yaml(kind, name, aspect, marker):
    """A code-scanning alert opens identity_center.yaml at what the finding is about."""
    from iamdrift.compare.findings import Finding
    from iamdrift.report.sarif import _Locator

    f = Finding(
        account=MANAGEMENT,
        resource_type=kind,
        resource=name,
        aspect=aspect,
        change="changed",
        severity="high",
        message="m.",
    )
    path, line = _Locator(load_baselines(SHIPPED_BASELINES)).locate(f)
    assert path.name == "identity_center.yaml"
    assert marker in path.read_text().splitlines()[line - 1]


def test_access_section_by_group_escapes_names():
    """Identity store display names are anyone's to choose: escaped in the report."""
    from iamdrift.access.edge import AccessRow
    from iamdrift.report.matrix import access_html

    role = f"arn:aws:iam::{DEMO}:role/aws-reserved/sso.amazonaws.com/{ROLE}"
    rows = [
        AccessRow(
            principal="identitycenter:group/<script>x</script>", role=role, status="unexpected"
        ),
        AccessRow(principal="identitycenter:group/Ops", role=role, status="expected"),
    ]
    html = access_html(rows, set())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "IAM Identity Center, by group" in html and "(not declared)" in html
    assert f"{DEMO}:SSO Admin" in html  # the provisioned role named by its set


@pytest.mark.e2e
def test_snapshot_with_identity_center_unreadable_is_an_error(world):
    """identity_center.yaml asks for an instance the hub cannot see: snapshot says so and
    rewrites nothing of the organization's, rather than dropping Identity Center."""
    baselines = world.baselines_copy()
    path = baselines / "identity_center.yaml"
    pinned = "arn:aws:sso:::instance/ssoins-0000000000000000"
    path.write_text(f"instance: {pinned}\n" + path.read_text())
    before = path.read_text()
    snap = world.cli("snapshot", "--baselines", str(baselines))
    assert snap.code == 1, snap.stdout + snap.stderr
    assert pinned in snap.stdout + snap.stderr
    assert path.read_text() == before


@pytest.fixture
def eu_world(moto_endpoint, tmp_path):
    """The seed's organization with its Identity Center in eu-west-1 (the hub's region is
    us-east-1), provisioned as AWS provisions: 12-hour roles for sets of 1 hour, sets of
    ISO 8601 durations with seconds, a set with a customer managed policy and a boundary."""
    import urllib.request

    from iamdrift.emulator import Emulator, build_seed_organization, permission_set
    from tests.conftest import World

    req = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).close()
    emu = Emulator(moto_endpoint)
    build_seed_organization(emu, ic_region="eu-west-1")
    instance, _ = identity_center(emu)
    doc = json.dumps(allow("s3:GetObject", "*"))
    for account in (DEMO, ACCOUNT_B):
        for name, path in (("Reader", "/team/"), ("Bound", "/")):
            emu.iam(account).create_policy(PolicyName=name, Path=path, PolicyDocument=doc)
    scoped = permission_set(emu, "Scoped", [], "PT1H5M40S")
    emu.sso().attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=scoped,
        CustomerManagedPolicyReference={"Name": "Reader", "Path": "/team/"},
    )
    emu.sso().put_permissions_boundary_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=scoped,
        PermissionsBoundary={"CustomerManagedPolicyReference": {"Name": "Bound"}},
    )
    assign(emu, scoped, group_id(emu, "SecurityAuditors"), [DEMO, ACCOUNT_B])
    long = permission_set(emu, "LongSessions", [READ_ONLY], "PT12H")
    assign(emu, long, group_id(emu, "PlatformAdmins"), [ACCOUNT_B])
    # DEMO's administrator set's role may assume this: an edge out of a provisioned role.
    emu.iam(ACCOUNT_B).create_role(
        RoleName="FromDemo", AssumeRolePolicyDocument=json.dumps(trust(f"arn:aws:iam::{DEMO}:root"))
    )
    return World(emu, tmp_path)


@pytest.mark.e2e
def test_identity_center_as_aws_makes_it(eu_world):
    """snapshot then run is clean; a role made again (new suffix) changes nothing; a
    customer managed policy missing in one account is a finding there."""
    world, emu = eu_world, eu_world.emu
    target = world.tmp / "snap"
    snap = world.cli("snapshot", "--baselines", str(target))
    assert snap.code == 0, snap.stderr
    written = (target / "identity_center.yaml").read_text()
    assert "region: eu-west-1" in written and "PT1H5M40S" in written and "PT12H" in written
    first = world.cli("run", "--baselines", str(target))
    assert first.code == 0, sorted(_ids(first))
    edges = {(r["principal"], r["role"]) for r in first.summary["access"]}

    accepted = (target / "access.yaml").read_text()
    assert "AWSReservedSSO_AdministratorAccess_" in accepted and "FromDemo" in accepted

    # Unassigned, then assigned again: Identity Center makes the role with a new suffix.
    # The edge access.yaml accepted out of it, and every id, stay the same.
    instance, _ = identity_center(emu)
    admin, group = set_arn(emu, "AdministratorAccess"), group_id(emu, "PlatformAdmins")
    emu.sso().delete_account_assignment(
        InstanceArn=instance,
        TargetId=DEMO,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=admin,
        PrincipalType="GROUP",
        PrincipalId=group,
    )
    assign(emu, admin, group, [DEMO])
    again = world.cli("run", "--baselines", str(target))
    assert again.code == 0, sorted(_ids(again))
    assert {(r["principal"], r["role"]) for r in again.summary["access"]} != edges  # new ARN
    (target / "access.yaml").write_text(accepted.replace("FromDemo", "Elsewhere"))
    unexpected = world.cli("run", "--baselines", str(target))
    edge = f"{ACCOUNT_B}/access/{DEMO}:role:AWSReservedSSO_AdministratorAccess_*->{ACCOUNT_B}:"
    assert {edge + "FromDemo/edge", edge + "Elsewhere/edge"} <= _ids(unexpected)

    # A customer managed policy the set now references exists only in DEMO.
    scoped = set_arn(emu, "Scoped")
    emu.iam(DEMO).create_policy(
        PolicyName="Extra", Path="/team/", PolicyDocument=json.dumps(allow("s3:ListBucket", "*"))
    )
    emu.sso().attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=instance,
        PermissionSetArn=scoped,
        CustomerManagedPolicyReference={"Name": "Extra", "Path": "/team/"},
    )
    emu.sso().provision_permission_set(
        InstanceArn=instance, PermissionSetArn=scoped, TargetType="ALL_PROVISIONED_ACCOUNTS"
    )
    (target / "access.yaml").write_text(accepted)
    drift = world.cli("run", "--baselines", str(target))
    assert drift.code == 1
    found = drift.finding(f"{ACCOUNT_B}/permission_set/Scoped/outdated")
    assert "/team/Extra" in found["message"]
    assert f"{DEMO}/permission_set/Scoped/outdated" not in _ids(drift)
