"""The training loop: whole-dataset tensors on the device, no per-sample collation."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard, cast

import numpy as np
import torch
from torch import Tensor
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from training.augment import random_affine, random_shift
from training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from training.config import LossWeights, TrainConfig
from training.data import Mnist, Split, load_mnist
from training.metrics import encode_images
from training.model import LossTerms, RoutedVAE, decoder_loss_terms, loss_terms
from training.run_log import log_epoch, metrics_path


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


LOSS_KEYS = ("loss", "recon", "kl", "l1", "blank")


def batch_loss(
    model: RoutedVAE,
    images: Tensor,
    labels: Tensor,
    config: TrainConfig,
    weights: LossWeights,
    decoder_only: bool,
    teacher: RoutedVAE | None = None,
) -> LossTerms:
    """The loss of one batch: routed on augmented images, or the decoder's alone on the images as they are;
    ``teacher`` names each image's winner for the margin term."""
    if decoder_only:  # the decoder is tuned on the images as they are, like the test set
        return decoder_loss_terms(model, images, weights)
    augmented = random_affine(random_shift(images, config.shift_pixels), config.rotation_degrees, config.shear)
    winners = None
    if teacher is not None and weights.margin > 0:
        with torch.no_grad():
            winners = teacher.encode(augmented.flatten(1)).argmax(dim=1)
    return loss_terms(model, augmented, labels, weights, winners)


def train_epoch(
    model: RoutedVAE,
    optimizer: torch.optim.Optimizer,
    data: DeviceSplit,
    config: TrainConfig,
    epoch: int,
    averaged: AveragedModel | None = None,
    teacher: RoutedVAE | None = None,
) -> dict[str, float]:
    """One pass over the shuffled training data; returns the mean of each loss term. ``averaged``, when
    given, takes every step into its moving average; ``teacher`` names the margin term's winners."""
    model.train()
    order = torch.randperm(len(data), device=data.labels.device)
    sums = dict.fromkeys(LOSS_KEYS, 0.0)
    batches = order.split(config.batch_size)
    weights = config.loss_weights(epoch)
    for index in tqdm(batches, desc="  batches", leave=False, unit="batch"):
        images, labels = data.batch(index)
        terms = batch_loss(model, images, labels, config, weights, epoch >= config.epochs, teacher)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        optimizer.step()
        if averaged is not None:
            averaged.update_parameters(model)
        for key, value in zip(LOSS_KEYS, (terms.total, terms.recon, terms.kl, terms.l1, terms.blank), strict=True):
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


def has_average(averaged: AveragedModel | None) -> TypeGuard[AveragedModel]:
    """Is there a moving average of the weights, and has it seen a step?"""
    return averaged is not None and int(averaged.n_averaged) > 0


def adopt_average(model: RoutedVAE, averaged: AveragedModel | None) -> None:
    """Load the moving average into ``model``, if there is one and it has seen a step."""
    if has_average(averaged):
        model.load_state_dict(averaged.module.state_dict())


def set_learning_rate(optimizer: torch.optim.Optimizer, config: TrainConfig, epoch: int) -> float:
    lr = config.learning_rate(epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


@dataclass
class TrainResult:
    model: RoutedVAE
    mnist: Mnist
    history: list[dict[str, Any]]
    data_seconds: float = 0.0  # spent preparing the training set (rendering printed digits) before epoch 1

    def seconds(self) -> float:
        """Wall time of the run: data preparation plus every epoch."""
        return round(self.data_seconds + sum(float(record["seconds"]) for record in self.history), 1)


@dataclass
class Run:
    """What one training run works on: the data on the device, the model, its optimiser and weight average."""

    config: TrainConfig
    device: torch.device
    mnist: Mnist
    train_data: DeviceSplit  # MNIST, then the printed digits
    decoder_data: DeviceSplit  # the MNIST images only
    test_data: DeviceSplit
    model: RoutedVAE
    optimizer: torch.optim.Optimizer
    averaged: AveragedModel | None
    data_seconds: float  # spent preparing the training set
    teacher: RoutedVAE | None = None  # the weights frozen at the end of the inhibited epochs (--margin-teacher)


def set_up(config: TrainConfig, mnist: Mnist | None) -> Run:
    """Seed, load the data onto the device, build the model, its optimiser and weight average."""
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    mnist = mnist if mnist is not None else load_mnist(config.data_dir)
    began = time.perf_counter()
    train_data = DeviceSplit.from_split(training_split(mnist.train, config), device)
    data_seconds = time.perf_counter() - began
    test_data = DeviceSplit.from_split(mnist.test, device)
    model = RoutedVAE(config.model).to(device)
    # The fused kernel updates all parameters in one pass: about a third of each CPU step otherwise.
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda"))
    decoder_data = train_data.first(len(train_data) - config.printed_digits)
    averaged = weight_average(model, config.ema_decay)
    return Run(
        config, device, mnist, train_data, decoder_data, test_data, model, optimizer, averaged, round(data_seconds, 1)
    )


def start_epoch(run: Run) -> int:
    """Epochs already done: restored from the checkpoint with --resume, else 0 with a fresh metrics log."""
    run_dir = run.config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    if run.config.resume:
        return load_checkpoint(checkpoint_path(run_dir), run.model, run.optimizer, run.averaged)
    metrics_path(run_dir).write_text("")
    return 0


def score_on_test_set(run: Run, routed: bool) -> dict[str, float]:
    """Test accuracy and reconstruction error of the weights that count: during routed epochs with a weight
    average, the average's, with the last step's accuracy beside it."""
    if not routed or run.averaged is None:
        return evaluate(run.model, run.test_data)
    last_step = evaluate(run.model, run.test_data)["accuracy"]
    return {"last_step_accuracy": last_step, **evaluate(cast(RoutedVAE, run.averaged.module), run.test_data)}


def run_epoch(run: Run, epoch: int) -> dict[str, Any]:
    """Train epoch ``epoch`` (from 0) and test it; returns its record."""
    config = run.config
    routed = epoch < config.epochs
    if epoch == config.epochs:  # the decoder-only phase starts from the averaged weights
        adopt_average(run.model, run.averaged)
    began = time.perf_counter()
    lr = set_learning_rate(run.optimizer, config, epoch)
    data, averaged = (run.train_data, run.averaged) if routed else (run.decoder_data, None)
    losses = train_epoch(run.model, run.optimizer, data, config, epoch, averaged, margin_teacher(run, epoch))
    record: dict[str, Any] = {"epoch": epoch + 1, "phase": "routed" if routed else "decoder", "lr": lr, **losses}
    record.update(score_on_test_set(run, routed), seconds=time.perf_counter() - began)
    return record


def margin_teacher(run: Run, epoch: int) -> RoutedVAE | None:
    """The margin term's teacher from the first epoch after the inhibited ones on: the weights that count then
    (the moving average's, with --ema-decay), frozen and kept in the run folder (so that --resume finds the same
    teacher); None when not asked for."""
    config = run.config
    if not config.margin_teacher or config.inhibition_epochs is None or epoch < config.inhibition_epochs:
        return None
    if run.teacher is None:
        path = config.run_dir / "teacher.pt"
        teacher = copy.deepcopy(weights_that_count(run))
        if path.exists() and epoch > config.inhibition_epochs:
            teacher.load_state_dict(torch.load(path, map_location=run.device, weights_only=True))
        else:
            torch.save(teacher.state_dict(), path)
        run.teacher = teacher.eval().requires_grad_(False)
    return run.teacher


def weights_that_count(run: Run) -> RoutedVAE:
    """The moving average of the weights when there is one that has seen a step, else the model itself."""
    if has_average(run.averaged):
        return cast(RoutedVAE, run.averaged.module)
    return run.model


def record_epoch(run: Run, record: dict[str, Any]) -> None:
    """Log the epoch's record and checkpoint the state after it."""
    config = run.config
    log_epoch(config.run_dir, config.epochs + config.decoder_epochs, record)
    save_checkpoint(checkpoint_path(config.run_dir), run.model, run.optimizer, record["epoch"], run.averaged)


def train(config: TrainConfig, mnist: Mnist | None = None) -> TrainResult:
    """Train a routed VAE from ``config``; checkpoints and a JSONL log go to ``config.run_dir``."""
    run = set_up(config, mnist)
    start = start_epoch(run)
    print(
        f"Training on {run.device}: {len(run.decoder_data)} MNIST + {config.printed_digits} printed "
        f"images, {config.epochs} routed + {config.decoder_epochs} decoder-only (MNIST only) epochs, seed {config.seed}"
    )
    history = []
    for epoch in range(start, config.epochs + config.decoder_epochs):
        history.append(run_epoch(run, epoch))
        record_epoch(run, history[-1])
    if config.decoder_epochs == 0:  # the export gets the averaged weights (the checkpoint keeps the last step's)
        adopt_average(run.model, run.averaged)
    return TrainResult(model=run.model.cpu(), mnist=run.mnist, history=history, data_seconds=run.data_seconds)


def config_as_json(config: TrainConfig) -> dict[str, Any]:
    """The configuration as plain JSON values (paths as strings)."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(config), default=str))
    return plain
