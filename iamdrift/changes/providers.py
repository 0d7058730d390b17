"""Which account a Terraform change happens in (pure): an ARN it holds, else what is known
of its provider configuration (given with `--provider`, or told by the plan itself), else
`--account`.
"""

from __future__ import annotations

import re
from typing import Any

from iamdrift.changes.references import Configuration, PlanError, bare

_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):")

_OWN_ARN = re.compile(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):")


def _alias(key: str) -> str:
    """A provider configuration key without its module: `poc:aws.prod` -> `aws.prod`."""
    return key.rsplit(":", 1)[-1]


def provider_accounts(plan: dict, config: Configuration) -> dict[str, tuple[str, str]]:
    """The account each provider configuration acts in, as the plan tells it: the ARN of
    any resource made with it (before, after, or in `prior_state`), and the account id of
    `data.aws_caller_identity`. {alias: (account, what told it)}. Two accounts for one
    configuration raise PlanError naming both sources."""
    out: dict[str, tuple[str, str]] = {}

    def saw(address: str, values: Any) -> None:
        if not isinstance(values, dict):
            return
        found = _OWN_ARN.match(str(values.get("arn") or ""))
        account = found.group(1) if found else None
        if ".aws_caller_identity." in f".{bare(address)}" and re.fullmatch(
            r"\d{12}", str(values.get("account_id") or "")
        ):
            account = str(values["account_id"])
        key = config.providers.get(bare(address))
        if account is None or not key:
            return
        alias = _alias(key)
        had = out.setdefault(alias, (account, address))
        if had[0] != account:
            raise PlanError(
                f"provider {alias} acts in two accounts: {had[0]} (from {had[1]}) and "
                f"{account} (from {address}); give --provider {alias}=ID for each alias"
            )

    for rc in plan.get("resource_changes") or []:
        if isinstance(rc, dict):
            change = rc.get("change") or {}
            for values in (change.get("before"), change.get("after")):
                saw(str(rc.get("address", "")), values)

    def walk(module: Any) -> None:
        if not isinstance(module, dict):
            return
        for r in module.get("resources") or []:
            if isinstance(r, dict):
                saw(str(r.get("address", "")), r.get("values"))
        for child in module.get("child_modules") or []:
            walk(child)

    walk(((plan.get("prior_state") or {}).get("values") or {}).get("root_module"))
    return out


def account_of(
    address: str,
    before: dict,
    after: dict,
    config: Configuration,
    providers: dict[str, str],
    learned: dict[str, tuple[str, str]],
    default: str | None,
) -> str:
    """The account a change happens in: an ARN it holds, else its provider's (given, or
    told by the plan), else `--account`. Raises PlanError naming the resource when none
    tells, or when what is given contradicts what the plan tells."""
    for values in (before, after):
        for key in ("arn", "policy_arn"):
            found = _ARN_ACCOUNT.match(str(values.get(key) or ""))
            if found:
                return found.group(1)
    key = config.providers.get(bare(address), "")
    told = learned.get(_alias(key)) if key else None
    for alias, account in providers.items():
        if key == alias or _alias(key) == alias:
            if told and told[0] != account:
                raise PlanError(
                    f"{address}: --provider {alias}={account}, but the plan tells "
                    f"{told[0]} (from {told[1]})"
                )
            return account
    if told:
        return told[0]
    if default:
        return default
    raise PlanError(
        f"{address}: which account it changes cannot be told (no ARN in the plan, provider "
        f"{key or 'unknown'}): give --account ID, or --provider {key or 'aws'}=ID"
    )
