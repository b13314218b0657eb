"""How the app is wired: image endpoints as plain Starlette routes, documented in /openapi.json; one registry."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.testclient import TestClient
from starlette.routing import Route

from service import endpoints
from service.errors import STATUS_OF_CODE
from service.image_routes import IMAGE_ENDPOINTS
from tests.service.conftest import assert_error, digit_png

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"
MNIST_FORM_DIR = SERVICE_DIR.parent / "mnist_form"


def test_routes_are_the_frameworks_own_classes(client: TestClient) -> None:
    """No subclass of a framework route: every route object is one of FastAPI's or Starlette's own classes."""
    modules = {type(route).__module__ for route in client.app.routes}  # type: ignore[attr-defined]
    assert modules <= {"fastapi.routing", "starlette.routing"}
    image_routes = {route.path: route for route in client.app.routes if type(route) is Route}  # type: ignore[attr-defined]
    for path in endpoints.IMAGE_PATHS:
        assert image_routes[path].methods == {"POST"}


def test_every_route_sits_on_the_app_itself(client: TestClient) -> None:
    """No included-router wrapper: FastAPI matches those per request at extra cost, so every route, the v2
    ones included, is registered on the app and has its own path."""
    paths = [getattr(route, "path", None) for route in client.app.routes]  # type: ignore[attr-defined]
    assert None not in paths
    expected = {endpoints.DECODE, endpoints.SAMPLE, endpoints.MODEL_CARD, endpoints.LIVENESS, endpoints.READINESS}
    assert expected | {endpoints.OIP_LIVE, endpoints.OIP_INFER, endpoints.OIP_VERSION_INFER} <= set(paths)


def test_every_registered_path_is_served_and_documented(client: TestClient) -> None:
    documented = set(client.get("/openapi.json").json()["paths"])
    assert endpoints.FIXED_PATHS - {"/", "/docs", "/openapi.json"} <= documented
    for path in endpoints.INFERENCE_PATHS:
        assert client.get(path).status_code == 405, f"{path} is routed (POST only)"
    assert set(IMAGE_ENDPOINTS) == set(endpoints.IMAGE_PATHS)


def test_a_get_to_an_image_endpoint_is_405_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/classify"), 405, "method_not_allowed")


def test_image_endpoints_are_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in endpoints.IMAGE_PATHS:
        operation = schema["paths"][path]["post"]
        assert operation["parameters"][0]["name"] == "preprocess"
        assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
        assert {"200", "400", "413", "415", "422", "503"} <= set(operation["responses"])
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert reference.rsplit("/", 1)[1] in schema["components"]["schemas"]


def test_metrics_label_requests_by_route_template(client: TestClient) -> None:
    client.post("/classify", files={"file": ("a.png", digit_png(), "image/png")})
    client.get("/no/such/path")
    client.get("/static/style.css")
    metrics = client.get("/metrics").text
    assert 'endpoint="/classify",method="POST",status="200"' in metrics
    assert 'endpoint="other",method="GET",status="404"' in metrics
    assert 'endpoint="/static",method="GET",status="200"' in metrics
    assert "/no/such/path" not in metrics


CODE_ARGUMENT = {"InputError": 0, "error_response": 0, "error_response_at": 1}  # which argument is the code


def raised_codes(directory: Path) -> set[str]:
    """Every literal code passed to InputError(...), error_response(...) or error_response_at(...) in a package."""
    codes = set()
    for path in directory.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = CODE_ARGUMENT.get(node.func.id, len(node.args))
            code = node.args[position] if position < len(node.args) else None
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                codes.add(code.value)
    return codes


def test_every_error_code_raised_has_a_status() -> None:
    codes = raised_codes(SERVICE_DIR) | raised_codes(MNIST_FORM_DIR)
    assert {"blank_image", "too_many_images", "not_ready", "overloaded"} <= codes, "the scan finds the raises"
    assert codes <= set(STATUS_OF_CODE), f"codes without a status: {codes - set(STATUS_OF_CODE)}"
