"""Every path the service answers, named once: routes, middleware, metrics labels and docs read them from here."""

from __future__ import annotations

import re

CLASSIFY = "/classify"
ENCODE = "/encode"
PREPROCESS = "/preprocess"
DECODE = "/decode"
SAMPLE = "/sample"
MODEL_CARD = "/v1/model"
LIVENESS = "/healthz"
READINESS = "/readyz"
METRICS = "/metrics"
DEMO_PAGE = "/"
STATIC = "/static"
# The Open Inference Protocol (KServe v2, Triton's REST protocol): service/oip/routes.py.
OIP_SERVER = "/v2"
OIP_LIVE = "/v2/health/live"
OIP_READY = "/v2/health/ready"
OIP_MODEL = "/v2/models/{name}"
OIP_MODEL_READY = "/v2/models/{name}/ready"
OIP_INFER = "/v2/models/{name}/infer"
OIP_VERSION = "/v2/models/{name}/versions/{version}"
OIP_VERSION_READY = "/v2/models/{name}/versions/{version}/ready"
OIP_VERSION_INFER = "/v2/models/{name}/versions/{version}/infer"
OIP_INFER_PATH = re.compile(r"/v2/models/[^/]+(/versions/[^/]+)?/infer")

# The image endpoints: plain Starlette routes (service/image_routes.py), documented by service/openapi.py.
IMAGE_PATHS = (CLASSIFY, ENCODE, PREPROCESS)
# Requests that do model or image work: counted against ROUTED_VAE_MAX_CONCURRENT_REQUESTS (503 beyond).
INFERENCE_PATHS = frozenset({*IMAGE_PATHS, DECODE, SAMPLE})
# Every fixed path: a request refused before routing (413, 503) is still labelled with its endpoint.
FIXED_PATHS = frozenset(
    {*INFERENCE_PATHS, MODEL_CARD, LIVENESS, READINESS, METRICS, DEMO_PAGE, "/docs", "/openapi.json"}
    | {OIP_SERVER, OIP_LIVE, OIP_READY}
)


def speaks_oip(path: str) -> bool:
    """True for the Open Inference Protocol's paths, whose errors are {"error": "<message>"}."""
    return path == OIP_SERVER or path.startswith(OIP_SERVER + "/")


def oip_infer_template(path: str) -> str | None:
    """The route template of a v2 inference path (for requests refused before routing), else None."""
    match = OIP_INFER_PATH.fullmatch(path) if path.startswith("/v2/models/") else None
    if match is None:
        return None
    return OIP_INFER if match.group(1) is None else OIP_VERSION_INFER


def runs_inference(path: str) -> bool:
    """True for requests that the overload limit counts."""
    return path in INFERENCE_PATHS or oip_infer_template(path) is not None


# Reachable without an API key when keys are set (service/auth.py); every other path needs one, so a route
# added later is protected unless it is listed here. Probes, the demo page and its files, and the API docs.
DOCS = "/docs"
OPENAPI = "/openapi.json"
OPEN_PATHS = frozenset({LIVENESS, READINESS, DEMO_PAGE, DOCS, DOCS + "/oauth2-redirect", OPENAPI})
OPEN_PREFIXES = (STATIC + "/", "/v2/health/")


def is_open(path: str) -> bool:
    """True for paths served without an API key; a prefix never opens a path that climbs out with '..'."""
    return path in OPEN_PATHS or (path.startswith(OPEN_PREFIXES) and ".." not in path)
