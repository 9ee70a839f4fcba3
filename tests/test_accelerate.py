"""Data-parallel PPO with `accelerate launch`: two CPU processes (gloo), each training on its own prompts, end with
identical parameters, because every optimizer step applies the same all-reduced gradient."""
import json
import os
import subprocess
import sys
import textwrap

from conftest import ROOT
from rlhf_imdb.experiment import prepare_models

SCRIPT = textwrap.dedent('''
    import dataclasses, json, sys
    import torch
    from accelerate import Accelerator
    from rlhf_imdb.experiment import draw_batch, experiment_config, run_sentiment_ppo
    from rlhf_imdb.models import AutoModelForCausalLMWithValueHead

    lm_path, classifier_path, out_dir, report = sys.argv[1:5]
    accelerator = Accelerator(cpu=True)
    config = dataclasses.replace(experiment_config("control", "tiny"), lm_path=lm_path, classifier_path=classifier_path,
                                 out_dir=out_dir, steps=3, checkpoint_every=3, n_eval_prompts=8, progress=False,
                                 save_model=False)
    result = run_sentiment_ppo("control", config, accelerator=accelerator)
    flat = lambda module: torch.cat([p.detach().double().flatten() for p in module.parameters()])
    start_model = AutoModelForCausalLMWithValueHead.from_pretrained(lm_path, new_value_head=True)
    trained, start = flat(result.model), flat(start_model.pretrained_model)
    weights = torch.arange(len(trained), dtype=torch.float64).sin()          # a position-sensitive checksum
    indices, _ = draw_batch(1, config.n_train_prompts, config.ppo.batch_size, config.ppo.seed, "control",
                            accelerator.process_index)
    local = torch.tensor([[trained.sum().item(), (trained * weights).sum().item(), float(hash(tuple(indices.tolist())) % 1000003)]],
                         dtype=torch.float64)
    everyone = accelerator.gather(local).tolist()                            # (2, 3): one row per process
    if accelerator.is_main_process:
        json.dump({"num_processes": accelerator.num_processes, "rows": everyone, "steps_done": result.steps_done,
                   "interrupted": result.interrupted, "changed": not torch.equal(trained[:len(start)], start)}, open(report, "w"))
    accelerator.end_training()  # tear the process group down before exit, or gloo's threads can abort the process
''')


def test_two_cpu_processes_keep_identical_replicas(tmp_path):
    models = prepare_models("tiny")
    script, report = tmp_path / "ddp_ppo.py", tmp_path / "report.json"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", str(script),
               str(models.lm_path), str(models.classifier_path), str(tmp_path / "run"), str(report)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    result = json.loads(report.read_text())
    (sum_0, weighted_0, prompts_0), (sum_1, weighted_1, prompts_1) = result["rows"]
    assert result["num_processes"] == 2 and result["steps_done"] == 3 and not result["interrupted"]
    assert prompts_0 != prompts_1                            # each process trained on its own prompts...
    assert (sum_0, weighted_0) == (sum_1, weighted_1)        # ...and the replicas are bit-identical
    assert result["changed"]                                 # and training did move them
    checkpoint = tmp_path / "run" / "checkpoints" / "step-000003"
    assert (checkpoint / "rng-0.pt").is_file() and (checkpoint / "rng-1.pt").is_file()  # one RNG state per process
