"""The network as ordinary Brian2 equations against spikernn's engine (shipped Go/NoGo
model, noise off, same initial voltages): spike statistics and readout agree within stated
tolerances, and the objects are plain Brian2 objects a user can extend (real Brian2)."""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

from spikernn.bridges.brian2_equations import LIF_EQUATIONS, build_brian2_model
from spikernn.pipeline import simulate_trials
from spikernn.pretrained import pretrained_path
from spikernn.spiking.params import LIFParams
from spikernn.tasks import TaskFactory

QUIET = LIFParams(noise_std=0.0)
#: Tolerances of the comparison (README): total spikes of a trial within 5% of the engine's,
#: per-unit spike counts correlated > 0.98, readouts correlated > 0.97, same task outcome.
COUNT_TOLERANCE, UNIT_CORRELATION, READOUT_CORRELATION = 0.05, 0.98, 0.97


@pytest.fixture(scope="module")
def engine():
    return simulate_trials(pretrained_path("go_nogo"), n_trials=2, seed=3, params=QUIET,
                           trial_types=["go", "nogo"], downsample=10)


@pytest.fixture(scope="module", autouse=True)
def numpy_target():
    saved = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield
    b2.prefs.codegen.target = saved


def _brian2_trial(engine, trial: int, **kwargs):
    result = engine.result
    net = build_brian2_model(engine.model, float(result.scaling_factors[trial]),
                             result.trials.stimulus[trial], params=QUIET,
                             v0=result.v0[trial], downsample=10, **kwargs)
    return net


@pytest.mark.parametrize("trial", [0, 1], ids=["go", "nogo"])
def test_spike_statistics_and_readout_match_the_engine(engine, trial):
    net = _brian2_trial(engine, trial)
    net.network.run(net.duration)
    ours = net.result()
    reference = engine.result
    counts = np.bincount(reference.spike_unit[reference.spike_trial == trial],
                         minlength=engine.model.N)
    brian = ours.spike_counts()[0]
    assert abs(brian.sum() - counts.sum()) <= COUNT_TOLERANCE * counts.sum()
    assert np.corrcoef(brian, counts)[0, 1] > UNIT_CORRELATION
    assert np.corrcoef(ours.output[0], reference.output[trial])[0, 1] > READOUT_CORRELATION
    task = TaskFactory.create_task("go_nogo")
    spp = ours.clock.samples_per_rate_step
    label = [reference.trials.labels[trial]]
    assert (task.score(ours.output, label, samples_per_step=spp)[0]
            == task.score(reference.output[trial:trial + 1], label, samples_per_step=spp)[0])


def test_objects_are_plain_brian2_a_user_can_extend(engine):
    result = engine.result
    net = build_brian2_model(engine.model, 20.0, result.trials.stimulus[0][:, :60],
                             params=QUIET, v0=result.v0[0])            # the first 300 ms
    assert isinstance(net.network, b2.Network) and isinstance(net.neurons, b2.NeuronGroup)
    assert isinstance(net.synapses, b2.Synapses) and isinstance(net.stimulus, b2.TimedArray)
    names = set(b2.Equations(LIF_EQUATIONS).names)
    assert names == {"v", "I_syn", "h", "r", "h_r", "tau_d"} <= set(net.neurons.equations.names)
    assert net.neurons.event_codes["spike"].startswith("v = v_reset")
    assert net.neurons.tau_d[0] == engine.model.tau_d_ms[0] * b2.ms
    assert net.synapses.w[0] != 0 * b2.volt * b2.second
    voltage = b2.StateMonitor(net.neurons, "v", record=[0, 1], dt=1 * b2.ms)
    net.network.add(voltage)
    net.network.run(net.duration + 50 * b2.ms)                 # longer than the trial
    assert voltage.v.shape == (2, int(round(float(net.duration / b2.ms))) + 50)
    assert np.asarray(net.spikes.t_).max() > float(net.duration)   # still spiking after it
    result = net.result()                                 # the stimulus' window only
    assert result.n_steps == 6_000 and result.spike_step.max() < 6_000
    net.neurons.tau_d = 30 * b2.ms                                 # parameters stay editable
    assert np.all(net.neurons.tau_d == 30 * b2.ms)


def test_noise_and_input_checks(engine):
    short = engine.result.trials.stimulus[0][:, :20]                 # 100 ms
    quiet = build_brian2_model(engine.model, 20.0, short, params=LIFParams(), seed=1)
    assert "xi" not in str(quiet.neurons.equations)
    b2.seed(5)
    noisy = build_brian2_model(engine.model, 20.0, short, params=LIFParams(), seed=1,
                               noise=True)
    assert "xi" in str(noisy.neurons.equations)
    quiet.network.run(quiet.duration)
    noisy.network.run(noisy.duration)
    assert not np.array_equal(np.asarray(quiet.spikes.i), np.asarray(noisy.spikes.i))
    with pytest.raises(ValueError, match="stimulus: expected one trial"):
        build_brian2_model(engine.model, 20.0, engine.result.trials.stimulus)
    with pytest.raises(ValueError, match="scaling_factor"):
        build_brian2_model(engine.model, 0.0, short)


@pytest.mark.slow
def test_ten_trials_agree_in_rates_and_accuracy():
    """Ten trials (five of each type): pooled per-unit rates and the accuracy."""
    engine = simulate_trials(pretrained_path("go_nogo"), n_trials=10, seed=11, params=QUIET,
                             trial_types=["go", "nogo"] * 5, downsample=10)
    reference = engine.result
    task = TaskFactory.create_task("go_nogo")
    counts, outputs = np.zeros(engine.model.N), []
    for trial in range(10):
        net = _brian2_trial(engine, trial)
        net.network.run(net.duration)
        ours = net.result()
        counts += ours.spike_counts()[0]
        outputs.append(ours.output[0])
    expected = reference.spike_counts().sum(axis=0)
    assert abs(counts.sum() - expected.sum()) <= COUNT_TOLERANCE * expected.sum()
    assert np.corrcoef(counts, expected)[0, 1] > 0.99
    spp = reference.clock.samples_per_rate_step
    ours_correct = task.score(np.stack(outputs), reference.trials.labels, samples_per_step=spp)
    engine_correct = task.score(reference.output, reference.trials.labels, samples_per_step=spp)
    assert abs(int(ours_correct.sum()) - int(engine_correct.sum())) <= 1
