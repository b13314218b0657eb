"""Serving throughput and latency: this service against a naive FastAPI app, LitServe, its own stack and the floor,
same model, same run.

Each server is started pinned to CPU 0 (``taskset``) with one torch thread, on uvicorn with httptools and uvloop
(LitServe: its own); wrk runs pinned to CPU 1. Before timing, every server that classifies must get real MNIST
test digits right. Each case gets a warm-up run of wrk, then a measured run. Cases (bench/serve_cases.py):

- ``/classify``, one 28x28 PNG per multipart request, at concurrency 1, 8 and 64 (ours with ``preprocess=none``,
  as the others read it); at 64 also ours with its default ``auto`` on the same PNG, and on a 112x112
  black-on-white picture of the digit (a scan);
- ``/classify``, 256 PNGs per multipart request (images per second), ours with ``none`` and with ``auto``;
- ``/decode``, one latent per request at concurrency 1, answered as one PNG (what the demo's sliders do).

The floor (bench/servers/floor.py) reads each request's body and answers constant JSON on the same stack: the
most any server could do with those requests on that core. The stack (bench/servers/stack.py) is our service with
/classify answering constant JSON: the most our own middleware, routing, logs and metrics allow, so that ours
against it is the share of our time the work on the image leaves. The servers are measured in ``--repeat`` rounds
(default 3), each starting every server afresh; within a round the servers all run, pinned to the same core and
paused (SIGSTOP) but for the one being measured, and take turns case by case, so that the servers compared in a
case are measured within a minute of each other. The table shows the round with the median throughput and the
range over rounds, ratios are given round by round, and a target counts as met only if every round meets it.
Run: ``python -m bench.serve`` (needs ``wrk``, ``taskset`` and the ``bench`` extra); ``--profile FILE`` also
records our server with py-spy during the concurrency-64 case.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bench.serve_cases import CASES, ROOT, SERVERS, Case, Payload, Server, mnist_pngs, scan_png, write_payloads
from bench.serve_report import Runs, markdown_table, medians, ratios, targets
from bench.servers.floor import ANSWER

LUA_SCRIPT = Path(__file__).resolve().parent / "report.lua"
SERVER_CPU, CLIENT_CPU = "0", "1"
DRAIN_SECONDS = 1.0


def post(url: str, payload: Payload) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=payload.body.read_bytes(), headers={"Content-Type": payload.content_type, "Accept": payload.accept}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_answers(base: str, server: Server, payloads: dict[str, Payload]) -> None:
    """Every server that classifies must get real digits right (and a whole batch back) before it is timed; the
    others (the floor, the stack) must answer /classify with their constant JSON."""
    if not server.classifies:
        status, body = post(base + "/classify?preprocess=none", payloads["single"])
        if (status, body) != (200, ANSWER):
            sys.exit(f"{server.name}: /classify did not answer the constant JSON (HTTP {status}); not benchmarking it.")
        return
    _, labels = mnist_pngs(256)
    check_digit(base + "/classify?preprocess=none", payloads["single"], labels[0], server)
    if "scan-auto" in server.kinds:
        check_digit(base + "/classify", payloads["scan-auto"], scan_png()[1], server)
    for query in ("?preprocess=none", "") if "batch-auto" in server.kinds else ("?preprocess=none",):
        if "batch" in server.kinds:
            status, body = post(base + "/classify" + query, payloads["batch"])
            digits = [p["digit"] for p in json.loads(body)["predictions"]] if status == 200 else []
            correct = sum(d == label for d, label in zip(digits, labels, strict=False))
            if len(digits) != 256 or correct < 230:
                sys.exit(f"{server.name}: batch of 256 gave {len(digits)} answers, {correct} correct (HTTP {status}).")
    if "decode" in server.kinds:
        status, body = post(base + "/decode?scale=8", payloads["decode"])
        if status != 200 or not body.startswith(b"\x89PNG"):
            sys.exit(f"{server.name}: /decode did not answer a PNG (HTTP {status}).")


def check_digit(url: str, payload: Payload, label: int, server: Server) -> None:
    status, body = post(url, payload)
    digit = json.loads(body)["predictions"][0]["digit"] if status == 200 else None
    if digit != label:
        sys.exit(f"{server.name}: classified test digit {label} as {digit} (HTTP {status}); not benchmarking it.")


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with status {process.returncode} before it was ready ({url})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    process.terminate()
    sys.exit(f"the server was not ready within {timeout:.0f} s ({url})")


@contextmanager
def running(server: Server, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = ["taskset", "-c", SERVER_CPU, sys.executable, "-m", server.module, "--port", str(port)]
    env = {**os.environ, **server.env, "PYTHONPATH": str(server.tree)}
    with log.open("wb") as output:
        # A session of its own, so that stopping it also stops LitServe's worker processes.
        process = subprocess.Popen(
            command, cwd=server.tree, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}{server.ready_path}", process)
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group (woken first, if it was paused), then SIGKILL to whatever is
    left after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGCONT)
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_wrk(url: str, payload: Payload, connections: int, seconds: int) -> dict[str, float]:
    command = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["-s", str(LUA_SCRIPT), url]
    env = {**os.environ, "BENCH_BODY": str(payload.body), "BENCH_CONTENT_TYPE": payload.content_type}
    env["BENCH_ACCEPT"] = payload.accept
    env["BENCH_HEADERS"] = "\n".join(f"{name}: {value}" for name, value in payload.headers.items())
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    # wrk exits with up to ``connections`` requests still in flight. Measured back to back, the next run's
    # first requests queue behind that abandoned work and p99 at c=64 read 4-5x p50 for every server;
    # after a pause of 0.3 s or more it read 1.2-1.4x. Each server gets the same pause.
    time.sleep(DRAIN_SECONDS)
    line = next((line for line in output.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no BENCH line:\n{output}")
    result: dict[str, float] = json.loads(line.removeprefix("BENCH "))
    return result


def summarise(case: Case, raw: dict[str, float]) -> dict[str, float]:
    seconds = raw["duration_us"] / 1e6
    return {
        "requests_per_s": raw["requests"] / seconds,
        "images_per_s": raw["requests"] * case.images_per_request / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["non_2xx"] + raw["socket_errors"],
    }


def find_tool(name: str) -> str | None:
    """A command from PATH, or from this Python's own bin folder (where pip puts py-spy)."""
    beside_python = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside_python) if beside_python.exists() else None)


@contextmanager
def profiling(process: subprocess.Popen[bytes], out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy records the server (and its children) while the block runs, when ``out`` is given."""
    if out is None:
        yield
        return
    command = [str(find_tool("py-spy")), "record", "--pid", str(process.pid), "--subprocesses", "--format", "raw"]
    command += ["--duration", str(int(seconds)), "--output", str(out), "--nonblocking"]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield
    recorder.wait(timeout=seconds + 30)


def measure_case(
    key: str,
    case: Case,
    args: argparse.Namespace,
    payloads: dict[str, Payload],
    process: subprocess.Popen[bytes],
    profile: Path | None,
) -> dict[str, float]:
    """One case on one server, woken for it: a warm-up run of wrk, then the measured run."""
    base, payload = base_url(key), payloads[case.kind]
    with awake(process):
        run_wrk(base + case.path, payload, case.connections, args.warmup)
        profiled = profile if key == "ours" and case.kind == "single" and case.connections == 64 else None
        with profiling(process, profiled, args.duration):
            raw = run_wrk(base + case.path, payload, case.connections, args.duration)
    row = summarise(case, raw)
    print(
        f"   {SERVERS[key].name[:34]:34s} {row['requests_per_s']:8.0f} req/s  p50 {row['p50_ms']:7.2f} ms  "
        f"p99 {row['p99_ms']:7.2f} ms  errors {row['errors']:.0f}",
        flush=True,
    )
    return row


def pause(process: subprocess.Popen[bytes]) -> None:
    """Stops the server's process group (SIGSTOP) until ``awake`` wakes it: a paused server takes no CPU time at all.
    Idle servers mostly sleep anyway, but LitServe's batching loop polls its queue every millisecond."""
    os.killpg(process.pid, signal.SIGSTOP)


@contextmanager
def awake(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """The paused server running for the block (its requests left over from wrk drained), then paused again."""
    os.killpg(process.pid, signal.SIGCONT)
    try:
        yield
    finally:
        pause(process)


def port_of(key: str) -> int:
    return 8100 + list(SERVERS).index(key)


def base_url(key: str) -> str:
    return f"http://127.0.0.1:{port_of(key)}"


def bench_round(
    keys: list[str], args: argparse.Namespace, payloads: dict[str, Payload], logs: Path, profile: Path | None
) -> dict[str, dict[str, dict[str, float]]]:
    """Start every server (all pinned to the server core), check their answers and pause them, then measure each case
    on every server that serves it, one server after the other, each woken for its turn: the servers compared in a case
    are measured within a minute of each other, not minutes apart, so a slow spell on this shared machine falls on
    one case of all of them rather than on all cases of one."""
    results: dict[str, dict[str, dict[str, float]]] = {key: {} for key in keys}
    with contextlib.ExitStack() as stack:
        processes = {key: stack.enter_context(running(SERVERS[key], port_of(key), logs / f"{key}.log")) for key in keys}
        for key in keys:
            check_answers(base_url(key), SERVERS[key], payloads)
            pause(processes[key])
        for case in CASES:
            serving = [key for key in keys if case.kind in SERVERS[key].kinds and case.kind in args.cases]
            if serving:
                print(f"  {case.name}", flush=True)
            for key in serving:
                results[key][case.name] = measure_case(key, case, args, payloads, processes[key], profile)
    return results


def bench_all(args: argparse.Namespace, payloads: dict[str, Payload], logs: Path) -> Runs:
    """``--repeat`` rounds, each starting every server afresh; the servers take turns in each case, in an order
    that rotates from round to round, so that none is always measured first."""
    runs: Runs = {key: {} for key in args.servers}
    for round_index in range(args.repeat):
        print(f"-- round {round_index + 1} of {args.repeat}", flush=True)
        turn = round_index % len(args.servers)
        keys = args.servers[turn:] + args.servers[:turn]
        profile = args.profile if round_index == 0 else None
        for key, cases in bench_round(keys, args, payloads, logs, profile).items():
            for case_name, row in cases.items():
                runs[key].setdefault(case_name, []).append(row)
    return runs


def servers_at(refs: list[str], folder: Path) -> dict[str, Server]:
    """Our service as it was at each git ref (exported with ``git archive``), for before/after tables in one run."""
    servers: dict[str, Server] = {}
    for ref in refs:
        tree = folder / f"tree-{len(servers)}"
        tree.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        servers[f"ours@{ref}"] = replace(SERVERS["ours"], name=f"routed-vae at {ref}", tree=tree)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", nargs="+", choices=list(SERVERS), default=list(SERVERS), help="(default: all)")
    kinds = sorted({case.kind for case in CASES})
    parser.add_argument("--cases", nargs="+", choices=kinds, default=kinds, help="case kinds to run (default: all)")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per case (default: 10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per case (default: 3)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over all servers (default: 3)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--at-commit", nargs="+", default=[], help="also our service at these git refs (default: none)")
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of our server at c=64 (needs py-spy)")
    args = parser.parse_args()
    for tool in ("wrk", "taskset") + (("py-spy",) if args.profile else ()):
        if find_tool(tool) is None:
            sys.exit(f"error: '{tool}' is not on PATH (apt install wrk util-linux; pip install -e '.[bench]')")
    with tempfile.TemporaryDirectory() as folder:
        payloads = write_payloads(Path(folder))
        earlier = servers_at(args.at_commit, Path(folder))
        SERVERS.update(earlier)
        args.servers = list(dict.fromkeys(args.servers + list(earlier)))  # each once: one process per port
        runs = bench_all(args, payloads, Path(folder))
    print()
    print(markdown_table(runs))
    print()
    print(ratios(runs))
    print()
    print(targets(runs))
    if args.json:  # each server's median round per case, and every round
        args.json.write_text(json.dumps({**medians(runs), "rounds": runs}, indent=2))


if __name__ == "__main__":
    main()
