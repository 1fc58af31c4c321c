"""NeuroGym environments as tasks: trials, targets, scoring, training, search, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("neurogym")

from spikernn.pipeline import evaluate  # noqa: E402
from spikernn.rate.model import create_default_config  # noqa: E402
from spikernn.rate.simulate import run_rate_model  # noqa: E402
from spikernn.rate.training import TrainingConfig, train  # noqa: E402
from spikernn.spiking.search import lambda_grid_search  # noqa: E402
from spikernn.tasks import NeuroGymTask, TaskFactory  # noqa: E402

#: A short Go/NoGo: stimulus, delay and decision periods of 100 ms each (ms).
TIMING = {"fixation": 0, "stimulus": 100, "delay": 100, "decision": 100}


@pytest.fixture(scope="module")
def task() -> NeuroGymTask:
    return TaskFactory.create_task("neurogym", {"env": "GoNogo-v0", "timing": TIMING})


def test_trials_come_from_the_environment_on_the_5_ms_step(task):
    assert task.T == 300 // 5 and task.n_inputs == 3 and task.response_window() == (40, 60)
    batch = task.sample_batch(16, rng=3)
    assert batch.stimulus.shape == (16, 3, 60)
    assert set(batch.labels) == {0, 1}
    again = task.sample_batch(16, rng=3)                      # seeded: the same trials
    assert np.array_equal(batch.stimulus, again.stimulus) and batch.labels == again.labels
    for target, label in zip(batch.target, batch.labels, strict=True):
        assert np.all(target[:40] == 0) and np.all(target[40:] == float(label))
        assert task.is_correct(target, label)                 # the target scores correct
        assert not task.is_correct(target, 1 - label)


def test_perceptual_decision_making_labels_are_the_choice_actions():
    pdm = TaskFactory.create_task("neurogym", {"env": "PerceptualDecisionMaking-v0"})
    batch = pdm.sample_batch(20, rng=0)
    assert set(batch.labels) <= {1, 2} and pdm.T == 140
    assert pdm.is_correct(np.full(140, -1.0), 2) and not pdm.is_correct(np.full(140, 1.0), 2)


def test_bad_settings_name_the_field():
    with pytest.raises(ValueError, match="decision_period"):
        TaskFactory.create_task("neurogym", {"env": "GoNogo-v0", "timing": TIMING,
                                             "decision_period": "reward"})
    with pytest.raises(ValueError, match="timing"):
        TaskFactory.create_task("neurogym", {"env": "GoNogo-v0", "timing": {"stimulus": -1}})


def test_trained_on_neurogym_go_nogo_above_chance_and_searched_and_evaluated(task, tmp_path):
    result = train(task, create_default_config(N=40, seed=0),
                   TrainingConfig(max_trials=3000, eval_every=100, eval_trials=50),
                   progress=False)
    model = result.artifact
    assert model.task == "neurogym" and model.task_settings["env"] == "GoNogo-v0"
    batch = task.sample_batch(100, rng=123)
    rate = run_rate_model(model, batch.stimulus, seed=1)
    assert task.score(rate.output, batch.labels).mean() > 0.75   # chance: 0.5
    search = lambda_grid_search(model, None, n_trials=4, scaling_factors=[30.0, 60.0],
                                save=False, progress=False)
    assert len(search.accuracies) == 2
    evaluation = evaluate(model, None, n_trials=4, scaling_factor=search.best_scaling_factor,
                          output_dir=tmp_path, save_plots=False)
    assert 0.0 <= evaluation.metrics["overall_accuracy"] <= 1.0
