import torch

from training.augment import random_shift


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
