#!/usr/bin/env bash
# The main job: install the project, then run `rlhf-imdb demo`, a small end-to-end run (IMDB data, LM, classifier,
# PPO, results) that fits a CPU. Arguments pass through: `bash scripts/demo.sh --help`, `--steps 80`, `--data FILE`.
# IMDB comes from --data, else $RLHF_IMDB_DATA, else the library's cache folder, else the hub (downloaded once).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RLHF_IMDB_DATA:-}" ] && [ -f ../shared/data/imdb/train.parquet ]; then
  RLHF_IMDB_DATA="$(cd ../shared/data/imdb && pwd)/train.parquet"  # the copy beside the repository
  export RLHF_IMDB_DATA
fi
bash scripts/install.sh
exec rlhf-imdb demo "$@"
