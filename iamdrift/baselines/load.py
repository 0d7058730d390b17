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
import difflib
import gc
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from iamdrift.baselines.identity_center import IC_FIELDS, IdentityCenterFile
from iamdrift.baselines.models import (
    PARTITION,
    AccessFile,
    AccountFile,
    AccountState,
    IgnoreRules,
    OrganizationFile,
    Structure,
    Waiver,
    WaiverFile,
    all_field_names,
)
from iamdrift.baselines.yamlio import YamlProblems, line_for, load_yaml_text
from iamdrift.errors import BaselineError, Problem

ORGANIZATION_FILE = "organization.yaml"
ACCESS_FILE = "access.yaml"
ACCOUNTS_DIR = "accounts"
STRUCTURE_FILE = "structure.yaml"
WAIVERS_FILE = "waivers.yaml"
IDENTITY_CENTER_FILE = "identity_center.yaml"
# The files of the organization, by the name the findings registry gives them.
FILES = {
    "structure": STRUCTURE_FILE,
    "access": ACCESS_FILE,
    "organization": ORGANIZATION_FILE,
    "identity_center": IDENTITY_CENTER_FILE,
}
_PLACEHOLDER = re.compile(r"\$\{(management_account|account)\}")


@dataclass
class AccountBaseline:
    """Everything needed to check one account.

    The expected state is kept packed (compressed JSON, a few KB) and unpacked when the
    account is compared, so a thousand accounts' baselines do not hold a GB of models.
    """

    id: str
    name: str
    file: str
    packed: bytes
    read_via: str
    external_id: str | None
    session_name: str
    ignore: IgnoreRules
    is_management: bool = False
    read_via_declared: bool = False  # the account's own file names its read_via role
    header_only: bool = False  # loaded by its id and name alone (see load_baselines `only`)

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})"

    @staticmethod
    def pack(state: AccountState) -> bytes:
        return zlib.compress(state.model_dump_json(exclude_defaults=True).encode(), 6)

    @property
    def expected(self) -> AccountState:
        """A fresh copy on each use; callers keep it only while they compare."""
        if self.header_only:
            raise RuntimeError(f"account {self.label} was loaded by its header only")
        return AccountState.model_validate_json(zlib.decompress(self.packed))

    def role_arn(self) -> str:
        if self.read_via.startswith("arn:"):
            return self.read_via
        return f"arn:aws:iam::{self.id}:role/{self.read_via}"


@dataclass
class Baseline:
    directory: Path
    organization: OrganizationFile | None
    accounts: dict[str, AccountBaseline] = field(default_factory=dict)
    access: AccessFile | None = None  # access.yaml: expected cross-account edges
    structure: Structure | None = None  # structure.yaml: members, OUs, SCPs
    waivers: list[Waiver] = field(default_factory=list)  # waivers.yaml
    identity_center: IdentityCenterFile | None = None  # identity_center.yaml

    def select(self, ids: list[str] | None) -> list[AccountBaseline]:
        """Accounts in id order, limited to `ids` when given (unknown ids are an error)."""
        if not ids:
            return [self.accounts[k] for k in sorted(self.accounts)]
        unknown = [i for i in ids if i not in self.accounts]
        if unknown:
            raise BaselineError(
                [
                    Problem(
                        str(self.directory),
                        0,
                        "--accounts",
                        f"no baseline for account(s) {', '.join(unknown)}",
                    )
                ]
            )
        return [self.accounts[k] for k in sorted(set(ids))]

    @property
    def management_account(self) -> str | None:
        return self.organization.management_account if self.organization else None

    @property
    def anchor(self) -> str:
        """The account the checks over the whole organization are reported on: the
        management account when it is audited, else the first audited account."""
        management = self.management_account
        return management if management in self.accounts else min(self.accounts)

    def whole(self, accounts: set[str]) -> None:
        """Parse whole the baselines of these accounts that were loaded by their header only
        (one pass for them all). Raises BaselineError for a file that does not validate."""
        wanted = {a for a in accounts if a in self.accounts and self.accounts[a].header_only}
        if wanted:
            with _no_collection():
                loaded = _load(self.directory, wanted)
            self.accounts.update({a: loaded.accounts[a] for a in wanted})


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
    not parse 80 MB of YAML). `Baseline.whole(id)` parses one of them when it is needed."""
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
    for key, value in _HEADER.findall(text):
        found.setdefault(key, value.strip("'\""))
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
        loaded = _load_model(org_path, OrganizationFile, problems)
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
                id=header[0], name=header[1], file=str(path), packed=b"",
                read_via=defaults.read_via, external_id=defaults.external_id,
                session_name=defaults.session_name, ignore=defaults.ignore,
                is_management=header[0] == management, header_only=True,
            )  # fmt: skip
            continue
        loaded = _load_model(path, AccountFile, problems)
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
        _check_references(path, lines, acct.account, expected, problems)
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
            loaded = _load_model(root / name, model, problems)
            if loaded:
                setattr(baseline, attr, loaded[0])
                lines_of[attr] = loaded[1:]
    if baseline.access is not None and "access" in lines_of:
        problems += _check_rules(str(root / ACCESS_FILE), baseline, *lines_of["access"])
    if baseline.identity_center is not None and "identity_center" in lines_of:
        where = str(root / IDENTITY_CENTER_FILE)
        problems += _check_assignments(where, baseline, *lines_of["identity_center"])
    baseline.waivers = baseline.waivers.waivers if isinstance(baseline.waivers, WaiverFile) else []
    if problems:
        raise BaselineError(sorted(set(problems)))
    return baseline


def _known(baseline: Baseline) -> tuple[set[str], set[str]]:
    """(account ids and names of the baselines, OU paths of structure.yaml and above them)."""
    accounts = {a.id for a in baseline.accounts.values()} | {
        a.name for a in baseline.accounts.values()
    }
    ous: set[str] = set()
    if baseline.structure is not None:
        for member in baseline.structure.accounts.values():
            parts = member.ou.split("/")
            ous |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    return accounts, ous


def _check_assignments(filename: str, baseline: Baseline, raw: Any, lines: dict) -> list[Problem]:
    """Every permission set, account and OU an assignment names must be declared: a typo
    would declare an assignment nobody has, and miss the one somebody has."""
    assert baseline.identity_center is not None
    accounts, ous = _known(baseline)
    sets = set(baseline.identity_center.permission_sets)
    problems = []

    def problem(path: tuple, expected: str, got: str) -> None:
        line, key = line_for(lines, raw, path)
        problems.append(Problem(filename, line, key, f"expected {expected}, got {got!r}"))

    for i, a in enumerate(baseline.identity_center.assignments):
        if a.permission_set not in sets:
            known = ", ".join(sorted(sets)) or "none declared"
            problem(("assignments", i, "permission_set"), f"a permission set of "
                    f"permission_sets ({known})", a.permission_set)  # fmt: skip
        for j, acct in enumerate(a.accounts):
            if acct not in accounts:
                known = ", ".join(sorted(accounts)) or "none"
                problem(("assignments", i, "accounts", j),
                        f"an account id or name of the baselines ({known})", acct)  # fmt: skip
        for j, ou in enumerate(a.ous):
            if ou not in ous:
                known = ", ".join(sorted(ous)) or "structure.yaml declares none"
                problem(("assignments", i, "ous", j), f"an OU path of structure.yaml ({known})",
                        ou)  # fmt: skip
    return problems


def _check_rules(filename: str, baseline: Baseline, raw: Any, lines: dict) -> list[Problem]:
    """Every account and OU a reachability rule names must be known: a typo would make the
    rule hold for nothing, and so always pass."""
    assert baseline.access is not None
    accounts, ous = _known(baseline)
    accounts |= set(baseline.access.third_parties)
    problems = []
    for i, rule in enumerate(baseline.access.rules):
        kind = "forbid" if rule.forbid is not None else "only"
        for side, selectors in (("from", rule.reach.sources), ("to", rule.reach.to)):
            for j, selector in enumerate(selectors):
                where = ("rules", i, kind, side, j)
                if selector.account is not None and selector.account not in accounts:
                    line, key = line_for(lines, raw, (*where, "account"))
                    known = ", ".join(sorted(accounts)) or "none"
                    problems.append(
                        Problem(
                            filename,
                            line,
                            key,
                            f"expected an account id or name of the baselines ({known}), "
                            f"got {selector.account!r}",
                        )
                    )
                if selector.ou is not None and ous and not any(selector.ou_matches(o) for o in ous):
                    line, key = line_for(lines, raw, (*where, "ou"))
                    problems.append(
                        Problem(
                            filename,
                            line,
                            key,
                            f"expected an OU path of structure.yaml ({', '.join(sorted(ous))}), "
                            f"got {selector.ou!r}",
                        )
                    )
    return problems


def _load_model(path: Path, model: type[BaseModel], problems: list[Problem]):
    try:
        raw, lines = load_yaml_text(path.read_text(encoding="utf-8"), str(path), problems)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), 0, "", f"cannot read file: {exc}"))
        return None
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                str(path),
                1,
                "",
                f"expected a mapping of keys such as {', '.join(list(model.model_fields)[:3])}",
            )
        )
        return None
    try:
        return model.model_validate(raw), raw, lines
    except ValidationError as exc:
        problems.extend(problems_from(exc, str(path), raw, lines))
        return None


def problems_from(exc: ValidationError, filename: str, raw: Any, lines: dict) -> list[Problem]:
    out = []
    known = all_field_names() | IC_FIELDS
    for err in exc.errors(include_url=False):
        line, key = line_for(lines, raw, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            unknown = str(err["loc"][-1])
            near = difflib.get_close_matches(unknown, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            message = f"unknown key {unknown!r}{hint}"
        elif kind == "missing":
            message = f"required key {str(err['loc'][-1])!r} is missing"
            key = f"{key}.{err['loc'][-1]}" if key else str(err["loc"][-1])
        else:
            message = (
                err["msg"].removeprefix("Value error, ").replace("Input should be", "expected")
            )
            if kind == "string_pattern_mismatch":
                message = _pattern_message(key, err["input"])
            elif "got" not in message:
                message += f" (got {_short(err.get('input'))})"
        out.append(Problem(filename, line, key, message))
    return out


def _pattern_message(key: str, value: Any) -> str:
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "account" or leaf == "management_account":
        expected = "a 12-digit AWS account id"
    elif "managed_policies" in key or leaf == "permissions_boundary":
        expected = "a policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess"
    elif leaf == "read_via":
        expected = "a role name or a role ARN such as arn:aws:iam::222222222222:role/Audit"
    elif leaf == "principal":
        expected = 'a principal ARN such as arn:aws:iam::111111111111:user/demo1, "*", service:NAME'
    elif leaf == "role":
        expected = "a role ARN such as arn:aws:iam::222222222222:role/MemberReadOnlyAccess"
    elif leaf in ("ou", "targets") or key.startswith("service_control_policies"):
        expected = "an OU path such as Root/Workloads (or an account id for a target)"
    elif leaf == "path":
        expected = "an IAM path that starts and ends with /"
    else:
        expected = "a valid IAM name (letters, digits and +=,.@_-)"
    return f"expected {expected}, got {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


def _check_references(
    path: Path, lines: dict, account: str, state: AccountState, problems: list[Problem]
) -> None:
    """Groups a user is in, and customer managed policies attached, must be declared."""
    own_policy = re.compile(rf"^{PARTITION}:iam::(\d{{12}}):policy/(?:.*/)?([^/]+)$")
    for name, user in state.users.items():
        for i, group in enumerate(user.groups):
            if group not in state.groups:
                problems.append(
                    Problem(
                        str(path),
                        lines.get(("users", name, "groups", i), 1),
                        f"users.{name}.groups[{i}]",
                        f"group {group!r} is not declared under groups",
                    )
                )
    for kind in ("users", "groups", "roles"):
        for name, entity in getattr(state, kind).items():
            arns = [*entity.managed_policies, getattr(entity, "permissions_boundary", None)]
            for i, arn in enumerate(arns):
                match = own_policy.match(arn or "")
                if not match:
                    continue
                key = (
                    f"{kind}.{name}.managed_policies[{i}]"
                    if i < len(entity.managed_policies)
                    else f"{kind}.{name}.permissions_boundary"
                )
                loc = (
                    (kind, name, "managed_policies", i)
                    if i < len(entity.managed_policies)
                    else (kind, name, "permissions_boundary")
                )
                if match.group(1) != account:
                    problems.append(
                        Problem(
                            str(path),
                            lines.get(loc, 1),
                            key,
                            f"expected a policy of account {account} or an AWS "
                            f"managed policy, got one of account {match.group(1)}",
                        )
                    )
                elif match.group(2) not in state.policies:
                    problems.append(
                        Problem(
                            str(path),
                            lines.get(loc, 1),
                            key,
                            f"customer managed policy {match.group(2)!r} is not "
                            "declared under policies",
                        )
                    )
