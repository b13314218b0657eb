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
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"

echo "== ruff check"; "$VENV/bin/ruff" check service training mnist_form tests bench
echo "== ruff format --check"; "$VENV/bin/ruff" format --check service training mnist_form tests bench
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"
status=0
"$VENV/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests for this selection"; status=0
fi
exit "$status"
