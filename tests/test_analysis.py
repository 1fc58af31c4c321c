"""spikernn.analysis: statistics on known spike patterns, the rate-vs-spiking comparison,
the summary, the figures and the ``export`` / ``analyze`` commands (real Elephant)."""

from __future__ import annotations

import dataclasses
import json
import warnings

import elephant.statistics as es
import neo
import numpy as np
import pytest
import quantities as pq
from spiking_helpers import tiny_model, tiny_model_file
from test_neo_export import N_TRIALS, N_UNITS, known_result

from spikernn.analysis.comparison import (
    align_traces,
    compare_rate_and_spiking,
    filter_spikes,
    pearson_columns,
)
from spikernn.analysis.plots import plot_analysis
from spikernn.analysis.statistics import (
    binned_counts,
    correlation_matrix,
    fano_factor,
    fano_factors,
    firing_rates,
    isi_cv,
    local_variation,
    population_rate,
    psth,
    result_spiketrains,
    spike_time_arrays,
)
from spikernn.analysis.summary import analyze
from spikernn.cli import main
from spikernn.rate.simulate import RateResult
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult
from spikernn.tasks import TaskFactory

REGULAR = np.arange(1, 100) * 0.01          # 99 spikes, 10 ms apart, in [0, 1] s


def poisson_train(rate: float, duration: float, rng: np.random.Generator) -> np.ndarray:
    times = np.cumsum(rng.exponential(1.0 / rate, int(3 * rate * duration)))
    return times[times < duration]


def cv_numpy(t: np.ndarray) -> float:
    isi = np.diff(t)
    return float(np.std(isi) / np.mean(isi))


def lv_numpy(t: np.ndarray) -> float:
    i = np.diff(t)
    return float(3.0 / (i.size - 1) * np.sum(((i[:-1] - i[1:]) / (i[:-1] + i[1:])) ** 2))


# -- statistics on known patterns ------------------------------------------------------

def test_regular_train_rate_cv_and_lv():
    assert firing_rates([REGULAR], t_stop=1.0)[0] == pytest.approx(99.0)
    assert firing_rates([REGULAR], t_start=0.0, t_stop=2.0)[0] == pytest.approx(49.5)
    assert isi_cv([REGULAR], t_stop=1.0)[0] == pytest.approx(0.0, abs=1e-9)
    assert local_variation([REGULAR], t_stop=1.0)[0] == pytest.approx(0.0, abs=1e-9)


def test_poisson_trains_have_cv_and_lv_near_one():
    rng = np.random.default_rng(0)
    trains = [poisson_train(100.0, 20.0, rng) for _ in range(5)]
    cv = isi_cv(trains, t_stop=20.0)
    lv = local_variation(trains, t_stop=20.0)
    assert np.all(np.abs(cv - 1.0) < 0.08), cv
    assert np.all(np.abs(lv - 1.0) < 0.08), lv
    for train, c, v in zip(trains, cv, lv, strict=True):
        assert c == pytest.approx(cv_numpy(train), rel=1e-12)
        assert c == pytest.approx(float(es.cv(np.diff(train))), rel=1e-12)
        assert v == pytest.approx(lv_numpy(train), rel=1e-12)


def test_too_few_spikes_give_nan():
    cv = isi_cv([[], [0.1], [0.1, 0.2], [0.1, 0.2, 0.4]], t_stop=1.0)
    assert np.isnan(cv[:3]).all() and np.isfinite(cv[3])
    assert np.isnan(local_variation([[0.1, 0.2]], t_stop=1.0)[0])


def test_fano_factor_of_identical_and_random_counts():
    assert fano_factor([REGULAR] * 4, t_stop=1.0) == 0.0
    rng = np.random.default_rng(1)
    counts = rng.poisson(8, 30)
    trains = [np.sort(rng.random(c)) for c in counts]
    assert fano_factor(trains, t_stop=1.0) == pytest.approx(counts.var() / counts.mean())
    assert np.isnan(fano_factor([[], []], t_stop=1.0))


def test_binned_counts_and_correlations_match_numpy():
    rng = np.random.default_rng(2)
    trains = [np.sort(rng.random(n)) for n in (40, 60, 10)]
    counts = binned_counts(trains, bin_size=0.05, t_stop=1.0)
    edges = np.linspace(0.0, 1.0, 21)
    assert np.array_equal(counts, [np.histogram(t, edges)[0] for t in trains])
    corr = correlation_matrix(trains, bin_size=0.05, t_stop=1.0)
    assert np.allclose(corr, np.corrcoef(counts))
    same = correlation_matrix([trains[0], trains[0], []], bin_size=0.05, t_stop=1.0)
    assert same[0, 1] == pytest.approx(1.0)
    assert np.isnan(same[2]).all()                       # silent train


def test_windows_are_half_open_as_elephant_and_the_result_window_holds_every_spike():
    assert binned_counts([[0.0, 1.0]], bin_size=0.25, t_stop=1.0).tolist() == [[1, 0, 0, 0]]
    result = known_result()                   # unit 0 spikes at exactly t = duration
    start, stop = result.spike_window
    assert (start, stop) == (result.dt, result.duration + result.dt)
    trains = result_spiketrains(result)[0]
    counts = binned_counts(trains, bin_size=0.01)
    assert np.array_equal(counts.sum(axis=1), result.spike_counts()[0])
    assert counts.shape[1] == round(result.duration / 0.01)
    assert np.allclose(firing_rates(trains), result.spike_counts()[0] / result.duration)


def test_statistics_equal_elephants_own_functions_on_the_same_spikes():
    """Every figure of the summary against Elephant called directly on the same trains."""
    from elephant.conversion import BinnedSpikeTrain
    from elephant.kernels import GaussianKernel
    from elephant.spike_train_correlation import correlation_coefficient

    result = known_result()
    trains = result_spiketrains(result)
    trial = trains[1]
    assert np.allclose(firing_rates(trial), [float(es.mean_firing_rate(t).rescale("Hz"))
                                             for t in trial])
    active = [t for t in trial if len(t) >= 3]
    assert np.allclose(isi_cv(active), [float(es.cv(es.isi(t))) for t in active])
    assert np.allclose(local_variation(active), [float(es.lv(es.isi(t))) for t in active])
    fano = fano_factors(trains)
    expected = [es.fanofactor([trains[b][u] for b in range(N_TRIALS)]) for u in range(N_UNITS)]
    assert np.allclose(fano, expected, equal_nan=True)
    binned = BinnedSpikeTrain(trial, bin_size=10 * pq.ms)
    assert np.array_equal(binned_counts(trial, 0.01), binned.to_array())
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # the silent unit's row is NaN
        reference = correlation_coefficient(binned)
    assert np.allclose(correlation_matrix(trial, 0.01), reference, equal_nan=True)
    _, rate = psth(trial, 0.02)
    hist = es.time_histogram(trial, 20 * pq.ms, output="rate")
    assert np.allclose(rate, hist.rescale("Hz").magnitude.ravel())
    _, pop = population_rate(trial, 0.005, 0.02)
    per_train = es.instantaneous_rate(trial, 5 * pq.ms, kernel=GaussianKernel(20 * pq.ms),
                                      border_correction=True)
    assert np.allclose(pop, per_train.rescale("Hz").magnitude.mean(axis=1))  # edges too


@pytest.mark.slow
def test_analysis_of_100_trials_of_200_units_takes_seconds():
    import time

    rng = np.random.default_rng(0)
    batch, n_units, n_steps = 100, 200, 20_000
    n_spikes = 100 * 200 * 10                            # about 10 Hz
    step = np.sort(rng.integers(0, n_steps, n_spikes))
    result = SimulationResult(
        output=np.zeros((batch, 200)), spike_trial=rng.integers(0, batch, n_spikes),
        spike_unit=rng.integers(0, n_units, n_spikes), spike_step=step, dt=5e-5,
        n_steps=n_steps, downsample=100, scaling_factors=np.full(batch, 30.0),
        exc=np.arange(n_units) < 160, params=LIFParams())
    start = time.perf_counter()
    summary = analyze(result)
    elapsed = time.perf_counter() - start
    assert summary["n_trials"] == batch and elapsed < 120.0, elapsed


def test_psth_and_population_rate_are_means_per_train():
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.random(n)) for n in (30, 50, 0, 20)]
    starts, rate = psth(trains, bin_size=0.1, t_stop=1.0)
    expected = np.histogram(np.concatenate(trains), np.linspace(0, 1, 11))[0] / 4 / 0.1
    assert np.allclose(starts, np.arange(10) * 0.1)
    assert np.allclose(rate, expected)
    times, pop = population_rate(trains, sampling_period=0.001, kernel_sigma=0.02, t_stop=1.0)
    assert times.shape == pop.shape == (1000,)
    assert pop.sum() * 0.001 == pytest.approx(100 / 4, rel=0.02)    # spikes per train


def test_neo_spike_trains_are_accepted():
    train = neo.SpikeTrain(REGULAR * 1000, units="ms", t_stop=1000.0)
    times, t_start, t_stop = spike_time_arrays([train])
    assert np.allclose(times[0], REGULAR) and (t_start, t_stop) == (0.0, 1.0)
    assert firing_rates([train])[0] == pytest.approx(99.0)


@pytest.mark.parametrize("call, field", [
    (lambda: firing_rates([[0.2, 0.1]], t_stop=1.0), "sorted"),
    (lambda: firing_rates([[0.1, 1.5]], t_stop=1.0), r"spiketrains\[0\]"),
    (lambda: firing_rates([[np.nan]], t_stop=1.0), "finite"),
    (lambda: firing_rates([[0.1]]), "t_stop"),
    (lambda: firing_rates([]), "spiketrains"),
    (lambda: psth([[0.1]], bin_size=0.0, t_stop=1.0), "bin_size"),
    (lambda: isi_cv([[0.1]], t_stop=1.0, min_spikes=2), "min_spikes"),
    (lambda: population_rate([[0.1]], 0.001, -1.0, t_stop=1.0), "kernel_sigma"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


# -- rate versus spiking ---------------------------------------------------------------

def single_spike_result(synapse: str, step: int = 10, n_steps: int = 400) -> SimulationResult:
    return SimulationResult(
        output=np.zeros((1, n_steps)), spike_trial=np.array([0]), spike_unit=np.array([0]),
        spike_step=np.array([step]), dt=5e-5, n_steps=n_steps, downsample=1,
        scaling_factors=np.array([1.0]), exc=np.array([True]),
        params=LIFParams(synapse=synapse))


@pytest.mark.parametrize("synapse", ["double", "single"])
def test_filter_follows_the_papers_update_equations(synapse):
    result = single_spike_result(synapse)
    p, dt, tau_d = result.params, result.dt, 0.03
    s = h = 0.0
    expected = []
    for k in range(result.n_steps):
        spike = float(k == 10)
        if synapse == "double":
            s = s * np.exp(-dt / tau_d) + h * dt
            h = h * np.exp(-dt / p.tau_r) + spike / (p.tau_r * tau_d)
        else:
            s = s * np.exp(-dt / tau_d) + spike / tau_d
        expected.append(s)
    got = filter_spikes(result, np.array([tau_d * 1000]), trial=0)
    assert np.allclose(got[:, 0], expected, rtol=1e-9, atol=1e-12)
    assert np.allclose(filter_spikes(result, np.array([30.0]), 0, sample_every=4)[:, 0],
                       expected[3::4])


@pytest.mark.parametrize("synapse", ["double", "single"])
def test_filter_reproduces_the_engines_recorded_rates(synapse):
    from spikernn.spiking.network import SpikingNetwork

    model = tiny_model(N=12, seed=2)
    net = SpikingNetwork(model, 20.0, params=LIFParams(synapse=synapse))
    stimulus = TaskFactory.create_task("go_nogo", model.task_settings).sample_batch(
        2, rng=0).stimulus
    result = net.simulate(stimulus, seed=1, record=("rates",), record_every=10)
    assert result.n_spikes > 0
    for trial in range(2):
        filtered = filter_spikes(result, model.tau_d_ms, trial, sample_every=10)
        assert np.allclose(filtered, result.rates[trial], rtol=1e-3,
                           atol=1e-3 * np.abs(result.rates).max())


def test_comparison_aligns_rate_step_t_with_time_t_dt():
    """Rate step t pairs with the spiking state at time t * 5 ms: recorded sample t - 1
    (record_every = 100 steps) and readout sample 10 t - 1 (downsample = 10)."""
    result = known_result()
    rng = np.random.default_rng(4)
    r = rng.random((N_TRIALS, 20, N_UNITS))
    spk_rates = np.zeros_like(r)
    spk_rates[:, :-1] = result.scaling_factors[:, None, None] * r[:, 1:]
    spk_output = rng.random((N_TRIALS, 200))
    rate_output = np.zeros((N_TRIALS, 20))
    rate_output[:, 1:] = spk_output[:, 9::10][:, :19]
    spiking = dataclasses.replace(result, rates=spk_rates, output=spk_output)
    rate_result = RateResult(output=rate_output, rates=r, x=r)
    traces = align_traces(spiking, rate_result)
    assert np.allclose(traces.times, np.arange(1, 20) * 0.005)
    assert np.allclose(traces.spiking, traces.rate)
    stats = compare_rate_and_spiking(spiking, rate_result, trial_types=["go", "nogo", "go"])
    assert np.allclose(stats["unit_correlation"], 1.0)
    assert np.allclose(stats["unit_correlation_trial_mean"], 1.0)
    assert np.allclose(stats["unit_rmse"], 0.0)
    assert stats["readout_correlation"] == pytest.approx(1.0)
    assert stats["readout_rmse"] == pytest.approx(0.0)
    shifted = dataclasses.replace(spiking, rates=np.roll(spk_rates, 1, axis=1))
    assert np.nanmedian(compare_rate_and_spiking(shifted, rate_result)["unit_rmse"]) > 0.1


def test_comparison_without_recorded_rates_needs_the_model():
    result = known_result()
    bare = dataclasses.replace(result, rates=None)
    rate_result = RateResult(output=np.zeros((N_TRIALS, 20)),
                             rates=np.zeros((N_TRIALS, 20, N_UNITS)), x=None)
    with pytest.raises(ValueError, match="model"):
        align_traces(bare, rate_result)
    traces = align_traces(bare, rate_result, tiny_model(N=N_UNITS, seed=3))
    assert traces.spiking.shape == (N_TRIALS, 19, N_UNITS)
    with pytest.raises(ValueError, match="rate_result.rates"):
        align_traces(result, RateResult(output=np.zeros((N_TRIALS, 20)),
                                        rates=np.zeros((N_TRIALS, 20, 2)), x=None))


def test_pearson_columns_constant_column_is_nan():
    x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    assert np.allclose(pearson_columns(x, 2 * x + 1)[:1], 1.0)
    assert np.isnan(pearson_columns(x, x)[1])


# -- summary, figures, commands --------------------------------------------------------

def test_analyze_summary_is_json_and_matches_direct_computation(tmp_path):
    result = known_result()
    task = TaskFactory.create_task("go_nogo", {"T": 20, "stim_on": 5, "stim_dur": 5})
    summary = analyze(result, task=task)
    text = json.dumps(summary, allow_nan=False)               # NaN became null
    assert json.loads(text) == summary
    rates = result.spike_counts().mean(axis=0) / result.duration
    assert np.allclose(summary["firing_rate_hz"]["per_unit"], rates)
    assert summary["firing_rate_hz"]["E"]["mean"] == pytest.approx(rates[:4].mean())
    assert summary["trial_types"] == {"go": 2, "nogo": 1}
    assert set(summary["fano_factor"]) == {"go"}              # needs >= 2 trials
    counts = result.spike_counts()[[0, 2]]
    with np.errstate(invalid="ignore"):
        fano = counts.var(axis=0) / counts.mean(axis=0)
    got = np.array(summary["fano_factor"]["go"]["per_unit"], dtype=float)
    assert np.allclose(got, fano, equal_nan=True)
    assert summary["isi_cv"]["per_unit"][3] is None           # silent unit
    assert 0.0 <= summary["accuracy"]["spiking"] <= 1.0
    psth_go = summary["psth"]["per_trial_type"]["go"]
    assert set(psth_go) == {"all", "E", "I"} and len(psth_go["all"]) == 5     # 20 ms bins
    files = plot_analysis(result, summary, tmp_path)
    assert [f.name for f in files] == ["analysis_spikes.png", "analysis_population.png",
                                       "analysis_statistics.png", "analysis_viziphant.png"]
    assert all(f.stat().st_size > 10_000 for f in files)


def test_export_and_analyze_commands_end_to_end(tmp_path, capsys):
    """A tiny random network simulated by the engine, exported and analysed."""
    model = tiny_model_file(tmp_path, N=12, seed=2)
    common = ["--model", str(model), "--n-trials", "3", "--seed", "5", "--scaling-factor", "20"]
    assert main(["export", *common, "--out", str(tmp_path / "a.nwb"), "--record",
                 "voltages", "--experimenter", "Doe, Jane", "--institution", "Lab U",
                 "--keywords", "a, b", "--subject-id", "net-1"]) == 0
    assert main(["export", *common, "--out", str(tmp_path / "a.nix")]) == 0
    from pynwb import NWBHDF5IO

    from spikernn.bridges.neo import read_nix
    from spikernn.bridges.nwb import read_nwb
    with NWBHDF5IO(str(tmp_path / "a.nwb"), "r") as io:
        nwb = io.read()
        assert len(nwb.units) == 12 and "voltages" in nwb.acquisition
        assert list(nwb.experimenter[:]) == ["Doe, Jane"] and nwb.institution == "Lab U"
        assert list(nwb.keywords[:]) == ["a", "b"] and nwb.subject.subject_id == "net-1"
    from_nwb, from_nix = read_nwb(tmp_path / "a.nwb").result, read_nix(tmp_path / "a.nix").result
    assert from_nwb.n_spikes > 0
    for name in ("spike_trial", "spike_unit", "spike_step", "output"):   # same seed, same run
        assert np.array_equal(getattr(from_nwb, name), getattr(from_nix, name)), name
    assert main(["analyze", str(tmp_path / "a.nwb"), "--out", str(tmp_path / "from_file")]) == 0
    from_file = json.loads((tmp_path / "from_file" / "analysis.json").read_text())
    assert "rate_vs_spiking" in from_file and "accuracy" in from_file
    assert main(["analyze", *common, "--out", str(tmp_path / "an")]) == 0
    summary = json.loads((tmp_path / "an" / "analysis.json").read_text())
    assert summary["n_units"] == 12 and "rate_vs_spiking" in summary
    assert len(summary["rate_vs_spiking"]["unit_correlation"]["per_unit"]) == 12
    assert (tmp_path / "an" / "analysis_rate_vs_spiking.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "wrote" in out and "rate vs spiking" in out


def test_export_refuses_unknown_suffix_and_record(tmp_path, capsys):
    model = tiny_model_file(tmp_path, N=12, seed=2)
    base = ["export", "--model", str(model), "--scaling-factor", "20"]
    assert main([*base, "--out", str(tmp_path / "a.txt")]) == 2
    assert main([*base, "--out", str(tmp_path / "a.nwb"), "--record", "spikes"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--record" in err
    assert not list(tmp_path.glob("a.*"))


def test_simulate_write_read_analyse_gives_the_same_numbers(tmp_path):
    from spikernn.bridges.neo import read_nix, result_to_block, write_nix
    from spikernn.bridges.nwb import read_nwb, write_nwb
    from spikernn.pipeline import simulate_trials

    sim = simulate_trials(tiny_model(N=12, seed=2), n_trials=3, seed=4, scaling_factor=20.0)
    model, task, result = sim.model, sim.task, sim.result
    expected = analyze(result, model, task=task)
    from_nwb = read_nwb(write_nwb(result, tmp_path / "r.nwb", model))
    from_nix = read_nix(write_nix(result_to_block(result, model), tmp_path / "r.nix"))
    for saved in (from_nwb, from_nix):
        assert analyze(saved.result, saved.model, task=task) == expected
