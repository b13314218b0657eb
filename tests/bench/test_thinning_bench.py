"""bench/thinning.py: the threshold it sets is the one ``auto`` uses, and only while it measures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mnist_form.batch
import mnist_form.preprocess
from bench.thinning import face_pictures, main, table, thinning_from
from mnist_form.batch import STROKE_SCREEN, preprocess_auto_many
from mnist_form.preprocess import THICK_HALF_STROKE, preprocess_auto

DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def thick_bar() -> np.ndarray:
    """A bar 16 px wide, 80 px tall: half width 6.8 at STROKE_SIDE px, thinned by a threshold below 6.8 and kept
    by one above."""
    picture = np.zeros((80, 80), np.float32)
    picture[0:80, 32:48] = 1
    return picture


def test_the_threshold_decides_whether_auto_thins_and_is_restored() -> None:
    bars = [thick_bar(), thick_bar()]
    with thinning_from(7.5):
        kept = [preprocess_auto(bars[0]), *preprocess_auto_many(bars)]
    with thinning_from(6.5):
        thinned = [preprocess_auto(bars[0]), *preprocess_auto_many(bars)]
    for one_kept, one_thinned in zip(kept, thinned, strict=True):  # one by one, then the batch path
        assert one_thinned.sum() < 0.8 * one_kept.sum()
    assert mnist_form.preprocess.THICK_HALF_STROKE == mnist_form.batch.THICK_HALF_STROKE == THICK_HALF_STROKE
    assert mnist_form.batch.STROKE_SCREEN == STROKE_SCREEN


def test_the_threshold_is_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), thinning_from(1.0):
        raise RuntimeError("measuring failed")
    assert mnist_form.preprocess.THICK_HALF_STROKE == THICK_HALF_STROKE


@pytest.mark.skipif(not DEJAVU_BOLD.is_file(), reason="DejaVu Sans Bold is not installed")
def test_each_face_gives_every_digit_on_both_canvases_and_polarities() -> None:
    grays, labels, names = face_pictures([DEJAVU_BOLD])
    assert len(grays) == 2 * 10 * 2 and sorted(set(names)) == ["DejaVuSans-Bold"]
    assert np.bincount(labels).tolist() == [4] * 10
    assert {gray.shape for gray in grays} == {(120, 120), (600, 600)}


def test_the_table_has_a_row_per_threshold_under_its_header() -> None:
    rows = [{"threshold": "6.5", "printed": "192/200"}, {"threshold": "5.8", "printed": "198/200"}]
    assert table(rows).splitlines() == [
        "| threshold | printed |",
        "| --- | --- |",
        "| 6.5 | 192/200 |",
        "| 5.8 | 198/200 |",
    ]


def test_a_missing_face_file_is_refused_with_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--faces", "/no/such/face.ttf"])
    assert stopped.value.code == 2
    assert "no such file: /no/such/face.ttf" in capsys.readouterr().err
