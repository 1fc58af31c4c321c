"""PyNN export on NEST 3 against spikernn's engine, noise off."""

from __future__ import annotations

import numpy as np
import pytest
from spiking_helpers import tiny_model  # noqa: E402  (torch before NEST)

pytest.importorskip("pyNN")

from spikernn.bridges.pynn import simulate_pynn, synapse_weights  # noqa: E402
from spikernn.spiking.network import SpikingNetwork  # noqa: E402
from spikernn.spiking.params import LIFParams  # noqa: E402
from spikernn.tasks import TaskFactory  # noqa: E402

QUIET = LIFParams(noise_std=0.0, v_init="below_threshold")


def _compare(model, scaling_factor: float, stimulus: np.ndarray):
    result = SpikingNetwork(model, scaling_factor, params=QUIET).simulate(stimulus[None],
                                                                          seed=1)
    ours = result.spike_counts()[0]
    theirs = simulate_pynn(model, scaling_factor, stimulus, result.v0[0], QUIET)
    return ours, theirs.spike_counts()[0], theirs


def test_double_exponential_synapse_integrates_to_the_engines_charge():
    model = tiny_model(N=6, seed=3)
    weights = synapse_weights(model, 20.0, QUIET)
    tau_d = model.tau_d_ms[:, None] * 1e-3
    charge = (weights["decay"] * tau_d + weights["rise"] * QUIET.tau_r) / 1e-3   # mV s
    assert np.allclose(charge, model.w_effective / 20.0)
    single = synapse_weights(model, 20.0, QUIET.replace(synapse="single"))
    assert set(single) == {"decay"}


def test_pynn_on_nest_matches_the_engine_spike_counts_noise_off():
    model = tiny_model(N=24, seed=5)
    stimulus = np.ones((1, 100))                             # 0.5 s of constant input
    ours, theirs, result = _compare(model, 3.0, stimulus)
    assert ours.sum() > 1000                                 # the network is active
    assert result.metadata["simulator"] == "pynn.nest"
    assert abs(int(theirs.sum()) - int(ours.sum())) <= 0.05 * ours.sum() + 2
    assert np.corrcoef(ours, theirs)[0, 1] > 0.95


@pytest.mark.slow
def test_pynn_on_nest_matches_the_engine_on_the_shipped_go_nogo_model():
    from spikernn.pretrained import load_pretrained

    model = load_pretrained("go_nogo")
    task = TaskFactory.create_task("go_nogo", model.task_settings)
    stimulus = task.sample_batch(1, rng=0, trial_types="go").stimulus[0]
    ours, theirs, _ = _compare(model, 40.0, stimulus)
    assert abs(int(theirs.sum()) - int(ours.sum())) <= 0.05 * ours.sum()
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99


def test_qif_is_refused_by_name():
    model = tiny_model(N=6, seed=3)
    with pytest.raises(ValueError, match="neuron"):
        simulate_pynn(model, 20.0, np.zeros((1, 20)), np.full(6, -60.0),
                      LIFParams(neuron="qif"))
