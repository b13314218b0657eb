"""Throughput of v2 inference against the service's own /encode, same server, same run: images per second.

One server (``python -m service``, pinned to CPU 0 with one torch thread, as ``bench.serve`` starts it)
answers every case; wrk, pinned to CPU 1, sends the same 64 MNIST test digits (28x28 floats in [0, 1]) as:

- ``/encode`` with JSON ``{"images": [64 pixel arrays]}``;
- ``/v2/models/routed-vae-encoder/infer`` with the pixels as binary tensor data (Triton's extension, what
  tritonclient sends by default) and the latents asked back as binary;
- the same v2 request with JSON tensors.

Before timing, the v2 binary answer must equal /encode's latents (within 1e-5). Each case gets a warm-up
run of wrk, then a measured run, at each ``--connections``; ``--repeat`` rounds restart the server and the
round with the median throughput is reported. Run: ``python -m bench.oip`` (needs ``wrk`` and ``taskset``).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.serve import find_tool, post, run_wrk, running
from bench.serve_cases import SAMPLES, SERVERS, Payload
from bench.serve_report import middle_run

ROWS = 64
ENCODER = "/v2/models/routed-vae-encoder/infer"


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    payload: str  # key into the payloads


CASES = [
    Case("/encode, JSON", "/encode", "encode-json"),
    Case("v2 encoder, binary tensors", ENCODER, "v2-binary"),
    Case("v2 encoder, JSON tensors", ENCODER, "v2-json"),
]


def mnist_pixels(count: int) -> np.ndarray:
    """(count, 28, 28) float32 in [0, 1]: the bundled MNIST test digits."""
    samples = json.loads(SAMPLES.read_text())["pixels"]
    digits = [np.frombuffer(base64.b64decode(samples[index % len(samples)]), dtype=np.uint8) for index in range(count)]
    return np.stack(digits).reshape(count, 28, 28).astype(np.float32) / 255


def v2_binary_body(pixels: np.ndarray) -> tuple[bytes, int]:
    """A v2 request with the pixels as binary tensor data, asking for binary outputs; and its JSON's length."""
    tensor: dict[str, Any] = {"name": "pixels", "shape": list(pixels.shape), "datatype": "FP32"}
    tensor["parameters"] = {"binary_data_size": pixels.nbytes}
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}}).encode()
    return header + pixels.astype("<f4").tobytes(), len(header)


def write_payloads(folder: Path, pixels: np.ndarray) -> dict[str, Payload]:
    json_tensor = {"name": "pixels", "shape": list(pixels.shape), "datatype": "FP32", "data": pixels.ravel().tolist()}
    binary, header_length = v2_binary_body(pixels)
    binary_headers = {"Inference-Header-Content-Length": str(header_length)}
    bodies = {
        "encode-json": json.dumps({"images": pixels.tolist()}).encode(),
        "v2-binary": binary,
        "v2-json": json.dumps({"inputs": [json_tensor]}).encode(),
    }
    for name, body in bodies.items():
        (folder / name).write_bytes(body)
    return {
        "encode-json": Payload(folder / "encode-json", "application/json"),
        "v2-binary": Payload(folder / "v2-binary", "application/octet-stream", headers=binary_headers),
        "v2-json": Payload(folder / "v2-json", "application/json"),
    }


def check_answers(base: str, payloads: dict[str, Payload]) -> None:
    """The v2 binary latents must equal /encode's for the same pixels before anything is timed."""
    status, body = post(base + "/encode", payloads["encode-json"])
    expected = np.array(json.loads(body)["latents"], dtype=np.float32) if status == 200 else np.empty(0)
    status, latents = post_v2(base + ENCODER, payloads["v2-binary"])
    if latents is None or latents.shape != expected.shape or not np.allclose(latents, expected, rtol=0, atol=1e-5):
        sys.exit(f"v2 binary and /encode disagree (HTTP {status}); not benchmarking.")


def post_v2(url: str, payload: Payload) -> tuple[int, np.ndarray | None]:
    """A v2 binary request's status and its latents, read from the binary part of the answer."""
    headers = {"Content-Type": payload.content_type, **payload.headers}
    request = urllib.request.Request(url, data=payload.body.read_bytes(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            length = int(response.headers["Inference-Header-Content-Length"])
            body = response.read()
    except urllib.error.HTTPError as error:
        return error.code, None
    return response.status, np.frombuffer(body[length:], dtype="<f4").reshape(-1, 10)


def bench_round(args: argparse.Namespace, payloads: dict[str, Payload], log: Path) -> dict[str, dict[str, float]]:
    """Start the server, check its answers, and measure each case at each concurrency once (after a warm-up)."""
    results = {}
    with running(SERVERS["ours"], args.port, log):
        base = f"http://127.0.0.1:{args.port}"
        check_answers(base, payloads)
        for connections in args.connections:
            for case in CASES:
                run_wrk(base + case.path, payloads[case.payload], connections, args.warmup)
                raw = run_wrk(base + case.path, payloads[case.payload], connections, args.duration)
                seconds = raw["duration_us"] / 1e6
                row = {
                    "images_per_s": raw["requests"] * ROWS / seconds,
                    "requests_per_s": raw["requests"] / seconds,
                    "p50_ms": raw["p50_us"] / 1000,
                    "p99_ms": raw["p99_us"] / 1000,
                    "errors": raw["non_2xx"] + raw["socket_errors"],
                }
                results[f"{case.name}, c={connections}"] = row
                print(f"   {case.name:30s} c={connections:<3d} {row['images_per_s']:8.0f} images/s  "
                      f"p50 {row['p50_ms']:7.2f} ms  errors {row['errors']:.0f}", flush=True)  # fmt: skip
    return results


def markdown(results: dict[str, dict[str, float]], connections: list[int]) -> str:
    lines = [
        f"| case ({ROWS} images a request) | images/s | requests/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['images_per_s']:.0f} | {row['requests_per_s']:.1f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['errors']:.0f} |"
        )
    for count in connections:
        encode, binary = (results[f"{case.name}, c={count}"]["images_per_s"] for case in CASES[:2])
        ratio = binary / encode
        lines.append(f"\nAt c={count}: v2 binary tensors give {ratio:.2f}x the images/s of /encode with JSON.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4], help="wrk connections (default: 1 4)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per case (default: 10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per case (default: 3)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each with a fresh server; the median is kept")
    parser.add_argument("--port", type=int, default=8120, help="the server's port (default: 8120)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if find_tool(tool) is None:
            sys.exit(f"error: '{tool}' is not on PATH (apt install wrk util-linux)")
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        payloads = write_payloads(Path(folder), mnist_pixels(ROWS))
        for index in range(args.repeat):
            print(f"-- round {index + 1} of {args.repeat}", flush=True)
            rounds.append(bench_round(args, payloads, Path(folder) / "server.log"))
    results = {name: middle_run([row[name] for row in rounds]) for name in rounds[0]}
    print()
    print(markdown(results, args.connections))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
