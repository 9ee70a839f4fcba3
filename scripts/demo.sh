#!/usr/bin/env bash
# The main job: install the project, then run `rlhf-imdb demo`, a small offline end-to-end run (IMDB data, LM,
# classifier, PPO, results) that fits a CPU. Arguments pass through: `bash scripts/demo.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec rlhf-imdb demo "$@"
