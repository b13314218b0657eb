"""Schemathesis over /openapi.json against a live server: no 5xx, schema-conformant answers, bad data refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.live_server import free_port, start_service, wait_ready

pytestmark = pytest.mark.slow

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,negative_data_rejection"


def test_schemathesis_finds_no_failures(tiny_model_path: Path) -> None:
    port = free_port()
    process = start_service(tiny_model_path, port, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        command = [
            str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
            "--checks", CHECKS, "--max-examples", "40", "--seed", "1",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        print(result.stdout[-3000:])
        assert result.returncode == 0, result.stdout[-5000:]
    finally:
        process.terminate()
        process.wait(timeout=20)
