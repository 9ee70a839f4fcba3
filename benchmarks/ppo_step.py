#!/usr/bin/env python3
"""Time one PPO update of `rlhf_imdb.ppo.PPOTrainer`, stage by stage, for a named model shape.

One update = generation (batched, KV cache) -> scoring (a MiniLM-shaped classifier) -> `PPOTrainer.step`
(no-grad policy/ref forward passes, rewards + GAE, `ppo_epochs` x minibatches of optimisation).
Models are randomly initialised and prompts are random token ids, so it runs offline; timings do not depend on
the weights. Needs only torch, transformers and accelerate (no datasets, no trl).

    python benchmarks/ppo_step.py --shape cpu-small --batch-size 64 --mini-batch-size 16 --device cpu
    python benchmarks/ppo_step.py --shape gpt2-small --batch-size 256 --mini-batch-size 64 --device cuda

Prints a table and a last line `OURS_PPO[tag] update_s_median=... episodes_per_s=... peak_mem_gib=...`
(the same fields as the peer, `../shared/bench/trl_ppo_peer.py`). The first update is a warm-up and is excluded
from the medians, as in the peer.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

# name -> (n_layer, n_head, n_embd, vocab): the policy/reference GPT-2 shapes
SHAPES = {
    "gpt2-small": (12, 12, 768, 8192),  # GPT-2 small with the 8192-token IMDB BPE vocabulary (the peer's GPU shape)
    "cpu-small": (4, 4, 256, 8192),     # the peer README's CPU comparison shape
    "tiny": (2, 2, 64, 2048),           # smoke test
}
# The reward model of the real pipeline: a MiniLM-L6 (BERT) sentiment classifier, 6 layers, 384 wide, 12 heads.
REWARD_SHAPE = dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536, vocab_size=30522)
REWARD_MODELS = {
    "minilm": "MiniLM-L6-shaped BERT classifier (6x384), as the real pipeline's sentiment scorer",
    "gpt2": "GPT-2 sequence classifier of the policy's shape, as the peer's reward model",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shape", default="cpu-small", choices=sorted(SHAPES))
    p.add_argument("--batch-size", type=int, default=64, help="rollouts per PPO update")
    p.add_argument("--mini-batch-size", type=int, default=16)
    p.add_argument("--forward-batch-size", type=int, default=None, help="no-grad forward chunk; default: the whole batch")
    p.add_argument("--ppo-epochs", type=int, default=4)
    p.add_argument("--query-len", type=int, nargs=2, default=(2, 8), metavar=("MIN", "MAX"), help="prompt lengths, uniform")
    p.add_argument("--response-len", type=int, default=16)
    p.add_argument("--updates", type=int, default=4, help="timed updates; the first is a warm-up")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "bf16", "fp16", "no"],
                   help="PPOConfig.mixed_precision: 'auto' is rlhf_imdb.core.precision_policy's choice")
    p.add_argument("--compile", default=None, choices=["default", "reduce-overhead"], help="PPOConfig.compile (torch.compile mode)")
    p.add_argument("--reward-model", default="minilm", choices=sorted(REWARD_MODELS), help="what the scoring stage runs")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", default="ours")
    p.add_argument("--json-out", default=None, help="also write the results as JSON here")
    return p.parse_args(argv)


def build(args, device):
    "Policy with value head, frozen reference, MiniLM-shaped reward classifier, tokenizer stand-in."
    import torch
    from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel
    from rlhf_imdb.models import AutoModelForCausalLMWithValueHead, create_reference_model

    n_layer, n_head, n_embd, vocab = SHAPES[args.shape]
    cfg = GPT2Config(n_layer=n_layer, n_head=n_head, n_embd=n_embd, vocab_size=vocab, n_positions=1024,
                     bos_token_id=0, eos_token_id=0, pad_token_id=1)
    policy = AutoModelForCausalLMWithValueHead.from_lm(GPT2LMHeadModel(cfg)).to(device)  # fp32 weights, like the peer
    ref = create_reference_model(policy)
    if args.reward_model == "minilm":
        reward_model = BertForSequenceClassification(BertConfig(num_labels=2, **REWARD_SHAPE))
    else:  # the peer's choice: a GPT-2 of the policy's shape with a classification head (right padding, pad id set)
        reward_model = GPT2ForSequenceClassification(GPT2Config(**{**cfg.to_dict(), "num_labels": 2}))
    reward_model = reward_model.to(device).eval()

    class Tokenizer:  # PPOTrainer only reads the pad id; text decoding is not part of this benchmark
        pad_token_id, eos_token_id = 1, 0
    return policy, ref, reward_model, Tokenizer(), vocab


def main(argv=None):
    args = parse_args(argv)
    import torch
    import transformers
    from rlhf_imdb.core import set_seed
    from rlhf_imdb.models import SamplingConfig
    from rlhf_imdb.ppo import PPOConfig, PPOTrainer

    if args.threads: torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    set_seed(args.seed)
    dev_name = torch.cuda.get_device_name(device) if cuda else f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    print(f"versions: python={sys.version.split()[0]} torch={torch.__version__} transformers={transformers.__version__} "
          f"device={dev_name} load_avg={os.getloadavg()[0]:.2f}", flush=True)

    policy, ref, reward_model, tokenizer, vocab = build(args, device)
    config = PPOConfig(batch_size=args.batch_size, mini_batch_size=args.mini_batch_size, ppo_epochs=args.ppo_epochs,
                       forward_batch_size=args.forward_batch_size or args.batch_size, mixed_precision=args.mixed_precision, compile=args.compile,
                       seed=args.seed)
    trainer = PPOTrainer(policy, ref, tokenizer, config)
    sampling = SamplingConfig(max_new_tokens=args.response_len, top_k=0, top_p=1.0, temperature=1.0, do_sample=True,
                              eos_token_id=None, pad_token_id=tokenizer.pad_token_id)  # fixed length, like the peer
    n_params = sum(p.numel() for p in policy.parameters())
    print(f"policy: GPT-2 {args.shape} {SHAPES[args.shape]} + value head, {n_params / 1e6:.1f}M params; reward: "
          f"{REWARD_MODELS[args.reward_model]}; batch {config.batch_size}, "
          f"minibatch {config.mini_batch_size}, forward chunk {config.forward_batch_size}, epochs {config.ppo_epochs}, "
          f"queries {args.query_len[0]}-{args.query_len[1]} tokens, responses {args.response_len} tokens; "
          f"precision={str(trainer.precision.dtype).replace('torch.', '')}", flush=True)

    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    autocast = trainer.autocast
    minilm = args.reward_model == "minilm"
    cls_id, sep_id, reward_vocab = (101, 102, REWARD_SHAPE["vocab_size"]) if minilm else (0, 0, vocab)

    @torch.no_grad()
    def score(queries, responses):
        "Stand-in for decode -> tokenize -> classify: ids mapped into the reward vocabulary, one batched forward."
        texts = [torch.cat([q, r]).cpu() % (reward_vocab - 1000) + 1000 for q, r in zip(queries, responses)]
        lengths = torch.tensor([len(t) + 2 for t in texts])
        width = int(lengths.max())
        ids = torch.full((len(texts), width), 1 if not minilm else 0, dtype=torch.long)  # pad ids: GPT-2 config 1, BERT 0
        ids[:, 0] = cls_id
        for i, t in enumerate(texts): ids[i, 1:len(t) + 1], ids[i, len(t) + 1] = t, sep_id  # host-side, like a tokenizer
        mask = (torch.arange(width)[None] < lengths[:, None]).long()
        with autocast():
            logits = reward_model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        return logits[:, 1].float()  # the "positive" logit is the score

    rows = []
    if cuda: torch.cuda.reset_peak_memory_stats(device)
    for update in range(args.updates):
        queries = [torch.randint(2, vocab, (int(n),), device=device)
                   for n in torch.randint(args.query_len[0], args.query_len[1] + 1, (config.batch_size,))]
        sync(); t0 = time.perf_counter()
        responses = trainer.generate(queries, sampling)
        sync(); t1 = time.perf_counter()
        scores = score(queries, responses)
        sync(); t2 = time.perf_counter()
        stats = trainer.step(queries, responses, scores)
        sync(); t3 = time.perf_counter()
        rows.append({"generation": t1 - t0, "scoring": t2 - t1, "forward passes": stats["time/ppo/forward_pass"],
                     "rewards+GAE": stats["time/ppo/compute_rewards"], "optimisation": stats["time/ppo/optimize"],
                     "stats": stats["time/ppo/calc_stats"], "step other": (t3 - t2) - sum(stats[k] for k in (
                         "time/ppo/forward_pass", "time/ppo/compute_rewards", "time/ppo/optimize", "time/ppo/calc_stats")),
                     "total": t3 - t0})
        print(f"update {update}: " + " ".join(f"{k}={v:.3f}" for k, v in rows[-1].items())
              + f"  kl={stats['objective/kl']:.3f} loss={stats['ppo/loss/total']:.4f}", flush=True)

    timed = rows[1:] if len(rows) > 1 else rows
    median = {k: statistics.median(r[k] for r in timed) for k in rows[0]}
    peak = (torch.cuda.max_memory_allocated(device) / 2**30 if cuda
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)  # CPU: peak RSS of the process
    total = median["total"]
    print(f"\n| stage ({len(timed)} timed updates, median) | seconds | share |\n|---|---|---|")
    for k, v in median.items():
        print(f"| {k} | {v:.3f} | {100 * v / total:.0f}% |")
    print(f"| samples/s | {config.batch_size / total:.1f} | |")
    print(f"| peak memory (GiB, {'CUDA allocated' if cuda else 'process RSS'}) | {peak:.2f} | |")
    line = (f"OURS_PPO[{args.tag}] update_s_median={total:.4f} episodes_per_s={config.batch_size / total:.1f} "
            f"peak_mem_gib={peak:.2f} shape={args.shape} rollout={config.batch_size} minibatch={config.mini_batch_size} "
            f"ppo_epochs={config.ppo_epochs} resp_len={args.response_len} reward={args.reward_model} torch={torch.__version__} "
            f"device={dev_name}")
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps({"args": vars(args), "device": dev_name, "per_update": rows,
                                                   "median": median, "peak_mem_gib": peak, "line": line}, indent=1))
    print(line, flush=True)
    return median


if __name__ == "__main__":
    main()
