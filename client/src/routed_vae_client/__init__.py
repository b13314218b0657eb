"""Client for the routed-vae service, e.g. ``from routed_vae_client import Client; Client().classify(["7.png"])``."""

from routed_vae_client.async_client import AsyncClient
from routed_vae_client.client import Client
from routed_vae_client.errors import RoutedVAEConnectionError, RoutedVAEError
from routed_vae_client.inputs import ImageInput
from routed_vae_client.results import Prediction, Sample, image_grid
from routed_vae_client.version import __version__

__all__ = [
    "AsyncClient",
    "Client",
    "ImageInput",
    "Prediction",
    "RoutedVAEConnectionError",
    "RoutedVAEError",
    "Sample",
    "__version__",
    "image_grid",
]
