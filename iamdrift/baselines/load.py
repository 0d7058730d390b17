"""Load and validate a baselines directory, in layers, all files in one pass.

Layout::

    baselines/organization.yaml      optional: management account, defaults, member_baseline
    baselines/accounts/*.yaml        one file per account

Layers: YAML syntax and duplicate keys, then structure and types (pydantic),
then meaning across files (account ids unique, groups and policies referenced
exist). Every problem names the file, the line and the key path.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.baseline import (
    ACCESS_FILE,
    ACCOUNTS_DIR,
    IDENTITY_CENTER_FILE,
    ORGANIZATION_FILE,
    STRUCTURE_FILE,
    WAIVERS_FILE,
    AccountBaseline,
    Baseline,
)
from iamdrift.baselines.identity_center import IdentityCenterFile
from iamdrift.baselines.models import (
    AccountFile,
    AccountState,
    OrganizationFile,
)
from iamdrift.baselines.problems import load_model, problems_from
from iamdrift.baselines.references import check_assignments, check_references, check_rules
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.waivers import WaiverFile
from iamdrift.errors import BaselineError, Problem

_PLACEHOLDER = re.compile(r"\$\{(management_account|account)\}")


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Parsing makes millions of objects and no garbage cycles: a collector pass over the
    growing heap for each batch of them cost more than the parsing itself. What was
    loaded lives for the whole run, so it is frozen out of later collections too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def load_baselines(directory: str | Path, only: set[str] | None = None) -> Baseline:
    """Load every baseline file under `directory`; raise BaselineError listing all problems.

    `only`: the accounts whose files are parsed whole; the others are known by the `account`
    and `name` at the top of their files (a plan touching one account of a thousand need
    not parse 80 MB of YAML). `load_whole` parses some of them when they are needed."""
    with _no_collection():
        return _load(Path(directory), only)


_HEADER = re.compile(r"^(account|name):[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def _header(path: Path) -> tuple[str, str] | None:
    """(account, name) from a file's top-level keys, without parsing the rest."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found: dict[str, str] = {}
    for match in _HEADER.finditer(text):  # they open the file: stop there, not at its end
        found.setdefault(match[1], match[2].strip("'\""))
        if len(found) == 2:
            break
    account = found.get("account", "")
    if not (account.isdigit() and len(account) == 12) or "name" not in found:
        return None
    return account, found["name"]


def _load(root: Path, only: set[str] | None = None) -> Baseline:
    problems: list[Problem] = []
    if not root.is_dir():
        raise BaselineError([Problem(str(root), 0, "", "baselines directory not found")])

    org: OrganizationFile | None = None
    org_raw: dict[str, Any] = {}
    org_lines: dict = {}
    org_path = root / ORGANIZATION_FILE
    if org_path.exists():
        loaded = load_model(org_path, OrganizationFile, problems)
        if loaded:
            org, org_raw, org_lines = loaded

    files = sorted([*(root / ACCOUNTS_DIR).glob("*.yaml"), *(root / ACCOUNTS_DIR).glob("*.yml")])
    if not files:
        problems.append(
            Problem(
                str(root / ACCOUNTS_DIR),
                0,
                "",
                "no account baselines found; expected one YAML file per account",
            )
        )
    baseline = Baseline(root, org)
    defaults = org.defaults if org else OrganizationFile().defaults
    management = org.management_account if org else None
    seen: dict[str, str] = {}
    for path in files:
        header = _header(path) if only is not None else None
        if header is not None and header[0] not in only and header[0] not in seen:
            seen[header[0]] = str(path)
            baseline.accounts[header[0]] = AccountBaseline(
                id=header[0],
                name=header[1],
                file=str(path),
                packed=b"",
                read_via=defaults.read_via,
                external_id=defaults.external_id,
                session_name=defaults.session_name,
                ignore=defaults.ignore,
                is_management=header[0] == management,
                header_only=True,
            )
            continue
        loaded = load_model(path, AccountFile, problems)
        if not loaded:
            continue
        acct, _raw, lines = loaded
        if acct.account in seen:
            problems.append(
                Problem(
                    str(path),
                    lines.get(("account",), 1),
                    "account",
                    f"account {acct.account} is also declared in {seen[acct.account]}",
                )
            )
            continue
        seen[acct.account] = str(path)
        arn_account = (acct.read_via or "").split(":")[4:5]
        if arn_account and arn_account[0] != acct.account:
            problems.append(
                Problem(
                    str(path),
                    lines.get(("read_via",), 1),
                    "read_via",
                    f"expected a role in account {acct.account} (IAM is read from inside "
                    f"the account), got one in account {arn_account[0]}",
                )
            )
        expected = AccountState(**{k: getattr(acct, k) for k in AccountState.model_fields})
        is_member = management is not None and acct.account != management
        if is_member and org and org.member_baseline:
            try:
                expected = _merge(member_defaults(org, acct.account), expected)
            except ValidationError as exc:
                sub_lines = {
                    k[1:]: v for k, v in org_lines.items() if k[:1] == ("member_baseline",)
                }
                problems.extend(
                    problems_from(exc, str(org_path), org_raw["member_baseline"], sub_lines)
                )
        check_references(path, lines, acct.account, expected, problems)
        baseline.accounts[acct.account] = AccountBaseline(
            id=acct.account,
            name=acct.name,
            file=str(path),
            packed=AccountBaseline.pack(expected),
            read_via=acct.read_via or defaults.read_via,
            external_id=acct.external_id or defaults.external_id,
            session_name=defaults.session_name,
            ignore=defaults.ignore.merged(acct.ignore),
            is_management=acct.account == management,
            read_via_declared=acct.read_via is not None,
        )
    # A management account without a baseline of its own is fine: a team auditing its own
    # member accounts names it (it is inside the organization) without reading it.
    lines_of: dict[str, tuple[Any, dict]] = {}
    for name, model, attr in (
        (ACCESS_FILE, AccessFile, "access"),
        (STRUCTURE_FILE, Structure, "structure"),
        (WAIVERS_FILE, WaiverFile, "waivers"),
        (IDENTITY_CENTER_FILE, IdentityCenterFile, "identity_center"),
    ):
        if (root / name).exists():
            loaded = load_model(root / name, model, problems)
            if loaded:
                setattr(baseline, attr, loaded[0])
                lines_of[attr] = loaded[1:]
    if baseline.access is not None and "access" in lines_of:
        problems += check_rules(str(root / ACCESS_FILE), baseline, *lines_of["access"])
    if baseline.identity_center is not None and "identity_center" in lines_of:
        where = str(root / IDENTITY_CENTER_FILE)
        problems += check_assignments(where, baseline, *lines_of["identity_center"])
    baseline.waivers = baseline.waivers.waivers if isinstance(baseline.waivers, WaiverFile) else []
    if problems:
        raise BaselineError(sorted(set(problems)))
    return baseline


def _substitute(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: variables[m.group(1)], value)
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    return value


def member_defaults(org: OrganizationFile, account: str) -> AccountState:
    """The organization's member_baseline with ${management_account} and ${account} filled in."""
    variables = {"management_account": org.management_account or "", "account": account}
    return AccountState.model_validate(_substitute(org.member_baseline, variables))


def _merge(defaults: AccountState, own: AccountState) -> AccountState:
    """An account's own entity replaces the default of the same name."""
    return AccountState(
        **{k: {**getattr(defaults, k), **getattr(own, k)} for k in AccountState.model_fields}
    )


def load_whole(baseline: Baseline, accounts: set[str]) -> None:
    """Parse whole the baselines of these accounts that were loaded by their header only
    (one pass for them all). Raises BaselineError for a file that does not validate."""
    wanted = {a for a in accounts if a in baseline.accounts and baseline.accounts[a].header_only}
    if wanted:
        with _no_collection():
            loaded = _load(baseline.directory, wanted)
        baseline.accounts.update({a: loaded.accounts[a] for a in wanted})
