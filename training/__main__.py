"""`python -m training`: train the routed VAE on canonical MNIST and export it with its model card."""

from __future__ import annotations

import sys

from training.cli import main

if __name__ == "__main__":
    sys.exit(main())
