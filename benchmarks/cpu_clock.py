#!/usr/bin/env python3
"""Run a benchmark script with `time.perf_counter` replaced by `time.process_time` (CPU seconds of this process).

On a shared CPU the wall clock measures the neighbours as much as the code. With one thread
(`OMP_NUM_THREADS=1`) the process's CPU time is what the work itself costs, whatever else runs, so two
scripts timed this way can be compared even on a busy machine. Both `ppo_step.py` and the peer
(`trl_ppo_peer.py`) time everything with `time.perf_counter`, so they report CPU seconds unchanged:

    OMP_NUM_THREADS=1 python benchmarks/cpu_clock.py benchmarks/ppo_step.py --shape cpu-small ...
    OMP_NUM_THREADS=1 python benchmarks/cpu_clock.py ../shared/bench/trl_ppo_peer.py --n-layer 4 ...
"""
import runpy
import sys
import time

if len(sys.argv) < 2: sys.exit(__doc__)
time.perf_counter = time.process_time  # before the script (and torch, transformers, trl) is imported
script, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_path(script, run_name="__main__")
