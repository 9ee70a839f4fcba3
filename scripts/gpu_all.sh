#!/usr/bin/env bash
# Everything issue 12 asks of a GPU, in one device call of at most 10 minutes:
#   1. the full-scale pipeline: LM, classifier, pairwise reward model, and the five PPO runs (positive, negative,
#      neutral, control, preference), sharing PIPELINE_BUDGET seconds (scripts/gpu_pipeline.sh);
#   2. the seed table: the full positive run again with SEEDS, on the models of step 1, SEED_SECONDS of PPO each
#      (scripts/seed_table.py);
#   3. the PPO update benchmark beside trl's PPOTrainer (benchmarks/gpu_bench.sh; needs .peer/, see there).
# What comes back (no model weights; at most 8 files come back from a device call): $OUT/gpu_all.tar.gz with
# everything (results-full.tar.gz, seeds.*, gpu_bench.md, *.json, the logs), and summary.md, seeds.md and gpu_bench.md
# beside it to read at once. Unpack results-full.tar.gz into results/full and the seed files into results/seeds/full.
#
#   device run:  bash scripts/gpu_all.sh      (carry: .devcarry .peer; timeout_s 600)
#
# Budget (seconds, environment): PIPELINE_BUDGET 400, SEEDS "1 2 3", SEED_SECONDS 40. SCALE (default full) and the
# arguments (passed to the pipeline) allow a dry run on a CPU:
#   SCALE=tiny PIPELINE_BUDGET=120 SEEDS=1 SEED_SECONDS=10 bash scripts/gpu_all.sh --scale tiny --device cpu The budget was planned from
# the H100 figures in results/full (LM 162 s, classifier 134 s, 1.05 s per PPO step of 256) and was not measured
# on a GPU in the session that wrote it: runs cut by the budget say so in summary.json ("steps" < "steps planned").
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu_out}
WORK=${WORK:-/tmp/rlhf_imdb_full}
STAGE=$(mktemp -d)
SCALE=${SCALE:-full}
mkdir -p "$OUT"
start=$(date +%s)

TIME_BUDGET=${PIPELINE_BUDGET:-400} OUT=$STAGE WORK=$WORK bash scripts/gpu_pipeline.sh "$@"
echo "== pipeline done after $(( $(date +%s) - start )) s"

models=$(ls -d "$WORK"/models/"$SCALE"-* 2>/dev/null | head -1)
if [ -n "$models" ]; then
  python3 scripts/seed_table.py --command pipeline --seeds ${SEEDS:-1 2 3} --out "$STAGE" --work /tmp/rlhf_imdb_seeds \
    -- --scale "$SCALE" --tasks positive --lm "$models/lm" --classifier "$models/classifier" \
    --max-seconds "${SEED_SECONDS:-40}" --checkpoint-every 0 --no-progress --save-model false \
    2>&1 | tee "$STAGE/seeds.log"
fi
echo "== seeds done after $(( $(date +%s) - start )) s"

if [ -f .peer/trl_ppo_peer.py ]; then
  OUT=$STAGE bash benchmarks/gpu_bench.sh 2>&1 | tee "$STAGE/gpu_bench.log"
fi
echo "== all done after $(( $(date +%s) - start )) s" | tee "$STAGE/done.log"
cp "$WORK/summary.md" "$STAGE/" 2>/dev/null
tar -czf "$OUT/gpu_all.tar.gz" -C "$STAGE" .
for f in summary.md seeds.md gpu_bench.md; do cp "$STAGE/$f" "$OUT/" 2>/dev/null; done
ls -l "$OUT"
