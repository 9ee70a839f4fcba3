#!/usr/bin/env bash
# Install everything the tests and the demo need on a fresh machine (idempotent: quick when already there).
# torch is pinned to the CPU build here (the machines have no GPU); setup.py itself leaves torch unpinned.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3}
$PY -c "import torch" 2>/dev/null || $PY -m pip install -q torch==2.13.0
$PY -m pip install -q -e ".[dev]"
# Debian's headless Chromium for the docs test (no browser download) and pandoc for the offline docs site
# (scripts/build_docs.py). A machine that already has a Chrome (GitHub's runners) keeps it; sudo where not root.
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
missing=""
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || missing="chromium"
command -v pandoc >/dev/null 2>&1 || missing="$missing pandoc"
if [ -n "$missing" ]; then
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null) \
    || echo "warning: could not install$missing: without chromium the docs page test is skipped; without pandoc the site's markdown falls back to mistune"
fi
