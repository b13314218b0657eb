"""`pip install ./client` in a fresh virtual environment: no torch, and the command line works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.client.live import ROOT, SEVEN

pytestmark = pytest.mark.slow

EXPECTED = {"routed-vae-client", "httpx", "numpy", "pillow"}
FORBIDDEN = {"torch", "fastapi", "starlette", "uvicorn", "pydantic", "routed-vae"}


def folder_megabytes(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file()) / 1e6


def test_fresh_venv_installs_the_client_without_torch(tmp_path: Path, service_url: str) -> None:
    source = tmp_path / "client"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT / "client", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "client-venv"
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", str(source)], check=True, env=env, timeout=900)
    seconds = time.monotonic() - began
    listed = subprocess.run([*pip, "list", "--format", "json"], check=True, env=env, capture_output=True, text=True)
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    size = folder_megabytes(venv)
    print(f"\nfresh client venv: {seconds:.1f} s to create and install, {size:.0f} MB, {sorted(installed)}")
    assert installed >= EXPECTED and not installed & FORBIDDEN
    probe = "import importlib.util as u, routed_vae_client; print(u.find_spec('torch') is None)"
    no_torch = subprocess.run([str(venv / "bin" / "python"), "-c", probe], env=env, cwd=tmp_path, capture_output=True)
    assert no_torch.stdout.strip() == b"True"
    command = [str(venv / "bin" / "routed-vae"), "--url", service_url, "classify", str(SEVEN)]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith(f"{SEVEN}\t7\t"), result.stderr
