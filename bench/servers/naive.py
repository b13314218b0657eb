"""The baseline: a hand-written FastAPI app that runs the model inside each request's handler.

No batching across requests. Run: python -m bench.servers.naive --port 8101
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import uvicorn
from fastapi import FastAPI, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from bench.servers.common import load_model, pixels_to_png, png_to_pixels, prediction

app = FastAPI()
model = load_model()


class DecodeBody(BaseModel):
    latents: list[list[float]]


@app.post("/classify")
async def classify(file: list[UploadFile] = File(...)) -> dict[str, object]:  # noqa: B008 (FastAPI's idiom)
    pixels = np.stack([png_to_pixels(await part.read()) for part in file])
    with torch.no_grad():
        latents = model.encode(torch.from_numpy(pixels).unsqueeze(1))
    return {"predictions": [prediction(latent) for latent in latents]}


@app.post("/decode")
async def decode(body: DecodeBody, scale: int = 1) -> Response:
    with torch.no_grad():
        images = model.decode(torch.tensor(body.latents, dtype=torch.float32))
    return Response(pixels_to_png(images[0, 0].numpy(), scale), media_type="image/png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    # The same server stack as ours (httptools parses HTTP, uvloop runs the loop), so that the comparison is of
    # what each app does with a request.
    port = parser.parse_args().port
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop="uvloop", ws="none", log_level="warning")
