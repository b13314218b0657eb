"""API keys: read from the settings, kept only as sha256 digests, checked in constant time, named by a short id.

A key is never stored, logged or compared in plain text after start-up: each is hashed once, and a presented key
is hashed and compared with every digest by ``hmac.compare_digest``, so the time taken says nothing about how much
of a key was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Scope

from service.config import ConfigurationError, Settings

DIGEST_PREFIX = "sha256:"
HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# A plain key shorter than this is refused at start-up: keys are bearer secrets and must not be guessable.
MIN_KEY_LENGTH = 16


def digest_of(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def key_id(digest: bytes) -> str:
    """The name a key goes by in logs: the first 8 hex digits of its sha256, never the key."""
    return digest.hex()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The sha256 digests of the accepted keys."""

    digests: tuple[bytes, ...]

    def __bool__(self) -> bool:
        return bool(self.digests)

    def match(self, presented: str) -> str | None:
        """The key id of ``presented`` if it is one of the keys, else None; compares with every key, no early exit."""
        candidate = digest_of(presented)
        found = False
        for digest in self.digests:
            found |= hmac.compare_digest(candidate, digest)
        return key_id(candidate) if found else None


def parse_key_line(line: str, where: str) -> bytes:
    """One key: ``sha256:<64 hex digits>`` is a digest already, anything else a plain key."""
    if line.lower().startswith(DIGEST_PREFIX):
        hex_digest = line[len(DIGEST_PREFIX) :].strip().lower()
        if not HEX_DIGEST.match(hex_digest):
            raise ConfigurationError(f"{where}: 'sha256:' must be followed by 64 hex digits")
        return bytes.fromhex(hex_digest)
    if len(line) < MIN_KEY_LENGTH:
        raise ConfigurationError(f"{where}: an API key must be at least {MIN_KEY_LENGTH} characters long")
    return digest_of(line)


def keys_from_file(path: Path) -> list[bytes]:
    """One key per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read ROUTED_VAE_API_KEYS_FILE {path}: {error}") from error
    digests = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            digests.append(parse_key_line(line, f"{path} line {number}"))
    if not digests:
        raise ConfigurationError(f"ROUTED_VAE_API_KEYS_FILE {path} holds no key")
    return digests


def key_ring(settings: Settings) -> KeyRing:
    """Every key from ROUTED_VAE_API_KEYS (comma-separated) and ROUTED_VAE_API_KEYS_FILE; empty = keys off."""
    listed = [part.strip() for part in settings.api_keys.get_secret_value().split(",")]
    digests = [parse_key_line(key, "ROUTED_VAE_API_KEYS") for key in listed if key]
    if settings.api_keys_file is not None:
        digests += keys_from_file(settings.api_keys_file)
    return KeyRing(tuple(dict.fromkeys(digests)))


def presented_key(scope: Scope) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>``, else ``X-API-Key: <key>``."""
    api_key: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer: str = credentials.strip()
                return bearer
        elif name == b"x-api-key":
            api_key = value.decode("latin-1").strip() or None
    return api_key
