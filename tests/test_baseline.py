"""Baseline validation: every problem names file, line and key, all files in one pass."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from iamdrift.baselines.load import load_baselines
from iamdrift.errors import BaselineError

GOOD_ROLE = """\
account: "222222222222"
name: DEMO
roles:
  Reader:
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {AWS: arn:aws:iam::111111111111:user/demo1}
          Action: sts:AssumeRole
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    with pytest.raises(BaselineError) as exc:
        load_baselines(write(tmp_path, files))
    return [str(p) for p in exc.value.problems]


def test_shipped_baselines_are_valid():
    baseline = load_baselines(Path(__file__).resolve().parent.parent / "baselines")
    assert sorted(baseline.accounts) == ["123456789012", "222222222222", "333333333333"]
    demo = baseline.accounts["222222222222"]
    # member_baseline is written once and applies to every member, with the id filled in
    trust = demo.expected.roles["OrganizationAccountAccessRole"].trust_policy.as_json()
    assert trust["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"
    assert "OrganizationAccountAccessRole" not in baseline.accounts["123456789012"].expected.roles
    assert demo.role_arn() == "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"


BROKEN = {
    "unknown key with a suggestion": (
        GOOD_ROLE + "    max_sesion_duration: 3600\n",
        "a.yaml:11: roles.Reader.max_sesion_duration: unknown key 'max_sesion_duration'; "
        "did you mean 'max_session_duration'?",
    ),
    "duplicate key": (
        GOOD_ROLE + "  Reader:\n    trust_policy: {}\n",
        "a.yaml:11: roles.Reader: duplicate key (first defined on line 4)",
    ),
    "account id as a number": (
        GOOD_ROLE.replace('"222222222222"', "222222222222"),
        "a.yaml:1: account: expected a 12-digit account id in quotes",
    ),
    "malformed account id": (
        GOOD_ROLE.replace('"222222222222"', '"2222"'),
        "a.yaml:1: account: expected a 12-digit AWS account id, got '2222'",
    ),
    "Effect misspelt": (
        GOOD_ROLE.replace("Effect: Allow", "Effect: allow"),
        "a.yaml:8: roles.Reader.trust_policy.Statement[0].Effect: expected 'Allow' or 'Deny'",
    ),
    "both Action and NotAction": (
        GOOD_ROLE + "          NotAction: iam:*\n",
        "a.yaml:8: roles.Reader.trust_policy.Statement[0]: a statement has both Action and "
        "NotAction; expected one of them",
    ),
    "malformed principal ARN": (
        GOOD_ROLE.replace("arn:aws:iam::111111111111:user/demo1", "arn:aws:iam::1111:user/demo1"),
        "a.yaml:9: roles.Reader.trust_policy.Statement[0].Principal.AWS: expected an account id, "
        "an IAM principal ARN or \"*\", got 'arn:aws:iam::1111:user/demo1'",
    ),
    "malformed managed policy ARN": (
        GOOD_ROLE + "    managed_policies: [ReadOnlyAccess]\n",
        "a.yaml:11: roles.Reader.managed_policies[0]: expected a policy ARN such as "
        "arn:aws:iam::aws:policy/ReadOnlyAccess, got 'ReadOnlyAccess'",
    ),
    "unknown condition operator": (
        GOOD_ROLE + "          Condition: {StringEqual: {sts:ExternalId: x}}\n",
        "a.yaml:11: roles.Reader.trust_policy.Statement[0].Condition.StringEqual: expected an IAM "
        "condition operator such as StringEquals, got 'StringEqual'",
    ),
    "wrong type": (
        GOOD_ROLE + "    max_session_duration: forever\n",
        "a.yaml:11: roles.Reader.max_session_duration: expected a valid integer",
    ),
    "missing trust policy": (
        'account: "222222222222"\nname: DEMO\nroles:\n  Reader:\n    managed_policies: []\n',
        "a.yaml:4: roles.Reader.trust_policy: required key 'trust_policy' is missing",
    ),
    "group not declared": (
        GOOD_ROLE + "users:\n  bob:\n    groups: [Admins]\n",
        "a.yaml:13: users.bob.groups[0]: group 'Admins' is not declared under groups",
    ),
    "customer policy not declared": (
        GOOD_ROLE + "    managed_policies: [arn:aws:iam::222222222222:policy/Custom]\n",
        "a.yaml:11: roles.Reader.managed_policies[0]: customer managed policy 'Custom' is not "
        "declared under policies",
    ),
    "read_via in another account": (
        GOOD_ROLE + "read_via: arn:aws:iam::333333333333:role/Audit\n",
        "a.yaml:11: read_via: expected a role in account 222222222222",
    ),
    "not YAML": ("account: [1\n", "a.yaml:2: not valid YAML"),
    "Version as an unquoted date stays text": (
        GOOD_ROLE.replace('Version: "2012-10-17"', "Version: 2012-10-18"),
        "a.yaml:6: roles.Reader.trust_policy.Version: expected '2012-10-17' or '2008-10-17'",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_baseline_names_file_line_and_key(tmp_path, case):
    text, expected = BROKEN[case]
    found = problems(tmp_path, {"accounts/a.yaml": text})
    assert any(
        p.startswith(str(tmp_path / "accounts" / expected.split(":", 1)[0]))
        and expected.split(":", 1)[1] in p
        for p in found
    ), found


def test_all_files_are_checked_in_one_pass(tmp_path):
    found = problems(
        tmp_path,
        {
            "accounts/a.yaml": GOOD_ROLE.replace("Effect: Allow", "Effect: allow"),
            "accounts/b.yaml": GOOD_ROLE.replace('"222222222222"', '"333333333333"') + "bogus: 1\n",
            "organization.yaml": "management_account: 111111111111\n",
        },
    )
    files = {p.split(":")[0].rsplit("/", 1)[-1] for p in found}
    assert files == {"a.yaml", "b.yaml", "organization.yaml"}


def test_same_account_in_two_files(tmp_path):
    found = problems(tmp_path, {"accounts/a.yaml": GOOD_ROLE, "accounts/b.yaml": GOOD_ROLE})
    assert any("account 222222222222 is also declared in" in p for p in found)


def test_no_account_files(tmp_path):
    (tmp_path / "accounts").mkdir()
    assert "no account baselines found" in problems(tmp_path, {})[0]


def test_member_baseline_placeholders_and_override(tmp_path):
    org = """\
    management_account: "111111111111"
    member_baseline:
      roles:
        Audit:
          trust_policy:
            Statement:
              Effect: Allow
              Principal: {AWS: "arn:aws:iam::${management_account}:role/Auditor-${account}"}
              Action: sts:AssumeRole
    """
    mgmt = 'account: "111111111111"\nname: M\n'
    own = GOOD_ROLE.replace("  Reader:", "  Audit:")
    baseline = load_baselines(
        write(tmp_path, {"organization.yaml": org, "accounts/m.yaml": mgmt, "accounts/a.yaml": own})
    )
    assert baseline.accounts["111111111111"].expected.roles == {}
    principal = baseline.accounts["222222222222"].expected.roles["Audit"].trust_policy.Statement[0]
    assert principal.Principal.AWS == ["arn:aws:iam::111111111111:user/demo1"]  # own file wins
    (tmp_path / "accounts/a.yaml").write_text(GOOD_ROLE)
    merged = load_baselines(tmp_path).accounts["222222222222"].expected.roles
    assert merged["Audit"].trust_policy.Statement[0].Principal.AWS == [
        "arn:aws:iam::111111111111:role/Auditor-222222222222"
    ]
    assert "Reader" in merged


def test_a_management_account_need_not_be_audited(tmp_path):
    """A team auditing its own member accounts names the management account (inside the
    organization) without a baseline of it."""
    (tmp_path / "organization.yaml").write_text('management_account: "111111111111"\n')
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.yaml").write_text(GOOD_ROLE)
    baseline = load_baselines(tmp_path)
    assert baseline.management_account == "111111111111"
    assert baseline.anchor == "222222222222"
