#!/usr/bin/env bash
# Install everything the tests and the demo need on a fresh machine (idempotent: quick when already there).
# torch is pinned to the CPU build here (the machines have no GPU); setup.py itself leaves torch unpinned.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3}
$PY -c "import torch" 2>/dev/null || $PY -m pip install -q torch==2.13.0
$PY -m pip install -q -e ".[dev]"
# Debian's headless Chromium for the docs test (no browser download); pandoc is optional
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: chromium not installed; the docs page test will be skipped"
fi
