"""JSON Schema validation against the 1EdTech OB 3.0 / CLR 2.0 schemas shipped with the package.

The schemas are draft 2019-09 and their ``$ref``s resolve inside a local registry, offline:
nothing is fetched. They are the VC Data Model 2.0 variants, so VC 1.1 credentials
(``issuanceDate``) are reported as out of their scope rather than as invalid. Validation runs on
``jsonschema-rs`` (Rust): the pure-Python validator took ~13 ms per Open Badge, most of a
verification; this takes ~0.1 ms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMAS_DIR = Path(__file__).resolve().parent / "standards" / "schemas"
OB_ACHIEVEMENT_CREDENTIAL = "ob_v3p0_achievementcredential_schema.json"
OB_ENDORSEMENT_CREDENTIAL = "ob_v3p0_endorsementcredential_schema.json"
CLR_CREDENTIAL = "clr_v2p0_clrcredential_schema.json"
OB_PROFILE = "ob_v3p0_profile_schema.json"
_SCHEMA_BY_TYPE = {
    "OpenBadgeCredential": OB_ACHIEVEMENT_CREDENTIAL,
    "AchievementCredential": OB_ACHIEVEMENT_CREDENTIAL,
    "EndorsementCredential": OB_ENDORSEMENT_CREDENTIAL,
    "ClrCredential": CLR_CREDENTIAL,
}
_MAX_REPORTED_ERRORS = 5


def _refuse_remote(uri: str) -> Any:
    raise ValueError(f"schema {uri} is not shipped with microcred and is never fetched")


@cache
def _registry() -> jsonschema_rs.Registry:
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], contents))
    return jsonschema_rs.Registry(resources, retriever=_refuse_remote)


@cache
def _validator(file_name: str) -> jsonschema_rs.Draft201909Validator:
    schema = json.loads((SCHEMAS_DIR / file_name).read_text(encoding="utf-8"))
    return jsonschema_rs.Draft201909Validator(
        schema,
        registry=_registry(),
        retriever=_refuse_remote,
        validate_formats=False,
    )


@dataclass(frozen=True)
class SchemaOutcome:
    schema: str | None
    errors: tuple[str, ...]
    applicable: bool = True

    @property
    def valid(self) -> bool:
        return self.applicable and not self.errors


def schema_for(credential: Mapping[str, Any]) -> str | None:
    types = credential.get("type")
    for name in types if isinstance(types, list) else [types]:
        if isinstance(name, str) and name in _SCHEMA_BY_TYPE:
            return _SCHEMA_BY_TYPE[name]
    return None


def validate_schema(credential: Mapping[str, Any]) -> SchemaOutcome:
    """Validate against the schema for the credential's type, listing the first few errors."""
    file_name = schema_for(credential)
    if file_name is None:
        return SchemaOutcome(None, (), applicable=False)
    if "validFrom" not in credential and "issuanceDate" in credential:
        return SchemaOutcome(file_name, (), applicable=False)
    return SchemaOutcome(file_name, schema_errors(file_name, credential))


def schema_errors(file_name: str, document: Any) -> tuple[str, ...]:
    """The first few errors of a document against one of the shipped schemas (none: valid)."""
    validator = _validator(file_name)
    if validator.is_valid(document):
        return ()
    errors = sorted(
        validator.iter_errors(document), key=lambda error: [str(p) for p in error.instance_path]
    )
    return tuple(
        f"{'/'.join(str(part) for part in error.instance_path) or '(root)'}: {error.message[:200]}"
        for error in errors[:_MAX_REPORTED_ERRORS]
    )
