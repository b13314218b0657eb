import torch

from training.augment import random_affine, random_shift


def picture_with_margin(count: int) -> torch.Tensor:
    """Random ink in the central 20 x 20, blank margin of 4: any shift up to 4 keeps every pixel."""
    images = torch.zeros(count, 28, 28)
    images[:, 4:24, 4:24] = torch.rand(count, 20, 20)
    return images.flatten(1)


def test_no_shift_returns_the_images_unchanged() -> None:
    images = picture_with_margin(3)
    assert random_shift(images, 0) is images


def test_each_image_is_a_whole_pixel_translation_within_the_limit() -> None:
    torch.manual_seed(0)
    images = picture_with_margin(64)
    shifted = random_shift(images, 2)
    seen = set()
    for before, after in zip(images.view(-1, 28, 28), shifted.view(-1, 28, 28), strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(torch.roll(before, (dy, dx), dims=(0, 1)), after)
        ]
        assert len(matches) == 1  # exactly one offset explains the result, and it is within +-2
        seen.add(matches[0])
    assert len(seen) > 10  # offsets differ between images (25 possible)


def test_ink_moving_out_of_the_frame_is_cut_and_blank_moves_in() -> None:
    torch.manual_seed(1)
    images = torch.ones(200, 784)
    shifted = random_shift(images, 3).view(-1, 28, 28)
    blank_rows = (shifted.sum(dim=2) == 0).sum(dim=1)
    blank_columns = (shifted.sum(dim=1) == 0).sum(dim=1)
    assert int(blank_rows.max()) == 3 and int(blank_columns.max()) == 3
    assert set(torch.unique(shifted).tolist()) <= {0.0, 1.0}


def test_shifts_follow_the_seed() -> None:
    images = picture_with_margin(8)
    torch.manual_seed(5)
    first = random_shift(images, 2)
    torch.manual_seed(5)
    assert torch.equal(first, random_shift(images, 2))


def vertical_bar() -> torch.Tensor:
    """Sixteen images of a 2-pixel-wide vertical bar through the centre, rows 6 to 21."""
    pictures = torch.zeros(16, 28, 28)
    pictures[:, 6:22, 13:15] = 1.0
    return pictures.flatten(1)


def ink_columns(picture: torch.Tensor) -> torch.Tensor:
    """The ink-weighted mean column of each row that has ink."""
    columns = torch.arange(28, dtype=picture.dtype)
    rows = picture[picture.sum(dim=1) > 0.5]
    return (rows * columns).sum(dim=1) / rows.sum(dim=1)


def test_no_rotation_or_shear_returns_the_images_unchanged() -> None:
    images = vertical_bar()
    assert random_affine(images, 0, 0) is images


def test_rotation_and_shear_tilt_a_vertical_bar_and_keep_its_ink() -> None:
    torch.manual_seed(1)
    images = vertical_bar()
    # Over its 16 rows the bar's ends move apart by at most 16 tan(25 deg) = 7.5 or 16 x 0.5 = 8 columns.
    for (degrees, shear), most in (((25, 0), 7.5), ((0, 0.5), 8.0)):
        moved = random_affine(images, degrees, shear)
        assert moved.shape == images.shape
        assert torch.allclose(moved.sum(dim=1), images.sum(dim=1), rtol=0.15)  # nothing leaves the canvas
        slants = [ink_columns(picture.view(28, 28)) for picture in moved]
        offsets = [abs(float(slant[0] - slant[-1])) for slant in slants]
        assert max(offsets) > 3.0  # tilted: top and bottom rows sit in different columns
        assert max(offsets) < most + 1.0  # by no more than the limit allows
        assert min(float(picture.min()) for picture in moved) >= 0.0
        assert max(float(picture.max()) for picture in moved) <= 1.0 + 1e-6


def test_rotations_follow_the_seed_and_differ_per_image() -> None:
    images = vertical_bar()
    torch.manual_seed(3)
    first = random_affine(images, 20, 0.3)
    torch.manual_seed(3)
    assert torch.equal(first, random_affine(images, 20, 0.3))
    assert not torch.equal(first[0], first[1])
