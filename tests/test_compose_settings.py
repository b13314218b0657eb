"""The compose files name only settings the service has: a misspelt ROUTED_VAE_ variable is silently ignored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILES = sorted(ROOT.glob("docker-compose*.yml"))


@pytest.mark.parametrize("compose", COMPOSE_FILES, ids=lambda path: path.name)
def test_every_variable_in_a_compose_file_is_a_setting(compose: Path) -> None:
    names = set(re.findall(r"\bROUTED_VAE_([A-Z0-9_]+)\b", compose.read_text()))
    assert names, f"{compose.name} sets no ROUTED_VAE_ variable"
    assert {name.lower() for name in names} <= set(Settings.model_fields)


def test_the_secure_compose_file_takes_keys_from_a_secret() -> None:
    text = (ROOT / "docker-compose.secure.yml").read_text()
    assert "ROUTED_VAE_API_KEYS_FILE: /run/secrets/api-keys" in text
    assert re.search(r"^secrets:\n  api-keys:\n    file: ./secrets/api-keys$", text, re.MULTILINE)
    assert "secrets/" in (ROOT / ".gitignore").read_text().splitlines()
