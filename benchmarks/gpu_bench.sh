#!/usr/bin/env bash
# One GPU device call: trl's PPOTrainer (the peer) and rlhf_imdb's PPOTrainer on the same card, side by side.
#
# Needs (see ../shared/bench/README.md; prepared in the git-ignored .peer/ folder, carried with `carry: [".peer"]`):
#   .peer/trl_ppo_peer.py   the peer script
#   .peer/whl/*.whl         trl 1.12.0, datasets 5.2.0, dill, multiprocess (py3.12 wheels); installed into /tmp/peer
#                           only, so our benchmark runs without trl/datasets
# Usage (repo root):  bash benchmarks/gpu_bench.sh      # writes gpu_bench.md, *.json and logs to $OUT when set
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOGS=$(mktemp -d)
OUT_DIR=${OUT:-}

echo "== device"
DEVICE_LINE=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
echo "$DEVICE_LINE"
$PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.version.cuda)"

echo "== peer: trl.experimental.ppo.PPOTrainer (trl 1.12), GPT-2-small shape, 256 rollouts x 16 tokens, 4 epochs x 4 minibatches"
$PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/peer .peer/whl/*.whl || echo "peer wheel install failed"
PYTHONPATH=/tmp/peer $PY .peer/trl_ppo_peer.py --tag peer 2>&1 | tee "$LOGS/peer.log"

echo "== ours: rlhf_imdb.ppo.PPOTrainer, same shape and PPO work, MiniLM-shaped reward classifier"
$PY benchmarks/ppo_step.py --shape gpt2-small --batch-size 256 --mini-batch-size 64 --response-len 16 --updates 5 \
    --device cuda --tag ours ${OUT_DIR:+--json-out "$OUT_DIR/ours.json"} 2>&1 | tee "$LOGS/ours.log"

echo "== ours with the peer's reward model shape (a GPT-2-small sequence classifier)"
$PY benchmarks/ppo_step.py --shape gpt2-small --batch-size 256 --mini-batch-size 64 --response-len 16 --updates 5 \
    --device cuda --reward-model gpt2 --tag ours-gpt2-reward ${OUT_DIR:+--json-out "$OUT_DIR/ours_gpt2_reward.json"} 2>&1 | tee "$LOGS/ours_gpt2.log"

PEER=$(grep -h "^TRL_PPO\[" "$LOGS/peer.log" | tail -1)
OURS=$(grep -h "^OURS_PPO\[" "$LOGS/ours.log" | tail -1)
OURS2=$(grep -h "^OURS_PPO\[" "$LOGS/ours_gpt2.log" | tail -1)
peer_s=$(sed -n 's/.*update_s_median=\([0-9.]*\).*/\1/p' <<<"$PEER")
ours_s=$(sed -n 's/.*update_s_median=\([0-9.]*\).*/\1/p' <<<"$OURS")
ours2_s=$(sed -n 's/.*update_s_median=\([0-9.]*\).*/\1/p' <<<"$OURS2")
ratio=$($PY -c "import sys; p, o = sys.argv[1:]; print(f'{float(p) / float(o):.2f}')" "${peer_s:-nan}" "${ours_s:-nan}" 2>/dev/null)
ratio2=$($PY -c "import sys; p, o = sys.argv[1:]; print(f'{float(p) / float(o):.2f}')" "${peer_s:-nan}" "${ours2_s:-nan}" 2>/dev/null)

TABLE=$(cat <<MD
| run | s / update (median) | speed-up vs peer |
|---|---|---|
| peer: trl 1.12 \`trl.experimental.ppo\` | ${peer_s:-failed} | 1.00 |
| ours: \`rlhf_imdb.ppo\`, MiniLM reward | ${ours_s:-failed} | ${ratio:-?} |
| ours: \`rlhf_imdb.ppo\`, GPT-2 reward (peer's) | ${ours2_s:-failed} | ${ratio2:-?} |

device: ${DEVICE_LINE}
MD
)
echo; echo "== results"; echo "$PEER"; echo "$OURS"; echo "$OURS2"; echo; echo "$TABLE"
if [ -n "$OUT_DIR" ]; then
  mkdir -p "$OUT_DIR"; cp "$LOGS"/*.log "$OUT_DIR"/
  { echo "# GPU PPO update: peer vs ours"; echo; echo "$TABLE"; echo; echo '```'; echo "$PEER"; echo "$OURS"; echo "$OURS2"; echo '```'; } > "$OUT_DIR/gpu_bench.md"
fi
