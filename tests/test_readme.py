"""The README's baseline examples are valid baselines (documentation that cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

from iamdrift.baselines.load import load_baselines

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_baseline_examples_load(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    org = next(b for b in blocks if b.startswith("management_account"))
    account = next(b for b in blocks if b.startswith('account: "222222222222"'))
    (tmp_path / "accounts").mkdir()
    (tmp_path / "organization.yaml").write_text(org)
    (tmp_path / "accounts" / "demo.yaml").write_text(account)
    (tmp_path / "accounts" / "mgmt.yaml").write_text('account: "123456789012"\nname: M\n')
    baseline = load_baselines(tmp_path)
    demo = baseline.accounts["222222222222"]
    assert set(demo.expected.roles) == {"MemberReadOnlyAccess", "OrganizationAccountAccessRole"}
    assert demo.ignore.users == ["/ci/*"] and demo.ignore.roles == ["/aws-service-role/*"]


def test_readme_access_example_loads(tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    access = next(b for b in blocks if b.startswith("exclusive:"))
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.yaml").write_text('account: "123456789012"\nname: M\n')
    (tmp_path / "access.yaml").write_text(access)
    baseline = load_baselines(tmp_path)
    assert baseline.access.third_parties == {"444444444444": "Vendor X"}
    assert baseline.access.edges[0].conditions == {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}}


def test_broken_access_baseline_names_file_line_and_key(tmp_path):
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.yaml").write_text('account: "123456789012"\nname: M\n')
    (tmp_path / "access.yaml").write_text(
        "edges:\n  - principal: demo1\n    role: arn:aws:iam::222222222222:role/R\n"
    )
    import pytest

    from iamdrift.errors import BaselineError

    with pytest.raises(BaselineError) as exc:
        load_baselines(tmp_path)
    assert f"{tmp_path / 'access.yaml'}:2: edges[0].principal" in str(exc.value)
