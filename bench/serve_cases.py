"""What bench/serve.py measures: the servers, the cases, the request bodies and the targets they are judged by."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "service" / "static" / "mnist-samples.json"
BOUNDARY = "benchboundary7d1c"
SCAN_SIDE = 112


@dataclass(frozen=True)
class Server:
    name: str
    module: str  # started as: python -m MODULE --port PORT
    ready_path: str
    kinds: frozenset[str]  # which case kinds it serves
    env: dict[str, str] = field(default_factory=dict)
    classifies: bool = True  # its answers are checked before it is timed (the floor's are constant)
    tree: Path = ROOT  # the source tree it runs from (another commit's, for before/after tables)


# One process (the stack patches its app before building it: workers would not see that), one torch thread, and no
# 503 at c=64.
OUR_SETTINGS = {"ROUTED_VAE_WORKERS": "1", "ROUTED_VAE_TORCH_THREADS": "1", "ROUTED_VAE_MAX_CONCURRENT_REQUESTS": "256"}
ALL_KINDS = frozenset({"single", "single-auto", "scan-auto", "batch", "batch-auto", "decode"})
SERVERS = {
    "ours": Server("routed-vae (this service)", "service", "/readyz", ALL_KINDS, OUR_SETTINGS),
    "naive": Server("naive FastAPI", "bench.servers.naive", "/docs", frozenset({"single", "batch", "decode"})),
    "litserve": Server("LitServe (batching on)", "bench.servers.lit", "/health", frozenset({"single"})),
    "floor": Server(
        "floor: Starlette, body read, constant JSON", "bench.servers.floor", "/", ALL_KINDS, classifies=False
    ),
    # Ours with /classify answering constant JSON: the most our own stack allows (bench/servers/stack.py).
    "stack": Server(
        "stack: ours, /classify constant",
        "bench.servers.stack",
        "/readyz",
        frozenset({"single", "single-auto", "scan-auto"}),
        OUR_SETTINGS,
        classifies=False,
    ),
}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # which request body: see write_payloads
    path: str
    connections: int
    images_per_request: int = 1
    baseline: str = ""  # the case of other servers it is compared with (itself when empty)

    @property
    def compared_with(self) -> str:
        return self.baseline or self.name


CASES = [
    Case("classify 1 PNG, c=1", "single", "/classify?preprocess=none", 1),
    Case("classify 1 PNG, c=8", "single", "/classify?preprocess=none", 8),
    Case("classify 1 PNG, c=64", "single", "/classify?preprocess=none", 64),
    # Ours with its default, auto; the naive server reads the same 28x28 PNG as it is.
    Case("classify 1 PNG (auto), c=64", "single-auto", "/classify", 64, baseline="classify 1 PNG, c=64"),
    # A 112x112 black-on-white picture of the digit (a scan) through auto, against the naive server's 28x28 case.
    Case("classify 112x112 scan (auto), c=64", "scan-auto", "/classify", 64, baseline="classify 1 PNG, c=64"),
    Case("classify 256 PNGs, c=4", "batch", "/classify?preprocess=none", 4, 256),
    Case("classify 256 PNGs (auto), c=4", "batch-auto", "/classify", 4, 256, baseline="classify 256 PNGs, c=4"),
    Case("decode 1 latent -> PNG, c=1", "decode", "/decode?scale=8", 1),
]


@dataclass(frozen=True)
class Target:
    """A figure a run is judged by: ``ratio`` of ours to naive, ``images_per_s``, ``p99_over_p50`` or ``p50_ms``
    (``at_most``: an upper bound) in one case, met only if every round meets it."""

    case: str
    measure: str
    bound: float
    at_most: bool = False


TARGETS = [
    Target("classify 1 PNG (auto), c=64", "ratio", 2.0),
    Target("classify 112x112 scan (auto), c=64", "ratio", 1.5),
    Target("classify 1 PNG, c=64", "ratio", 3.0),
    Target("classify 1 PNG (auto), c=64", "p99_over_p50", 2.0, at_most=True),
    Target("classify 112x112 scan (auto), c=64", "p99_over_p50", 2.0, at_most=True),
    Target("classify 1 PNG, c=64", "p99_over_p50", 2.0, at_most=True),
    Target("classify 256 PNGs (auto), c=4", "images_per_s", 10_000),
    Target("decode 1 latent -> PNG, c=1", "p50_ms", 2.0, at_most=True),
]


@dataclass
class Payload:
    body: Path
    content_type: str
    accept: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # any other request headers


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def mnist_digits(count: int) -> tuple[list[np.ndarray], list[int]]:
    """The first ``count`` bundled MNIST test digits, (28, 28) uint8 each (repeated when more are asked for)."""
    samples = json.loads(SAMPLES.read_text())
    digits = [
        np.frombuffer(base64.b64decode(samples["pixels"][index % 200]), dtype=np.uint8).reshape(28, 28)
        for index in range(count)
    ]
    return digits, [int(samples["labels"][index % 200]) for index in range(count)]


def mnist_pngs(count: int) -> tuple[list[bytes], list[int]]:
    """PNG files of the first ``count`` bundled MNIST test digits."""
    digits, labels = mnist_digits(count)
    return [png(digit) for digit in digits], labels


def scan_png() -> tuple[bytes, int]:
    """The first test digit as a 112x112 black-on-white picture (bilinear upscaling), and its label."""
    (digit,), (label,) = mnist_digits(1)
    picture = Image.fromarray(255 - digit).resize((SCAN_SIDE, SCAN_SIDE), Image.Resampling.BILINEAR)
    return png(np.asarray(picture)), label


def multipart(files: list[bytes]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{i}.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + data
        + b"\r\n"
        for i, data in enumerate(files)
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def write_payloads(folder: Path) -> dict[str, Payload]:
    """A request body per case kind, written to ``folder`` for wrk to read."""
    form_type = f"multipart/form-data; boundary={BOUNDARY}"
    single, _ = mnist_pngs(1)
    batch, _ = mnist_pngs(256)
    latent = {"latents": [[0.0, 0.0, 0.0, 1.2, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0]]}
    bodies = {
        "single": multipart(single),
        "scan": multipart([scan_png()[0]]),
        "batch": multipart(batch),
        "decode": json.dumps(latent).encode(),
    }
    for name, body in bodies.items():
        (folder / name).write_bytes(body)
    payloads = {kind: Payload(folder / body, form_type) for kind, body in (("single", "single"), ("batch", "batch"))}
    payloads["single-auto"], payloads["batch-auto"] = payloads["single"], payloads["batch"]
    payloads["scan-auto"] = Payload(folder / "scan", form_type)
    payloads["decode"] = Payload(folder / "decode", "application/json", accept="image/png")
    return payloads
