#!/usr/bin/env bash
# Builds routed-vae:latest where no base image can be pulled (no image registry reachable):
#   1. a stand-in for python:3.11-slim from Debian packages (debootstrap), imported as BASE_TAG;
#   2. wheels/ filled with the CPU torch wheel that pip here already finds;
#   3. docker build --network host with those, tagged routed-vae:latest (what compose uses).
# Needs root, debootstrap and a running Docker daemon. With a registry, plain `docker compose build` is enough.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_TAG=${BASE_TAG:-routed-vae-base:3.11-bookworm}
SUITE=${SUITE:-bookworm}

debian_mirror() {
  # The first deb URI of the host's apt sources (deb822 or one-line format); never hard-coded.
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | awk '{print $2}')
  fi
  [ -n "$uri" ] || { echo "error: no Debian mirror found in /etc/apt sources" >&2; exit 1; }
  echo "$uri"
}

build_base() {
  local rootfs
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' RETURN
  echo "== building base image $BASE_TAG with debootstrap ($(debian_mirror))"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$(debian_mirror)" >/dev/null
  rm -f "$rootfs"/usr/lib/python3.*/EXTERNALLY-MANAGED
  ln -sf python3 "$rootfs/usr/bin/python"
  # Package downloads pass through a proxy whose CA only the host trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import - "$BASE_TAG" >/dev/null
}

if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  build_base
fi

mkdir -p wheels
if ! ls wheels/torch-2.13.0*.whl >/dev/null 2>&1; then
  echo "== fetching the CPU torch wheel into wheels/"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 torch==2.13.0 -d wheels
fi

echo "== docker build"
docker build --network host \
  --build-arg BASE_IMAGE="$BASE_TAG" \
  --build-arg TORCH_INDEX_URL= \
  -t routed-vae:latest .
