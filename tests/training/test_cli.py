"""Bad command-line arguments give clear errors and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.cli import build_parser, config_from_args, main
from training.config import SEED_RECIPE, TrainConfig


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs: must be a whole number >= 1, got 0"),
        (["--batch-size", "abc"], "--batch-size: must be a whole number >= 1, got abc"),
        (["--lr", "-1"], "--lr: must be a number > 0, got -1"),
        (["--kl-weight", "nan"], "--kl-weight: must be a number >= 0, got nan"),
        (["--preset", "fastest"], "--preset: invalid choice: 'fastest'"),
        (["--device"], "--device: expected one argument"),
        (["--shift-pixels", "-1"], "--shift-pixels: must be a whole number in [0, 6], got -1"),
        (["--shift-pixels", "9"], "--shift-pixels: must be a whole number in [0, 6], got 9"),
        (["--inhibition-share", "0"], "--inhibition-share: must be a number in (0, 1], got 0"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_arguments_exit_2_with_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_data_dir_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "is not a directory" in capsys.readouterr().err


def test_empty_data_dir_explains_expected_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")])
    assert code == 2
    assert "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found" in capsys.readouterr().err


def test_resume_without_checkpoint_is_reported(tmp_path: Path) -> None:
    from training.checkpoint import load_checkpoint

    with pytest.raises(FileNotFoundError, match="train without --resume first"):
        load_checkpoint(tmp_path / "checkpoint.pt", None, None, None)  # type: ignore[arg-type]


def test_flags_override_preset() -> None:
    args = build_parser().parse_args(["--preset", "seed", "--epochs", "3", "--mean-bias-init", "0.5"])
    config = config_from_args(args)
    assert config.epochs == 3 and config.batch_size == SEED_RECIPE.batch_size
    assert config.model.mean_bias_init == 0.5


def test_no_flags_give_the_default_recipe_exactly() -> None:
    assert config_from_args(build_parser().parse_args([])) == TrainConfig()
    assert config_from_args(build_parser().parse_args(["--preset", "seed"])) == SEED_RECIPE


@pytest.mark.parametrize(
    ("preset", "flag", "expected"),
    [
        ("default", "--no-margin-teacher", False),
        ("seed", "--margin-teacher", True),
        ("default", "--resume", True),
    ],
)
def test_a_switch_turns_its_setting_either_way(preset: str, flag: str, expected: bool) -> None:
    config = config_from_args(build_parser().parse_args(["--preset", preset, flag]))
    assert getattr(config, flag.removeprefix("--no-").removeprefix("--").replace("-", "_")) is expected


def test_widths_flags_set_the_architecture() -> None:
    args = build_parser().parse_args(["--encoder-widths", "512", "256", "--decoder-widths", "1024"])
    model = config_from_args(args).model
    assert model.encoder_widths == (512, 256) and model.decoder_widths == (1024,)


def test_inhibition_flags_set_the_model() -> None:
    argv = ["--inhibition", "0.5", "--inhibition-mode", "gradient", "--inhibition-share", "0.25"]
    model = config_from_args(build_parser().parse_args(argv)).model
    assert (model.inhibition, model.inhibition_mode, model.inhibition_share) == (0.5, "gradient", 0.25)
    assert config_from_args(build_parser().parse_args(["--inhibition-epochs", "4"])).inhibition_epochs == 4


def test_shift_flag_sets_the_augmentation() -> None:
    assert config_from_args(build_parser().parse_args(["--shift-pixels", "2"])).shift_pixels == 2


def test_printed_digits_flag_sets_the_count() -> None:
    assert config_from_args(build_parser().parse_args(["--printed-digits", "300"])).printed_digits == 300


def test_a_zero_width_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--encoder-widths", "512", "0"])
    assert exit_info.value.code == 2
    assert "--encoder-widths: must be a whole number >= 1, got 0" in capsys.readouterr().err


def test_every_flag_states_its_default() -> None:
    parser = build_parser()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help is not None and "(default: " in action.help, action.option_strings
    helps = {action.dest: action.help for action in parser._actions}
    assert helps["inhibition_epochs"] is not None and helps["inhibition_epochs"].endswith("(default: 4)")
    assert helps["margin_teacher"] is not None and helps["margin_teacher"].endswith("(default: on)")
