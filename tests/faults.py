"""Test-only pytest plugin, loaded into the runner subprocess with `-- -p tests.faults`.

It injects real error responses at botocore's `before-send` event, so botocore's
parsing and retry logic run exactly as they would against AWS. Configured by the
IAMDRIFT_FAULTS environment variable (JSON):

    {"deny_assume": ["333333333333"], "throttle_gaad": 3, "trace_reads": "/tmp/x/reads",
     "deny_sso": {"ListAccountAssignments": "333333333333", "ListPermissionSets": "*"},
     "slow_account": "222222222222", "slow_seconds": 2,
     "hang_account": "333333333333", "hang_endpoint": "http://127.0.0.1:PORT"}

A check whose node id holds `crash_check` kills its xdist worker, once (as an OOM
kill would): {"crash_check": "test_roles_match_baseline[333333333333]",
"crash_marker": "/tmp/x/crashed"}.

For the scheduler's tests, runs are counted in a file and may crash or hang:

    {"counter": "/tmp/x/count", "crash_runs": [2], "hang_runs": [3], "trace": "/tmp/x/trace"}
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.handlers
from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def error_response(url: str, status: int, code: str, message: str, service: str) -> AWSResponse:
    ns = {
        "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
        "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    }[service]
    body = (
        f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
    )
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Raw(body.encode()))


def _form(request) -> dict[str, str]:
    body = request.body or b""
    body = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(body).items()}


def make_handlers(spec: dict) -> list[tuple[str, object]]:
    handlers = []
    denied = set(spec.get("deny_assume", []))
    if denied:

        def deny(request, **_kwargs):
            arn = _form(request).get("RoleArn", "")
            if arn.split(":")[4:5] and arn.split(":")[4] in denied:
                return error_response(
                    request.url,
                    403,
                    "AccessDenied",
                    escape(spec.get("deny_message", f"not authorized: sts:AssumeRole on {arn}")),
                    "sts",
                )
            return None

        handlers.append(("before-send.sts.AssumeRole", deny))
    throttles = {"left": int(spec.get("throttle_gaad", 0))}
    if throttles["left"]:

        def throttle(request, **_kwargs):
            if throttles["left"] != "always":
                if throttles["left"] <= 0:
                    return None
                throttles["left"] -= 1
            return error_response(request.url, 400, "Throttling", "Rate exceeded", "iam")

        if spec.get("throttle_always"):
            throttles["left"] = "always"
        handlers.append(("before-send.iam.GetAccountAuthorizationDetails", throttle))
    for operation, account in spec.get("deny_sso", {}).items():
        handlers.append((f"before-send.sso-admin.{operation}", _deny_sso(operation, account)))
    handlers += _slow_and_hung(spec)
    if spec.get("record_credentials"):

        def record(parsed, **_kwargs):
            creds = parsed.get("Credentials") if isinstance(parsed, dict) else None
            if creds:
                with open(spec["record_credentials"], "a") as fh:
                    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
                        fh.write(f"{creds[key]}\n")

        handlers.append(("after-call.sts.AssumeRole", record))
    if spec.get("trace_reads"):

        def trace(request, **_kwargs):
            with open(spec["trace_reads"], "a") as fh:
                fh.write(f"{os.getpid()} GetAccountAuthorizationDetails\n")

        handlers.append(("before-send.iam.GetAccountAuthorizationDetails", trace))
    return handlers


def _deny_sso(operation: str, account: str):
    """sso-admin answers AccessDeniedException to `operation` about `account` ("*": any)."""

    def deny(request, **_kwargs):
        body = json.loads(request.body or b"{}")
        if account != "*" and body.get("AccountId") != account:
            return None
        error = {"__type": "AccessDeniedException", "Message": f"not authorized: sso:{operation}"}
        raw = _Raw(json.dumps(error).encode())
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, raw)

    return deny


def _slow_and_hung(spec: dict) -> list[tuple[str, object]]:
    """`slow_account` answers `slow_seconds` late; `hang_account`'s IAM requests go to
    `hang_endpoint`, a server that accepts connections and never answers. Requests are
    told apart by their access key id, learnt from the AssumeRole that returned it."""
    slow, hung = spec.get("slow_account"), spec.get("hang_account")
    if not (slow or hung):
        return []
    keys: dict[str, str] = {}  # access key id -> account

    def remember_role(params, context, **_kwargs):
        context["fault_account"] = params["body"].get("RoleArn", "::::").split(":")[4]

    def remember_key(parsed, context, **_kwargs):
        creds = parsed.get("Credentials") if isinstance(parsed, dict) else None
        if creds and context.get("fault_account"):
            keys[creds["AccessKeyId"]] = context["fault_account"]

    def misbehave(request, **_kwargs):
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        account = keys.get(auth.partition("Credential=")[2].partition("/")[0])
        if account and account == slow:
            time.sleep(float(spec.get("slow_seconds", 2)))
        if account and account == hung:
            path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
            request.url = f"{spec['hang_endpoint']}/{path}"
        return None

    return [
        ("before-call.sts.AssumeRole", remember_role),
        ("after-call.sts.AssumeRole", remember_key),
        ("before-send.iam", misbehave),
    ]


def _run_number(counter: str) -> int:
    path = Path(counter)
    n = int(path.read_text() or 0) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


def _trace(spec: dict, event: str) -> None:
    if spec.get("trace"):
        with open(spec["trace"], "a") as fh:
            fh.write(f"{event} {time.time():.3f} {os.getpid()}\n")


def pytest_unconfigure(config):
    _trace(json.loads(os.environ.get("IAMDRIFT_FAULTS", "{}")), "end")


def pytest_configure(config):
    spec = json.loads(os.environ.get("IAMDRIFT_FAULTS", "{}"))
    _trace(spec, "start")
    if spec.get("counter"):
        n = _run_number(spec["counter"])
        if n in spec.get("crash_runs", []):
            os._exit(70)  # as a segfault or OOM kill would: no cleanup, no report
        if n in spec.get("hang_runs", []):
            time.sleep(3600)
    # Every botocore session registers BUILTIN_HANDLERS when it is created.
    botocore.handlers.BUILTIN_HANDLERS.extend(make_handlers(spec))


def pytest_runtest_setup(item):
    spec = json.loads(os.environ.get("IAMDRIFT_FAULTS", "{}"))
    check, marker = spec.get("crash_check"), spec.get("crash_marker")
    on_worker = hasattr(item.config, "workerinput")
    if check and check in item.nodeid and on_worker and not Path(marker).exists():
        Path(marker).write_text(item.nodeid)
        os._exit(9)
