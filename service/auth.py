"""API key middleware: every path except the open ones (service/endpoints.py) needs a valid key, or gets 401."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.api_keys import KeyRing, presented_key
from service.endpoints import is_open
from service.errors import error_response_at

MISSING = "This endpoint needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
INVALID = "The API key is not valid."
# RFC 6750: the challenge names the scheme; a rejected key is an invalid_token.
CHALLENGE_MISSING = 'Bearer realm="routed-vae"'
CHALLENGE_INVALID = 'Bearer realm="routed-vae", error="invalid_token"'


class ApiKeyMiddleware:
    """Answers 401 ``unauthorized`` unless the request is for an open path or carries one of the keys.

    The accepted key's id goes into ``scope["state"]["key_id"]`` for the access log and the rate limiter.
    """

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = presented_key(scope)
        found = self.keys.match(key) if key is not None else None
        if found is None:
            message, challenge = (MISSING, CHALLENGE_MISSING) if key is None else (INVALID, CHALLENGE_INVALID)
            headers = {"WWW-Authenticate": challenge}
            response = error_response_at(scope["path"], "unauthorized", message, headers=headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["key_id"] = found
        await self.app(scope, receive, send)
