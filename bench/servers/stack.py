"""Our service's own stack with no work on the image: the app exactly as ``python -m service`` serves it
(middleware, security headers, request ids, limits, access log, metrics, routing, the model loaded), except
that /classify reads the body and answers constant JSON. Between the floor (bare Starlette, same uvicorn
stack) and ours, it shows how a request's cost divides between the service's framework and the work on the
image: decoding, preprocessing, the model, the answer.

Run: python -m bench.servers.stack --port 8104
"""

from __future__ import annotations

import sys

from bench.servers.floor import answer
from service import image_routes
from service.__main__ import main
from service.endpoints import CLASSIFY

if __name__ == "__main__":
    # Before the app is built: the image routes are added from this table (service/image_routes.py). One process:
    # workers (ROUTED_VAE_WORKERS) would import this module afresh, without the patch; bench.serve sets one.
    image_routes.IMAGE_ENDPOINTS[CLASSIFY] = answer
    sys.exit(main())
