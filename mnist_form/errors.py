"""The one error type for input that cannot be used. No HTTP here: the service maps ``code`` to a status."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Input the caller can fix: ``code`` names the problem, ``message`` says what is accepted instead."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
