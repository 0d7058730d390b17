"""What people deploy from examples/ is checked by the linter of its kind, so it never rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT

EXAMPLES = PROJECT / "examples"


TEMPLATES = [
    EXAMPLES / "audit-role" / "audit-role.yaml",
    *sorted((EXAMPLES / "event-driven").glob("*.yaml")),
]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cloudformation_template_passes_cfn_lint(template):
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


class _CfnLoader(yaml.SafeLoader):
    """CloudFormation's YAML: its short forms (`!Ref`, `!GetAtt`) read as plain values."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, _suffix, node: (
        loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    ),
)


def test_event_driven_deploy_forwards_what_watch_reads_and_grants_what_it_calls():
    from iamdrift.aws.session import _ALLOWED_WRITES
    from iamdrift.changes.events import DETAIL_TYPE, SOURCES

    sources = sorted(f"aws.{s}" for s in SOURCES.values())
    for name, rule in (("central.yaml", "ToQueue"), ("forward-events.yaml", "Forward")):
        doc = yaml.load((EXAMPLES / "event-driven" / name).read_text(), Loader=_CfnLoader)
        pattern = doc["Resources"][rule]["Properties"]["EventPattern"]
        assert sorted(pattern["source"]) == sources and pattern["detail-type"] == [DETAIL_TYPE]
    central = yaml.load((EXAMPLES / "event-driven" / "central.yaml").read_text(), Loader=_CfnLoader)
    (grant,) = central["Resources"]["WatchPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    # SQS's batch calls are granted by their single actions (SQS Developer Guide, "Amazon
    # SQS batch actions"): the policy names exactly the actions of the calls the guard allows.
    calls = sorted(f"sqs:{op.removesuffix('Batch')}" for s, op in _ALLOWED_WRITES if s == "sqs")
    assert sorted(grant["Action"]) == calls
