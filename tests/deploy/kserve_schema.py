"""A strict JSON Schema for KServe's InferenceService, derived from the model classes of KServe's Python SDK.

KServe's SDK (PyPI ``kserve``) is generated from KServe's OpenAPI document: each class in ``kserve/models``
lists its fields with their types (``openapi_types``), their JSON names (``attribute_map``) and refuses
``None`` for required ones. Installing the SDK would add about 35 packages (grpcio, pandas, the Kubernetes
client, aiohttp, uvloop and httptools, which uvicorn would then use), so this module reads the classes' source
out of the wheel with ``ast``: nothing in it is imported or run. Kubernetes types that the classes refer to
(``V1Container``, ``V1ObjectMeta``, ...) point into kubernetes-validate's definitions, which are strict too.

Regenerate the committed schema (``pip download --no-deps kserve==0.21.0`` first)::

    python -m tests.deploy.kserve_schema kserve-0.21.0-py3-none-any.whl \
        tests/deploy/kserve-0.21.0-inferenceservice.schema.json
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KUBERNETES_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"  # the $id of kubernetes-validate's file
ROOT_CLASS = "V1beta1InferenceService"
REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")
PRIMITIVES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "object": {},
    "datetime": {"type": "string"},
    "date": {"type": "string"},
}
# SDK names of Kubernetes types that do not follow the V<version><Kind> pattern.
KUBERNETES_ALIASES = {
    "ResourceQuantity": "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "V1Time": "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
}


@dataclass(frozen=True)
class ModelClass:
    """One generated SDK class: JSON field name -> SDK type name, and the JSON names it requires."""

    name: str
    fields: dict[str, str]
    required: tuple[str, ...]


def class_tables(node: ast.ClassDef) -> dict[str, dict[str, str]]:
    """The literal ``openapi_types`` and ``attribute_map`` dictionaries assigned in a class body."""
    return {
        statement.targets[0].id: ast.literal_eval(statement.value)
        for statement in node.body
        if isinstance(statement, ast.Assign)
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id in ("openapi_types", "attribute_map")
    }


def parse_model(source: str) -> ModelClass | None:
    """The first class in a generated module that has ``openapi_types`` and ``attribute_map``."""
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        tables = class_tables(node)
        if len(tables) < 2:
            continue
        names = tables["attribute_map"]
        fields = {names[attribute]: type_name for attribute, type_name in tables["openapi_types"].items()}
        required = tuple(sorted({names[attribute] for attribute in REQUIRED.findall(source)}))
        return ModelClass(node.name, fields, required)
    return None


def read_wheel(wheel: Path) -> dict[str, ModelClass]:
    """Every model class in the wheel's ``kserve/models`` package, by class name."""
    models: dict[str, ModelClass] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("kserve/models/") and member.endswith(".py"):
                model = parse_model(archive.read(member).decode())
                if model is not None:
                    models[model.name] = model
    return models


def kubernetes_definition(sdk_name: str, definitions: set[str]) -> str | None:
    """The definition name (io.k8s...) behind an SDK type name such as V1Container, or None if absent."""
    if sdk_name in KUBERNETES_ALIASES:
        return KUBERNETES_ALIASES[sdk_name]
    grouped = re.fullmatch(r"K8sIoApi([A-Z][a-z]+)(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)", sdk_name)
    if grouped:
        group, version, kind = grouped.groups()
        name = f"io.k8s.api.{group.lower()}.{version.lower()}.{kind}"
        return name if name in definitions else None
    plain = re.fullmatch(r"(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)", sdk_name)
    if plain is None:
        return None
    suffix = f".{plain.group(1).lower()}.{plain.group(2)}"
    matches = sorted(name for name in definitions if name.endswith(suffix))
    for preferred in ("io.k8s.api.core.", "io.k8s.apimachinery.pkg.apis.meta."):
        for name in matches:
            if name.startswith(preferred):
                return name
    return matches[0] if len(matches) == 1 else None


def type_schema(type_name: str, models: dict[str, ModelClass], definitions: set[str]) -> dict[str, Any]:
    """The JSON Schema of one SDK type name: primitive, list[...], dict(str, ...), SDK class or Kubernetes type."""
    if type_name in PRIMITIVES:
        return dict(PRIMITIVES[type_name])
    if type_name.startswith("list[") and type_name.endswith("]"):
        return {"type": "array", "items": type_schema(type_name[5:-1], models, definitions)}
    if type_name.startswith("dict(str, ") and type_name.endswith(")"):
        return {"type": "object", "additionalProperties": type_schema(type_name[10:-1], models, definitions)}
    if type_name in models:
        return {"$ref": f"#/$defs/{type_name}"}
    definition = kubernetes_definition(type_name, definitions)
    if definition is not None:
        return {"$ref": f"{KUBERNETES_DEFINITIONS}#/$defs/{definition}"}
    if re.fullmatch(r"(V\d+|K8sIoApi\w+V\d+)[A-Z]\w*", type_name):  # a Kubernetes type newer than the definitions
        return {"not": {}, "description": f"{type_name}: not in this Kubernetes version"}
    # Knative and KEDA types, and KServe types the SDK names without a class (V1beta1MetricQuantity).
    return {"description": f"{type_name}: not described by the SDK; any value"}


def class_schema(model: ModelClass, models: dict[str, ModelClass], definitions: set[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {field: type_schema(kind, models, definitions) for field, kind in model.fields.items()},
    }
    if model.required:
        schema["required"] = list(model.required)
    return schema


def reachable(root: str, models: dict[str, ModelClass]) -> list[str]:
    """SDK classes used, directly or not, by ``root``, in a stable order."""
    seen, pending = {root}, [root]
    while pending:
        for type_name in models[pending.pop()].fields.values():
            for name in re.findall(r"\w+", type_name):
                if name in models and name not in seen:
                    seen.add(name)
                    pending.append(name)
    return sorted(seen)


def build_schema(models: dict[str, ModelClass], definitions: set[str], origin: dict[str, str]) -> dict[str, Any]:
    """The InferenceService schema: one strict definition per SDK class reachable from the root class."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated by tests/deploy/kserve_schema.py from KServe's Python SDK; do not edit.",
        "x-origin": origin,
        "$ref": f"#/$defs/{ROOT_CLASS}",
        "$defs": {name: class_schema(models[name], models, definitions) for name in reachable(ROOT_CLASS, models)},
    }


def kubernetes_definitions(version: str = "1.33.0") -> set[str]:
    """Definition names in kubernetes-validate's strict schemas for ``version``."""
    return set(load_kubernetes_definitions(version)["$defs"])


def load_kubernetes_definitions(version: str = "1.33.0") -> dict[str, Any]:
    import kubernetes_validate  # a dev dependency; imported here so the module loads without it

    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{version}-local-strict"
    return json.loads((folder / "_definitions.json").read_text())  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.deploy.kserve_schema", description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path, help="the kserve wheel from PyPI (pip download --no-deps kserve==X)")
    parser.add_argument("out", type=Path, help="where to write the schema (JSON)")
    args = parser.parse_args(argv)
    version = re.search(r"kserve-([^-]+)-", args.wheel.name)
    origin = {
        "package": "kserve (PyPI), the KServe Python SDK, Apache-2.0",
        "version": version.group(1) if version else "unknown",
        "wheel": args.wheel.name,
        "sha256": hashlib.sha256(args.wheel.read_bytes()).hexdigest(),
        "kubernetes_definitions": "kubernetes-validate, v1.33.0-local-strict",
    }
    schema = build_schema(read_wheel(args.wheel), kubernetes_definitions(), origin)
    args.out.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"{len(schema['$defs'])} classes written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
