"""Service settings, read from environment variables prefixed ``ROUTED_VAE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "routed-vae.pt"


# What the encoder and the decoder compute from: float16 copies of their weights (service/half_encoder.py,
# service/half_decoder.py) or the model's own float32 ones.
WeightPrecision = Literal["float16", "float32"]
CANNOT_START = 2  # exit status when the model or the settings are unusable (a supervisor of workers stops on it)


class Settings(BaseSettings):
    """Every field can be set as ROUTED_VAE_<FIELD> (for example ROUTED_VAE_PORT=9000)."""

    model_config = SettingsConfigDict(env_prefix="ROUTED_VAE_", frozen=True)

    host: str = Field("127.0.0.1", description="address to bind; use 0.0.0.0 inside a container")
    port: int = Field(8000, ge=1, le=65535, description="TCP port")
    model_path: Path = Field(DEFAULT_MODEL, description="TorchScript model; its .json card must sit beside it")
    torch_threads: int = Field(
        0, ge=0, le=64, description="torch intra-op threads per worker; 0 = the CPU cores shared among the workers"
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="worker processes on the one port, each with its own model and micro-batcher; set it to the "
        "number of CPU cores the service may use",
    )
    decoder_weights: WeightPrecision = Field(
        "float16",
        description="decode from float16 copies of the decoder's weights (half the memory traffic; pixels within "
        "2/255 of float32, checked at start-up) or from the model's own float32 ones",
    )
    encoder_weights: WeightPrecision = Field(
        "float16",
        description="encode from float16 copies of the encoder's weights (half the memory traffic; latents within "
        "0.01 of float32, checked at start-up) or from the model's own float32 ones",
    )
    max_body_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="largest request body accepted")
    body_timeout_seconds: float = Field(30.0, gt=0, description="time allowed to receive a request body")
    max_image_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="largest single image file")
    max_image_pixels: int = Field(4096 * 4096, ge=784, description="largest width x height of an input image")
    micro_batch_size: int = Field(256, ge=1, description="most rows the model runs in one micro-batch")
    micro_batch_wait_ms: float = Field(
        0.0,
        ge=0,
        description="extra wait for more requests to join a batch; 0 = none: a batch is whatever queued while "
        "the model was busy with the last one, so a lone request never waits",
    )
    inline_batch_rows: int = Field(
        4,
        ge=0,
        description="micro-batches of at most this many rows run on the event loop, skipping the hand-off to "
        "the inference thread (which costs about as much as one row); 0 = always hand off",
    )
    max_concurrent_requests: int = Field(64, ge=1, description="in-flight inference requests before 503")
    retry_after_seconds: int = Field(1, ge=1, description="Retry-After sent with 503 when overloaded")
    drain_seconds: float = Field(
        0.0,
        ge=0,
        le=300,
        description="after SIGTERM: seconds of answering requests with /readyz at 503 before shutting down "
        "(Kubernetes: time for endpoints and proxies to drop the pod); 0 = shut down at once",
    )
    graceful_shutdown_seconds: int = Field(
        10, ge=0, description="time in-flight requests get once shutdown starts (after the drain period)"
    )
    keep_alive_seconds: int = Field(5, ge=1, description="idle keep-alive connection timeout")
    log_level: str = Field("info", description="debug, info, warning or error")
    # Security for a public deployment (SECURITY.md); all off by default.
    api_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated API keys; any key set makes every model endpoint need one"
    )
    api_keys_file: Path | None = Field(
        None, description="file of API keys, one per line, or sha256:<hex> lines (a Docker or Kubernetes secret)"
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="serve /metrics only on this port, without a key; 0 = on the main port"
    )
    rate_limit_rps: float = Field(
        0.0, ge=0, description="requests per second per API key (per client address without keys); 0 = off"
    )
    rate_limit_burst: int = Field(0, ge=0, description="requests a client may send at once; 0 = the rate, at least 1")
    cors_origins: str = Field("", description="comma-separated origins whose pages may call the API; empty = none")


class ConfigurationError(ValueError):
    """A setting that cannot be used (an unreadable key file, a bad origin, a taken metrics port)."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
