"""Limits on what the service accepts that more than one layer needs; no imports, so any layer may use them."""

from __future__ import annotations

# The largest latent value accepted in any dimension: far beyond an image's own (one-hot decodes are
# recognisable from about 1), and the range over which the float16 decoder is checked (service/model.py).
MAX_LATENT = 10.0
# Latent dimensions: one per digit, dimension k meaning "how much of digit k". The model must give this many
# (checked at load, service/model.py); the HTTP schemas and the Open Inference Protocol tensors take this many.
LATENT_SIZE = 10
