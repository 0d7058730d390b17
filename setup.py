"""Packages found, not listed: a hand-written list once left `iamdrift.changes` out of the
wheel. The checks and the example organization are mapped in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["iamdrift", "iamdrift.*"]),
        "iamdrift.checks",
        "iamdrift.seed",
        "iamdrift.seed.accounts",
    ]
)
