#!/usr/bin/env bash
# Runs the whole test suite: creates .venv if needed, installs the project with its dev extras,
# then ruff (lint + format check), mypy, and pytest. Extra arguments go to pytest, e.g.
#   scripts/test.sh -m "not slow and not browser and not docker"    # the fast tests only
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating virtual environment in $VENV"
  python3.11 -m venv "$VENV"
fi
# torch is pinned to 2.13.0 in pyproject.toml; set PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
# on machines where PyPI would otherwise pick a CUDA build.
# The client distribution (client/, no torch) is installed beside it, so the venv has `routed-vae` too.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]" -e ./client

echo "== ruff check"; "$VENV/bin/ruff" check service training mnist_form tests bench client
echo "== ruff format --check"; "$VENV/bin/ruff" format --check service training mnist_form tests bench client
echo "== mypy"; "$VENV/bin/mypy"
echo "== mypy (client, strict)"; "$VENV/bin/mypy" --config-file client/pyproject.toml client/src
echo "== pytest"
status=0
"$VENV/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests for this selection"; status=0
fi
exit "$status"
