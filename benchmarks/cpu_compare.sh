#!/usr/bin/env bash
# CPU side-by-side at the peer README's small shape (4 layers, 4 heads, 256 wide, 8192 vocab; 64 rollouts of
# 16 tokens; 4 epochs x 4 minibatches of 16). Two measurements, each peer then ours in the same command:
#   wall  - the default 2 threads, wall clock (what the goal is stated in; sensitive to other load on the machine)
#   cpu   - 1 thread, CPU seconds of the process (benchmarks/cpu_clock.py): robust to other load
# Usage (repo root): bash benchmarks/cpu_compare.sh [wall|cpu|both]   (default both)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PEER=${PEER:-../shared/bench/trl_ppo_peer.py}
MODE=${1:-both}
PEER_ARGS="--n-layer 4 --n-head 4 --n-embd 256 --vocab 8192 --rollout 64 --updates 3"
OURS_ARGS="--shape cpu-small --batch-size 64 --mini-batch-size 16 --response-len 16 --updates 4 --device cpu"
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
if [[ $MODE == wall || $MODE == both ]]; then
  load; $PY "$PEER" $PEER_ARGS --tag cpu-small-wall 2>&1 | grep -E "^(TRL_PPO|per-update|median)"
  load; $PY benchmarks/ppo_step.py $OURS_ARGS --tag cpu-small-wall 2>&1 | grep -vE "^\[transformers\]|^versions|^policy"
  load; $PY benchmarks/ppo_step.py $OURS_ARGS --reward-model gpt2 --tag cpu-small-wall-gpt2-reward 2>&1 | grep -E "^OURS_PPO"
  load
fi
if [[ $MODE == cpu || $MODE == both ]]; then
  export OMP_NUM_THREADS=1
  load; $PY benchmarks/cpu_clock.py "$PEER" $PEER_ARGS --tag cpu-small-cpusec 2>&1 | grep -E "^(TRL_PPO|per-update|median)"
  load; $PY benchmarks/cpu_clock.py benchmarks/ppo_step.py $OURS_ARGS --tag cpu-small-cpusec 2>&1 | grep -vE "^\[transformers\]|^versions|^policy"
  load; $PY benchmarks/cpu_clock.py benchmarks/ppo_step.py $OURS_ARGS --reward-model gpt2 --tag cpu-small-cpusec-gpt2-reward 2>&1 | grep -E "^OURS_PPO"
  load
fi
