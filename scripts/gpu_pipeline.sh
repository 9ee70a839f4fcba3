#!/usr/bin/env bash
# The full-scale pipeline on one GPU, planned to fit one 10-minute call on an H100: train the IMDB LM and the
# classifier, run the four PPO runs (positive, negative, neutral, control), write every table, plot, metrics file
# and evaluation JSONL, and pack them (no model weights) into one tarball.
#
#   bash scripts/gpu_pipeline.sh [extra `rlhf-imdb pipeline` options, e.g. --tasks positive --steps 40]
#
# Inputs (carried to the machine): .devcarry/imdb/train.parquet ($RLHF_IMDB_DATA) and the fp16 MiniLM encoder
# .devcarry/minilm-fp16 ($RLHF_IMDB_MINILM). Output: $OUT/results-full.tar.gz (results/full/ without weights or
# checkpoints) and $OUT/pipeline.log; $OUT defaults to ./gpu_out. The pipeline gets $TIME_BUDGET seconds (default 540,
# leaving a minute of the 10 for start-up and packing): the LM and classifier train with their own presets' budgets,
# and the time left is shared among the four PPO runs (`rlhf-imdb pipeline --time-budget`); a run that reaches its
# share saves a checkpoint, is evaluated as it stands, and records the steps it completed in run.json.
#
# One call leaves the PPO runs about 50 s each (37-40 of the 80 planned steps on an H100). To finish them, call again
# on the same warm machine (within 30 s of the first call's end) with `--resume`: the LM and classifier in $WORK/models
# are reused, finished runs are read back, and cut runs continue from their checkpoints with the whole budget:
#
#   bash scripts/gpu_pipeline.sh               # call 1: models + the first ~40 steps of each run
#   bash scripts/gpu_pipeline.sh --resume      # call 2: the remaining steps of every run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu_out}
WORK=${WORK:-/tmp/rlhf_imdb_full}        # the results folder with the model weights (not returned)
mkdir -p "$OUT"
export RLHF_IMDB_DATA=${RLHF_IMDB_DATA:-$ROOT/.devcarry/imdb/train.parquet}
export RLHF_IMDB_MINILM=${RLHF_IMDB_MINILM:-$ROOT/.devcarry/minilm-fp16}
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
LOG=$OUT/pipeline.log

echo "== preflight" | tee "$LOG"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$LOG" || true
python3 - <<'PY' 2>&1 | tee -a "$LOG"
import importlib, os, sys
for name in ("torch", "transformers", "tokenizers", "accelerate", "safetensors", "pandas", "pyarrow", "matplotlib", "tqdm"):
    module = importlib.import_module(name)  # fails here, early and by name, when a runtime dependency is missing
    print(f"{name} {getattr(module, '__version__', '?')}")
import torch
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
for var in ("RLHF_IMDB_DATA", "RLHF_IMDB_MINILM"):
    if not os.path.exists(os.environ[var]): sys.exit(f"{var}={os.environ[var]} does not exist")
PY

echo "== pipeline (full scale)" | tee -a "$LOG"
start=$(date +%s)
set +e
python3 -m rlhf_imdb.cli pipeline --scale full --out "$WORK" --data "$RLHF_IMDB_DATA" --minilm "$RLHF_IMDB_MINILM" \
  --time-budget "${TIME_BUDGET:-540}" --checkpoint-every 0 --no-progress "$@" 2>&1 | tee -a "$LOG"
status=${PIPESTATUS[0]}
set -e
echo "== pipeline exit status $status after $(( $(date +%s) - start )) s" | tee -a "$LOG"

echo "== pack" | tee -a "$LOG"
cp "$LOG" "$WORK/pipeline.log"
tar -czf "$OUT/results-full.tar.gz" -C "$WORK" --exclude='./models' --exclude='*/model' --exclude='*/checkpoints' \
  --exclude='*/tensorboard' --exclude='*/wandb' .
ls -l "$OUT" | tee -a "$LOG"
size=$(stat -c %s "$OUT/results-full.tar.gz")
if [ "$size" -gt $((16 * 1024 * 1024)) ]; then echo "results-full.tar.gz is $size bytes: over 16 MiB" | tee -a "$LOG"; exit 1; fi
exit "$status"
