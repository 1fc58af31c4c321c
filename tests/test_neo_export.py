"""Neo export of a simulation and its NIX round trip (real neo and nixio)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import quantities as pq
from spiking_helpers import tiny_model

from spikernn.bridges.neo import (
    block_to_result,
    read_nix,
    read_nix_block,
    result_to_block,
    trial_info,
    write_nix,
)
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult

N_UNITS, N_TRIALS, N_STEPS = 6, 3, 2000  # 0.1 s trials = 20 rate steps of 5 ms


def known_result(seed: int = 0) -> SimulationResult:
    """Three trials of six units (units 4, 5 inhibitory) with random spikes, every
    recording, and the metadata the spiking evaluation attaches."""
    rng = np.random.default_rng(seed)
    raster = rng.random((N_TRIALS, N_STEPS, N_UNITS)) < 0.004
    raster[:, :, 3] = False                            # a silent unit
    raster[0, N_STEPS - 1, 0] = True                   # a spike exactly at t_stop
    trial, step, unit = np.nonzero(raster)
    order = np.lexsort((unit, trial, step))
    n_rec = N_STEPS // 100
    return SimulationResult(
        output=rng.normal(size=(N_TRIALS, N_STEPS // 10)).astype(np.float32),
        spike_trial=trial[order], spike_unit=unit[order], spike_step=step[order],
        dt=5e-5, n_steps=N_STEPS, downsample=10, scaling_factors=np.array([20.0, 30.0, 30.0]),
        exc=np.arange(N_UNITS) < 4, params=LIFParams(), record_every=100,
        voltages=rng.normal(-60, 5, (N_TRIALS, n_rec, N_UNITS)).astype(np.float32),
        currents=rng.normal(0, 1, (N_TRIALS, n_rec, N_UNITS)).astype(np.float32),
        rates=rng.random((N_TRIALS, n_rec, N_UNITS)).astype(np.float32), seed=7,
        metadata={"task": "go_nogo", "labels": [1, 0, np.int64(1)],
                  "trial_types": ["go", "nogo", "go"],
                  "stimulus": rng.random((N_TRIALS, 1, N_STEPS // 100)).astype(np.float32)})


@pytest.fixture(scope="module")
def result():
    return known_result()


@pytest.fixture(scope="module")
def model():
    return tiny_model(N=N_UNITS, seed=3)


def _times(train) -> np.ndarray:
    return train.times.rescale(pq.s).magnitude


def test_block_holds_every_spike_with_unit_annotations(result, model):
    block = result_to_block(result, model)
    assert len(block.segments) == N_TRIALS
    for b, segment in enumerate(block.segments):
        expected = result.spike_trains(b)
        assert len(segment.spiketrains) == N_UNITS
        for u, train in enumerate(segment.spiketrains):
            assert np.array_equal(_times(train), expected[u])
            assert float(train.t_start) == result.dt
            assert float(train.t_stop) == pytest.approx(result.duration + result.dt)
            assert float(train.sampling_rate.rescale("Hz")) == pytest.approx(1 / result.dt)
            assert train.annotations["unit"] == u
            assert train.annotations["cell_type"] == ("E" if u < 4 else "I")
            assert train.annotations["tau_d_ms"] == pytest.approx(model.tau_d_ms[u])
    assert sum(len(t) for s in block.segments for t in s.spiketrains) == result.n_spikes
    assert float(block.segments[0].spiketrains[0].times[-1]) == result.duration


def test_segments_carry_trial_metadata(result):
    block = result_to_block(result)
    meta = [s.annotations for s in block.segments]
    assert [m["trial_type"] for m in meta] == ["go", "nogo", "go"]
    assert [m["label"] for m in meta] == [1, 0, 1]
    assert type(meta[2]["label"]) is int                     # numpy scalars become Python
    assert [m["scaling_factor"] for m in meta] == [20.0, 30.0, 30.0]
    assert all(m["task"] == "go_nogo" and m["seed"] == 7 for m in meta)
    settings = json.loads(block.annotations["settings"])
    assert settings["seed"] == 7 and settings["lif_params"]["tau_m"] == 0.01
    assert "tau_d_ms" not in block.segments[0].spiketrains[0].annotations  # no model given


def test_signals_have_units_and_time_base(result):
    signals = {s.name: s for s in result_to_block(result).segments[1].analogsignals}
    assert set(signals) == {"readout", "stimulus", "voltages", "currents", "rates"}
    readout = signals["readout"]
    assert readout.magnitude[0, 0] == 0.0                  # the initial state at t = 0
    assert np.array_equal(readout.magnitude[1:, 0], result.output[1])
    assert float(readout.sampling_period.rescale("s")) == pytest.approx(10 * result.dt)
    assert float(readout.t_start.rescale("s")) == 0.0
    stimulus = signals["stimulus"]
    assert np.array_equal(stimulus.magnitude[:, 0], result.metadata["stimulus"][1, 0])
    assert float(stimulus.sampling_period.rescale("ms")) == pytest.approx(5.0)
    assert float(stimulus.t_start) == 0.0
    assert signals["voltages"].units == pq.mV and signals["rates"].units == pq.Hz
    assert np.array_equal(signals["voltages"].magnitude[1:], result.voltages[1])
    assert np.all(signals["rates"].magnitude[0] == 0.0)
    assert list(signals["voltages"].array_annotations["cell_type"]) == list("EEEEII")


def test_elephant_bins_every_spike_and_aligns_signals_with_trains(result):
    from elephant.conversion import BinnedSpikeTrain
    from elephant.sta import spike_triggered_average

    segment = result_to_block(result).segments[0]
    binned = BinnedSpikeTrain(segment.spiketrains, bin_size=5 * pq.ms)
    counts = binned.to_array().sum(axis=1)
    assert np.array_equal(counts, [len(t) for t in result.spike_trains(0)])  # none dropped
    readout = [s for s in segment.analogsignals if s.name == "readout"][0]
    assert readout.t_start <= segment.spiketrains[0].t_start     # one clock: trial time
    assert readout.t_stop >= segment.spiketrains[0].t_stop
    sta = spike_triggered_average(readout, segment.spiketrains[0], (-1 * pq.ms, 1 * pq.ms))
    assert sta.shape[1] == 1


def test_groups_split_the_populations_across_trials(result, model):
    block = result_to_block(result, model)
    groups = {g.name: g for g in block.groups}
    unit = groups["unit 4"]
    assert [t.annotations["unit"] for t in unit.spiketrains] == [4] * N_TRIALS
    assert unit.spiketrains[1] is block.segments[1].spiketrains[4]
    assert unit.annotations["cell_type"] == "I"
    assert np.array_equal(unit.annotations["w"], model.w[4])
    assert unit.annotations["tau_d_ms"] == pytest.approx(model.tau_d_ms[4])
    assert len(groups["excitatory"].spiketrains) == 4 * N_TRIALS
    assert len(groups["inhibitory"].spiketrains) == 2 * N_TRIALS
    assert {t.annotations["cell_type"] for t in groups["inhibitory"].spiketrains} == {"I"}
    assert groups["inhibitory"].spiketrains[0] is block.segments[0].spiketrains[4]


def test_nix_round_trip_keeps_spike_times_exactly(result, model, tmp_path):
    path = write_nix(result_to_block(result, model), tmp_path / "trials.nix")
    assert [p.name for p in tmp_path.iterdir()] == ["trials.nix"]   # no temporary left
    block = read_nix_block(path)
    assert len(block.segments) == N_TRIALS
    for b, segment in enumerate(block.segments):
        expected = result.spike_trains(b)
        for u, train in enumerate(segment.spiketrains):
            assert np.array_equal(_times(train), expected[u])
            assert train.annotations["cell_type"] == ("E" if u < 4 else "I")
            assert train.annotations["unit"] == u
        assert segment.annotations["trial_type"] == result.metadata["trial_types"][b]
        assert float(segment.spiketrains[0].t_stop.rescale("s")) == pytest.approx(
            result.duration + result.dt)
    assert sorted(g.name for g in block.groups)[-2:] == ["unit 4", "unit 5"]
    voltages = [s for s in block.segments[2].analogsignals if s.name == "voltages"][0]
    assert np.array_equal(voltages.magnitude[1:], result.voltages[2])


def test_read_nix_gives_back_the_result_and_the_model(result, model, tmp_path):
    saved = read_nix(write_nix(result_to_block(result, model), tmp_path / "t.nix"))
    back = saved.result
    for name in ("spike_trial", "spike_unit", "spike_step", "output", "scaling_factors", "exc",
                 "voltages", "currents", "rates"):
        assert np.array_equal(getattr(back, name), getattr(result, name)), name
    assert (back.dt, back.n_steps, back.downsample, back.seed) == (
        result.dt, result.n_steps, result.downsample, result.seed)
    assert back.trials.labels == (1, 0, 1) and back.trials.task == "go_nogo"
    assert np.array_equal(back.trials.stimulus, result.metadata["stimulus"])
    for name in ("w", "w0", "m", "som_m", "w_in", "w_out", "exc", "taus_gaus"):
        assert np.array_equal(getattr(saved.model, name), getattr(model, name)), name
    assert saved.model.task_settings == model.task_settings
    assert block_to_result(result_to_block(result)).model is None


def test_explicit_metadata_overrides_result_metadata(result):
    block = result_to_block(result, task_name="xor", labels=["a", "b", "c"],
                            trial_types=["x", "y", "z"], stimulus=np.zeros((1, 20)))
    assert [s.annotations["label"] for s in block.segments] == ["a", "b", "c"]
    assert block.annotations["task"] == "xor"
    stim = [s for s in block.segments[0].analogsignals if s.name == "stimulus"][0]
    assert stim.shape == (20, 1)                            # one stimulus for every trial


@pytest.mark.parametrize("kwargs, field", [
    ({"labels": [1, 0]}, "labels"),
    ({"trial_types": "go"}, "trial_types"),
    ({"stimulus": np.zeros((N_TRIALS, 1, 19))}, "stimulus"),
    ({"stimulus": np.zeros((2, 1, 20))}, "stimulus"),
])
def test_mismatched_metadata_names_the_field(result, kwargs, field):
    with pytest.raises(ValueError, match=field):
        trial_info(result, **kwargs)


def test_model_of_another_size_is_refused(result):
    with pytest.raises(ValueError, match="model"):
        result_to_block(result, tiny_model(N=N_UNITS + 1))
