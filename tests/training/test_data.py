"""Data verification: canonical bytes pass, a single wrong byte fails loudly."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import synthetic_split
from training import data
from training.data import DataError, Split, idx_bytes, load_from_idx_dir, parse_idx, verify_split


def write_idx_dir(folder: Path, train: Split, test: Split, compress: bool = False) -> dict[str, str]:
    """Write the four IDX files and return their MD5s, as CANONICAL_MD5 would hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    arrays = {
        "train-images-idx3-ubyte": train.images,
        "train-labels-idx1-ubyte": train.labels,
        "t10k-images-idx3-ubyte": test.images,
        "t10k-labels-idx1-ubyte": test.labels,
    }
    for name, array in arrays.items():
        raw = idx_bytes(array)
        expected[name] = hashlib.md5(raw).hexdigest()
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return expected


def test_idx_round_trip() -> None:
    images = synthetic_split(5, seed=0).images
    assert np.array_equal(parse_idx(idx_bytes(images), "x"), images)


def test_truncated_idx_is_rejected() -> None:
    with pytest.raises(DataError, match="truncated"):
        parse_idx(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-1], "t10k-images-idx3-ubyte")


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory_loads_raw_and_gz_in_torchvision_layout(tmp_path: Path, compress: bool) -> None:
    train, test = synthetic_split(30, 1), synthetic_split(20, 2)
    expected = write_idx_dir(tmp_path / "MNIST" / "raw", train, test, compress)
    mnist = load_from_idx_dir(tmp_path, expected)
    assert np.array_equal(mnist.train.images, train.images)
    assert np.array_equal(mnist.test.labels, test.labels)


def test_one_corrupted_byte_fails_verification(tmp_path: Path) -> None:
    train, test = synthetic_split(30, 1), synthetic_split(20, 2)
    expected = write_idx_dir(tmp_path, train, test)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="train-images-idx3-ubyte does not match canonical MNIST"):
        load_from_idx_dir(tmp_path, expected)


def test_canonical_md5s_reject_other_data() -> None:
    with pytest.raises(DataError, match="does not match canonical MNIST"):
        verify_split(synthetic_split(10, 0), "test")


def test_missing_idx_file_says_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte .* not found"):
        load_from_idx_dir(tmp_path)


def test_wheel_with_wrong_sha256_is_rejected(tmp_path: Path) -> None:
    wheel = tmp_path / data.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(data.WHEEL_CSV["train"], "label,1x1\n5,0\n")
    with pytest.raises(DataError, match="sha256"):
        data.load_from_wheel(wheel)


def test_csv_parsing_matches_wheel_format() -> None:
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    row = "7," + ",".join(str(i % 256) for i in range(784))
    split = data.parse_csv(f"{header}\n{row}\n{row}\n".encode())
    assert split.labels.tolist() == [7, 7]
    assert split.images.shape == (2, 28, 28) and split.images[0, 0, 5] == 5
