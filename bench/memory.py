"""Memory and readiness figures for sizing a container: start-up time, idle RSS, peak RSS under overload.

Starts ``python -m service`` (the committed model unless ``--model``) with one torch thread, as the Kubernetes
manifests run it, and reads its memory from /proc while a bounded burst of concurrent clients, more than the
service admits at once, posts a mix of heavy requests (batches of 256 pictures, large photos through ``auto``,
256-latent decodes, 64-sample draws). A poller times ``/readyz`` all along, since probes must answer under load.

Run: ``python -m bench.memory`` (about 20 s; ``--clients``, ``--seconds`` to change the burst). The server
runs on 127.0.0.1 only and stops at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "routed-vae.pt"


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def photo(side: int) -> bytes:
    """A dark stroke on a light page, ``side`` pixels square, in RGB: what a phone photo of a digit decodes to."""
    image = Image.new("RGB", (side, side), (235, 232, 225))
    ImageDraw.Draw(image).line(
        [(side * 0.5, side * 0.2), (side * 0.5, side * 0.8)], fill=(20, 20, 30), width=side // 12
    )
    return png(image)


def mnist_form() -> bytes:
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(14, 5), (14, 23)], fill=255, width=3)
    return png(image)


BOUNDARY = "memorybench5f3a"


@dataclass(frozen=True)
class Call:
    """One request of the mix, its body encoded once up front so that the clients spend little CPU."""

    path: str
    body: bytes
    content_type: str


def multipart(files: list[bytes]) -> Call:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{i}.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + data
        + b"\r\n"
        for i, data in enumerate(files)
    ]
    return Call("", b"".join(parts) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}")


def json_call(path: str, body: dict[str, object]) -> Call:
    return Call(path, json.dumps(body).encode(), "application/json")


def request_mix() -> list[Call]:
    small, large = mnist_form(), photo(1500)
    latents = [[0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]] * 256
    batch, one_photo, four_photos = multipart([small] * 256), multipart([large]), multipart([large] * 4)
    return [
        Call("/classify?preprocess=none", batch.body, batch.content_type),
        Call("/classify", one_photo.body, one_photo.content_type),
        Call("/encode", four_photos.body, four_photos.content_type),
        json_call("/decode", {"latents": latents}),
        json_call("/sample", {"n": 64, "seed": 1}),
    ]


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


@dataclass
class RssSampler:
    """Reads VmRSS every ``interval`` seconds on a thread until stopped; the kernel's VmHWM backs up the peak."""

    pid: int
    interval: float = 0.01
    samples: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(rss_kib(self.pid))
            time.sleep(self.interval)


async def client_loop(
    http: httpx.AsyncClient, calls: list[Call], offset: int, deadline: float, tally: Counter[str]
) -> None:
    index = offset
    while time.monotonic() < deadline:
        call = calls[index % len(calls)]
        index += 1
        try:
            response = await http.post(call.path, content=call.body, headers={"Content-Type": call.content_type})
        except httpx.TransportError as error:  # counted, not fatal: the figures say how many there were
            tally[type(error).__name__] += 1
            continue
        tally[str(response.status_code)] += 1
        if response.status_code == 503:
            await asyncio.sleep(0.05)  # shed: retry soon, far sooner than the Retry-After asks


@dataclass
class ReadinessPoller:
    """Times GET /readyz on a fresh connection every 0.1 s, on its own thread, as a kubelet probe would."""

    url: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.perf_counter()
            try:
                status = httpx.get(f"{self.url}/readyz", timeout=10).status_code
            except httpx.TransportError as error:
                self.failures.append(repr(error))
                continue
            self.latencies.append(time.perf_counter() - began)
            if status != 200:
                self.failures.append(f"status {status}")
            self.stop.wait(0.1)


async def overload(url: str, clients: int, seconds: float) -> Counter[str]:
    """``clients`` loops posting the request mix for ``seconds``; the count of each status (or transport error)."""
    calls, tally = request_mix(), Counter[str]()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await asyncio.gather(*[client_loop(http, calls, i, deadline, tally) for i in range(clients)])
    return tally


def start(model: Path, port: int, max_in_flight: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ROUTED_VAE_PORT": str(port),
        "ROUTED_VAE_MODEL_PATH": str(model),
        "ROUTED_VAE_TORCH_THREADS": "1",
        "ROUTED_VAE_MAX_CONCURRENT_REQUESTS": str(max_in_flight),
        "ROUTED_VAE_LOG_LEVEL": "warning",
    }
    return subprocess.Popen([sys.executable, "-m", "service"], env=env, cwd=ROOT)


def wait_ready(url: str, timeout: float = 60.0) -> float:
    """Seconds until /readyz answers 200."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} was not ready within {timeout} s")


def measure(args: argparse.Namespace) -> dict[str, object]:
    url = f"http://127.0.0.1:{args.port}"
    process = start(args.model, args.port, args.max_in_flight)
    try:
        ready_s = wait_ready(url)
        time.sleep(args.settle)
        idle = rss_kib(process.pid)
        sampler, poller = RssSampler(process.pid), ReadinessPoller(url)
        threads = [threading.Thread(target=worker.run, daemon=True) for worker in (sampler, poller)]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        tally = asyncio.run(overload(url, args.clients, args.seconds))
        burst_s = time.monotonic() - began
        sampler.stop.set()
        poller.stop.set()
        for thread in threads:
            thread.join()
        peak = max(max(sampler.samples), rss_kib(process.pid, "VmHWM"))
        time.sleep(args.settle)
        after = rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "ready_s": round(ready_s, 2),
        "idle_rss_mib": round(idle / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_after_burst_mib": round(after / 1024, 1),
        "statuses": dict(sorted(tally.items())),
        "burst_s": round(burst_s, 1),
        "readyz_probes": len(poller.latencies),
        "readyz_p50_ms": round(sorted(poller.latencies)[len(poller.latencies) // 2] * 1000, 1),
        "readyz_max_ms": round(max(poller.latencies) * 1000, 1),
        "readyz_failures": poller.failures,
        "clients": args.clients,
        "seconds": args.seconds,
        "max_in_flight": args.max_in_flight,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="TorchScript model (default: committed)")
    parser.add_argument("--port", type=int, default=18731, help="loopback port for the server (default: 18731)")
    parser.add_argument("--clients", type=int, default=128, help="concurrent client loops (default: 128)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the burst (default: 10)")
    parser.add_argument("--max-in-flight", type=int, default=64, help="server's in-flight limit (default: 64)")
    parser.add_argument("--settle", type=float, default=3.0, help="quiet seconds before idle readings (default: 3)")
    result = measure(parser.parse_args(argv))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
