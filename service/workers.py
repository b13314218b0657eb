"""ROUTED_VAE_WORKERS > 1: one supervising process binds the port and runs that many worker processes on it,
each a whole service (its own model, micro-batcher and event loop); the kernel spreads connections over them.

Python runs one request's work at a time per process, so one process uses about one core; workers use more.
The supervisor never imports torch. It forwards SIGTERM and SIGINT to every worker (each then drains as a
single process does: service/drain.py) and exits once all have, 0 if all exited 0. A worker that dies otherwise
is replaced, except when it could not start (unusable model or settings), which stops everything (exit status
2), as a single process stops. Metrics: prometheus-client's multiprocess mode, in a fresh directory under the
temporary folder (/tmp, writable in the container); every worker's /metrics shows all workers' values merged
(service/metrics.py), and so does the metrics port (ROUTED_VAE_METRICS_PORT), served by the supervisor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from prometheus_client.multiprocess import mark_process_dead

from service.config import CANNOT_START, ConfigurationError, Settings
from service.logs import configure_logging
from service.metrics import MULTIPROCESS_DIR, merged_registry
from service.metrics_server import serve_metrics_port

logger = logging.getLogger("service.workers")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RESTART_PAUSE_SECONDS = 1.0


def run_worker(settings: Settings, listening: socket.socket) -> None:
    """A worker process: the single-process service, on the supervisor's socket."""
    configure_logging(settings.log_level)
    from service.serving import serve  # torch and the app are imported in the workers only

    sys.exit(serve(settings, [listening]))


def bind(host: str, port: int) -> socket.socket:
    """The listening address, bound once here and shared by the workers."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.set_inheritable(True)
    return listening


def worker_settings(settings: Settings) -> Settings:
    """Each worker's settings: torch threads 0 (one per core) becomes the cores shared among the workers."""
    if settings.torch_threads:
        return settings
    cores = len(os.sched_getaffinity(0))
    return settings.model_copy(update={"torch_threads": max(1, cores // settings.workers)})


class Supervisor:
    """Starts the workers, replaces those that die, and passes stop signals on."""

    def __init__(self, settings: Settings, listening: socket.socket, metrics_dir: str) -> None:
        self.settings, self.listening, self.metrics_dir = settings, listening, metrics_dir
        self.context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or torch inherited
        self.workers: list[BaseProcess] = []
        self.stopping = False
        self.status = 0

    def start_worker(self) -> None:
        worker = self.context.Process(target=run_worker, args=(self.settings, self.listening), daemon=False)
        worker.start()
        self.workers.append(worker)
        logger.info("worker %d started (pid %s)", len(self.workers), worker.pid)

    def on_signal(self, received: int, frame: FrameType | None) -> None:
        self.stopping = True
        for worker in self.workers:
            if worker.pid is not None and worker.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, received)

    def reap(self, worker: BaseProcess) -> None:
        """A worker has exited: its live gauges go, and it is replaced unless the service is stopping."""
        self.workers.remove(worker)
        mark_process_dead(worker.pid, self.metrics_dir)
        exitcode = worker.exitcode or 0
        if self.stopping:
            self.status = self.status or (exitcode if exitcode > 0 else int(exitcode != 0))
        elif exitcode == CANNOT_START:
            logger.error("a worker could not load the model; stopping")
            self.status = CANNOT_START
            self.on_signal(signal.SIGTERM, None)
        else:
            logger.error("worker (pid %s) exited with status %s; starting another", worker.pid, exitcode)
            time.sleep(RESTART_PAUSE_SECONDS)
            self.start_worker()

    def run(self) -> int:
        """Serve until every worker has exited after a stop signal (or could not start); the exit status."""
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, self.on_signal)
        for _ in range(self.settings.workers):
            self.start_worker()
        while self.workers:
            wait([worker.sentinel for worker in self.workers])
            for worker in [worker for worker in self.workers if worker.exitcode is not None]:
                self.reap(worker)
        return self.status


def model_card(settings: Settings) -> dict[str, Any] | None:
    """The model's card, for the metrics port's model info; None if unreadable (the workers then say why)."""
    try:
        card = json.loads(settings.model_path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def serve_workers(settings: Settings) -> int:
    """Run ``settings.workers`` workers on ``settings``' address until stopped; the exit status."""
    metrics_dir = tempfile.mkdtemp(prefix="routed-vae-metrics-")
    os.environ[MULTIPROCESS_DIR] = metrics_dir  # read by prometheus-client in each worker, at import
    try:
        serve_metrics_port(settings, merged_registry(model_card(settings)))
        listening = bind(settings.host, settings.port)
    except (ConfigurationError, OSError) as error:
        print(f"error: cannot start: {error}", file=sys.stderr)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        return CANNOT_START
    logger.info("serving on %s:%d with %d workers", settings.host, settings.port, settings.workers)
    try:
        return Supervisor(worker_settings(settings), listening, metrics_dir).run()
    finally:
        listening.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
