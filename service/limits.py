"""Limits on what the service accepts that more than one layer needs; no imports, so any layer may use them."""

from __future__ import annotations

# The largest latent value accepted in any dimension: far beyond an image's own (one-hot decodes are
# recognisable from about 1), and the range over which the float16 decoder is checked (service/model.py).
MAX_LATENT = 10.0
