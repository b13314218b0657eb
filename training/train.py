"""The training loop: whole-dataset tensors on the device, no per-sample collation."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from training.augment import random_affine, random_shift
from training.config import TrainConfig
from training.data import Mnist, Split, load_mnist
from training.metrics import encode_images
from training.model import RoutedVAE, decoder_loss_terms, loss_terms


def pick_device(name: str) -> torch.device:
    """Resolve "auto" to cuda, then mps, then cpu; pass anything else to torch."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class DeviceSplit:
    """A split moved to the device once, as uint8 to keep it compact."""

    images: Tensor  # (N, 784) uint8
    labels: Tensor  # (N,) int64

    @classmethod
    def from_split(cls, split: Split, device: torch.device) -> DeviceSplit:
        images = torch.from_numpy(split.images.reshape(len(split), -1).copy())
        labels = torch.from_numpy(split.labels.astype("int64"))
        return cls(images.to(device), labels.to(device))

    def first(self, count: int) -> DeviceSplit:
        """The first ``count`` rows (views, no copy)."""
        return DeviceSplit(self.images[:count], self.labels[:count])

    def batch(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Float images in [0, 1] and labels for the given row indices."""
        return self.images[index].float().div_(255), self.labels[index]

    def __len__(self) -> int:
        return len(self.labels)


def training_split(mnist_train: Split, config: TrainConfig) -> Split:
    """MNIST's training images (the first ``limit`` of them, if set) and ``printed_digits`` printed ones."""
    count = len(mnist_train) if config.limit is None else min(config.limit, len(mnist_train))
    split = Split(images=mnist_train.images[:count], labels=mnist_train.labels[:count])
    if config.printed_digits == 0:
        return split
    from training.printed import printed_digits  # renders with Pillow: only when asked for

    printed = printed_digits(config.printed_digits, seed=config.seed)
    return Split(
        images=np.concatenate([split.images, printed.images]), labels=np.concatenate([split.labels, printed.labels])
    )


def train_epoch(
    model: RoutedVAE,
    optimizer: torch.optim.Optimizer,
    data: DeviceSplit,
    config: TrainConfig,
    epoch: int,
    averaged: AveragedModel | None = None,
) -> dict[str, float]:
    """One pass over the shuffled training data; returns the mean of each loss term. ``averaged``, when
    given, takes every step into its moving average."""
    model.train()
    order = torch.randperm(len(data), device=data.labels.device)
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "l1": 0.0, "blank": 0.0}
    batches = order.split(config.batch_size)
    weights = config.loss_weights(epoch)
    decoder_only = epoch >= config.epochs
    for index in tqdm(batches, desc="  batches", leave=False, unit="batch"):
        images, labels = data.batch(index)
        if decoder_only:  # the decoder is tuned on the images as they are, like the test set
            terms = decoder_loss_terms(model, images, weights)
        else:
            augmented = random_affine(random_shift(images, config.shift_pixels), config.rotation_degrees, config.shear)
            terms = loss_terms(model, augmented, labels, weights)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        optimizer.step()
        if averaged is not None:
            averaged.update_parameters(model)
        for key, value in (
            ("loss", terms.total),
            ("recon", terms.recon),
            ("kl", terms.kl),
            ("l1", terms.l1),
            ("blank", terms.blank),
        ):
            sums[key] += value.item()
    return {key: total / len(batches) for key, total in sums.items()}


def evaluate(model: RoutedVAE, data: DeviceSplit) -> dict[str, float]:
    """Argmax accuracy of the latent and mean per-image squared reconstruction error."""
    model.eval()
    latents, errors = encode_images(model, data.images)
    accuracy = (latents.argmax(dim=1) == data.labels).float().mean().item()
    return {"accuracy": accuracy, "recon_error": errors.mean().item()}


def weight_average(model: RoutedVAE, decay: float) -> AveragedModel | None:
    """An exponential moving average of ``model``'s weights, or None when ``decay`` is 0."""
    if decay == 0:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))


def adopt_average(model: RoutedVAE, averaged: AveragedModel | None) -> None:
    """Load the moving average into ``model``, if there is one and it has seen a step."""
    if averaged is not None and int(averaged.n_averaged) > 0:
        model.load_state_dict(averaged.module.state_dict())


def save_checkpoint(
    path: Path, model: RoutedVAE, optimizer: torch.optim.Optimizer, epoch: int, averaged: AveragedModel | None
) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": torch.get_rng_state(),
        "averaged": averaged.state_dict() if averaged is not None else None,
    }
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def load_checkpoint(
    path: Path, model: RoutedVAE, optimizer: torch.optim.Optimizer, averaged: AveragedModel | None
) -> int:
    """Restore model, optimiser, weight average and RNG; returns the number of epochs already done."""
    if not path.exists():
        raise FileNotFoundError(f"--resume: no checkpoint at {path}; train without --resume first.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    if averaged is not None and state.get("averaged") is not None:
        averaged.load_state_dict(state["averaged"])
    return int(state["epoch"])


def set_learning_rate(optimizer: torch.optim.Optimizer, config: TrainConfig, epoch: int) -> float:
    lr = config.learning_rate(epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def log_line(epoch: int, epochs: int, record: dict[str, Any]) -> str:
    last_step = record.get("last_step_accuracy")
    return (
        f"epoch {epoch:3d}/{epochs} {record['phase']:>7}  loss {record['loss']:8.3f}  recon {record['recon']:7.3f}  "
        f"kl {record['kl']:6.3f}  test acc {100 * record['accuracy']:6.2f} %  "
        + (f"(last step {100 * last_step:6.2f} %)  " if last_step is not None else "")
        + f"test recon {record['recon_error']:6.2f}  {record['seconds']:5.1f} s"
    )


@dataclass
class TrainResult:
    model: RoutedVAE
    mnist: Mnist
    history: list[dict[str, Any]]
    data_seconds: float = 0.0  # spent preparing the training set (rendering printed digits) before epoch 1

    def seconds(self) -> float:
        """Wall time of the run: data preparation plus every epoch."""
        return round(self.data_seconds + sum(float(record["seconds"]) for record in self.history), 1)


def train(config: TrainConfig, mnist: Mnist | None = None) -> TrainResult:
    """Train a routed VAE from ``config``; checkpoints and a JSONL log go to ``config.run_dir``."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    mnist = mnist if mnist is not None else load_mnist(config.data_dir)
    began = time.perf_counter()
    train_data = DeviceSplit.from_split(training_split(mnist.train, config), device)
    data_seconds = time.perf_counter() - began
    decoder_data = train_data.first(len(train_data) - config.printed_digits)  # the MNIST images only
    test_data = DeviceSplit.from_split(mnist.test, device)
    model = RoutedVAE(config.model).to(device)
    # The fused kernel updates all parameters in one pass: about a third of each CPU step otherwise.
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda"))
    config.run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint, log_path = config.run_dir / "checkpoint.pt", config.run_dir / "metrics.jsonl"
    averaged = weight_average(model, config.ema_decay)
    start = load_checkpoint(checkpoint, model, optimizer, averaged) if config.resume else 0
    if not config.resume:
        log_path.write_text("")
    print(
        f"Training on {device}: {len(decoder_data)} MNIST + {config.printed_digits} printed images, "
        f"{config.epochs} routed + {config.decoder_epochs} decoder-only (MNIST only) epochs, seed {config.seed}"
    )
    history: list[dict[str, Any]] = []
    total_epochs = config.epochs + config.decoder_epochs
    for epoch in range(start, total_epochs):
        if epoch == config.epochs:  # the decoder-only phase starts from the averaged weights
            adopt_average(model, averaged)
        began = time.perf_counter()
        lr = set_learning_rate(optimizer, config, epoch)
        routed = epoch < config.epochs
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "phase": "routed" if routed else "decoder",
            "lr": lr,
            **train_epoch(
                model, optimizer, train_data if routed else decoder_data, config, epoch, averaged if routed else None
            ),
        }
        evaluated = model
        if routed and averaged is not None:  # the average is reported; the last step's accuracy beside it
            record["last_step_accuracy"] = evaluate(model, test_data)["accuracy"]
            evaluated = cast(RoutedVAE, averaged.module)
        record.update(evaluate(evaluated, test_data), seconds=time.perf_counter() - began)
        history.append(record)
        print(log_line(epoch + 1, total_epochs, record), flush=True)
        with log_path.open("a") as log:
            log.write(json.dumps(record) + "\n")
        save_checkpoint(checkpoint, model, optimizer, epoch + 1, averaged)
    if config.decoder_epochs == 0:  # the export gets the averaged weights (the checkpoint keeps the last step's)
        adopt_average(model, averaged)
    return TrainResult(model=model.cpu(), mnist=mnist, history=history, data_seconds=round(data_seconds, 1))


def config_as_json(config: TrainConfig) -> dict[str, Any]:
    """The configuration as plain JSON values (paths as strings)."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(config), default=str))
    return plain
