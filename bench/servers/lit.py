"""LitServe serving the same model, with its request batching on.

One inference worker; decode_request reads one multipart PNG, batch() stacks them, predict() runs the
model once per batch. Run: python -m bench.servers.lit --port 8102 [--max-batch 64] [--batch-timeout 0.002]
"""

# No "from __future__ import annotations": LitServe reads decode_request's annotation at run time.
import argparse
from typing import Any

import litserve as ls
import numpy as np
import torch
from fastapi import Request

from bench.servers.common import load_model, png_to_pixels, prediction


class DigitClassifier(ls.LitAPI):  # type: ignore[misc]
    def setup(self, device: str) -> None:
        self.model = load_model()

    def decode_request(self, request: Request) -> np.ndarray:
        # LitServe hands over the parsed multipart form (fastapi.Request is only the annotation it reads).
        form: Any = request
        return png_to_pixels(form["file"].file.read())

    def batch(self, inputs: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(inputs)).unsqueeze(1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            latents: torch.Tensor = self.model.encode(x)
        return latents

    def unbatch(self, output: torch.Tensor) -> list[torch.Tensor]:
        return list(output)

    def encode_response(self, latent: torch.Tensor) -> dict[str, object]:
        return {"predictions": [prediction(latent)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--batch-timeout", type=float, default=0.002)
    args = parser.parse_args()
    api = DigitClassifier(max_batch_size=args.max_batch, batch_timeout=args.batch_timeout, api_path="/classify")
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    server.run(port=args.port, log_level="warning", generate_client_file=False)


if __name__ == "__main__":
    main()
