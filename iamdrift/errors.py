"""Errors the tool reports to people, never as tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a baseline file: where it is and what was expected."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class BaselineError(Exception):
    """Baselines that cannot be used; carries every problem found in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Refused(Exception):
    """A request that cannot be done as asked (a finding that cannot be accepted, a question
    that cannot be answered); the message says why and what to do instead."""


def aws_error_text(exc: Exception) -> str:
    """`Code: Message` of an AWS error response; the exception text for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ")
    return str(exc)


def problem_text(error: Any) -> str:
    """`roles.R.trust_policy: Field required`: one pydantic error (`ValidationError.errors()`
    item, or the first of a ValidationError) as one line.

    >>> problem_text({"loc": ("roles", "R", "trust_policy"), "msg": "Field required"})
    'roles.R.trust_policy: Field required'
    """
    if hasattr(error, "errors"):
        error = error.errors()[0]
    return f"{'.'.join(str(x) for x in error['loc'])}: {error['msg']}"


def call_error_text(exc: Exception) -> str:
    """`Operation: Code: Message`: an AWS error with the call that failed, so that a missing
    permission is named by its action."""
    operation = getattr(exc, "operation_name", None)
    return f"{operation}: {aws_error_text(exc)}" if operation else aws_error_text(exc)


class AccountUnreadable(Exception):
    """An account whose IAM state could not be read completely."""

    def __init__(self, account: str, role_arn: str | None, reason: str):
        self.account = account
        self.role_arn = role_arn
        self.reason = reason
        via = f" via {role_arn}" if role_arn else " with the hub credentials"
        super().__init__(f"account {account} could not be read{via}: {reason}")


class ReadOnlyViolation(Exception):
    """An AWS operation that could change something was about to be sent."""


class AccountTimeout(Exception):
    """An account whose reads did not finish within the run's per-account time bound."""

    def __init__(self, account: str):
        self.account = account
        super().__init__(f"account {account}: reads did not finish within the time bound")
