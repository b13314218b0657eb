"""``python -m routed_vae_client`` runs the ``routed-vae`` command line."""

import sys

from routed_vae_client.cli import main

sys.exit(main())
