"""Structured logs: one JSON object per line on stderr."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

EXTRA_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client", "key_id")


ACCESS_LOGGER = "service.access"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.last_second, self.last_time = -1, ""
        self.pid = os.getpid()  # which worker wrote the line, with ROUTED_VAE_WORKERS > 1

    def timestamp(self, created: float) -> str:
        """Local time to the second, formatted once per second (one log line per request)."""
        second = int(created)
        if second != self.last_second:
            self.last_second, self.last_time = second, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(second))
        return self.last_time

    def line(self, created: float, level: str, logger: str, message: str, fields: dict[str, Any]) -> str:
        """One log line: a JSON object with these keys first, then ``fields``."""
        entry = {"time": self.timestamp(created), "level": level, "logger": logger, "message": message, "pid": self.pid}
        entry.update(fields)
        return json.dumps(entry)

    def format(self, record: logging.LogRecord) -> str:
        fields = {key: getattr(record, key) for key in EXTRA_FIELDS if hasattr(record, key)}
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        return self.line(record.created, record.levelname.lower(), record.name, record.getMessage(), fields)


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs: JSON lines on a stream; ``write`` takes a line's parts directly."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.json = JsonFormatter()
        self.setFormatter(self.json)

    def write_lines(self, level: str, logger: str, message: str, entries: list[dict[str, Any]]) -> None:
        """The lines ``format`` would give records of these parts (one per entry of fields), now, written as
        ``emit`` writes a line but all in one write. Built under the lock, as ``emit`` builds a line: the
        formatter's once-a-second time is shared state."""
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            now, line = time.time(), self.json.line
            self.stream.write(
                "".join(line(now, level, logger, message, fields) + self.terminator for fields in entries)
            )
            self.flush()


def only_handler(logger: logging.Logger, level: int) -> JsonLinesHandler | None:
    """The JsonLinesHandler, with its own formatter, that alone would handle ``logger``'s records at ``level``,
    with no filter on the way; None when anything else would (an application's own logging set-up)."""
    current: logging.Logger | None = logger
    while current is not None and not current.handlers:
        if current.filters:
            return None
        current = current.parent if current.propagate else None
    if current is None or current.filters or len(current.handlers) != 1:
        return None
    handler = current.handlers[0]
    if not isinstance(handler, JsonLinesHandler) or handler.formatter is not handler.json or handler.filters:
        return None
    if handler.level > level or (current.propagate and handlers_above(current)):
        return None
    return handler


def handlers_above(logger: logging.Logger) -> bool:
    """Whether a record propagating from ``logger`` would reach another handler."""
    current = logger.parent
    while current is not None:
        if current.handlers:
            return True
        current = current.parent if current.propagate else None
    return False


class AccessLog:
    """The access log: one line per request, {"message": "request", ...fields} at INFO on ``service.access``.

    Through Python's logging a line cost about 12 µs here (a LogRecord, the handler's lock, the formatter's
    lookups) and, under load, 20-30 µs of a request's 200: as much as decoding its image. When the handler
    configure_logging installed is the one that would write it, the line is built straight from the fields (the
    same keys, in the same order) and written under the handler's lock (a failed write is reported as logging
    reports one); otherwise each line goes through the logger.

    Lines are written together. A line either waits for the end of the event loop's current pass, when every
    line that pass gave leaves in one write (under load a micro-batch completes dozens of requests in one pass:
    one system call for all of them instead of one each), or, ``at_once``, goes now with any waiting before it
    (the middleware asks for that when no other request is in flight: there is nothing to share a write with).
    Called from the event loop's thread only, as the middleware does."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self.waiting: list[dict[str, Any]] = []  # fields of the lines not written yet, oldest first
        self.flush_on: asyncio.AbstractEventLoop | None = None  # the loop whose pass will write them, once set

    def __call__(self, fields: dict[str, Any], at_once: bool = True) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        self.waiting.append(fields)
        if at_once:
            self.flush()
            return
        if self.flush_on is not None and not self.flush_on.is_closed():
            return  # the flush set for the end of this pass writes it
        try:
            loop = asyncio.get_running_loop()  # (a getpid system call each time, in CPython 3.11)
        except RuntimeError:  # no event loop to wait for
            self.flush()
            return
        loop.call_soon(self.flush)
        self.flush_on = loop

    def flush(self) -> None:
        """Writes every waiting line."""
        entries, self.waiting, self.flush_on = self.waiting, [], None
        if not entries:
            return
        handler = only_handler(self.logger, logging.INFO)
        if handler is None:
            for fields in entries:
                self.logger.info("request", extra=fields)
            return
        try:
            lines = [{key: fields[key] for key in EXTRA_FIELDS if key in fields} for fields in entries]
            handler.write_lines("info", ACCESS_LOGGER, "request", lines)
        except Exception:  # a full pipe, a closed stream: reported once, as logging reports a failed write
            failed = f"{len(entries)} access log line(s) could not be written"
            handler.handleError(self.logger.makeRecord(ACCESS_LOGGER, logging.ERROR, "", 0, failed, (), None))


def configure_logging(level: str) -> None:
    # Record fields no line of ours shows: the logging HOWTO's "Optimization" switches. Skipping the
    # caller lookup, thread and process names (and formatting the time once a second) took a request's
    # log line and metrics from 47 to 26 µs on this CPU.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = JsonLinesHandler(sys.stderr)
    for name in ("service", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request instead
