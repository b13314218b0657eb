# A small CPU-only image of the service. Offline builds: see scripts/docker-build-offline.sh.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# wheels/ (git-ignored, may be empty) is an extra offline source, e.g. the CPU torch wheel.
COPY wheels/ /wheels/
COPY pyproject.toml README.md ./
COPY mnist_form/ mnist_form/
COPY service/ service/
COPY training/__init__.py training/__init__.py
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-compile --find-links /wheels \
      ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "torch==2.13.0" \
 && /opt/venv/bin/pip install --no-compile --find-links /wheels .
# The root filesystem is read-only at run time, so Python cannot cache bytecode then; compiling
# torch's sources at every start costs seconds. Importing the service once here writes bytecode for
# exactly the modules it loads (compiling everything would add ~150 MB).
RUN cd / && /opt/venv/bin/python -c "import service.__main__, uvicorn.main, multipart, uvicorn.lifespan.on, \
      uvicorn.loops.auto, uvicorn.loops.uvloop, uvicorn.protocols.http.auto, uvicorn.protocols.http.httptools_impl, \
      service.serving, service.workers, multiprocessing.spawn, prometheus_client.multiprocess"

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY models/ /app/models/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ROUTED_VAE_HOST=0.0.0.0 \
    ROUTED_VAE_PORT=8000 \
    ROUTED_VAE_MODEL_PATH=/app/models/routed-vae.pt
WORKDIR /app
USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["python", "-m", "service"]
