"""The `routed-vae` command line against the live service: every verb, its output formats and exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from routed_vae_client import Client
from routed_vae_client.cli import main
from tests.client.live import SEVEN, run_cli


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """main(ARGS) in this process: (exit status, stdout, stderr)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def three_png(tmp_path: Path, digit_pngs: list[bytes]) -> Path:
    path = tmp_path / "three.png"
    path.write_bytes(digit_pngs[3])
    return path


def test_classify_prints_file_digit_confidence(
    capsys: pytest.CaptureFixture[str], client: Client, service_url: str, three_png: Path
) -> None:
    status, out, err = run(capsys, "classify", "--url", service_url, str(SEVEN), str(three_png))
    assert (status, err) == (0, "")
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(file, digit) for file, digit, _ in lines] == [(str(SEVEN), "7"), (str(three_png), "3")]
    expected = client.classify([SEVEN, three_png])
    assert [float(confidence) for *_, confidence in lines] == [round(p.confidence, 4) for p in expected]


def test_classify_json(capsys: pytest.CaptureFixture[str], service_url: str, three_png: Path) -> None:
    status, out, _ = run(capsys, "--url", service_url, "classify", "--json", str(SEVEN), str(three_png))
    rows = json.loads(out)
    assert status == 0 and [set(row) for row in rows] == [{"file", "digit", "confidence", "latent"}] * 2
    assert [(row["file"], row["digit"], len(row["latent"])) for row in rows] == [
        (str(SEVEN), 7, 10),
        (str(three_png), 3, 10),
    ]


def test_classify_preprocess_none(capsys: pytest.CaptureFixture[str], service_url: str, three_png: Path) -> None:
    status, out, _ = run(capsys, "classify", "--preprocess", "none", "--url", service_url, str(three_png))
    assert status == 0 and out.split("\t")[1] == "3"
    status, _, err = run(capsys, "classify", "--preprocess", "none", "--url", service_url, str(SEVEN))
    assert status == 1 and err.startswith("routed-vae: wrong_image_size: Image 0: preprocess=none needs a 28x28 image")


def test_encode_prints_a_latent_that_decode_takes(
    capsys: pytest.CaptureFixture[str], client: Client, service_url: str, tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "encode", "--url", service_url, str(SEVEN))
    file, latent = out.rstrip("\n").split("\t")
    assert status == 0 and file == str(SEVEN)
    np.testing.assert_allclose([float(v) for v in latent.split(",")], client.encode([SEVEN])[0], atol=1e-4)
    status, _, _ = run(capsys, "decode", "--url", service_url, "--latent", latent, "-o", str(tmp_path / "back.png"))
    assert status == 0 and Image.open(tmp_path / "back.png").size == (28, 28)
    status, out, _ = run(capsys, "encode", "--json", "--url", service_url, str(SEVEN))
    assert status == 0 and json.loads(out)[0]["file"] == str(SEVEN) and len(json.loads(out)[0]["latent"]) == 10


def test_decode_writes_the_services_png(
    capsys: pytest.CaptureFixture[str], client: Client, service_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "out.png"
    args = ("decode", "--url", service_url, "--latent", "0,0,3,0,0,0,0,0,0,0", "-o", str(output), "--scale", "5")
    assert run(capsys, *args)[:2] == (0, "")
    expected = client.decode([[0, 0, 3, 0, 0, 0, 0, 0, 0, 0]], scale=5)[0]
    assert np.array_equal(np.asarray(Image.open(output)), np.asarray(expected)) and expected.size == (140, 140)


def test_sample_writes_a_grid(capsys: pytest.CaptureFixture[str], service_url: str, tmp_path: Path) -> None:
    output = tmp_path / "grid.png"
    status, out, _ = run(
        capsys, "sample", "--url", service_url, "--digit", "4", "-n", "6", "--seed", "2", "-o", str(output)
    )
    assert status == 0 and out == "4 4 4 4 4 4\n"
    assert Image.open(output).size == (3 * 28 + 2 * 2, 2 * 28 + 2)
    with Client(service_url) as client:
        expected = client.sample(digit=4, n=6, seed=2).grid()
    assert np.array_equal(np.asarray(Image.open(output)), np.asarray(expected))


def test_service_errors_exit_1_with_code_message_and_details(
    capsys: pytest.CaptureFixture[str], service_url: str
) -> None:
    status, out, err = run(capsys, "sample", "--url", service_url, "-n", "65", "-o", "never.png")
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        "routed-vae: validation_error: The request does not match the schema; see details.",
        "  body.n: Input should be less than or equal to 64",
    ]
    assert not Path("never.png").exists()


def test_local_problems_exit_2(capsys: pytest.CaptureFixture[str], service_url: str, tmp_path: Path) -> None:
    status, _, err = run(capsys, "classify", "--url", service_url, str(tmp_path / "missing.png"))
    assert status == 2 and "No such file or directory" in err and "missing.png" in err
    missing_folder = str(tmp_path / "no" / "such" / "out.png")
    status, _, err = run(
        capsys, "decode", "--url", service_url, "--latent", "0,0,3,0,0,0,0,0,0,0", "-o", missing_folder
    )
    assert status == 2 and err.startswith(f"routed-vae: error: cannot write {missing_folder}")
    status, _, err = run(capsys, "classify", "--url", "ftp://example", str(SEVEN))
    assert status == 2 and "http:// or https://" in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["rotate", "x.png"],
        ["classify"],
        ["classify", "--preprocess", "sideways", "x.png"],
        ["decode", "--latent", "1,2,3", "-o", "x.png"],
        ["decode", "--latent", "a,b,c,d,e,f,g,h,i,j", "-o", "x.png"],
        ["decode", "--latent", "0,0,3,0,0,0,0,0,0,0"],
        ["sample", "-n", "many", "-o", "x.png"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2 and "usage: routed-vae" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0 and capsys.readouterr().out.startswith("routed-vae-client 0.")


# The same contract as separate processes: exit statuses as a shell sees them, and never a traceback.


def test_process_success_and_url_from_the_environment(service_url: str) -> None:
    result = run_cli("classify", str(SEVEN), ROUTED_VAE_URL=service_url)
    assert (result.returncode, result.stderr) == (0, "") and result.stdout.startswith(f"{SEVEN}\t7\t")


def test_process_url_option_overrides_the_environment(service_url: str, dead_url: str) -> None:
    result = run_cli("classify", str(SEVEN), "--url", service_url, "--api-key", "k", ROUTED_VAE_URL=dead_url)
    assert result.returncode == 0, result.stderr


def test_process_service_error_exits_1(service_url: str, tmp_path: Path) -> None:
    result = run_cli("--url", service_url, "classify", str(Path(__file__)))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("routed-vae: unsupported_image: Image 0: Not a readable image")
    assert "Traceback" not in result.stderr


def test_process_usage_error_exits_2(tmp_path: Path) -> None:
    result = run_cli("decode", "--latent", "1,2", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "a latent has 10 values, got 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_process_unreachable_service_exits_3(dead_url: str, tmp_path: Path) -> None:
    for args in (["classify", str(SEVEN)], ["sample", "-o", str(tmp_path / "g.png")]):
        result = run_cli(*args, ROUTED_VAE_URL=dead_url)
        assert result.returncode == 3 and result.stdout == ""
        assert result.stderr.startswith(f"routed-vae: cannot reach the routed-vae service at {dead_url}/")
        assert "Traceback" not in result.stderr
