"""The client's version, read by the package metadata and sent as its User-Agent."""

__version__ = "0.1.0"
