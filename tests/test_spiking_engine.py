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


@pytest.mark.parametrize("neuron", ["lif", "qif"])
@pytest.mark.parametrize("synapse", ["double", "single"])
def test_engine_matches_reference_loop(neuron, synapse):
    params = LIFParams(neuron=neuron, synapse=synapse, noise_std=0.1)
    net = SpikingNetwork(make_model(), 3.0, params, dtype=torch.float64)
    factors = np.array([3.0, 7.0])
    u = pulse(2)
    rng = np.random.default_rng(1)
    n_steps = u.shape[2] * HOLD
    v0 = rng.uniform(-65.0, -40.0 if neuron == "lif" else 29.0, (2, net.N))
    z = 0.1 * rng.standard_normal((2, n_steps, net.N))
    res = net.simulate(u, factors, v0=v0, noise=z)
    assert res.n_spikes > 10
    for b in range(2):
        spikes, out = reference(net, u[b], factors[b], v0[b], z[b])
        sel = res.spike_trial == b
        assert list(zip(res.spike_unit[sel].tolist(), res.spike_step[sel].tolist(),
                        strict=True)) == sorted(spikes, key=lambda e: (e[1], e[0]))
        np.testing.assert_allclose(res.output[b], out, rtol=1e-9, atol=1e-12)


def test_torch_code_path_used_on_gpus_gives_the_same_result(monkeypatch):
    from spikernn.spiking import engine

    net = SpikingNetwork(make_model(), 4.0, dtype=torch.float64)
    u = pulse(3)
    fast = net.simulate(u, seed=5, record=("voltages",))
    monkeypatch.setattr(engine, "NUMPY_ON_CPU", False)
    plain = net.simulate(u, seed=5, record=("voltages",))
    assert fast.n_spikes > 20
    np.testing.assert_array_equal(plain.spike_step, fast.spike_step)
    np.testing.assert_array_equal(plain.spike_unit, fast.spike_unit)
    np.testing.assert_allclose(plain.output, fast.output, rtol=1e-12)
    np.testing.assert_allclose(plain.voltages, fast.voltages, rtol=1e-12)


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


def test_batched_equals_smaller_batches_and_chunks(monkeypatch):
    from spikernn.spiking import engine

    net = SpikingNetwork(make_model(), 5.0)
    u = pulse(5)
    full = net.simulate(u, seed=3)
    monkeypatch.setattr(engine, "_MERGE_STEPS", 7)  # spike events merged in many slices
    monkeypatch.setattr(engine, "_LOG_BLOCK", 5)  # and logged in many blocks
    chunked = net.simulate(u, seed=3, max_batch=2)
    prefix = net.simulate(u[:2], seed=3)
    np.testing.assert_allclose(chunked.output, full.output, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(prefix.output, full.output[:2], rtol=1e-5, atol=1e-6)
    for part in (chunked, prefix):
        keep = full.spike_trial < part.batch_size
        for name in ("spike_trial", "spike_unit", "spike_step"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[keep])


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
    src = PoolNoise(3, 50, 1000, 0.1, torch.Generator().manual_seed(0), torch.float64)
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
    kicks = Perturbation("exc", 10, 2010, (0,)).draw_kicks(3, 5000, torch.Generator(),
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
