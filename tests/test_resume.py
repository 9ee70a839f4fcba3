"""Long runs lose nothing: a run stopped by a signal (or crashing) and resumed from its checkpoint reaches exactly the
parameters and metrics of the same run done in one go. CPU, the tiny LM and classifier."""
import dataclasses
import json
import os
import signal

import pytest
import torch

from rlhf_imdb.experiment import checkpoint_dirs, experiment_config, prepare_models, read_jsonl, run_sentiment_ppo
from rlhf_imdb.ppo import PPOConfig

STEPS = 3


@pytest.fixture(scope="module")
def models():
    return prepare_models("tiny")  # trained once, then reused from the cache


def make_config(models, out_dir, seed=0, **changes):
    "The control task (targets per sample: the most state to get right), 3 steps of 16 samples, a checkpoint each step."
    ppo = PPOConfig(batch_size=16, mini_batch_size=8, ppo_epochs=2, forward_batch_size=16, learning_rate=1e-4, seed=seed)
    options = dict(steps=STEPS, checkpoint_every=1, keep_checkpoints=2, n_eval_prompts=8, progress=False, ppo=ppo,
                   lm_path=str(models.lm_path), classifier_path=str(models.classifier_path), out_dir=str(out_dir))
    return dataclasses.replace(experiment_config("control", "tiny"), **{**options, **changes})


def training_metrics(run_dir):
    "The logged stats without timings (which differ from run to run)."
    return [{k: v for k, v in row.items() if not k.startswith("time/")} for row in read_jsonl(run_dir / "metrics.jsonl")]


def assert_same_parameters(a, b):
    state_a, state_b = a.state_dict(), b.state_dict()
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), f"{name} differs after resume"


@pytest.fixture(scope="module")
def straight(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    return run_sentiment_ppo("control", make_config(models, out)), out


def test_interrupt_then_resume_matches_straight_run(models, straight, tmp_path):
    straight_result, straight_dir = straight
    out = tmp_path / "run"
    def interrupt(step, row):  # Ctrl-C arrives while step 1 is being logged
        if step == 1: os.kill(os.getpid(), signal.SIGINT)
    handler_before = signal.getsignal(signal.SIGINT)
    stopped = run_sentiment_ppo("control", make_config(models, out), on_step=interrupt)
    assert stopped.interrupted and stopped.steps_done == 1 and stopped.after is None
    assert [p.name for p in checkpoint_dirs(out)] == ["step-000001"]
    assert signal.getsignal(signal.SIGINT) is handler_before             # the run gave the handler back
    resumed = run_sentiment_ppo("control", make_config(models, out, resume=True))
    assert not resumed.interrupted and resumed.steps_done == STEPS
    assert_same_parameters(resumed.model, straight_result.model)
    assert training_metrics(out) == training_metrics(straight_dir)
    assert resumed.after.response.tolist() == straight_result.after.response.tolist()


def test_crash_after_checkpoint_resumes_identically(models, straight, tmp_path):
    straight_result, straight_dir = straight
    out = tmp_path / "run"
    def crash(step, row):
        if step == 2: raise RuntimeError("simulated crash at step 2")  # after logging step 2, before its checkpoint
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_sentiment_ppo("control", make_config(models, out), on_step=crash)
    assert len(read_jsonl(out / "metrics.jsonl")) == 2          # step 2 was logged, but only step 1 is checkpointed
    resumed = run_sentiment_ppo("control", make_config(models, out, resume=True))
    assert [row["step"] for row in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3]  # step 2 recomputed, not duplicated
    assert [p.name for p in checkpoint_dirs(out)] == ["step-000002", "step-000003"]  # the latest two kept
    assert_same_parameters(resumed.model, straight_result.model)
    assert training_metrics(out) == training_metrics(straight_dir)


def test_resume_refuses_a_changed_config(models, straight):
    _, straight_dir = straight
    with pytest.raises(ValueError, match=r"cannot resume: the config differs from the checkpointed run's in \['ppo.seed'\]"):
        run_sentiment_ppo("control", make_config(models, straight_dir, resume=True, seed=1, steps=STEPS + 1))
    with pytest.raises(ValueError, match=r"in \['lm_path'\]"):                          # another reference model
        run_sentiment_ppo("control", make_config(models, straight_dir, resume=True, lm_path=str(models.classifier_path)))


def test_a_finished_run_is_not_overwritten_silently(models, straight):
    _, straight_dir = straight
    metrics_before = (straight_dir / "metrics.jsonl").read_bytes()
    with pytest.raises(FileExistsError, match="is not empty"):
        run_sentiment_ppo("control", make_config(models, straight_dir))
    assert (straight_dir / "metrics.jsonl").read_bytes() == metrics_before
    assert [p.name for p in checkpoint_dirs(straight_dir)] == ["step-000002", "step-000003"]


def test_user_files_survive_run_overwrite_and_resume(models, tmp_path):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "notes.md").write_text("my notes")
    (out / "checkpoints" / "mine.txt").write_text("not a checkpoint")
    config = make_config(models, out, steps=1, overwrite=True)
    run_sentiment_ppo("control", config)
    run_sentiment_ppo("control", dataclasses.replace(config, steps=2, overwrite=False, resume=True))
    run_sentiment_ppo("control", config)
    assert (out / "notes.md").read_text() == "my notes"
    assert (out / "checkpoints" / "mine.txt").read_text() == "not a checkpoint"
    for path in out.rglob("*.jsonl"):                     # strict JSON: every line parses, no NaN/Infinity tokens
        for line in path.read_text().splitlines():
            json.loads(line, parse_constant=lambda name: pytest.fail(f"{path}: {name} is not JSON"))
