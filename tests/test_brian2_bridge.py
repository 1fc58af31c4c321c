"""Brian2 bridge: the Brian2 network reproduces the engine step for step (real brian2)."""

from __future__ import annotations

import brian2
import numpy as np
import pytest
import torch
from spiking_helpers import tiny_model

from spikernn.bridges.brian2 import (
    Brian2StandaloneSimulator,
    build_brian2_network,
    simulate_brian2,
)
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.params import LIFParams

N = 30
T = 20                # rate steps of 5 ms: 100 ms, 2,000 integration steps
HOLD = 100
S = 10.0              # scaling factor giving ~50 Hz in this untrained network


@pytest.fixture(scope="module")
def model():
    return tiny_model(N=N)


def go_stimuli(batch: int) -> np.ndarray:
    """Go pulses on even trials (steps 5-10), nothing on odd ones."""
    stim = np.zeros((batch, 1, T))
    stim[::2, 0, 5:10] = 1.0
    return stim


def start_voltages(params: LIFParams, batch: int, seed: int = 0) -> np.ndarray:
    high = -45.0 if params.neuron == "lif" else 25.0
    return np.random.default_rng(seed).uniform(params.v_reset, high, (batch, N))


def engine_run(model, params, stimuli, v0, s=S, **kwargs):
    net = SpikingNetwork(model, scaling_factor=s, params=params, dtype=torch.float64)
    return net.simulate(stimuli, v0=v0, seed=0, **kwargs)


def events(result) -> list[tuple[int, int, int]]:
    return list(zip(result.spike_trial.tolist(), result.spike_step.tolist(),
                    result.spike_unit.tolist(), strict=True))


@pytest.mark.parametrize("neuron,synapse", [("lif", "double"), ("lif", "single"),
                                            ("qif", "double"), ("qif", "single")])
def test_noise_off_same_spikes_as_engine(model, neuron, synapse):
    """Same v0, no noise: every spike identical over the whole 100 ms, 2 trials."""
    params = LIFParams(neuron=neuron, synapse=synapse, noise_std=0.0)
    stim, v0 = go_stimuli(2), start_voltages(params, 2)
    brian = simulate_brian2(model, S, stim, params, v0=v0)
    engine = engine_run(model, params, stim, v0)
    assert brian.n_spikes > 100
    assert events(brian) == events(engine)
    np.testing.assert_allclose(brian.output, engine.output, rtol=0, atol=1e-9)
    assert brian.n_steps == engine.n_steps == T * HOLD
    np.testing.assert_array_equal(brian.v0, v0)


def test_recordings_and_scaling_factors_match_engine(model):
    """Per-trial scaling factors, decimated readout and voltage/current/rate traces."""
    params = LIFParams(noise_std=0.0)
    stim, v0 = go_stimuli(3), start_voltages(params, 3, seed=1)
    factors = [5.0, 10.0, 20.0]
    kwargs = {"downsample": 7, "record": ("voltages", "currents", "rates"), "record_every": 30}
    brian = simulate_brian2(model, factors, stim, params, v0=v0, **kwargs)
    engine = engine_run(model, params, stim, v0, scaling_factors=factors, **kwargs)
    assert events(brian) == events(engine)
    assert brian.output.shape == engine.output.shape == (3, T * HOLD // 7)
    np.testing.assert_allclose(brian.output, engine.output, atol=1e-9)
    for name in ("voltages", "currents", "rates"):
        assert getattr(brian, name).shape == (3, T * HOLD // 30, N)
        np.testing.assert_allclose(getattr(brian, name), getattr(engine, name), atol=1e-8)
    np.testing.assert_array_equal(brian.scaling_factors, factors)
    # the peak value marks spikes in the recorded voltages, as in the engine
    assert np.any(brian.voltages == params.v_peak)


def test_given_noise_same_spikes_as_engine(model):
    """The same noise values fed to both simulators: identical spikes with noise on."""
    params = LIFParams()
    stim, v0 = go_stimuli(2), start_voltages(params, 2)
    z = np.random.default_rng(5).normal(0.0, params.noise_std, (2, T * HOLD, N))
    brian = simulate_brian2(model, S, stim, params, v0=v0, noise=z)
    engine = engine_run(model, params, stim, v0, noise=z)
    assert events(brian) == events(engine)
    np.testing.assert_allclose(brian.output, engine.output, atol=1e-9)


def test_noise_on_statistics_agree_with_engine(model):
    """Independent noise: trial-averaged per-unit rates and spike totals agree."""
    params = LIFParams()
    batch = 16
    stim, v0 = go_stimuli(batch), start_voltages(params, batch, seed=2)
    brian = simulate_brian2(model, S, stim, params, v0=v0, seed=3)
    engine = engine_run(model, params, stim, v0)
    assert events(brian) != events(engine)       # the noise did act
    rates_b, rates_e = brian.firing_rates().mean(0), engine.firing_rates().mean(0)
    assert np.corrcoef(rates_b, rates_e)[0, 1] > 0.9
    assert abs(brian.n_spikes - engine.n_spikes) / engine.n_spikes < 0.05
    go = brian.output[::2].mean(0), engine.output[::2].mean(0)
    assert np.corrcoef(*go)[0, 1] > 0.9


def test_noise_std_per_step_and_during_refractory_period(model):
    """Silent network: v is an AR(1) process with the engine's per-step noise std, and the
    noise also moves refractory units (here: all units spike at step 0)."""
    params = LIFParams(bias=-80.0, noise_std=0.5)
    silent = model.replace(w=np.zeros((N, N)), w_in=np.zeros((N, 1)))
    v0 = np.full((8, N), 0.0)                      # above threshold: spike in step 0
    brian = simulate_brian2(silent, S, np.zeros((8, 1, T)), params, v0=v0, seed=4,
                            record=("voltages",))
    assert brian.n_spikes == 8 * N and np.all(brian.spike_step == 0)
    v = brian.voltages
    # steps 1..40 refractory: pure random walk from v_reset, std 0.5 * sqrt(k)
    walk = v[:, 40, :] - params.v_reset            # state after step 40: 40 noise draws
    assert abs(walk.std() / (0.5 * np.sqrt(40)) - 1) < 0.15
    # stationary OU fluctuation around -80 mV: std^2 = sigma^2 / (1 - a^2), a = 1 - dt/tau_m
    a = 1 - params.dt / params.tau_m
    late = v[:, -1, :]
    assert abs(late.std() / (0.5 / np.sqrt(1 - a * a)) - 1) < 0.15


def test_global_state_restored(model):
    """Codegen target, device and numpy's global generator are left as they were."""
    target = brian2.prefs.codegen.target
    state = np.random.get_state()[1].copy()
    simulate_brian2(model, S, go_stimuli(1)[:, :, :2], LIFParams(), seed=1)
    assert brian2.prefs.codegen.target == target
    assert isinstance(brian2.get_device(), brian2.devices.RuntimeDevice)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_seeded_noise_reproducible(model):
    stim = go_stimuli(2)[:, :, :4]
    a = simulate_brian2(model, S, stim, LIFParams(), seed=7)
    b = simulate_brian2(model, S, stim, LIFParams(), seed=7)
    c = simulate_brian2(model, S, stim, LIFParams(), seed=8)
    assert events(a) == events(b)
    np.testing.assert_array_equal(a.v0, b.v0)
    assert events(a) != events(c)


def test_max_batch_splits_without_changing_trials(model):
    params = LIFParams(noise_std=0.0)
    stim, v0 = go_stimuli(3)[:, :, :6], start_voltages(params, 3)
    whole = simulate_brian2(model, [S, 2 * S, S], stim, params, v0=v0, downsample=10)
    split = simulate_brian2(model, [S, 2 * S, S], stim, params, v0=v0, downsample=10,
                            max_batch=2)
    assert events(split) == events(whole) and whole.n_spikes > 0
    np.testing.assert_allclose(split.output, whole.output, atol=1e-12)
    np.testing.assert_array_equal(split.v0, v0)


def test_build_network_exposes_brian2_objects(model):
    params = LIFParams(noise_std=0.0)
    v0 = start_voltages(params, 2)
    net = build_brian2_network(model, S, go_stimuli(2), params, v0=v0, downsample=10)
    assert len(net.neurons) == 2 * N
    assert len(net.synapses) == 2 * int(np.count_nonzero(model.w_effective))
    assert net.duration == T * HOLD * params.dt * brian2.second
    assert "Brian2Network(N=30, batch=2" in repr(net)
    net.network.run(net.duration)
    result = net.result(v0, np.full(2, S), seed=None)
    same = simulate_brian2(model, S, go_stimuli(2), params, v0=v0, downsample=10)
    assert events(result) == events(same)
    np.testing.assert_allclose(result.output, same.output, atol=1e-12)


@pytest.mark.parametrize("kwargs,field", [
    ({"stimuli": np.zeros((2, 3, T))}, "stimuli"),
    ({"scaling_factor": -1.0}, "scaling_factor"),
    ({"scaling_factor": [1.0, 2.0, 3.0]}, "scaling_factor"),
    ({"v0": np.zeros((2, N + 1))}, "v0"),
    ({"record": ("spikes",)}, "record"),
    ({"noise": np.zeros((2, 5, N))}, "noise"),
    ({"target": "gpu"}, "target"),
    ({"codegen": "cuda"}, "codegen"),
    ({"downsample": 0}, "downsample"),
    ({"params": LIFParams(dt=3e-4)}, "params.dt"),
])
def test_bad_input_names_the_field(model, kwargs, field):
    args = {"model": model, "scaling_factor": S, "stimuli": go_stimuli(2)} | kwargs
    with pytest.raises(ValueError, match=field):
        simulate_brian2(**args)


@pytest.mark.slow
def test_standalone_build_once_many_runs(model, tmp_path):
    """cpp_standalone: one compiled program, rerun for two scaling factors and stimuli,
    equal to the runtime target; Brian2's runtime device is back afterwards."""
    params = LIFParams(noise_std=0.0)
    stim, v0 = go_stimuli(2), start_voltages(params, 2)
    with Brian2StandaloneSimulator(model, params, batch=2, T=T, record=("rates",),
                                   record_every=50, downsample=10,
                                   directory=tmp_path / "build") as sim:
        sim.build()
        build_time = sim.build_time
        runs = [sim.run(stim, s, v0) for s in (S, 2 * S)]
        assert sim.build_time == build_time
    assert isinstance(brian2.get_device(), brian2.devices.RuntimeDevice)
    for s, result in zip((S, 2 * S), runs, strict=True):
        runtime = simulate_brian2(model, s, stim, params, v0=v0, record=("rates",),
                                  record_every=50, downsample=10)
        assert events(result) == events(runtime)
        np.testing.assert_allclose(result.output, runtime.output, atol=1e-9)
        np.testing.assert_allclose(result.rates, runtime.rates, atol=1e-9)
    assert events(runs[0]) != events(runs[1])


@pytest.mark.slow
def test_cython_codegen_matches_numpy(model):
    params = LIFParams(noise_std=0.0)
    stim, v0 = go_stimuli(2), start_voltages(params, 2)
    a = simulate_brian2(model, S, stim, params, v0=v0, codegen="cython")
    b = simulate_brian2(model, S, stim, params, v0=v0)
    assert events(a) == events(b)
