"""bench/stroke_stats.py's measures on pictures whose answer is known."""

from __future__ import annotations

import numpy as np

from bench.stroke_stats import picture_stats, thin


def test_thinning_leaves_a_one_pixel_centre_line() -> None:
    bar = np.zeros((28, 28), bool)
    bar[4:24, 12:15] = True  # 3 px wide, 20 px tall
    skeleton = thin(bar)
    assert skeleton.sum(axis=1).max() == 1 and 16 <= skeleton.sum() <= 20
    assert set(np.flatnonzero(skeleton.any(axis=0))) == {13}


def test_a_bar_3_px_wide_measures_3_px_with_no_grey_edge() -> None:
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 12:15] = 1
    stats = picture_stats(bar)
    # The skeleton stops a pixel or so short of each end, so a short stroke reads a little wider.
    assert 3 <= stats["stroke_width_px"] <= 3.6 and stats["grey_share"] == 0 and stats["full_share"] == 1
    assert (stats["height_px"], stats["width_px"]) == (20, 3)
    bar[4:24, 11] = bar[4:24, 15] = 0.5  # anti-aliased edges
    assert picture_stats(bar)["grey_share"] == 0.4
