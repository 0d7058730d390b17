"""A real browser opens a report whose live state is full of hostile strings.

Headless Chromium (Debian's `chromium`, which .ci/run installs) loads the report,
runs its JavaScript, and dumps the resulting DOM; the test proves no injected
markup became an element or an event handler, and that the summary rendered. The
screenshot is kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from iamdrift.emulator import ACCOUNT_B, DEMO, MANAGEMENT, allow, trust

pytestmark = pytest.mark.e2e
# Screenshots go where IAMDRIFT_TEST_ARTIFACTS says (CI can keep them), never into the repo.
ARTIFACTS = os.environ.get("IAMDRIFT_TEST_ARTIFACTS")
# No spaces: IAM paths allow printable ASCII only, and these must reach the report.
SVG = "<svg/onload=document.title='PWNED'>"
IMG = "\"><img/src=x/onerror=document.title='PWNED'>"
SCRIPT = "<script>document.title='PWNED'</script>"
JS_LINK = "<a/href=javascript:document.title='PWNED'>click</a>"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def browse(url: str, screenshot: Path) -> str:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
        "--window-size=1400,2000",
    ]
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), *flags, f"--user-data-dir={profile}"]
        subprocess.run(
            [*base, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True
        )
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), *flags, f"--user-data-dir={profile}"]
        return subprocess.run(
            [*base, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
        ).stdout


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def test_hostile_strings_render_as_text_and_never_run(world):
    emu = world.emu
    iam = emu.iam(DEMO)
    iam.create_user(UserName="intruder", Path=f"/{SVG}{IMG}/")
    iam.put_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyName="Hostile",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "X",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::bucket/{SCRIPT}{JS_LINK}",
                        "Condition": {"StringEquals": {f"aws:{SVG}": IMG}},
                    }
                ],
            }
        ),
    )
    iam.update_assume_role_policy(
        RoleName="MemberReadOnlyAccess",
        PolicyDocument=json.dumps(trust(f"arn:aws:iam::{MANAGEMENT}:user/{SCRIPT}")),
    )
    emu.iam().put_group_policy(
        GroupName="SecurityAuditors",
        PolicyName="AssumeAnyRole",
        PolicyDocument=json.dumps(allow("sts:AssumeRole", f"arn:aws:iam::*:role/{IMG}")),
    )
    emu.client("organizations").create_account(AccountName=f"{SVG}{JS_LINK}", Email="x@example.com")
    baselines = world.baselines_copy()
    mgmt = baselines / "accounts" / "123456789012-management.yaml"
    mgmt.write_text(
        mgmt.read_text().replace("name: Management", f"name: {json.dumps(SCRIPT + IMG)}")
    )
    env = world.env(
        IAMDRIFT_FAULTS=json.dumps(
            {"deny_assume": [ACCOUNT_B], "deny_message": f"denied {SVG}{JS_LINK}"}
        )
    )
    result = world.cli("run", "--baselines", str(baselines), "--", "-p", "tests.faults", env=env)
    assert result.code == 1, result.stdout[-3000:]
    assert {a["status"] for a in result.summary["accounts"]} == {"drift", "error"}
    report = world.tmp / "reports" / result.summary["run_id"] / "report.html"

    artifacts = Path(ARTIFACTS) if ARTIFACTS else world.tmp
    artifacts.mkdir(parents=True, exist_ok=True)
    screenshot = artifacts / "report-hostile.png"
    dom = browse(report.as_uri(), screenshot)
    assert screenshot.stat().st_size > 10_000

    parsed = _Elements()
    parsed.feed(dom)
    assert parsed.title != "PWNED"
    # pytest-html has handlers of its own (a reload button); none may carry ours.
    handlers = [
        (t, a)
        for t, a in parsed.elements
        if any(k.startswith("on") and "PWNED" in (v or "") for k, v in a.items())
    ]
    assert handlers == []
    assert not [a for t, a in parsed.elements if t == "script" and "PWNED" in str(a)]
    assert not [
        a
        for t, a in parsed.elements
        if t == "a" and (a.get("href") or "").startswith("javascript:")
    ]
    assert not [t for t, _ in parsed.elements if t == "svg"]
    assert not [a for t, a in parsed.elements if t == "img" and a.get("src") == "x"]
    carriers = [
        (t, k)
        for t, a in parsed.elements
        for k, v in a.items()
        if "PWNED" in (v or "") and k != "data-jsonblob"
    ]
    assert carriers == []
    # The summary and the results table rendered (the latter by the report's own JavaScript),
    # and the hostile strings are there, as text.
    assert 'id="iamdrift-accounts"' in dom and "col-testId" in dom
    assert "onload=document.title=" in dom and "onerror=document.title=" in dom
    assert dom.count("&lt;svg/onload") >= 3
