"""Request and response models. Limits live on the fields, so /docs shows them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.limits import LATENT_SIZE, MAX_LATENT

# Defaults; the service's settings may raise MAX_BATCH (documented in /docs via these models).
MAX_BATCH = 256
MAX_BASE64_CHARS = 14_000_000

PixelRow = Annotated[list[Annotated[float, Field(strict=True, ge=0, le=1)]], Field(min_length=28, max_length=28)]
PixelImage = Annotated[list[PixelRow], Field(min_length=28, max_length=28, description="28x28 pixels in [0, 1]")]
Base64Image = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_BASE64_CHARS,
        description="base64 of a PNG, JPEG, GIF, BMP or WebP file, optionally as a data:image/...;base64, URL",
    ),
]
LatentVector = Annotated[
    list[Annotated[float, Field(strict=True, ge=0, le=MAX_LATENT)]],
    Field(
        min_length=LATENT_SIZE,
        max_length=LATENT_SIZE,
        description="10 finite values in [0, 10]; index = digit",
    ),
]


class StrictModel(BaseModel):
    # NaN, Infinity and 1e999 are rejected at input: they cannot be encoded back as JSON. Strict:
    # no coercion, so "0" is not a number and false is not 0 (found by schemathesis).
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid", strict=True)


class ImagesRequest(StrictModel):
    images: list[Base64Image | PixelImage] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} images: base64 image files or 28x28 pixel arrays in MNIST form "
        "(1 = ink, white digit on black)",
    )


class Prediction(BaseModel):
    digit: int = Field(ge=0, le=9, description="argmax of the latent; the index is the digit")
    confidence: float = Field(
        ge=0,
        le=1,
        description="the digit's share of the total latent activation: latent[digit] / sum(latent)",
    )
    latent: list[float] = Field(description="the 10-dimensional latent, as /encode returns it")


class ClassifyResponse(BaseModel):
    predictions: list[Prediction] = Field(description="one per input image, in input order")


class EncodeResponse(BaseModel):
    latents: list[list[float]] = Field(description="one 10-dimensional non-negative latent per image")


class DecodeRequest(StrictModel):
    latents: list[LatentVector] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} latents of 10 values in [0, {MAX_LATENT:g}]",
    )


class ImagesResponse(BaseModel):
    images: list[str] = Field(description="base64 PNGs, 28x28 grayscale, white digit on black")


class SampleRequest(StrictModel):
    digit: int | None = Field(None, ge=0, le=9, description="digit to draw; absent = random digits")
    n: int = Field(1, ge=1, le=64, description="number of samples")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="the same seed gives the same output; absent = random"
    )


class SampleResponse(BaseModel):
    digits: list[int] = Field(description="the digit of each sample")
    latents: list[list[float]] = Field(description="the latents that were decoded")
    images: list[str] = Field(description="base64 PNGs, 28x28 grayscale, white digit on black")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable snake_case error code")
    message: str = Field(description="what was wrong and what is accepted")
    details: list[dict[str, object]] | None = Field(None, description="validation problems, when any")


class ErrorResponse(BaseModel):
    error: ErrorDetail
