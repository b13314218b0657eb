"""Every kustomization under deploy/ renders with kubectl kustomize and validates strictly: Kubernetes kinds
against the 1.33 API schemas (kubernetes-validate --strict), the InferenceService against KServe's schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.deploy import manifests
from tests.deploy.manifests import (
    DEPLOY,
    KSERVE_SCHEMA,
    documents,
    find,
    inference_service_errors,
    is_inference_service,
    kubectl_version,
    kubernetes_validate,
    kustomizations,
    render,
    rendered_documents,
    require_kubectl,
)

KUSTOMIZATIONS = kustomizations()


def test_the_expected_kustomizations_are_found() -> None:
    names = {str(path.relative_to(DEPLOY)) for path in KUSTOMIZATIONS}
    assert names == {
        "kubernetes",
        "kubernetes/base",
        "kubernetes/overlays/prometheus",
        "kubernetes/overlays/api-keys",
        "kserve",
    }


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda path: str(path.relative_to(DEPLOY)))
def test_renders_alike_with_every_kubectl_and_validates(directory: Path, tmp_path: Path) -> None:
    binaries = require_kubectl()
    renders = [documents(render(kubectl, directory)) for kubectl in binaries]
    print({str(kubectl): kubectl_version(kubectl) for kubectl in binaries})
    assert all(docs == renders[0] for docs in renders), "the kubectl versions render different objects"
    docs = renders[0]
    kubernetes_docs = [document for document in docs if not is_inference_service(document)]
    completed = kubernetes_validate(kubernetes_docs, tmp_path)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    # A kind without a schema is only a warning to kubernetes-validate: every document must have passed.
    assert output.count("passed for resource") == len(kubernetes_docs), output
    assert "WARN" not in output and "ERROR" not in output, output
    for document in docs:
        if is_inference_service(document):
            assert inference_service_errors(document) == []


def test_kubernetes_validate_rejects_an_unknown_field_and_a_wrong_type(tmp_path: Path) -> None:
    deployment = find(rendered_documents(DEPLOY / "kubernetes"), "Deployment")
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["timeoutSecond"] = 5
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = "yes"
    for broken, expected in ((typo, "'timeoutSecond' was unexpected"), (wrong_type, "is not of type 'boolean'")):
        completed = kubernetes_validate([broken], tmp_path)
        assert completed.returncode != 0 and expected in completed.stdout + completed.stderr


def test_kserve_schema_rejects_unknown_fields_wrong_types_and_fields_newer_than_kubernetes_1_33() -> None:
    service = find(rendered_documents(DEPLOY / "kserve"), "InferenceService")
    predictor_typo = copy.deepcopy(service)
    predictor_typo["spec"]["predictor"]["minReplica"] = 2
    container_typo = copy.deepcopy(service)
    container_typo["spec"]["predictor"]["containers"][0]["readOnlyRootFilesystem"] = True  # belongs in securityContext
    wrong_type = copy.deepcopy(service)
    wrong_type["spec"]["predictor"]["scaleTarget"] = "60%"
    too_new = copy.deepcopy(service)
    too_new["spec"]["predictor"]["schedulingGroup"] = {"podGroupName": "x"}  # Kubernetes 1.35's field
    assert any("'minReplica' was unexpected" in error for error in inference_service_errors(predictor_typo))
    assert any("'readOnlyRootFilesystem' was unexpected" in error for error in inference_service_errors(container_typo))
    assert any("is not of type 'integer'" in error for error in inference_service_errors(wrong_type))
    assert any("schedulingGroup" in error for error in inference_service_errors(too_new))


def test_kserve_schema_names_its_origin() -> None:
    schema = json.loads(KSERVE_SCHEMA.read_text())
    origin = schema["x-origin"]
    assert origin["package"].startswith("kserve (PyPI)") and origin["version"] == "0.21.0"
    assert origin["wheel"] == "kserve-0.21.0-py3-none-any.whl" and len(origin["sha256"]) == 64
    predictor = schema["$defs"]["V1beta1PredictorSpec"]["properties"]
    assert predictor["containers"]["items"]["$ref"].endswith("io.k8s.api.core.v1.Container")
    assert {"minReplicas", "maxReplicas", "scaleMetric", "scaleTarget"} <= set(predictor)


def test_a_missing_kubectl_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "kubectl_binaries", list)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="kubectl is not installed"):
        manifests.require_kubectl()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="kubectl is not installed"):
        manifests.require_kubectl()
