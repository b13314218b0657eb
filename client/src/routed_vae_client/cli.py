"""The ``routed-vae`` command line: classify, encode, decode and sample from a shell.

Exit status: 0 success, 1 the service answered an error, 2 a usage error, 3 the service cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from routed_vae_client.client import Client
from routed_vae_client.config import API_KEY_VARIABLE, DEFAULT_URL, URL_VARIABLE
from routed_vae_client.errors import RoutedVAEConnectionError, RoutedVAEError
from routed_vae_client.version import __version__

EXIT_OK, EXIT_SERVICE_ERROR, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
LATENT_SIZE = 10
Verb = Callable[[Client, argparse.Namespace], None]


def latent_argument(text: str) -> list[float]:
    """``"0,0,3,0,0,0,0,0,0,0"`` -> ten floats; anything else is a usage error."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if len(values) != LATENT_SIZE:
        raise argparse.ArgumentTypeError(f"a latent has {LATENT_SIZE} values, got {len(values)}: {text!r}")
    return values


def classify(client: Client, args: argparse.Namespace) -> None:
    """FILE<TAB>DIGIT<TAB>CONFIDENCE per file, or a JSON array with the latents."""
    predictions = client.classify(args.files, preprocess=args.preprocess)
    if args.json:
        rows = [{"file": file, **vars(p)} for file, p in zip(args.files, predictions, strict=True)]
        print(json.dumps(rows, indent=2))
        return
    for file, prediction in zip(args.files, predictions, strict=True):
        print(f"{file}\t{prediction.digit}\t{prediction.confidence:.4f}")


def encode(client: Client, args: argparse.Namespace) -> None:
    """FILE<TAB>v0,...,v9 per file (the second column is a valid ``decode --latent``), or a JSON array."""
    latents = client.encode(args.files, preprocess=args.preprocess)
    if args.json:
        print(json.dumps([{"file": file, "latent": latent} for file, latent in zip(args.files, latents, strict=True)]))
        return
    for file, latent in zip(args.files, latents, strict=True):
        print(f"{file}\t{','.join(f'{value:.4f}' for value in latent)}")


def save_png(image: Image.Image, path: Path) -> None:
    try:
        image.save(path, format="PNG")
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror or error}") from error


def decode(client: Client, args: argparse.Namespace) -> None:
    """The latent's image, written as a PNG (``--scale`` times 28 pixels wide)."""
    save_png(client.decode([args.latent], scale=args.scale)[0], args.output)


def sample(client: Client, args: argparse.Namespace) -> None:
    """A grid of ``-n`` samples written as a PNG; their digits, in grid order, on stdout."""
    drawn = client.sample(digit=args.digit, n=args.n, seed=args.seed)
    save_png(drawn.grid(), args.output)
    print(" ".join(str(digit) for digit in drawn.digits))


def connection_options() -> argparse.ArgumentParser:
    """--url and --api-key, accepted before or after the verb."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--url", default=argparse.SUPPRESS, help=f"service URL (default: ${URL_VARIABLE}, else {DEFAULT_URL})"
    )
    options.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        help=f"sent as 'Authorization: Bearer KEY' (default: ${API_KEY_VARIABLE})",
    )
    return options


def add_image_verb(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], name: str, run: Verb, summary: str
) -> None:
    verb = verbs.add_parser(name, parents=[connection_options()], help=summary, description=summary)
    verb.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, GIF, BMP, WebP)")
    verb.add_argument(
        "--preprocess", choices=("auto", "none"), default="auto", help="auto: any digit picture; none: 28x28 as is"
    )
    verb.add_argument("--json", action="store_true", help="print a JSON array instead of tab-separated lines")
    verb.set_defaults(run=run)


def build_parser() -> argparse.ArgumentParser:
    """The ``routed-vae`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="routed-vae",
        description="Talk to a routed-vae service.",
        epilog="exit status: 0 success, 1 the service answered an error, 2 usage error, 3 service unreachable",
        parents=[connection_options()],
    )
    parser.add_argument("--version", action="version", version=f"routed-vae-client {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    add_image_verb(verbs, "classify", classify, "print FILE<TAB>DIGIT<TAB>CONFIDENCE per image")
    add_image_verb(verbs, "encode", encode, "print FILE<TAB>LATENT (10 comma-separated values) per image")
    decoding = verbs.add_parser("decode", parents=[connection_options()], help="write the image of one latent")
    decoding.add_argument("--latent", required=True, type=latent_argument, help='10 values, e.g. "0,0,3,0,0,0,0,0,0,0"')
    decoding.add_argument("-o", "--output", required=True, type=Path, help="PNG file to write")
    decoding.add_argument("--scale", type=int, default=1, help="enlarge 1 to 20 times (default: 1)")
    decoding.set_defaults(run=decode)
    sampling = verbs.add_parser("sample", parents=[connection_options()], help="write a grid of sampled digits")
    sampling.add_argument("--digit", type=int, default=None, help="0 to 9 (default: random digits)")
    sampling.add_argument("-n", type=int, default=1, help="how many, 1 to 64 (default: 1)")
    sampling.add_argument("--seed", type=int, default=None, help="repeatable draws (default: random)")
    sampling.add_argument("-o", "--output", required=True, type=Path, help="PNG file to write")
    sampling.set_defaults(run=sample)
    return parser


def describe(error: RoutedVAEError) -> str:
    """``code: message``, then one ``  where: what`` line per validation detail the service gave."""
    lines = [f"{error.code}: {error.message}"]
    for detail in error.details if isinstance(error.details, list) else []:
        if isinstance(detail, dict):
            where = ".".join(str(part) for part in detail.get("loc", []))
            lines.append(f"  {where}: {detail.get('msg', '')}")
    return "\n".join(lines)


def fail(message: str, status: int) -> int:
    print(f"routed-vae: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb, e.g. ``main(["classify", "seven.png"])``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with Client(getattr(args, "url", None), getattr(args, "api_key", None)) as client:
            args.run(client, args)
    except RoutedVAEConnectionError as error:
        return fail(error.message, EXIT_UNREACHABLE)
    except RoutedVAEError as error:
        return fail(describe(error), EXIT_SERVICE_ERROR)
    except BrokenPipeError:  # e.g. `| head -1`: stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SERVICE_ERROR
    except (OSError, ValueError, TypeError) as error:
        return fail(f"error: {error}", EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_OK
