"""The protocol's one error: answered as ``{"error": "<message>"}`` with its HTTP status."""

from __future__ import annotations


class OipError(Exception):
    """A request the protocol refuses; ``status`` is the HTTP status of the answer (400 unless said)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status
