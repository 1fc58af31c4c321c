"""NIR export: the graph, its warning, and the read-back through nir."""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from spiking_helpers import tiny_model  # noqa: E402

from spikernn.bridges.nir import NIRExportWarning, to_nir, write_nir  # noqa: E402
from spikernn.spiking.params import LIFParams  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return tiny_model(N=8, seed=3)


def test_graph_holds_the_network_and_warns_what_it_cannot_express(model):
    with pytest.warns(NIRExportWarning, match="double-exponential.*refractory"):
        graph = to_nir(model, 25.0)
    assert set(graph.nodes) == {"input", "w_in", "lif", "w_rec", "readout_filter", "w_out",
                                "output"}
    assert ("w_rec", "lif") in graph.edges and ("lif", "w_rec") in graph.edges
    lif = graph.nodes["lif"]
    assert np.allclose(lif.tau_syn, model.tau_d_ms * 1e-3)
    assert np.allclose(lif.v_threshold, -40.0) and np.allclose(lif.v_leak, -40.0)
    assert np.allclose(graph.nodes["w_rec"].weight, model.w_effective / 25.0)
    assert np.allclose(graph.nodes["w_out"].weight, model.w_out / 25.0)


def test_single_exponential_synapse_without_refractoriness_warns_less(model):
    with pytest.warns(NIRExportWarning) as record:
        to_nir(model, 25.0, LIFParams(synapse="single", t_ref=0.0))
    text = str(record[0].message)
    assert "double-exponential" not in text and "refractory" not in text


def test_written_graph_reads_back_through_nir(model, tmp_path):
    with pytest.warns(NIRExportWarning):
        path = write_nir(model, 25.0, tmp_path / "net.nir")
        graph = to_nir(model, 25.0)
    back = nir.read(str(path))
    assert set(back.nodes) == set(graph.nodes)
    assert sorted(back.edges) == sorted(graph.edges)
    for name in ("w_in", "w_rec", "w_out"):
        assert np.array_equal(back.nodes[name].weight, graph.nodes[name].weight)
    assert np.array_equal(back.nodes["lif"].tau_syn, graph.nodes["lif"].tau_syn)
    assert isinstance(back.nodes["lif"], nir.CubaLIF)


def test_qif_and_bad_factor_are_refused(model):
    with pytest.raises(ValueError, match="neuron"):
        to_nir(model, 25.0, LIFParams(neuron="qif"))
    with pytest.raises(ValueError, match="scaling_factor"):
        to_nir(model, 0.0)
