"""Gradient routing: labels reach the encoder only through the label's latent dimension."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from tests.conftest import TINY_MODEL
from training.config import LossWeights, TrainConfig
from training.model import RoutedVAE, inhibit_rivals, l1_penalty, loss_terms, margin_penalty, route_gradients


def test_route_gradients_keeps_values_and_masks_gradient() -> None:
    latent = torch.rand(4, 10, requires_grad=True)
    labels = torch.tensor([0, 3, 3, 9])
    routed = route_gradients(latent, labels)
    weights = torch.rand(4, 10)
    (routed * weights).sum().backward()
    assert torch.equal(routed, latent)
    mask = torch.nn.functional.one_hot(labels, 10).float()
    assert latent.grad is not None
    assert torch.equal(latent.grad, mask * weights)


def test_reconstruction_gradient_reaches_encoder_only_through_label_dimension() -> None:
    torch.manual_seed(0)
    # A positive mean bias keeps every ReLU open, so a zero gradient can only come from routing.
    model = RoutedVAE(replace(TINY_MODEL, mean_bias_init=5.0, inhibition=0.0))
    images = torch.rand(1, 1, 28, 28)
    label = 3
    terms = loss_terms(model, images, torch.tensor([label]), LossWeights(recon=1.0, kl=0.0, l1=0.0))
    terms.total.backward()
    # Row j of the mean head feeds only latent dimension j.
    grad = model.mean_head.weight.grad
    assert grad is not None
    for j in range(10):
        if j == label:
            assert grad[j].abs().sum() > 0
        else:
            assert torch.all(grad[j] == 0), f"dimension {j} received gradient for a digit-{label} image"
    # The decoder still sees every dimension, so its first layer gets gradient from all of them.
    decoder_grad = model.decoder[0].weight.grad
    assert decoder_grad is not None and torch.all(decoder_grad.abs().sum(dim=0) > 0)


@pytest.mark.parametrize("mode", ["forward", "gradient"])
def test_with_inhibition_the_label_dimension_also_lowers_its_strongest_rival(mode: str) -> None:
    """Inhibition happens inside the encoder: the routed gradient still enters only through the label's
    latent dimension, and from there reaches the label's mean and the largest other mean, no third one."""
    torch.manual_seed(0)
    model = RoutedVAE(replace(TINY_MODEL, inhibition=1.0, inhibition_mode=mode))
    label = 3
    with torch.no_grad():  # every mean open; the label's the largest, so its latent is open too
        model.mean_head.bias.copy_(5.0 + torch.arange(10.0) / 10)
        model.mean_head.bias[label] = 10.0
    images = torch.rand(1, 1, 28, 28)
    raw_mean, _ = model.encode_stats(images)
    others = raw_mean[0].clone()
    others[label] = float("-inf")
    rival = int(others.argmax())
    terms = loss_terms(model, images, torch.tensor([label]), LossWeights(recon=1.0, kl=0.0, l1=0.0))
    terms.total.backward()
    grad = model.mean_head.weight.grad
    assert grad is not None
    receiving = {j for j in range(10) if grad[j].abs().sum() > 0}
    assert receiving == {label, rival}


def test_inhibit_rivals_subtracts_the_largest_other_activation_and_keeps_the_argmax() -> None:
    mean = torch.tensor([[1.0, 3.0, 2.0, -1.0], [-1.0, -2.0, -3.0, -4.0], [2.0, 2.0, 0.0, 1.0]])
    expected = torch.tensor([[-0.5, 2.0, 0.5, -2.5], [-1.0, -2.0, -3.0, -4.0], [1.0, 1.0, -1.0, 0.0]])
    assert torch.equal(inhibit_rivals(mean, 0.5), expected)
    assert torch.equal(inhibit_rivals(mean, 0.0), mean)
    torch.manual_seed(0)
    random = torch.randn(500, 10)
    for inhibition in (0.3, 1.0):
        assert torch.equal(inhibit_rivals(random, inhibition).argmax(dim=1), random.argmax(dim=1))


def test_gradient_mode_inhibition_changes_no_training_value() -> None:
    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    plain = RoutedVAE(replace(TINY_MODEL, inhibition=0.0))
    inhibited = RoutedVAE(replace(TINY_MODEL, inhibition=1.0, inhibition_mode="gradient"))
    inhibited.load_state_dict(plain.state_dict())
    encodings = []
    for model in (plain, inhibited):
        torch.manual_seed(1)
        encodings.append(model.sample(images))
    assert torch.equal(encodings[0].latent, encodings[1].latent)
    assert torch.equal(encodings[0].mean, encodings[1].mean)


def test_an_inhibition_share_inhibits_that_fraction_of_the_images() -> None:
    torch.manual_seed(0)
    images = torch.rand(400, 1, 28, 28)
    model = RoutedVAE(replace(TINY_MODEL, inhibition=1.0, inhibition_share=0.25))
    raw_mean, _ = model.encode_stats(images)
    rows_inhibited = (model.sample(images).mean != raw_mean).any(dim=1).float().mean().item()
    assert rows_inhibited == pytest.approx(0.25, abs=0.07)


def test_inhibition_stops_after_its_epochs() -> None:
    assert [TrainConfig(inhibition_epochs=2).loss_weights(epoch).inhibit for epoch in range(4)] == [1, 1, 0, 0]
    assert all(TrainConfig().loss_weights(epoch).inhibit for epoch in range(4))
    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    plain = RoutedVAE(replace(TINY_MODEL, inhibition=0.0))
    inhibited = RoutedVAE(replace(TINY_MODEL, inhibition=1.0))
    inhibited.load_state_dict(plain.state_dict())
    torch.manual_seed(1)
    expected = plain.sample(images).latent
    torch.manual_seed(1)
    assert torch.equal(inhibited.sample(images, inhibit=False).latent, expected)


def test_inhibition_is_training_time_only() -> None:
    """The deterministic latent (inference, the decoder-only phase, export) is ReLU of the raw mean."""
    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    plain = RoutedVAE(replace(TINY_MODEL, inhibition=0.0))
    inhibited = RoutedVAE(replace(TINY_MODEL, inhibition=1.0))
    inhibited.load_state_dict(plain.state_dict())
    assert torch.equal(plain.encode(images), inhibited.encode(images))


def test_without_routing_every_dimension_gets_gradient() -> None:
    """The control for the test above: the same check fails when routing is bypassed."""
    torch.manual_seed(0)
    model = RoutedVAE(replace(TINY_MODEL, mean_bias_init=5.0, inhibition=0.0))
    images = torch.rand(1, 1, 28, 28)
    encoding = model.sample(images)
    ((model.decode(encoding.latent) - images) ** 2).sum().backward()
    grad = model.mean_head.weight.grad
    assert grad is not None
    assert all(grad[j].abs().sum() > 0 for j in range(10))


def test_labels_change_no_forward_value() -> None:
    """Labels enter only through routing: the loss value is the same for any labels."""
    torch.manual_seed(0)
    model = RoutedVAE(TINY_MODEL)
    images = torch.rand(8, 1, 28, 28)
    values = []
    for labels in (torch.zeros(8, dtype=torch.long), torch.arange(8)):
        torch.manual_seed(1)
        values.append(loss_terms(model, images, labels, LossWeights(l1=0.1, blank=1.0)).total.item())
    assert values[0] == values[1]


def test_encode_is_non_negative_and_decode_in_unit_range() -> None:
    model = RoutedVAE(TINY_MODEL)
    latents = model.encode(torch.rand(5, 1, 28, 28))
    assert latents.shape == (5, 10) and torch.all(latents >= 0)
    images = model.decode(torch.rand(5, 10) * 5)
    assert images.shape == (5, 1, 28, 28)
    assert torch.all((images >= 0) & (images <= 1))


def test_l1_penalty_spares_activations_under_the_free_fraction_of_the_largest() -> None:
    activation = torch.tensor([[4.0, 1.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    assert l1_penalty(activation, 0.0).item() == pytest.approx((8.0 + 0.0) / 2)
    spared = l1_penalty(activation, 0.5)  # allowance 2 for the first image: 2 + 0 + 1 + 0
    assert spared.item() == pytest.approx(3.0 / 2)
    spared.backward()
    # Only the parts above the allowance are pushed down; the allowance itself carries no gradient.
    assert activation.grad is not None
    assert activation.grad[0].tolist() == [0.5, 0.0, 0.5, 0.0]


def test_each_training_weight_reaches_its_own_loss_term() -> None:
    """Every weight is distinct here, so a swapped pair (as once happened: free fraction and blank) fails."""
    config = TrainConfig(
        recon_weight=0.1, kl_weight=0.2, l1_weight=0.4, l1_free_fraction=0.05, blank_weight=0.7, margin_ratio=0.8
    )
    expected = LossWeights(recon=0.1, kl=0.2, l1=0.4, l1_free_fraction=0.05, blank=0.7, margin_ratio=0.8)
    assert config.loss_weights(0) == expected


def test_the_free_fraction_applies_from_its_start_epoch() -> None:
    config = TrainConfig(l1_free_fraction=0.3, l1_free_start=2)
    assert [config.loss_weights(epoch).l1_free_fraction for epoch in range(4)] == [0.0, 0.0, 0.3, 0.3]


def test_the_margin_acts_only_on_a_rival_close_to_the_winner() -> None:
    activation = torch.tensor([[4.0, 1.0, 0.5], [4.0, 3.0, 0.5]], requires_grad=True)
    penalty = margin_penalty(activation, ratio=0.5)  # row 0: 1 <= 2, free; row 1: 3 - 2 = 1 over
    penalty.backward()
    assert penalty.item() == pytest.approx(0.5)  # the batch mean
    assert activation.grad is not None
    assert activation.grad[0].tolist() == [0.0, 0.0, 0.0]
    assert activation.grad[1].tolist() == [-0.25, 0.5, 0.0]  # the winner up, the rival down, the rest untouched


def test_a_teachers_winner_replaces_the_images_own() -> None:
    activation = torch.tensor([[4.0, 1.0, 0.5]], requires_grad=True)
    penalty = margin_penalty(activation, ratio=0.5, winners=torch.tensor([1]))  # the teacher says dimension 1
    penalty.backward()
    assert penalty.item() == pytest.approx(4.0 - 0.5)
    assert activation.grad is not None
    assert activation.grad[0].tolist() == [1.0, -0.5, 0.0]  # the image's own winner down, the teacher's up


def test_the_margin_term_follows_the_inhibited_epochs() -> None:
    config = TrainConfig(inhibition_epochs=2, margin_weight=0.7, margin_ratio=0.4)
    assert [config.loss_weights(epoch).margin for epoch in range(4)] == [0.0, 0.0, 0.7, 0.7]
    assert config.loss_weights(3).margin_ratio == 0.4


def test_the_decoder_phase_restarts_its_learning_rate_only_when_asked() -> None:
    plain = TrainConfig(epochs=2, lr=1.0, lr_decay=0.5, decoder_lr=None)
    assert [plain.learning_rate(epoch) for epoch in range(4)] == [1.0, 0.5, 0.25, 0.125]
    restarted = TrainConfig(epochs=2, lr=1.0, lr_decay=0.5, decoder_lr=0.8)
    assert [restarted.learning_rate(epoch) for epoch in range(4)] == [1.0, 0.5, 0.8, 0.4]
