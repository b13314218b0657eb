"""deploy/kubernetes/overlays/api-keys: keys from a Secret the operator creates, metrics on their own port."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from service.config import Settings
from tests.deploy.manifests import DEPLOY, find, rendered_documents
from tests.service.live_server import free_port, start_service, wait_ready

OVERLAY = DEPLOY / "kubernetes" / "overlays" / "api-keys"
SECRET = "routed-vae-api-keys"


def pod_spec() -> dict[str, Any]:
    return find(rendered_documents(OVERLAY), "Deployment")["spec"]["template"]  # type: ignore[no-any-return]


def settings_variables() -> dict[str, str]:
    return dict(find(rendered_documents(OVERLAY), "ConfigMap")["data"])


def test_keys_come_from_a_secret_mounted_read_only_for_the_service_alone() -> None:
    spec = pod_spec()["spec"]
    (container,) = spec["containers"]
    fields = {name.removeprefix("ROUTED_VAE_").lower(): value for name, value in settings_variables().items()}
    settings = Settings.model_validate(fields)  # a name that is no setting, or a bad value, raises
    assert settings.api_keys_file is not None
    volume = next(volume for volume in spec["volumes"] if volume.get("secret", {}).get("secretName") == SECRET)
    mount = next(mount for mount in container["volumeMounts"] if mount["name"] == volume["name"])
    assert Path(mount["mountPath"]) == settings.api_keys_file.parent and mount["readOnly"] is True
    assert volume["secret"]["defaultMode"] == 0o440
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsUser"] == 10001
    assert not [doc for doc in rendered_documents(OVERLAY) if doc["kind"] == "Secret"], "no keys in the repository"


def test_metrics_port_is_declared_annotated_admitted_and_not_published() -> None:
    port = int(settings_variables()["ROUTED_VAE_METRICS_PORT"])
    template = pod_spec()
    (container,) = template["spec"]["containers"]
    assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
    annotations = template["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (str(port), "/metrics")
    policy = find(rendered_documents(OVERLAY), "NetworkPolicy")["spec"]
    assert {entry["port"] for rule in policy["ingress"] for entry in rule["ports"]} == {8000, port}
    assert [entry["port"] for entry in find(rendered_documents(OVERLAY), "Service")["spec"]["ports"]] == [8000]
    assert settings_variables()["ROUTED_VAE_RATE_LIMIT_RPS"] != "0"


def test_the_overlays_settings_serve_as_intended(tiny_model_path: Path, tmp_path: Path) -> None:
    """The overlay's settings on a live server, the key file and ports moved to this machine's free ones."""
    key = "overlay-key-0123456789abcdef"
    key_file = tmp_path / "api-keys"
    key_file.write_text(f"sha256:{hashlib.sha256(key.encode()).hexdigest()}\n")
    env = settings_variables() | {"ROUTED_VAE_API_KEYS_FILE": str(key_file)}
    env["ROUTED_VAE_METRICS_PORT"] = str(metrics_port := free_port())
    port = free_port()
    process = start_service(tiny_model_path, port, env=env)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{port}/v1/model", timeout=10).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/v1/model", headers={"X-API-Key": key}, timeout=10).status_code == 200
        assert "routed_vae_requests_total" in httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    finally:
        process.terminate()
        process.wait(timeout=30)
