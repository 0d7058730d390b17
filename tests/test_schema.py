"""The published JSON Schemas are the ones the models generate (they cannot go stale)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamdrift.baselines.schema import schema_texts

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


@pytest.mark.parametrize("name", sorted(schema_texts()))
def test_published_schema_is_current(name):
    published = (SCHEMA_DIR / name).read_text()
    assert published == schema_texts()[name], "run: python runner.py schema"
