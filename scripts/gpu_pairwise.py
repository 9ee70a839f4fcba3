#!/usr/bin/env python3
"""Full-scale pairwise (Bradley-Terry) reward model on one GPU: chapter 06's `train_pairwise_reward_model` on every
training review of the shared split (chosen = a positive review's prefix, rejected = a negative one's), then its
pairwise accuracy on the held-out pairs at the trained prefix length and at 32 tokens (about the length of a PPO
prompt + response). Writes `pairwise.json` (figures, device, wall-clock) and `pairwise_loss.png` into OUT.

    RLHF_IMDB_MINILM=.devcarry/minilm-fp16 python scripts/gpu_pairwise.py --data .devcarry/imdb/train.parquet --out $OUT
"""
import argparse, json, os, sys, tempfile, time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from rlhf_imdb.classifier import CLASSIFIER_PRESETS, _balanced_sample
from rlhf_imdb.experiment import describe_device, imdb_splits
from rlhf_imdb.rewards import PairwiseRewardScorer, preference_pairs, review_prefixes, train_pairwise_reward_model

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=None); parser.add_argument("--out", required=True)
parser.add_argument("--max-length", type=int, default=128); parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--train-limit", type=int, default=None); parser.add_argument("--val-limit", type=int, default=None)  # smoke tests
args = parser.parse_args()
out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
train_df, val_df = imdb_splits(args.data)
# the classifier's full preset (MiniLM start, lr 8e-5, bf16 on CUDA); pairs of review prefixes of max_length tokens
config = replace(CLASSIFIER_PRESETS["full"], epochs=args.epochs, max_length=args.max_length, batch_size=args.batch_size,
                 train_limit=args.train_limit, val_limit=args.val_limit)
work = Path(tempfile.mkdtemp()) / "reward-model"
result = train_pairwise_reward_model(train_df, val_df, config, work, backend="torch", progress=False)
record = {"device": describe_device(None), "config": {k: v for k, v in config.__dict__.items()},
          "n_train_pairs": result.n_train_pairs, "n_val_pairs": result.n_val_pairs,
          "pairwise_accuracy": round(result.pairwise_accuracy, 4), "train_seconds": round(result.train_seconds, 1),
          "optimizer_steps": len(result.train_losses), "final_loss_mean_last50": round(float(np.mean(result.train_losses[-50:])), 4)}
(out / "pairwise.json").write_text(json.dumps(record, indent=1))
print(json.dumps(record, indent=1), flush=True)
# held-out pairs at 32 tokens: the length of the texts PPO scores
scorer = PairwiseRewardScorer(work, max_length=args.max_length, batch_size=256)
pairs = preference_pairs(_balanced_sample(val_df, config.val_limit, config.seed), seed=config.seed)
for n_tokens in (32, 64):
    chosen, rejected = (review_prefixes(pairs[c], scorer.tokenizer, n_tokens) for c in ("chosen", "rejected"))
    rewards = scorer(chosen + rejected)
    record[f"pairwise_accuracy_{n_tokens}_tokens"] = round((rewards[:len(chosen)] > rewards[len(chosen):]).float().mean().item(), 4)
record["total_seconds"] = round(time.perf_counter() - start, 1)
(out / "pairwise.json").write_text(json.dumps(record, indent=1))
losses = np.array(result.train_losses)
smooth = np.convolve(losses, np.ones(20) / 20, mode="valid") if len(losses) >= 20 else losses
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(losses, alpha=0.3, label="per step"); ax.plot(np.arange(len(smooth)) + (len(losses) - len(smooth)), smooth, label="mean of 20")
ax.set(xlabel="optimizer step", ylabel="Bradley-Terry loss", title=f"pairwise reward model: held-out accuracy {result.pairwise_accuracy:.3f}")
ax.legend(); fig.tight_layout(); fig.savefig(out / "pairwise_loss.png", dpi=120)
print(json.dumps(record, indent=1))
