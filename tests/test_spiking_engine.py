"""The batched spiking engine and the conversion API against the paper's definitions.

The reference below is a plain one-trial loop written from paper-facts.md ("LIF network",
SI Table S1) and the step order documented in spikernn/spiking/engine.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikernn.artifact import ModelArtifact
from spikernn.spiking.engine import noise_values, simulate
from spikernn.spiking.network import LIF_network_fnc, SpikingNetwork
from spikernn.spiking.noise import PoolNoise
from spikernn.spiking.params import LIFParams
from spikernn.spiking.perturbation import Perturbation

HOLD = 100  # integration steps per 5 ms rate sample at dt = 0.05 ms


def make_model(n: int = 30, n_in: int = 1, seed: int = 0, **kw) -> ModelArtifact:
    """A small random Dale network with trained-looking per-unit decay constants."""
    rng = np.random.default_rng(seed)
    inh = rng.random(n) < 0.2
    inh[:2] = [False, True]
    mask = rng.random((n, n)) < 0.3
    w = np.abs(rng.standard_normal((n, n))) / np.sqrt(n * 0.3) * 1.5 * mask
    taus_gaus = rng.standard_normal(n)
    fields = dict(w=w, w0=w.copy(), m=np.diag(np.where(inh, -1.0, 1.0)), som_m=np.ones((n, n)),
                  w_in=rng.standard_normal((n, n_in)), w_out=rng.standard_normal((1, n)) / 10,
                  b_out=0.0, inh=inh, exc=~inh, taus=(4.0, 20.0), taus_gaus=taus_gaus,
                  taus_gaus0=taus_gaus.copy())
    fields.update(kw)
    return ModelArtifact(**fields)


def pulse(n_trials: int = 1, n_in: int = 1, length: int = 4) -> np.ndarray:
    u = np.zeros((n_trials, n_in, length))
    u[:, :, 1:3] = 1.0
    return u


def reference(net: SpikingNetwork, u: np.ndarray, s: float, v0: np.ndarray,
              z: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """One trial, numpy float64, straight from the paper: (unit, step) spikes and readout."""
    p = net.params
    w = net.w_rate / s
    w_in, w_out = net.model.w_in, net.model.w_out[0] / s
    td, tr, dt = net.tau_d, p.tau_r, p.dt
    n = net.N
    v = v0.copy()
    last = np.full(n, -10**9)
    s_i, h_i, r, h_r = (np.zeros(n) for _ in range(4))
    spikes, out = [], []
    for k in range(u.shape[1] * HOLD):
        current = s_i + p.bias + w_in @ u[:, k // HOLD]
        drift = v**2 + current if p.neuron == "qif" else -v + current
        v = v + np.where(k - last > p.refractory_steps, dt / p.tau_m * drift, 0.0)
        v = v + z[k]
        spike = v >= p.v_th
        last[spike] = k
        jd = w @ spike
        if p.synapse == "double":
            s_i, h_i = s_i * np.exp(-dt / td) + h_i * dt, h_i * np.exp(-dt / tr) + jd / (tr * td)
            r, h_r = r * np.exp(-dt / td) + h_r * dt, h_r * np.exp(-dt / tr) + spike / (tr * td)
        else:
            s_i = s_i * np.exp(-dt / td) + jd / td
            r = r * np.exp(-dt / td) + spike / td
        v[spike] = p.v_reset
        spikes += [(int(i), k) for i in np.flatnonzero(spike)]
        out.append(w_out @ r)
    return spikes, np.array(out)


@pytest.mark.parametrize("backend", ["fused", "torch"])
@pytest.mark.parametrize("neuron", ["lif", "qif"])
@pytest.mark.parametrize("synapse", ["double", "single"])
def test_engine_matches_reference_loop(neuron, synapse, backend):
    params = LIFParams(neuron=neuron, synapse=synapse, noise_std=0.1)
    net = SpikingNetwork(make_model(), 3.0, params, dtype=torch.float64)
    factors = np.array([3.0, 7.0])
    u = pulse(2)
    rng = np.random.default_rng(1)
    n_steps = u.shape[2] * HOLD
    v0 = rng.uniform(-65.0, -40.0 if neuron == "lif" else 29.0, (2, net.N))
    z = 0.1 * rng.standard_normal((2, n_steps, net.N))
    res = net.simulate(u, factors, v0=v0, noise=z, backend=backend)
    assert res.n_spikes > 10
    for b in range(2):
        spikes, out = reference(net, u[b], factors[b], v0[b], z[b])
        sel = res.spike_trial == b
        assert list(zip(res.spike_unit[sel].tolist(), res.spike_step[sel].tolist(),
                        strict=True)) == sorted(spikes, key=lambda e: (e[1], e[0]))
        np.testing.assert_allclose(res.output[b], out, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("noise", ["pool", "gaussian"])
def test_every_path_gives_the_same_spikes(monkeypatch, noise):
    """Fused kernel, torch path with numpy views and the plain torch code used on GPUs:
    the same seed gives the same spikes and (float64) the same traces, with noise drawn by
    the engine and a perturbation."""
    from spikernn.spiking import engine

    net = SpikingNetwork(make_model(), 4.0, dtype=torch.float64)
    u = pulse(3)
    kw = dict(seed=5, record=("voltages", "rates"), noise=noise,
              perturbation=Perturbation("exc", 50, 250, (2, 3)))
    fused = net.simulate(u, backend="fused", **kw)
    views = net.simulate(u, backend="torch", **kw)
    monkeypatch.setattr(engine, "NUMPY_ON_CPU", False)
    plain = net.simulate(u, backend="torch", **kw)
    assert fused.n_spikes > 20
    for other in (views, plain):
        for name in ("spike_trial", "spike_step", "spike_unit"):
            np.testing.assert_array_equal(getattr(other, name), getattr(fused, name))
        np.testing.assert_allclose(other.output, fused.output, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(other.voltages, fused.voltages)
        np.testing.assert_allclose(other.rates, fused.rates, rtol=1e-12, atol=1e-12)


def test_float32_paths_agree_statistically():
    """float32: the fused and torch paths round differently (readout), spikes may part
    after a near-threshold tie, but the statistics agree."""
    net = SpikingNetwork(make_model(n=60), 4.0)
    u = pulse(40, length=20)
    fused = net.simulate(u, seed=9, backend="fused")
    torch_path = net.simulate(u, seed=9, backend="torch")
    a, b = fused.spike_counts().sum(axis=1), torch_path.spike_counts().sum(axis=1)
    assert a.sum() > 1000
    assert abs(a.mean() - b.mean()) < 3 * np.sqrt(a.var() / a.size + b.var() / b.size) + 1
    assert np.mean(a == b) > 0.5  # most trials are spike for spike identical


def test_refractory_period_respected():
    params = LIFParams(bias=1e4, noise_std=0.0)  # driven as hard as possible
    res = SpikingNetwork(make_model(), 50.0, params).simulate(pulse(), seed=0)
    refractory = params.refractory_steps
    for trains in res.spike_trains(0):
        isi = np.diff(np.round(trains / params.dt).astype(int))
        assert len(isi) > 5
        assert isi.min() == refractory + 1  # spike in k: integrates again in k + R + 1


def _single_spike(unit: int) -> tuple[SpikingNetwork, np.ndarray]:
    params = LIFParams(noise_std=0.0, bias=-65.0)  # at rest nobody reaches threshold
    net = SpikingNetwork(make_model(), 10.0, params, dtype=torch.float64)
    v0 = np.full((1, net.N), -65.0)
    v0[0, unit] = -30.0
    res = net.simulate(np.zeros((1, 1, 2)), v0=v0, record=("currents",))
    assert res.n_spikes == 1
    return net, res.currents[0]


def test_excitatory_spikes_raise_and_inhibitory_spikes_lower_currents():
    net, currents = _single_spike(0)  # unit 0 is excitatory
    targets = net.w_rate[:, 0] > 0
    assert targets.any()
    assert np.all(currents >= 0)
    assert np.all(currents[:, targets].max(axis=0) > 0)
    net, currents = _single_spike(1)  # unit 1 is inhibitory
    assert np.all(currents <= 0) and currents.min() < 0


def test_torch_path_batched_equals_smaller_batches_and_chunks(monkeypatch):
    from spikernn.spiking import engine

    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(5)
    full = net.simulate(u, seed=3, backend="torch")
    monkeypatch.setattr(engine, "_MERGE_STEPS", 7)  # spike events merged in many slices
    monkeypatch.setattr(engine, "_LOG_BLOCK", 5)  # and logged in many blocks
    chunked = net.simulate(u, seed=3, max_batch=2, backend="torch")
    prefix = net.simulate(u[:2], seed=3, backend="torch")
    np.testing.assert_allclose(chunked.output, full.output, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(prefix.output, full.output[:2], rtol=1e-5, atol=1e-6)
    for part in (chunked, prefix):
        keep = full.spike_trial < part.batch_size
        for name in ("spike_trial", "spike_unit", "spike_step"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[keep])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_numbers_do_not_depend_on_batch_blocks_or_threads(monkeypatch, dtype):
    """Bit for bit: a trial alone, in a batch, in another order, on 1 or 2 threads, with
    short kernel blocks; readout, spikes and traces."""
    from spikernn.spiking import fused

    net = SpikingNetwork(make_model(), 5.0, dtype=dtype)
    u = pulse(5)
    names = ("voltages", "currents")
    full = net.simulate(u, seed=3, record=names, workers=2)
    monkeypatch.setattr(fused, "BLOCK_BUDGET", 1)  # one noise block (100 steps) per call
    one = net.simulate(u, seed=3, record=names, workers=1)
    order = [4, 1, 3, 0, 2]
    shuffled = net.simulate(u[order], seed=3, record=names, trial_ids=order)
    alone = net.simulate(u[3:4], seed=3, record=names, trial_ids=[3])
    assert full.n_spikes > 50
    for part, rows in ((one, range(5)), (shuffled, order), (alone, [3])):
        np.testing.assert_array_equal(part.output, full.output[rows])
        np.testing.assert_array_equal(part.spike_counts(), full.spike_counts()[rows])
        for name in names:
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[rows])
    for name in ("spike_trial", "spike_unit", "spike_step"):
        np.testing.assert_array_equal(getattr(one, name), getattr(full, name))


def test_rows_with_one_trial_id_share_their_draws():
    """Common random numbers: two scaling factors on trial 7 see the same v0, noise and
    coins; with a noise-free start the spikes of equal factors are equal."""
    net = SpikingNetwork(make_model(), 5.0, dtype=torch.float64)
    u = pulse(3)
    res = net.simulate(u, [5.0, 9.0, 5.0], seed=2, trial_ids=[7, 7, 7],
                       perturbation=Perturbation("inh", 0, 300, (1,)))
    assert np.array_equal(res.v0[0], res.v0[1])
    np.testing.assert_array_equal(res.output[0], res.output[2])
    counts = res.spike_counts()
    assert np.array_equal(counts[0], counts[2]) and not np.array_equal(counts[0], counts[1])
    alone = net.simulate(u[:1], 9.0, seed=2, trial_ids=[7],
                         perturbation=Perturbation("inh", 0, 300, (1,)))
    np.testing.assert_array_equal(alone.output[0], res.output[1])
    z = noise_values(2, 2, net.N, 100, trial_ids=[7, 8])
    np.testing.assert_array_equal(z[0], noise_values(2, 1, net.N, 100, trial_ids=[7])[0])
    assert not np.array_equal(z[0], z[1])


def test_exact_gaussian_noise_is_seeded_per_trial():
    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(3, length=2)
    full = net.simulate(u, seed=4, noise="gaussian", progress=True)
    chunked = net.simulate(u, seed=4, noise="gaussian", max_batch=1)
    np.testing.assert_array_equal(chunked.output, full.output)
    z = noise_values(4, 3, net.N, 200, noise="gaussian")
    assert abs(z.std() - 0.1) < 0.005 and np.unique(z).size == z.size


def test_same_seed_same_numbers_other_seed_differs():
    net = SpikingNetwork(make_model(), 5.0)
    a, b, c = (net.simulate(pulse(2), seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.output, b.output) and np.array_equal(a.spike_step, b.spike_step)
    assert not np.array_equal(a.output, c.output)
    assert a.seed == 1 and net.simulate(pulse()).seed is not None


def test_per_trial_scaling_factors_equal_separate_runs():
    net = SpikingNetwork(make_model(), 5.0, dtype=torch.float64)
    u = pulse(2)
    both = net.simulate(u, [4.0, 9.0], seed=7)
    for b, s in enumerate((4.0, 9.0)):
        noise = noise_values(7, 2, net.N, u.shape[2] * HOLD)[b:b + 1]
        alone = SpikingNetwork(net.model, s, dtype=torch.float64).simulate(
            u[b], v0=both.v0[b:b + 1], noise=noise)
        np.testing.assert_allclose(alone.output[0], both.output[b], rtol=1e-9, atol=1e-12)
        assert np.array_equal(alone.spike_step, both.spike_step[both.spike_trial == b])


def test_pool_noise_has_the_requested_statistics():
    src = PoolNoise(np.arange(3), 50, 1000, 0.1, 0, torch.float64)
    buf = torch.empty(3, 50, dtype=torch.float64)
    z = np.stack([src.at(slice(0, 3), k, buf).numpy().copy() for k in range(1000)])
    assert abs(z.std() - 0.1) < 0.003 and abs(z.mean()) < 0.003
    assert abs(np.corrcoef(z[:-1, 0, 0], z[1:, 0, 0])[0, 1]) < 0.1
    assert np.unique(z[:100]).size == z[:100].size  # a block holds distinct draws


def test_perturbation_changes_spiking_of_the_chosen_units():
    net = SpikingNetwork(make_model(), 20.0)
    units = [2, 3, 4, 5]
    u = pulse(4, length=8)
    kw = dict(seed=11, v0=np.full((4, net.N), -45.0))
    base = net.simulate(u, **kw).spike_counts()[:, units].sum()
    exc = net.simulate(u, perturbation={"mode": "exc", "dur": [0, 800], "units": units},
                       **kw).spike_counts()[:, units].sum()
    inh = net.simulate(u, perturbation=Perturbation("inh", 0, 800, tuple(units)),
                       **kw).spike_counts()[:, units].sum()
    assert exc > base > inh


def test_perturbation_kicks_on_half_the_steps():
    kicks = Perturbation("exc", 10, 2010, (0,)).draw_kicks(np.arange(3), 5000, 0,
                                                           torch.float64)
    assert kicks.shape == (3, 2000)
    assert set(np.unique(kicks.numpy())) == {0.0, 0.5}
    assert abs(kicks.mean().item() - 0.25) < 0.02


def test_recordings_are_decimated_consistently():
    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(2, length=3)
    names = ("voltages", "currents", "rates")
    full = net.simulate(u, seed=2, record=names)
    dec = net.simulate(u, seed=2, downsample=5, record=names, record_every=7)
    assert full.output.shape == (2, 300) and dec.output.shape == (2, 60)
    np.testing.assert_array_equal(dec.output, full.output[:, 4::5])
    for name in names:
        assert getattr(dec, name).shape == (2, 300 // 7, net.N)
        np.testing.assert_array_equal(getattr(dec, name), getattr(full, name)[:, 6::7][:, :42])
    v = full.voltages[full.spike_trial, full.spike_step, full.spike_unit]
    assert np.all(v == net.params.v_peak)
    none = net.simulate(u, seed=2)
    assert none.voltages is None and none.currents is None and none.rates is None


def test_initial_voltage_options():
    net = SpikingNetwork(make_model(), 5.0, LIFParams(v_init="below_threshold"))
    v0 = net.simulate(pulse(3), seed=1).v0
    assert v0.min() >= -65.0 and v0.max() < -40.0
    v0 = SpikingNetwork(make_model(), 5.0).simulate(pulse(3), seed=1).v0
    assert v0.max() > -40.0 and v0.max() <= 30.0
    v0 = SpikingNetwork(make_model(), 5.0, LIFParams(v_init="reset")).simulate(pulse()).v0
    assert np.all(v0 == -65.0)


def test_use_initial_weights_and_default_factor():
    model = make_model()
    model = model.replace(w0=model.w * 2, opt_scaling_factor=12.0)
    net = SpikingNetwork(model, use_initial_weights=True)
    assert net.scaling_factor == 12.0
    np.testing.assert_allclose(net.w_spk, 2 * model.w_effective / 12.0)


@pytest.mark.parametrize("factor", [0.0, -3.0, float("nan"), "big"])
def test_bad_scaling_factor_is_rejected(factor):
    with pytest.raises(ValueError, match="scaling_factor"):
        SpikingNetwork(make_model(), factor)
    with pytest.raises(ValueError, match="scaling_factors"):
        SpikingNetwork(make_model(), 5.0).simulate(pulse(2), [5.0, factor])


def test_missing_scaling_factor_is_explained():
    with pytest.raises(ValueError, match="opt_scaling_factor"):
        SpikingNetwork(make_model())


@pytest.mark.parametrize("shape", [(1, 2, 4), (3,), (2, 1, 0)])
def test_bad_stimulus_shape_is_rejected(shape):
    with pytest.raises(ValueError, match=r"stimuli: expected shape \(B, 1, T\)"):
        SpikingNetwork(make_model(), 5.0).simulate(np.zeros(shape))


def test_other_bad_arguments_are_rejected():
    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(2)
    bad_u = u.copy()
    bad_u[0, 0, 1] = np.nan
    for kwargs, field in ((dict(stimuli=bad_u), "stimuli"),
                          (dict(scaling_factors=[1.0, 2.0, 3.0]), "scaling_factors"),
                          (dict(record=("spikes",)), "record"),
                          (dict(downsample=0), "downsample"),
                          (dict(v0=np.zeros((3, net.N))), "v0"),
                          (dict(max_batch=0), "max_batch"),
                          (dict(perturbation={"mode": "exc", "dur": [0, 9], "units": [99]}),
                           "perturbation units")):
        kwargs.setdefault("stimuli", u)
        with pytest.raises(ValueError, match=field):
            net.simulate(**kwargs)


def test_lif_network_fnc_returns_the_seed_tuple():
    model = make_model()
    u = pulse()[0]
    W, REC, spk, rs, all_fr, out, params = LIF_network_fnc(
        model, 10.0, u, {"mode": "none"}, 2, False, seed=1)
    n, nt = model.N, 4 * HOLD // 2
    assert W.shape == (n, n) and REC.shape == (n, nt) and spk.shape == (n, nt)
    assert rs.shape == (n, nt) and all_fr.shape == (n,) and out.shape == (nt,)
    assert params["IPSCs"].shape == (n, nt) and params["td"].shape == (n,)
    assert params["dt"] == pytest.approx(1e-4) and params["T"] == pytest.approx(0.02)
    np.testing.assert_allclose(W, model.w_effective / 10.0)
    np.testing.assert_allclose(out, (model.w_out[0] / 10.0) @ rs, rtol=1e-9, atol=1e-12)
    assert spk.sum() > 0 and set(np.unique(spk)) <= {0.0, 1.0}


def test_simulate_engine_directly_on_float32_defaults():
    net = SpikingNetwork(make_model(), 5.0)
    res = simulate(net.tensors, torch.as_tensor(pulse(2), dtype=torch.float32),
                   torch.tensor([5.0, 6.0]), seed=0)
    assert res.output.dtype == np.float32 and res.output.shape == (2, 400)
    assert np.isfinite(res.output).all()


def test_non_finite_noise_is_rejected():
    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(2)
    z = np.full((2, 400, net.N), np.nan)
    with pytest.raises(ValueError, match=r"noise: expected finite values.*24000 NaN"):
        net.simulate(u, noise=z)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_vanishing_scaling_factor_is_named(dtype):
    net = SpikingNetwork(make_model(), 5.0, dtype=dtype)
    with pytest.raises((ValueError, FloatingPointError), match="scaling.factor"):
        net.simulate(pulse(2), [5.0, 1e-300], seed=0)


def test_a_recording_too_large_for_memory_says_how_much_before_allocating():
    net = SpikingNetwork(make_model(n=200), 5.0)
    u = np.zeros((10_000, 1, 200))
    with pytest.raises(MemoryError, match=r"10000 trials x 20000 steps x 200 units \("
                                          r"readout, voltages.*needs [0-9.]+ GiB"):
        net.simulate(u, seed=0, record=("voltages",))


def test_bad_trial_ids_and_backend_are_named():
    net = SpikingNetwork(make_model(), 5.0)
    with pytest.raises(ValueError, match="trial_ids"):
        net.simulate(pulse(2), trial_ids=[0, -1])
    with pytest.raises(ValueError, match="backend"):
        net.simulate(pulse(2), backend="gpu")
