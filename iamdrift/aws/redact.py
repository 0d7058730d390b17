"""No credential in any output: every log record is scrubbed as it is made.

botocore logs request headers and response bodies at debug level, AssumeRole's
credentials included, and pytest keeps captured logs for the report. A log record
factory replaces what looks like a credential (an access key id, the values of
SecretAccessKey, SessionToken and the security token header) and every credential
value iamdrift received, before any handler, pytest's capture included, sees it.

>>> redact("<SecretAccessKey>wJalr/EXAMPLEKEY</SecretAccessKey> Credential=ASIAEXAMPLE12345678/x")
'<SecretAccessKey>***</SecretAccessKey> Credential=***/x'
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_NAMES = r"SecretAccessKey|SessionToken|AccessKeyId|aws_secret_access_key|aws_session_token"
_PATTERNS = [
    re.compile(rf"(<({_NAMES})>)[^<]*(</\2>)", re.I),
    re.compile(
        rf"""(['"]?(?:{_NAMES}|X-Amz-Security-Token)['"]?\s*[:=]\s*b?['"])[^'"]*(['"])""", re.I
    ),
    re.compile(r"(X-Amz-Security-Token[=:]\s*)[^\s,;&'\"]+", re.I),
    re.compile(r"(Credential=)[A-Z0-9]{16,128}"),
    re.compile(r"()\b(?:AKIA|ASIA)[A-Z0-9]{12,124}\b()"),
]
_known: set[str] = set()
_lock = threading.Lock()
_installed = False


def remember(*secrets: str | None) -> None:
    """Values to blank wherever they appear, whatever surrounds them."""
    with _lock:
        _known.update(s for s in secrets if s and len(s) >= 8)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + MASK + (m.group(m.lastindex) if m.lastindex > 1 else ""), text
        )
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def install() -> None:
    """Scrub every log record of this process from now on (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make = logging.getLogRecordFactory()

    def scrubbed(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return record

    logging.setLogRecordFactory(scrubbed)
