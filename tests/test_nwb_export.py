"""NWB export of a simulation: DANDI checks, read back with pynwb, Neo and read_nwb."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pynwb
import pytest
from pynwb import NWBHDF5IO
from spiking_helpers import tiny_model
from test_neo_export import N_UNITS, known_result

from spikernn._version import __version__
from spikernn.bridges.nwb import (
    SYNTHETIC_SPECIES,
    read_nwb,
    read_nwb_neo,
    result_to_nwb,
    trial_starts,
    write_nwb,
)

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
                     session_start_time=START, identifier="test-file",
                     experimenter="Doe, Jane", institution="Test Institute",
                     keywords=["spiking", "test"])


def _session_times(result, unit: int) -> np.ndarray:
    """Spike times of ``unit`` over all trials on the file's time axis."""
    starts = trial_starts(result)
    return np.concatenate([starts[b] + result.spike_trains(b)[unit]
                           for b in range(result.batch_size)])


def test_units_table_has_one_row_per_neuron(result, model, nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwb = io.read()
        units = nwb.units.to_dataframe()
        resolution = nwb.units.resolution
    assert len(units) == N_UNITS and list(units.index) == list(range(N_UNITS))
    assert resolution == result.dt
    for unit, row in enumerate(units.itertuples()):
        assert row.unit_index == unit
        assert np.array_equal(row.spike_times, _session_times(result, unit))
        assert row.cell_type == ("E" if unit < 4 else "I") and row.excitatory == (unit < 4)
        assert row.tau_d_ms == pytest.approx(model.tau_d_ms[unit])
    assert sum(len(t) for t in units.spike_times) == result.n_spikes


def test_trial_end_spike_lies_inside_its_trial_only(result, nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        spikes = np.asarray(nwb.units.to_dataframe().spike_times[0])
    assert spikes.max() <= trials.stop_time.iloc[-1]
    end_of_first = trials.stop_time.iloc[0]
    assert end_of_first in spikes                           # the spike at t_stop of trial 0
    assert trials.start_time.iloc[1] > end_of_first         # the next trial starts later


def test_trials_timeseries_and_metadata_read_back_with_pynwb(result, nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        stimulus = nwb.stimulus["stimulus"]
        stim_data, stim_times = stimulus.data[:], stimulus.timestamps[:]
        readout = nwb.acquisition["readout"]
        readout_data, readout_times = readout.data[:], readout.timestamps[:]
        rates = nwb.acquisition["rates"].data[:]
        notes, identifier = json.loads(nwb.notes), nwb.identifier
        generated_by = [list(x) for x in nwb.was_generated_by[:]]
        label_dtype = nwb.trials["label"].data.dtype
        subject = nwb.subject
        species, sex, age = subject.species, subject.sex, subject.age
        experimenter, institution = list(nwb.experimenter[:]), nwb.institution
        keywords = list(nwb.keywords[:])
    assert list(trials.trial_type) == ["go", "nogo", "go"]
    assert list(trials.label) == [1, 0, 1] and label_dtype.kind == "i"
    assert list(trials.scaling_factor) == [20.0, 30.0, 30.0]
    assert np.allclose(trials.stop_time - trials.start_time, result.duration)
    assert np.allclose(np.diff(stim_times[:20]), 0.005)
    assert np.array_equal(stim_data[20:40, 0], result.metadata["stimulus"][1, 0])
    assert np.array_equal(readout_data, result.output.reshape(-1))
    assert readout_times[0] == pytest.approx(10 * result.dt)
    assert readout_times[200] == pytest.approx(trial_starts(result)[1] + 10 * result.dt)
    assert np.array_equal(rates, result.rates.reshape(-1, N_UNITS))
    assert notes["seed"] == 7 and notes["spikernn_version"] == __version__
    assert notes["lif_params"]["v_reset"] == -65.0 and notes["model"]["N"] == N_UNITS
    assert identifier == "test-file"
    assert generated_by == [["spikernn", __version__]]
    assert species == SYNTHETIC_SPECIES and sex == "U" and age == "P0D"
    assert experimenter == ["Doe, Jane"] and institution == "Test Institute"
    assert keywords == ["spiking", "test"]


def test_file_is_valid_nwb(nwb_path):
    assert pynwb.validate(path=str(nwb_path)) == []


def test_dandi_inspection_finds_nothing_critical(nwb_path):
    nwbinspector = pytest.importorskip("nwbinspector")
    Importance, inspect_nwbfile = nwbinspector.Importance, nwbinspector.inspect_nwbfile
    load_config = nwbinspector.load_config
    messages = list(inspect_nwbfile(nwbfile_path=str(nwb_path), config=load_config("dandi")))
    bad = [f"{m.importance.name} {m.check_function_name}: {m.message}" for m in messages
           if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)]
    assert bad == []


def test_neo_nwbio_reads_one_train_per_unit(result, nwb_path):
    block = read_nwb_neo(nwb_path)
    segment = block.segments[0]
    assert len(segment.spiketrains) == N_UNITS
    for unit, train in enumerate(segment.spiketrains):
        assert np.array_equal(train.times.rescale("s").magnitude, _session_times(result, unit))
    names = {s.name for s in segment.irregularlysampledsignals}  # timestamps: trials have gaps
    assert {"readout", "stimulus", "voltages", "rates"} <= names
    assert block.annotations["keywords"] == ["spiking", "test"]


def test_read_nwb_gives_back_the_result_and_the_model(result, model, nwb_path):
    content = read_nwb(nwb_path)
    back, back_model = content.result, content.model
    for name in ("spike_trial", "spike_unit", "spike_step", "output", "scaling_factors", "exc",
                 "voltages", "currents", "rates"):
        assert np.array_equal(getattr(back, name), getattr(result, name)), name
    assert (back.dt, back.n_steps, back.downsample, back.record_every, back.seed) == (
        result.dt, result.n_steps, result.downsample, result.record_every, result.seed)
    assert back.params == result.params
    assert back.trials.labels == (1, 0, 1)
    assert back.trials.trial_types == ("go", "nogo", "go")
    assert back.trials.task == "go_nogo"
    assert np.array_equal(back.trials.stimulus, result.metadata["stimulus"])
    for name in ("w", "w0", "m", "som_m", "w_in", "w_out", "exc", "taus_gaus", "taus_gaus0"):
        assert np.array_equal(getattr(back_model, name), getattr(model, name)), name
    assert back_model.taus == model.taus and back_model.b_out == model.b_out
    assert back_model.task_settings == model.task_settings
    assert np.array_equal(back_model.tau_d_ms, model.tau_d_ms)


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
