"""Training: the paper's protocol reaches the criteria; seeds, checkpoints and constraints hold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikernn.artifact import load_model
from spikernn.rate import (
    Trainer,
    TrainingConfig,
    create_default_config,
    run_rate_model,
    train,
)
from spikernn.tasks import GoNogoTask


@pytest.fixture(scope="module")
def go_nogo_run():
    """One seeded Go/NoGo N = 200 training run from random init to the paper's criteria."""
    trainer = Trainer("go_nogo", create_default_config(N=200, seed=0), TrainingConfig())
    initial = trainer.model.to_artifact()
    return initial, trainer.train(progress=False)


def test_go_nogo_reaches_criteria_and_95_percent(go_nogo_run):
    _, result = go_nogo_run
    assert result.converged
    assert result.history.loss[-1] < 7 and result.history.accuracy[-1] >= 0.95
    task = GoNogoTask()
    batch = task.sample_batch(200, rng=99)
    out = run_rate_model(result.artifact, batch.stimulus, seed=99).output
    assert task.score(out, batch.labels).mean() >= 0.95


def test_history_is_recorded_every_100_trials(go_nogo_run):
    _, result = go_nogo_run
    h = result.history
    assert len(h.trials) == len(h.loss) == len(h.accuracy) == len(h.elapsed_s)
    assert [t // 100 for t in h.trials] == list(range(1, len(h.trials) + 1))
    assert h.trials[-1] == result.trials
    record = result.artifact.training
    assert record["history"]["loss"] == h.loss and record["converged"]
    assert record["settings"]["lr"] == 0.01 and record["model_config"]["seed"] == 0


def test_dale_signs_hold_after_training(go_nogo_run):
    _, result = go_nogo_run
    art = result.artifact
    assert (art.w >= 0).all()
    W = art.w_effective
    assert (W[:, art.exc] >= 0).all() and (W[:, art.inh] <= 0).all()
    np.testing.assert_allclose(W, result.model.effective_weights().detach().numpy(), atol=1e-6)


def test_time_constants_move_and_stay_in_range(go_nogo_run):
    initial, result = go_nogo_run
    art = result.artifact
    moved = np.abs(art.taus_gaus - initial.taus_gaus)
    assert moved.max() > 0.05 and (moved > 1e-4).mean() > 0.5
    np.testing.assert_array_equal(art.taus_gaus0, initial.taus_gaus)
    assert (art.tau_steps >= 4).all() and (art.tau_steps <= 20).all()
    assert not np.array_equal(art.w_out, initial.w_out) and art.b_out != 0.0


def _short(seed=1, **kw):
    cfg = TrainingConfig(**{"batch_size": 8, "max_trials": 48, "eval_every": 16,
                            "eval_trials": 20, **kw})
    return Trainer("go_nogo", create_default_config(N=40, seed=seed, som_N=2), cfg)


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    for name, t in a.model.state_dict().items():
        assert torch.equal(t, b.model.state_dict()[name]), name
    for name in ("trials", "loss", "accuracy", "train_loss"):
        assert getattr(a.history, name) == getattr(b.history, name), name
    assert a.trials == b.trials


def test_same_seed_same_model_and_other_seed_differs():
    a, b, c = _short(), _short(), _short(seed=2)
    for t in (a, b, c):
        t.train(progress=False)
    _assert_same_state(a, b)
    assert not torch.equal(a.model.w, c.model.w)


def test_thread_count_does_not_change_the_numbers():
    # N = 200 and batch 16, so that torch's and MKL's kernels do run on several threads
    def run(threads):
        trainer = Trainer("go_nogo", create_default_config(N=200, seed=0), TrainingConfig(
            max_trials=64, eval_every=32, num_threads=threads))
        trainer.train(progress=False)
        assert trainer.training_record()["torch_threads"] == threads
        return trainer

    one, two = run(1), run(2)
    _assert_same_state(one, two)


def test_evaluation_frequency_does_not_change_the_trajectory():
    a, b = _short(eval_every=16), _short(eval_every=24)
    a.train(progress=False)
    b.train(progress=False)
    assert torch.equal(a.model.w, b.model.w)


def test_checkpoint_and_resume_match_an_uninterrupted_run(tmp_path):
    straight = _short()
    straight.train(progress=False)
    first = _short(max_trials=24)
    ckpt = tmp_path / "run.ckpt.pth"
    first.train(progress=False, checkpoint=ckpt)
    resumed = Trainer.from_checkpoint(ckpt)
    assert resumed.trials == 24
    resumed.train(progress=False, max_trials=48)
    _assert_same_state(straight, resumed)
    torch.testing.assert_close(straight.optimizer.state_dict()["state"][0]["exp_avg"],
                               resumed.optimizer.state_dict()["state"][0]["exp_avg"])
    assert torch.load(ckpt, weights_only=True)["trials"] == 24


def test_som_mask_and_batch_one_protocol():
    trainer = _short(batch_size=1, max_trials=12, eval_every=6)
    result = trainer.train(progress=False)
    assert result.trials == 12 and trainer.updates == 12
    art = result.artifact
    som = np.flatnonzero(art.inh)[:2]
    assert not art.w_effective[np.ix_(som, art.inh)].any()
    assert not art.w[np.ix_(som, art.inh)].any() or not (art.som_m[np.ix_(som, art.inh)]).any()


def test_fixed_tau_is_not_trained_and_min_trials_is_honoured():
    cfg = create_default_config(N=30, seed=0, taus=(10,))
    trainer = Trainer("go_nogo", cfg, TrainingConfig(
        batch_size=8, max_trials=64, min_trials=48, eval_every=16, eval_trials=10,
        loss_threshold=1e9, acc_threshold=0.0))
    result = trainer.train(progress=False)
    assert result.converged and result.trials == 48
    np.testing.assert_array_equal(result.artifact.taus_gaus, result.artifact.taus_gaus0)
    np.testing.assert_array_equal(result.artifact.tau_steps, 10.0)


def test_train_function_and_artifact_files(tmp_path):
    result = train("xor", create_default_config(N=30, seed=4),
                   TrainingConfig(batch_size=4, max_trials=8, eval_every=8, eval_trials=4),
                   progress=False)
    assert not result.converged and result.trials == 8
    art = load_model(result.artifact.save(tmp_path / "xor.mat"))
    assert art.task == "xor" and art.n_inputs == 2 and art.seed == 4
    assert art.task_settings["T"] == 300


@pytest.mark.parametrize("overrides, field", [
    ({"batch_size": 0}, "batch_size"), ({"lr": -0.1}, "lr"), ({"loss_fn": "l3"}, "loss_fn"),
    ({"max_trials": 0}, "max_trials"), ({"eval_every": 0}, "eval_every"),
    ({"acc_threshold": 1.5}, "acc_threshold"), ({"loss_threshold": 0}, "loss_threshold"),
    ({"min_trials": 10**9}, "min_trials"), ({"num_threads": 0}, "num_threads"),
])
def test_bad_training_settings_name_the_setting(overrides, field):
    with pytest.raises(ValueError, match=field):
        TrainingConfig(**overrides)


def test_bad_checkpoint_is_reported(tmp_path):
    bad = tmp_path / "x.pth"
    torch.save({"something": 1}, bad)
    with pytest.raises(ValueError, match="checkpoint"):
        Trainer.from_checkpoint(bad)
    with pytest.raises(FileNotFoundError):
        Trainer.from_checkpoint(tmp_path / "missing.pth")
