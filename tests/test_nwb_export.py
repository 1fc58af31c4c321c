"""NWB export of a simulation, read back with pynwb and with Neo independently."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pynwb
import pytest
from neo.io import NWBIO
from pynwb import NWBHDF5IO
from spiking_helpers import tiny_model
from test_neo_export import N_TRIALS, N_UNITS, known_result

from spikernn._version import __version__
from spikernn.bridges.nwb import result_to_nwb, write_nwb

START = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def result():
    return known_result()


@pytest.fixture(scope="module")
def model():
    return tiny_model(N=N_UNITS, seed=3)


@pytest.fixture(scope="module")
def nwb_path(result, model, tmp_path_factory):
    return write_nwb(result, tmp_path_factory.mktemp("nwb") / "trials.nwb", model,
                     session_start_time=START, identifier="test-file")


def _session_times(result, trial: int, unit: int) -> np.ndarray:
    """Spike times of (trial, unit) on the file's time axis (trials end to end)."""
    return trial * result.duration + result.spike_trains(trial)[unit]


def test_units_table_read_back_with_pynwb(result, model, nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        units = io.read().units.to_dataframe()
    assert len(units) == N_TRIALS * N_UNITS
    for (trial, unit), row in zip(np.ndindex(N_TRIALS, N_UNITS), units.itertuples(),
                                  strict=True):
        assert (row.trial_index, row.unit_index) == (trial, unit)
        assert np.array_equal(row.spike_times, _session_times(result, trial, unit))
        assert row.cell_type == ("E" if unit < 4 else "I")
        assert row.tau_d_ms == pytest.approx(model.tau_d_ms[unit])
        assert np.array_equal(row.obs_intervals,
                              [[trial * result.duration, (trial + 1) * result.duration]])
    assert sum(len(t) for t in units.spike_times) == result.n_spikes


def test_trials_timeseries_and_metadata_read_back_with_pynwb(result, nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        stimulus = nwb.stimulus["stimulus"]
        stim_data, stim_rate = stimulus.data[:], stimulus.rate
        readout = nwb.acquisition["readout"]
        readout_data, readout_start = readout.data[:], readout.starting_time
        rates = nwb.acquisition["rates"].data[:]
        notes, identifier = json.loads(nwb.notes), nwb.identifier
        generated_by = [list(x) for x in nwb.was_generated_by[:]]
    assert list(trials.trial_type) == ["go", "nogo", "go"]
    assert list(trials.label) == [1.0, 0.0, 1.0]
    assert list(trials.scaling_factor) == [20.0, 30.0, 30.0]
    assert np.allclose(trials.stop_time - trials.start_time, result.duration)
    assert stim_rate == pytest.approx(200.0)
    assert np.array_equal(stim_data[20:40, 0], result.metadata["stimulus"][1, 0])
    assert np.array_equal(readout_data, result.output.reshape(-1))
    assert readout_start == pytest.approx(10 * result.dt)
    assert np.array_equal(rates, result.rates.reshape(-1, N_UNITS))
    assert notes["seed"] == 7 and notes["spikernn_version"] == __version__
    assert notes["lif_params"]["v_reset"] == -65.0 and notes["model"]["N"] == N_UNITS
    assert identifier == "test-file"
    assert generated_by == [["spikernn", __version__]]


def test_file_is_valid_nwb(nwb_path):
    assert pynwb.validate(path=str(nwb_path)) == []


def test_neo_nwbio_reads_the_spike_times_unchanged(result, nwb_path):
    block = NWBIO(str(nwb_path), mode="r").read_block()
    segment = block.segments[0]
    assert len(segment.spiketrains) == N_TRIALS * N_UNITS
    for (trial, unit), train in zip(np.ndindex(N_TRIALS, N_UNITS), segment.spiketrains,
                                    strict=True):
        assert np.array_equal(train.times.rescale("s").magnitude,
                              _session_times(result, trial, unit))
        assert float(train.t_start) == pytest.approx(trial * result.duration)
    names = {s.name for s in segment.analogsignals}
    assert {"readout", "stimulus", "voltages", "rates"} <= names


def test_text_labels_and_no_model(result, tmp_path):
    path = write_nwb(result, tmp_path / "x.nwb", labels=["same", "diff", "same"])
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert list(nwb.trials.to_dataframe().label) == ["same", "diff", "same"]
        assert "tau_d_ms" not in nwb.units.colnames
    assert [p.name for p in tmp_path.iterdir()] == ["x.nwb"]     # no temporary left


def test_bad_metadata_leaves_an_existing_file_untouched(result, tmp_path):
    path = tmp_path / "x.nwb"
    path.write_text("previous")
    with pytest.raises(ValueError, match="labels"):
        write_nwb(result, path, labels=[1])
    assert path.read_text() == "previous"


def test_naive_start_time_is_refused(result):
    with pytest.raises(ValueError, match="session_start_time"):
        result_to_nwb(result, session_start_time=datetime.datetime(2026, 1, 1))
