"""The pipeline layer: typed results of simulate_trials, evaluate and export_result."""

from __future__ import annotations

import json

import numpy as np
import pytest
from spiking_helpers import tiny_model

from spikernn.pipeline import (
    Evaluation,
    SimulatedTrials,
    evaluate,
    export_result,
    simulate_trials,
)
from spikernn.tasks import TrialInfo


@pytest.fixture(scope="module")
def model():
    return tiny_model().replace(opt_scaling_factor=20.0)


def test_simulate_trials_returns_the_trials_on_the_result(model):
    sim = simulate_trials(model, n_trials=3, seed=4, trial_types=["go", "nogo", "go"],
                          downsample=10)
    assert isinstance(sim, SimulatedTrials) and sim.model_path is None
    assert sim.network.scaling_factor == 20.0 and sim.task.name == "go_nogo"
    trials = sim.result.trials
    assert isinstance(trials, TrialInfo) and trials.trial_types == ("go", "nogo", "go")
    assert np.array_equal(trials.stimulus, sim.batch.stimulus)
    assert sim.result.clock.samples_per_rate_step == 10.0
    again = simulate_trials(model, n_trials=3, seed=4, trial_types=["go", "nogo", "go"],
                            downsample=10)
    assert np.array_equal(again.result.output, sim.result.output)


def test_evaluate_gives_metrics_trials_and_rate_readout(model, tmp_path):
    ev = evaluate(model, n_trials=4, seed=1, output_dir=tmp_path, save_plots=False)
    assert isinstance(ev, Evaluation) and ev.figures == ()
    assert ev.accuracy == ev.metrics["overall_accuracy"]
    assert list(ev.simulation.result.trials.labels) == ev.metrics["labels"]
    assert ev.rate_output.shape == (4, ev.simulation.batch.stimulus.shape[2])
    assert json.loads(ev.metrics_path.read_text())["n_trials"] == 4
    assert ev.metrics["rate_accuracy"] == pytest.approx(np.mean(
        ev.simulation.task.score(ev.rate_output, ev.simulation.batch.labels, 1.0)))


def test_export_writes_the_trial_record(model, tmp_path):
    from pynwb import NWBHDF5IO

    sim = simulate_trials(model, n_trials=2, seed=0, trial_types=["go", "nogo"])
    path = export_result(sim.result, sim.model, tmp_path / "t.nwb")
    with NWBHDF5IO(str(path), "r") as io:
        assert list(io.read().trials.to_dataframe().trial_type) == ["go", "nogo"]
