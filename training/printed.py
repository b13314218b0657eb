"""Printed digits to train on beside MNIST: typefaces MNIST never shows, put through the service's ``auto``.

A model that learned only handwriting reads many printed digits wrongly (a bold 9 as an 8, a closed-top 4 as a
9). These pictures are rendered from typefaces that pinned wheels bring (matplotlib's STIX and Computer Modern;
Lato, Source Sans Pro, Red Hat Display, Manrope, Hanken Grotesk, Caladea, Fredoka One and Fjalla One from the
font-* packages), so every machine that installs the training extra renders the same set. None of them is a face the
printed input kind's test pictures are drawn with (training/input_kinds/digit_pictures.py: DejaVu, Pillow's
bundled face): that test set measures generalisation to unseen typefaces, not recall of the training set.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_form.preprocess import preprocess_auto, to_bytes
from training.data import Split

# Where each face comes from: the installed package whose data folder holds its file. matplotlib's wheel brings
# serif faces (STIX, Computer Modern: regular, bold and italic faces with plain lining figures; cmmi10 and the
# symbol faces are left out); the font-* wheels from PyPI bring sans-serif and rounded faces in several weights,
# the kind most printed and on-screen digits are set in.
FACE_SOURCES: dict[str, tuple[str, ...]] = {
    "matplotlib": (
        "STIXGeneral.ttf",
        "STIXGeneralBol.ttf",
        "STIXGeneralItalic.ttf",
        "STIXGeneralBolIta.ttf",
        "cmr10.ttf",
        "cmb10.ttf",
        "cmss10.ttf",
        "cmtt10.ttf",
        "cmti10.ttf",
    ),
    "font_lato": ("Lato-Regular.ttf", "Lato-Bold.ttf", "Lato-Black.ttf"),
    "font_source_sans_pro": ("SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf", "SourceSansPro-Black.ttf"),
    "font_rhd": ("RedHatDisplay-Regular.ttf", "RedHatDisplay-Black.ttf"),
    "font_manrope": ("Manrope-Regular.ttf", "Manrope-ExtraBold.ttf"),
    "font_hanken_grotesk": ("HankenGrotesk-Bold.otf",),
    "font_caladea": ("Caladea-Regular.ttf", "Caladea-Bold.ttf"),
    "font_fredoka_one": ("FredokaOne-Regular.ttf",),
    "font_fjallaone": ("FjallaOne-Regular.ttf",),
}
TYPEFACES = tuple(name for names in FACE_SOURCES.values() for name in names)
FONT_SIZES = (40, 56, 72, 96)  # points on a canvas twice as wide: the stroke width varies with the size
MAX_DEGREES = 8.0  # upright or slightly turned, like a photographed page
# Horizontal scale of the drawn glyph, drawn log-uniformly between these: condensed and extended settings of a
# face (a narrow bold serif 0 reads as a 4 to a model that saw only round ones).
WIDTH_RANGE = (0.7, 1.25)
# How a 0 may be marked, as monospaced and programming faces mark it to tell it from the letter O.
ZERO_MARKS = ("", "", "dot", "slash", "bar")


def font_dir(package: str) -> Path:
    """The folder holding ``package``'s font files; the packages are the training extra's, imported only here so
    that the service never needs them."""
    if package == "matplotlib":
        import matplotlib

        return Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed; pip install -e '.[train]' brings the printed faces")
    return Path(next(iter(spec.submodule_search_locations))) / "files"


def font_path(name: str) -> Path:
    """The file of the typeface ``name`` (one of TYPEFACES)."""
    package = next(package for package, names in FACE_SOURCES.items() if name in names)
    return font_dir(package) / name


@cache
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


@dataclass(frozen=True)
class Style:
    """How one printed digit is drawn."""

    typeface: str
    size: int
    stroke: int  # extra outline width in pixels: 0 draws the face as it is, more makes it bolder
    degrees: float
    offset: tuple[int, int]
    dark_on_light: bool
    width: float = 1.0  # horizontal scale of the drawing: < 1 condensed, > 1 extended
    zero_mark: str = ""  # a 0's inner mark (one of ZERO_MARKS); ignored for other digits


def random_style(rng: np.random.Generator) -> Style:
    size = int(rng.choice(FONT_SIZES))
    return Style(
        typeface=str(rng.choice(TYPEFACES)),
        size=size,
        stroke=int(rng.integers(0, size // 16 + 1)),
        degrees=float(rng.uniform(-MAX_DEGREES, MAX_DEGREES)),
        offset=(int(rng.integers(-size // 4, size // 4 + 1)), int(rng.integers(-size // 4, size // 4 + 1))),
        dark_on_light=bool(rng.integers(0, 2)),
        width=float(np.exp(rng.uniform(*np.log(WIDTH_RANGE)))),
        zero_mark=str(rng.choice(ZERO_MARKS)),
    )


def draw(digit: int, style: Style) -> np.ndarray:
    """Luminance in [0, 1] of one printed digit on a plain canvas."""
    canvas = 2 * style.size
    ink, paper = (20, 235) if style.dark_on_light else (235, 20)
    image = Image.new("L", (canvas, canvas), paper)
    centre = (canvas // 2 + style.offset[0], canvas // 2 + style.offset[1])
    pen = ImageDraw.Draw(image)
    font = load_font(style.typeface, style.size)
    pen.text(centre, str(digit), font=font, fill=ink, anchor="mm", stroke_width=style.stroke, stroke_fill=ink)
    if digit == 0 and style.zero_mark:
        mark_zero(pen, pen.textbbox(centre, "0", font=font, anchor="mm"), style.zero_mark, ink)
    image = image.rotate(style.degrees, resample=Image.Resampling.BILINEAR, fillcolor=paper)
    if style.width != 1.0:
        image = image.resize((max(1, round(canvas * style.width)), canvas), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255


def mark_zero(pen: ImageDraw.ImageDraw, box: tuple[float, float, float, float], mark: str, ink: int) -> None:
    """Draw a 0's inner mark inside its bounding ``box``: a dot, a slash or a short horizontal bar."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    x, y = (left + right) / 2, (top + bottom) / 2
    line = max(2, round(width / 8))
    if mark == "dot":
        radius = max(2.0, width / 12)
        pen.ellipse((x - radius, y - radius * 1.3, x + radius, y + radius * 1.3), fill=ink)
    elif mark == "slash":
        pen.line((x - width / 4, y + height / 3, x + width / 4, y - height / 3), fill=ink, width=line)
    else:
        pen.line((x - width / 5, y, x + width / 5, y), fill=ink, width=line)


def printed_digits(count: int, seed: int) -> Split:
    """``count`` printed digits (labels 0..9 in turn) in MNIST form, as the service's ``auto`` would send them
    to the model; the same seed gives the same pictures."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.uint8) % 10
    images = np.stack([to_bytes(preprocess_auto(draw(int(digit), random_style(rng)))) for digit in labels])
    return Split(images=images.reshape(count, 28, 28), labels=labels)
