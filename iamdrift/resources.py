"""Where the shipped checks and example baselines are: inside the installed package, or at
the top of a clone of the repository (where `checks/` and `baselines/` live)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _shipped(inside: str, in_clone: str) -> Path:
    installed = PACKAGE / inside
    return installed if installed.is_dir() else PACKAGE.parent / in_clone


def checks_dir() -> Path:
    """The check modules that `run` hands to pytest."""
    return _shipped("checks", "checks")


def example_baselines() -> Path:
    """The example organization's baselines, the ones the demo builds."""
    return _shipped("seed", "baselines")
