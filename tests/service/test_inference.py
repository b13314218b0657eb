"""Turning latents into classifications: the argmax digit and its share of the total activation."""

from __future__ import annotations

import numpy as np

from service.inference import classify_latents


def test_classification_is_the_argmax_and_its_share_of_the_activation() -> None:
    latents = np.array([[0.0, 3.0, 1.0, 0, 0, 0, 0, 0, 0, 0], [0.0] * 10], dtype=np.float32)
    first, blank = classify_latents(latents)
    assert (first.digit, first.confidence) == (1, 0.75)
    assert first.latent == [0.0, 3.0, 1.0] + [0.0] * 7 and all(type(v) is float for v in first.latent)
    assert (blank.digit, blank.confidence) == (0, 0.0)


def test_a_tie_goes_to_the_lower_digit_as_numpy_argmax_would() -> None:
    latents = np.array([[0.0, 2.0, 0.0, 2.0, 0, 0, 0, 0, 0, 1.0]], dtype=np.float32)
    (tied,) = classify_latents(latents)
    assert tied.digit == int(latents.argmax()) == 1 and tied.confidence == 0.4
