"""The time base (spikernn.clock) and the trial record a simulation result carries."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from spiking_helpers import tiny_model

from spikernn.clock import time_base
from spikernn.spiking import LIFParams, SpikingNetwork
from spikernn.spiking.tasks import SpikingTaskFactory
from spikernn.tasks import TaskFactory, TrialInfo


@pytest.fixture(scope="module")
def net():
    return SpikingNetwork(tiny_model(), scaling_factor=20.0)


def test_time_base_maps_rate_steps_onto_steps_and_samples():
    tb = time_base(5.0, 5e-5, downsample=4)
    assert tb.steps_per_rate_step == 100
    assert tb.samples_per_rate_step == 25.0
    assert tb.n_steps(10) == 1000
    assert [tb.rate_step_of(k) for k in (0, 99, 100, 999)] == [0, 0, 1, 9]
    assert time_base(5.0, 1e-4).steps_per_rate_step == 50
    assert time_base(np.float32(5.0), np.float64(5e-5)).steps_per_rate_step == 100


@pytest.mark.parametrize("args, field", [
    ((5.0, 3e-4), "params.dt"),        # 16.7 steps per rate step
    ((5.0, 0.01), "params.dt"),        # longer than the rate step
    ((5.0, -1e-4), "params.dt"),
    ((0.0, 5e-5), "rate_dt_ms"),
    ((5.0, 5e-5, 0), "downsample"),
    ((5.0, 5e-5, 2.0), "downsample"),
])
def test_time_base_refuses_a_bad_clock(args, field):
    with pytest.raises(ValueError, match=field):
        time_base(*args)


def test_engine_refuses_a_step_that_does_not_divide_the_rate_step():
    net = SpikingNetwork(tiny_model(), scaling_factor=20.0, params=LIFParams(dt=3e-4))
    with pytest.raises(ValueError, match="params.dt"):
        net.simulate(np.zeros((1, 1, 10), np.float32), seed=0)


def test_result_knows_its_clock(net):
    result = net.simulate(np.zeros((2, 1, 10), np.float32), seed=0, downsample=5)
    assert result.stimulus_dt_ms == 5.0
    assert result.clock == time_base(5.0, result.dt, 5)
    assert result.clock.n_steps(10) == result.n_steps
    assert result.trials is None


def test_spiking_task_trials_ride_on_the_result(net):
    task = SpikingTaskFactory.create_task("go_nogo", {"T": 10, "stim_on": 2, "stim_dur": 3})
    batch, result = task.run_trials(net, 4, seed=3, trial_types=["go", "nogo", "go", "nogo"])
    trials = result.trials
    assert isinstance(trials, TrialInfo)
    assert trials.task == "go_nogo"
    assert trials.trial_types == ("go", "nogo", "go", "nogo")
    assert trials.labels == batch.labels
    assert all(type(x) is int for x in trials.labels)
    assert np.array_equal(trials.stimulus, batch.stimulus)
    assert trials.trial(1) == {"task": "go_nogo", "trial_type": "nogo", "label": 0}


def test_trial_record_is_checked_against_the_result(net):
    result = net.simulate(np.zeros((3, 1, 10), np.float32), seed=0)
    with pytest.raises(ValueError, match="labels"):
        dataclasses.replace(result, trials=TrialInfo(labels=(1, 0)))
    with pytest.raises(ValueError, match="stimulus"):
        dataclasses.replace(result, trials=TrialInfo(stimulus=np.zeros((3, 1, 9))))
    with pytest.raises(ValueError, match="trial_types"):
        TrialInfo(labels=(1, 0), trial_types=("go",))
    with pytest.raises(ValueError, match="trial_types"):
        TrialInfo(trial_types="go")


def test_metadata_keys_of_older_code_become_the_trial_record(net):
    batch = TaskFactory.create_task("go_nogo", {"T": 10, "stim_on": 2, "stim_dur": 3}
                                    ).sample_batch(2, rng=0)
    result = net.simulate(batch.stimulus, seed=0)
    legacy = dataclasses.replace(result, metadata={
        "task": "go_nogo", "labels": list(batch.labels), "trial_types": list(batch.trial_types),
        "stimulus": batch.stimulus[0]})                  # (n_inputs, T): every trial
    assert legacy.trials.task == "go_nogo"
    assert legacy.trials.trial_types == batch.trial_types
    assert legacy.trials.stimulus.shape == (2, 1, 10)
