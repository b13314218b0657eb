"""The manifests agree with the service and the image: settings, probes, port, user, hardening, image name,
shutdown timings; the plain Kubernetes and KServe variants run the pods alike."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from service.config import Settings
from tests.deploy.manifests import DEPLOY, ROOT, find, rendered_documents
from tests.service.live_server import free_port, start_service, wait_ready

PLAIN, KSERVE = DEPLOY / "kubernetes", DEPLOY / "kserve"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["api"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def pod_spec(directory: Path) -> dict[str, Any]:
    """The pod template of the Deployment, or the InferenceService's predictor (a pod spec plus KServe fields)."""
    docs = rendered_documents(directory)
    if directory == KSERVE:
        return find(docs, "InferenceService")["spec"]["predictor"]  # type: ignore[no-any-return]
    return find(docs, "Deployment")["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def container(directory: Path) -> dict[str, Any]:
    containers = pod_spec(directory)["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def settings_variables(directory: Path) -> dict[str, str]:
    """Every ROUTED_VAE_* variable the pods get: the ConfigMap they load and any env entries."""
    variables = dict(find(rendered_documents(directory), "ConfigMap")["data"])
    variables.update({entry["name"]: entry["value"] for entry in container(directory).get("env", [])})
    return variables


def probes(directory: Path) -> dict[str, dict[str, Any]]:
    return {name: container(directory)[name] for name in ("startupProbe", "readinessProbe", "livenessProbe")}


def cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


@pytest.mark.parametrize("directory", [PLAIN, KSERVE], ids=["kubernetes", "kserve"])
def test_every_routed_vae_variable_is_a_setting_with_a_valid_value(directory: Path) -> None:
    rendered = yaml.safe_dump_all(rendered_documents(directory))
    mentioned = set(re.findall(r"ROUTED_VAE_[A-Z0-9_]+", rendered))
    variables = settings_variables(directory)
    assert mentioned == set(variables), "a ROUTED_VAE_ name appears outside the settings"
    fields = {f"ROUTED_VAE_{name.upper()}": name for name in Settings.model_fields}
    assert set(variables) <= set(fields), set(variables) - set(fields)
    settings = Settings.model_validate({fields[name]: value for name, value in variables.items()})  # bad value: raises
    assert settings.torch_threads == cores(container(directory)["resources"]["limits"]["cpu"])


@pytest.mark.parametrize("directory", [PLAIN, KSERVE], ids=["kubernetes", "kserve"])
def test_shutdown_fits_in_the_grace_period(directory: Path) -> None:
    variables = settings_variables(directory)
    pause = container(directory)["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain, graceful = (
        float(variables["ROUTED_VAE_DRAIN_SECONDS"]),
        float(variables["ROUTED_VAE_GRACEFUL_SHUTDOWN_SECONDS"]),
    )
    assert drain > 0 and pause > 0
    assert pod_spec(directory)["terminationGracePeriodSeconds"] > pause + drain + graceful


@pytest.mark.slow
def test_probes_and_port_exist_on_the_running_service(tiny_model_path: Path) -> None:
    spec = container(PLAIN)
    (port,) = spec["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8000) == ("http", Settings().port)
    paths = {probe["httpGet"]["path"] for probe in probes(PLAIN).values()}
    assert {probe["httpGet"]["port"] for probe in probes(PLAIN).values()} == {"http"}
    assert {probe["httpGet"]["port"] for probe in probes(KSERVE).values()} == {8000}
    assert container(KSERVE)["ports"][0]["containerPort"] == 8000
    live_port = free_port()
    process = start_service(tiny_model_path, live_port)
    try:
        wait_ready(f"http://127.0.0.1:{live_port}")
        for path in sorted(paths):
            assert httpx.get(f"http://127.0.0.1:{live_port}{path}", timeout=10).status_code == 200, path
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("directory", [PLAIN, KSERVE], ids=["kubernetes", "kserve"])
def test_user_hardening_and_port_match_the_dockerfile_and_compose(directory: Path) -> None:
    uid = re.search(r"useradd .*--uid (\d+) .*\s(\w+)\n", DOCKERFILE)
    assert uid is not None and f"USER {uid.group(2)}" in DOCKERFILE
    assert "EXPOSE 8000" in DOCKERFILE and "ROUTED_VAE_PORT=8000" in DOCKERFILE
    assert COMPOSE["read_only"] is True and COMPOSE["cap_drop"] == ["ALL"] and COMPOSE["tmpfs"] == ["/tmp"]
    assert "no-new-privileges:true" in COMPOSE["security_opt"] and COMPOSE["ports"] == ["127.0.0.1:8000:8000"]
    pod, spec = pod_spec(directory), container(directory)
    assert pod["securityContext"]["runAsUser"] == int(uid.group(1)) == 10001
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert spec["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert spec["ports"][0]["containerPort"] == 8000
    (mount,) = spec["volumeMounts"]
    volume = next(volume for volume in pod["volumes"] if volume["name"] == mount["name"])
    assert mount["mountPath"] == "/tmp" and "emptyDir" in volume


@pytest.mark.parametrize("directory", [PLAIN, KSERVE], ids=["kubernetes", "kserve"])
def test_image_is_composes_with_the_project_version(directory: Path) -> None:
    compose_name = COMPOSE["image"].split(":")[0]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert compose_name == "routed-vae"
    assert container(directory)["image"] == f"{compose_name}:{version}"


def test_selectors_are_the_pod_labels_and_labels_are_set_in_one_place() -> None:
    docs = rendered_documents(PLAIN)
    deployment = find(docs, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app.kubernetes.io/name": "routed-vae"}
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert find(docs, "Service")["spec"]["selector"] == labels
    assert find(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == labels
    assert find(docs, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"] == labels
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [constraint["labelSelector"]["matchLabels"] for constraint in spread] == [labels, labels]
    assert all(document["metadata"]["labels"] == labels for document in docs)
    sources = [path for path in DEPLOY.rglob("*.yaml") if "app.kubernetes.io/" in path.read_text()]
    assert sources == [DEPLOY / "kubernetes" / "components" / "common" / "kustomization.yaml"]


def test_network_policy_admits_port_8000_only() -> None:
    policy = find(rendered_documents(PLAIN), "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy  # nothing out
    assert policy["ingress"] == [{"ports": [{"port": 8000, "protocol": "TCP"}]}]


def test_kserve_runs_the_pods_as_the_deployment_does() -> None:
    plain, kserve = pod_spec(PLAIN), pod_spec(KSERVE)
    for key in ("securityContext", "automountServiceAccountToken", "enableServiceLinks", "volumes"):
        assert kserve[key] == plain[key], key
    assert kserve["terminationGracePeriodSeconds"] == plain["terminationGracePeriodSeconds"]
    for key in ("image", "envFrom", "resources", "securityContext", "lifecycle", "volumeMounts"):
        assert container(KSERVE)[key] == container(PLAIN)[key], key
    for name, probe in probes(PLAIN).items():  # the same timings; KServe's name the port by number
        assert probes(KSERVE)[name] == {**probe, "httpGet": {**probe["httpGet"], "port": 8000}}, name
    hpa = find(rendered_documents(PLAIN), "HorizontalPodAutoscaler")["spec"]
    assert (kserve["minReplicas"], kserve["maxReplicas"]) == (hpa["minReplicas"], hpa["maxReplicas"])
    assert (kserve["scaleMetric"], kserve["scaleTarget"]) == (
        "cpu",
        hpa["metrics"][0]["resource"]["target"]["averageUtilization"],
    )
    assert hpa["minReplicas"] >= 2
