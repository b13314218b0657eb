"""The routed VAE: an MLP variational autoencoder whose latent dimension k means "how much of digit k".

Gradient routing (Cloud et al. 2024, https://arxiv.org/abs/2410.04332) makes the latent
interpretable: each image's reconstruction gradient reaches the encoder only through the latent
dimension of its own label. Labels enter training nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from training.config import LossWeights, ModelConfig


def mlp(widths: list[int]) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (width_in, width_out) in enumerate(pairwise(widths)):
        if index > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(width_in, width_out))
    return nn.Sequential(*layers)


class ReopeningReLU(torch.autograd.Function):
    """ReLU forward. Backward: slope 1 above zero; below zero, ``leak`` times only the gradient
    that would raise the input (reopen the unit), never the part that pushes it further down."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, leak: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.leak = leak
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        closed = x <= 0
        # Gradient descent raises x where grad < 0: keep that part for closed units, drop the rest.
        reopen = ctx.leak * grad.clamp(max=0)
        return torch.where(closed, reopen, grad), None


def relu_reopening(x: Tensor, leak: float) -> Tensor:
    """ReLU whose closed units can still be reopened by the gradient; a plain ReLU when leak == 0."""
    if leak == 0:
        return F.relu(x)
    result: Tensor = ReopeningReLU.apply(x, leak)
    return result


def inhibit_rivals(mean: Tensor, inhibition: float) -> Tensor:
    """Each dimension less ``inhibition`` times the largest of the other dimensions' ReLU'd values.

    Part of the encoder (it sees no labels): the latent of digit k is its evidence net of the strongest
    rival's, and the gradient that routing lets into dimension k also pushes that rival down.
    """
    if inhibition == 0:
        return mean
    top_two = F.relu(mean).topk(2, dim=1).values  # (B, 2)
    is_largest = mean >= top_two[:, :1]
    rival = torch.where(is_largest, top_two[:, 1:], top_two[:, :1])  # (B, K): largest of the others
    return mean - inhibition * rival


def route_gradients(latent: Tensor, labels: Tensor) -> Tensor:
    """Same values, but gradient flows only through each row's label dimension.

    mask * z + (1 - mask) * z.detach(): the forward pass is unchanged; backward, every dimension
    except the label's is cut off from the encoder.
    """
    mask = F.one_hot(labels.long(), num_classes=latent.shape[1]).to(latent.dtype)  # (B, K)
    return mask * latent + (1 - mask) * latent.detach()


@dataclass
class Encoding:
    """Everything the loss needs from one encoder pass."""

    mean: Tensor  # (B, K) mean the KL and L1 terms see, before the ReLU (inhibited in "forward" mode)
    spread: Tensor  # (B, K) second head: noise scale ("seed") or log-variance ("standard")
    latent: Tensor  # (B, K) sampled, non-negative latent


class RoutedVAE(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        k = config.latent_size
        self.encoder = mlp([config.image_pixels, *config.encoder_widths, k])
        self.mean_head = nn.Linear(k, k)
        self.spread_head = nn.Linear(k, k)
        self.decoder = mlp([k, *config.decoder_widths, config.image_pixels])
        nn.init.constant_(self.mean_head.bias, config.mean_bias_init)

    def encode_stats(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and spread heads for images (B, 1, 28, 28) or (B, 784) in [0, 1]."""
        hidden = self.encoder(images.flatten(1))  # (B, K)
        return self.mean_head(hidden), self.spread_head(hidden)

    def encode(self, images: Tensor) -> Tensor:
        """The deterministic latent used for inference and classification: ReLU of the mean."""
        mean, _ = self.encode_stats(images)
        return F.relu(mean)  # (B, K), >= 0

    def sample(self, images: Tensor, inhibit: bool = True) -> Encoding:
        """A noisy, non-negative latent for training (the reparameterisation trick); ``inhibit=False``
        leaves out the rival inhibition."""
        raw_mean, spread = self.encode_stats(images)
        latent_mean, mean = self.training_means(raw_mean, inhibit)
        standard = self.config.reparameterization == "standard"
        scale = torch.exp(0.5 * spread) if standard else spread
        latent = relu_reopening(latent_mean + scale * torch.randn_like(mean), self.config.relu_leak)
        return Encoding(mean=mean, spread=spread, latent=latent)

    def training_means(self, raw_mean: Tensor, inhibit: bool) -> tuple[Tensor, Tensor]:
        """The mean the training latent is drawn around and the mean the KL and L1 terms see, after the
        rival inhibition (when ``inhibit``) as the config's mode and share say."""
        inhibited = inhibit_rivals(raw_mean, self.config.inhibition if inhibit else 0.0)
        if self.config.inhibition_share < 1:  # the rest of the batch's images keep their raw mean
            chosen = torch.rand(raw_mean.shape[0], 1, device=raw_mean.device) < self.config.inhibition_share
            inhibited = torch.where(chosen, inhibited, raw_mean)
        if self.config.inhibition_mode == "gradient":  # the raw mean's values with the inhibited gradient
            return raw_mean.detach() + (inhibited - inhibited.detach()), raw_mean
        return inhibited, inhibited

    def decode(self, latent: Tensor) -> Tensor:
        """Images (B, 1, 28, 28) in [0, 1] from latents (B, K)."""
        pixels = torch.sigmoid(self.decoder(latent))  # (B, 784)
        return pixels.view(-1, 1, 28, 28)


@dataclass
class LossTerms:
    total: Tensor
    recon: Tensor  # per-image summed squared error, averaged over the batch
    kl: Tensor
    l1: Tensor
    blank: Tensor  # summed squared ink in decode(0): the decoder's picture of "no digit"


def kl_term(encoding: Encoding) -> Tensor:
    """KL(q(z|x) || N(0, I)) up to constants, averaged over batch and dimensions.

    Kingma & Welling 2013, appendix B: KL = 1/2 * (mu^2 + sigma^2 - log sigma^2 - 1). The seed
    drops the 1/2 and the constant and reads the second head as log sigma^2 in both modes.
    """
    mean, spread = encoding.mean, encoding.spread
    return (mean.pow(2) + spread.exp() - spread).mean()


def l1_penalty(activation: Tensor, free_fraction: float) -> Tensor:
    """Mean over the batch of each image's summed activation, less an allowance of ``free_fraction``
    times the image's largest activation per dimension (0: plain L1). No labels are involved."""
    if free_fraction > 0:
        allowance = free_fraction * activation.max(dim=1, keepdim=True).values.detach()  # (B, 1)
        activation = F.relu(activation - allowance)
    return activation.sum(dim=1).mean()


def margin_penalty(activation: Tensor, ratio: float, winners: Tensor | None = None) -> Tensor:
    """Mean over the batch of how far each image's strongest rival exceeds ``ratio`` times its winner.

    The winner is the image's largest activation, or ``winners`` (B,): a teacher's argmax. Neither is a label:
    the term keeps decisions the encoder has already made clear of their strongest rival, and leaves smaller
    activations free to carry detail."""
    if winners is None:
        winners = activation.argmax(dim=1)
    winner = activation.gather(1, winners[:, None])  # (B, 1)
    others = activation.scatter(1, winners[:, None], float("-inf"))
    return F.relu(others.max(dim=1, keepdim=True).values - ratio * winner).mean()


def decoder_loss_terms(model: RoutedVAE, images: Tensor, weights: LossWeights) -> LossTerms:
    """Reconstruction of the deterministic latent plus the blank anchor; the encoder is held fixed."""
    flat = images.flatten(1)  # (B, 784)
    with torch.no_grad():
        latent = model.encode(flat)  # (B, K), exactly what inference uses
    recon = (model.decode(latent).flatten(1) - flat).pow(2).sum(dim=1).mean()
    blank = model.decode(images.new_zeros(1, model.config.latent_size)).pow(2).sum()
    zero = recon.new_zeros(())
    total = weights.recon * recon + weights.blank * blank
    return LossTerms(total=total, recon=recon, kl=zero, l1=zero, blank=blank)


def loss_terms(
    model: RoutedVAE,
    images: Tensor,
    labels: Tensor,
    weights: LossWeights,
    winners: Tensor | None = None,
) -> LossTerms:
    """The routed VAE objective: weighted reconstruction + KL (+ optional label-free L1 and margin terms);
    ``winners``: a teacher's argmax per image for the margin term (else each image's own)."""
    flat = images.flatten(1)  # (B, 784)
    encoding = model.sample(flat, weights.inhibit)
    routed = route_gradients(encoding.latent, labels)
    reconstruction = model.decode(routed).flatten(1)  # (B, 784)
    recon = (reconstruction - flat).pow(2).sum(dim=1).mean()
    kl = kl_term(encoding)
    # The L1 penalty treats every dimension alike, so labels still enter only through routing.
    l1 = l1_penalty(F.relu(encoding.mean), weights.l1_free_fraction)
    blank = model.decode(images.new_zeros(1, model.config.latent_size)).pow(2).sum()
    total = weights.recon * recon + weights.kl * kl + weights.l1 * l1 + weights.blank * blank
    if weights.margin > 0:
        total = total + weights.margin * margin_penalty(F.relu(encoding.mean), weights.margin_ratio, winners)
    return LossTerms(total=total, recon=recon, kl=kl, l1=l1, blank=blank)
