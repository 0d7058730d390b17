"""JSON Schemas of the baseline format, generated from the models, for editors.

Point an editor at them, e.g. with the YAML language server's modeline:
`# yaml-language-server: $schema=../../schema/account.schema.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from iamdrift.baselines.access_file import AccessFile
from iamdrift.baselines.identity_center import IdentityCenterFile
from iamdrift.baselines.models import AccountFile, OrganizationFile
from iamdrift.baselines.structure import Structure
from iamdrift.baselines.waivers import WaiverFile
from iamdrift.baselines.yamlio import write_atomic

SCHEMAS = {
    "account.schema.json": AccountFile,
    "organization.schema.json": OrganizationFile,
    "access.schema.json": AccessFile,
    "structure.schema.json": Structure,
    "waivers.schema.json": WaiverFile,
    "identity_center.schema.json": IdentityCenterFile,
}


def schema_texts() -> dict[str, str]:
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: str | Path) -> list[Path]:
    paths = []
    for name, text in schema_texts().items():
        path = Path(directory) / name
        write_atomic(path, text)
        paths.append(path)
    return paths
