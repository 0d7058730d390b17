"""Collection's hooks: which tests run, and the reads they need started before the first."""

from __future__ import annotations

import os

import pytest

from iamdrift.audit.auditor import Auditor
from iamdrift.plugin.session import Session, target_of
from iamdrift.plugin.targets import CHECKS, Target
from iamdrift.report.progress import Progress


class Collection:
    def __init__(self, session: Session):
        self.session = session

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """The account's name is a keyword too (`-k DEMO`); a check with nothing to check
        (no organization declared) is left out."""
        run = self.session
        empty = [
            i
            for i in items
            if target_of(i) is None and set(getattr(i, "fixturenames", ())) & set(CHECKS)
        ]
        if empty:
            config.hook.pytest_deselected(items=empty)
            items[:] = [i for i in items if i not in empty]
        for item in items:
            target = target_of(item)
            if target is not None and target.account in run.baseline.accounts:
                item.extra_keyword_matches.add(run.baseline.accounts[target.account].name)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start reading every account the selected tests need, before the first test runs."""
        run = self.session
        merging = run.config.getoption("iamdrift_parts") and (
            run.config.getoption("iamdrift_fresh") is None
        )
        if session.config.option.collectonly or merging:
            return
        if run.is_worker or run.config.pluginmanager.has_plugin("dsession"):
            return  # under xdist each worker reads the groups of accounts it is given
        needed = {t.account for i in session.items if (t := target_of(i)) is not None}
        if any((target_of(i) or Target("", "")).check == "access" for i in session.items):
            needed |= {a.id for a in run.selected()}
        if not needed:
            return
        tr = run.config.pluginmanager.get_plugin("terminalreporter")
        source = run.source
        if tr is not None and isinstance(source, Auditor):
            run.terminal = tr
            if source.listener is None:  # else the command line started reading already
                tty = bool(tr.isatty()) and not os.environ.get("CI")
                source.listener = Progress(len(needed), tty=tty)
        source.start(a for a in run.selected() if a.id in needed)
