#!/usr/bin/env bash
# Install everything the tests and the demo need on a fresh machine (idempotent: quick when already there).
# torch is pinned to the CPU build here (the machines have no GPU); setup.py itself leaves torch unpinned.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3}
$PY -c "import torch" 2>/dev/null || $PY -m pip install -q torch==2.13.0
$PY -m pip install -q -e ".[dev]"
# The offline docs (scripts/build_docs.py, check_site.py): LaTeX as MathML, and Selenium for the browser test.
# (To move into settings.ini's dev_requirements: latex2mathml selenium.)
$PY -m pip install -q latex2mathml selenium
# Debian's headless Chromium and its driver for the browser test (no browser download). A machine that already has
# a Chrome and a chromedriver (GitHub's runners) keeps them; sudo where not root.
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
if ! command -v chromedriver >/dev/null 2>&1 || \
   ! { command -v chromium || command -v chromium-browser || command -v google-chrome; } >/dev/null 2>&1; then
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "warning: could not install chromium and chromium-driver: the docs browser test is skipped"
fi
