"""What people deploy from examples/ is checked by the linter of its kind, so it never rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT

EXAMPLES = PROJECT / "examples"


def test_cloudformation_template_passes_cfn_lint():
    template = EXAMPLES / "audit-role" / "audit-role.yaml"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # installed with the dev extra
    proc = subprocess.run(
        [str(cfn_lint), str(template)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", sorted((EXAMPLES / "github-actions").glob("*.yml")), ids=str)
def test_workflow_has_the_shape_github_runs(workflow):
    """A structural check of GitHub Actions' workflow schema: triggers, and jobs whose steps
    each use an action or run a command."""
    doc = yaml.safe_load(workflow.read_text())
    assert doc.get("name") and doc.get(True, doc.get("on"))  # YAML 1.1 reads `on` as true
    for name, job in doc["jobs"].items():
        assert job.get("runs-on"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), (name, step)
        for need in (
            [job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs", [])
        ):
            assert need in doc["jobs"], (name, need)
