"""What routes read from ``app.state``: the inference engine, the image limits and the metrics."""

from __future__ import annotations

from starlette.requests import Request

from service.errors import NotReady
from service.images import ImageLimits
from service.inference import Inference


def inference_of(request: Request) -> Inference:
    """The loaded model's Inference; NotReady (503) until the lifespan has loaded it."""
    inference: Inference | None = getattr(request.app.state, "inference", None)
    if inference is None:
        raise NotReady()
    return inference


def limits_of(request: Request) -> ImageLimits:
    limits: ImageLimits = request.app.state.image_limits
    return limits


def count_images(request: Request, endpoint: str, count: int) -> None:
    """Records a request's image count in the metrics."""
    metrics = request.app.state.metrics
    metrics.labelled(metrics.images, endpoint).inc(count)
    metrics.labelled(metrics.request_batch, endpoint).observe(count)
