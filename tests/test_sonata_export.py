"""SONATA export of the shipped Go/NoGo network and a short simulation: read back with
libsonata (the reference reader, extra ``sonata``) and checked field by field with h5py
against the specification's required datasets."""

from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest

from spikernn.bridges.sonata import NOT_EXPRESSED, write_sonata
from spikernn.cli import main
from spikernn.pipeline import simulate_trials
from spikernn.pretrained import pretrained_path

SHORT = {"T": 40, "stim_on": 10, "stim_dur": 10}      # 0.2 s trials


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    sim = simulate_trials(pretrained_path("go_nogo"), n_trials=3, seed=4, task_settings=SHORT,
                          downsample=100)
    files = write_sonata(sim.model, tmp_path_factory.mktemp("sonata") / "net", sim.result)
    return sim, files


def test_required_fields_of_the_specification(exported):
    sim, files = exported
    n = sim.model.N
    with h5py.File(files.nodes) as h5:
        for population, size in (("spikernn", n), ("stimulus", sim.model.n_inputs)):
            group = h5[f"nodes/{population}"]
            for name in ("node_type_id", "node_group_id", "node_group_index"):
                assert group[name].shape == (size,), (population, name)
            assert np.array_equal(group["node_group_index"], np.arange(size))
        types = h5["nodes/spikernn/node_type_id"][()]
        assert np.array_equal(types == 0, sim.model.exc)
    with open(files.node_types) as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    assert {r["node_type_id"]: r["ei"] for r in rows} == {"0": "e", "1": "i", "2": "NULL"}
    assert rows[2]["model_type"] == "virtual"
    with h5py.File(files.edges) as h5:
        for population, source in (("recurrent", "spikernn"), ("input", "stimulus")):
            group = h5[f"edges/{population}"]
            assert group["source_node_id"].attrs["node_population"] == source
            assert group["target_node_id"].attrs["node_population"] == "spikernn"
            size = group["source_node_id"].shape[0]
            for name in ("edge_type_id", "edge_group_id", "edge_group_index", "0/syn_weight",
                         "0/delay"):
                assert group[name].shape == (size,), (population, name)
    with h5py.File(files.spikes) as h5:
        group = h5["spikes/spikernn"]
        assert group["timestamps"].attrs["units"] == "ms"
        assert group["timestamps"].shape == group["node_ids"].shape == (sim.result.n_spikes,)
        assert np.all(np.diff(group["timestamps"][()]) >= 0)        # sorted by time
    config = json.loads(files.simulation_config.read_text())
    assert config["run"]["dt"] == pytest.approx(0.05)
    assert config["run"]["tstop"] == pytest.approx(3 * 200.0)
    assert config["spikernn"]["not_expressed"] == list(NOT_EXPRESSED)


def test_libsonata_reads_the_network_and_spikes(exported):
    libsonata = pytest.importorskip("libsonata")
    sim, files = exported
    model, result = sim.model, sim.result
    s = float(result.scaling_factors[0])
    circuit = libsonata.CircuitConfig.from_file(str(files.circuit_config))
    assert circuit.node_populations == {"spikernn", "stimulus"}
    assert circuit.edge_populations == {"recurrent", "input"}
    nodes = circuit.node_population("spikernn")
    everyone = nodes.select_all()
    assert nodes.size == model.N
    assert np.allclose(nodes.get_dynamics_attribute("tau_syn_decay", everyone), model.tau_d_ms)
    assert np.allclose(nodes.get_attribute("readout_weight", everyone), model.w_out[0] / s)
    node_sets = libsonata.NodeSets.from_file(str(files.node_sets))
    assert np.array_equal(node_sets.materialize("inhibitory", nodes).flatten(),
                          np.flatnonzero(model.inh))

    recurrent = circuit.edge_population("recurrent")
    w = model.w_effective
    assert recurrent.size == np.count_nonzero(w)
    for unit in (0, 7, model.N - 1):        # the indices: afferent and efferent edges
        incoming = recurrent.afferent_edges([unit])
        sources = recurrent.source_nodes(incoming)
        assert sorted(sources) == list(np.flatnonzero(w[unit]))
        assert np.allclose(recurrent.get_attribute("syn_weight", incoming), w[unit, sources] / s)
        outgoing = recurrent.efferent_edges([unit])
        assert sorted(recurrent.target_nodes(outgoing)) == list(np.flatnonzero(w[:, unit]))
    assert np.allclose(recurrent.get_attribute("delay", recurrent.select_all()), 0.05)
    inputs = circuit.edge_population("input")
    assert np.allclose(inputs.get_attribute("syn_weight", inputs.afferent_edges([3])),
                       model.w_in[3])

    spikes = libsonata.SpikeReader(str(files.spikes))["spikernn"]
    assert spikes.sorting == "by_time"
    node_ids, times = np.array(spikes.get()).T
    expected = (result.spike_step + 1) * 0.05 + result.spike_trial * 200.0
    order = np.lexsort((result.spike_unit, expected))
    assert np.array_equal(node_ids, result.spike_unit[order])
    assert np.allclose(times, expected[order])
    simulation = libsonata.SimulationConfig.from_file(str(files.simulation_config))
    assert simulation.run.tstop == pytest.approx(600.0)
    assert simulation.output.spikes_file == str(files.spikes)


def test_trials_and_inputs(exported):
    sim, files = exported
    with open(files.trials) as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    assert [r["trial_type"] for r in rows] == list(sim.result.trials.trial_types)
    assert [float(r["start_ms"]) for r in rows] == [0.0, 200.0, 400.0]
    with h5py.File(files.inputs) as h5:
        assert np.array_equal(h5["stimulus/data"][()], sim.result.trials.stimulus)
        assert h5["stimulus/data"].attrs["dt_ms"] == 5.0
        assert np.array_equal(h5["v0"][()], sim.result.v0)


def test_cli_writes_a_sonata_folder(tmp_path, capsys):
    out = tmp_path / "trials.sonata"
    assert main(["export", "--model", str(pretrained_path("go_nogo")), "--n-trials", "2",
                 "--out", str(out)]) == 0
    assert "sonata" in capsys.readouterr().out
    assert (out / "spikes.h5").is_file() and (out / "circuit_config.json").is_file()


def test_network_only_and_bad_input(tmp_path):
    model = simulate_trials(pretrained_path("go_nogo"), n_trials=1, seed=0,
                            task_settings=SHORT).model
    files = write_sonata(model, tmp_path / "net")            # the model's opt_scaling_factor
    assert files.spikes is None and not (tmp_path / "net" / "spikes.h5").exists()
    with h5py.File(files.edges) as h5:
        weights = h5["edges/recurrent/0/syn_weight"][()]
    assert np.allclose(np.sort(weights), np.sort(model.w_effective[model.w_effective != 0]
                                                 / model.opt_scaling_factor))
    with pytest.raises(ValueError, match="scaling_factor"):
        write_sonata(model, tmp_path / "bad", scaling_factor=-1.0)
