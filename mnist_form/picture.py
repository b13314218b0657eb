"""Pictures as Pillow decodes them -> luminance in [0, 1], the way the service reads an upload for ``auto``.

The service checks an upload's header and limits first (service/images.py); what it then makes of the
decoded pixels is here, so that the evaluation's test sets (training/input_kinds) read a picture exactly as
the service does without importing it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Luminance in [0, 1]; transparency flattened onto whichever background contrasts with the ink."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255
        gray = np.asarray(rgba.convert("L"), dtype=np.float32) / 255
        opaque = alpha > 0.5
        ink_is_light = opaque.any() and float(gray[opaque].mean()) > 0.5
        background = 0.0 if ink_is_light else 1.0
        return gray * alpha + background * (1 - alpha)
    luminance = image if image.mode == "L" else image.convert("L")
    return np.asarray(luminance, dtype=np.float32) / 255


def file_luminance(data: bytes) -> np.ndarray:
    """Luminance of an image file's first frame, its EXIF orientation applied: what ``auto`` starts from.

    Trusted files only (test pictures made here): no format allowlist or size limits, unlike the service's
    ``open_image_file``.
    """
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        image.load()
        return to_grayscale(ImageOps.exif_transpose(image) or image)
