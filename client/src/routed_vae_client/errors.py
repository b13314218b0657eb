"""The errors the client raises: the service's own error answers, and failures to reach it."""

from __future__ import annotations

from typing import Any

import httpx


class RoutedVAEError(Exception):
    """The service answered with an error, e.g. ``err.status == 422 and err.code == "validation_error"``."""

    def __init__(self, status: int | None, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class RoutedVAEConnectionError(RoutedVAEError):
    """The service could not be reached (refused, DNS, timeout); the message names the URL."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(None, "connection_error", f"cannot reach the routed-vae service at {url}: {reason}")
        self.url = url


def connection_error(request: httpx.Request, error: httpx.TransportError) -> RoutedVAEConnectionError:
    """A transport failure as a RoutedVAEConnectionError naming the URL that failed."""
    if isinstance(error, httpx.TimeoutException):
        reason = f"no answer in time ({type(error).__name__})"
    else:
        reason = str(error) or type(error).__name__
    return RoutedVAEConnectionError(str(request.url), reason)


def error_from_response(response: httpx.Response) -> RoutedVAEError:
    """The service's ``{"error": {"code", "message", "details"?}}`` as a RoutedVAEError; any other body
    (a proxy's HTML page, say) keeps its status with the code ``http_<status>``."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        return RoutedVAEError(response.status_code, code, message, error.get("details"))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:200] or response.reason_phrase
        return RoutedVAEError(response.status_code, f"http_{response.status_code}", text)


def check(response: httpx.Response) -> httpx.Response:
    """The response itself when it succeeded, else its RoutedVAEError raised."""
    if response.is_success:
        return response
    raise error_from_response(response)
