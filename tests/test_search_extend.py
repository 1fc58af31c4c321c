"""The search extends its grid past an edge that holds the best factor, reports each
factor's binomial standard error, and says why a model does not convert."""

from __future__ import annotations

import json

import numpy as np
import pytest
from spiking_helpers import tiny_model, tiny_model_file

from spikernn.artifact import load_model
from spikernn.cli import main
from spikernn.spiking.diagnosis import CONVERSION_CRITERION, diagnose_search
from spikernn.spiking.search import MIN_EXTENDED_FACTOR, lambda_grid_search

#: On :func:`tiny_model` (seed 1) with 8 trials (seed 0): 0% at s = 4 and 25% from s = 8
#: upwards (every NoGo trial right, every Go trial wrong), so the best (8, tied) reaches the
#: upper edge of this grid, and the readout of Go trials stays below 0.7 from s = 4 upwards.
UPPER_TIED = [4.0, 8.0, 16.0]
#: 75% at s = 1 (Go right, NoGo wrong) and at most 37.5% at 3, 5, 7: the best is past the
#: lower edge, one step (2) below 3; the next step would be below MIN_EXTENDED_FACTOR.
LOWER_EDGE = [3.0, 5.0, 7.0]


def _search(grid, **kw):
    return lambda_grid_search(tiny_model(seed=1), "go_nogo", 8, grid, progress=False, **kw)


def _per_factor(result):
    return {f: (a, str(t), str(p)) for f, a, t, p in zip(
        result.scaling_factors.tolist(), result.accuracies.tolist(), result.accuracy_by_type,
        result.peak_readout_by_type, strict=True)}


def test_edge_extension_adds_factors_on_the_same_trials():
    extended = _search(UPPER_TIED, extend_edges=2)
    assert extended.scaling_factors.tolist() == [4.0, 8.0, 16.0, 24.0, 32.0]
    assert extended.extended_factors.tolist() == [24.0, 32.0]
    assert extended.model.scaling_factors.tolist() == extended.scaling_factors.tolist()
    assert np.array_equal(extended.model.all_perfs, extended.accuracies)
    plain = _search(UPPER_TIED, extend_edges=0)
    assert plain.scaling_factors.tolist() == UPPER_TIED and plain.extended_factors.size == 0
    explicit = _search([32.0, 24.0], extend_edges=0)  # common random numbers
    together = {**_per_factor(plain), **_per_factor(explicit)}
    assert _per_factor(extended) == {f: together[f] for f in extended.scaling_factors}
    assert _search([16.0, 8.0, 32.0], extend_edges=0).accuracies.min() < 1  # not all equal


def test_extension_stops_at_the_minimum_factor():
    result = _search(LOWER_EDGE)
    assert result.extended_factors.tolist() == [1.0] == [MIN_EXTENDED_FACTOR]
    assert result.best_scaling_factor == 1.0 and result.best_accuracy == 0.75
    numbers = result.diagnosis.numbers
    assert numbers["best_at_bound"] == "lower" and "minimum factor" in numbers["stopped_by"]
    assert "nogo" in numbers["failing_types"] and "v_init" in numbers["suggestions"]
    assert "extend_lower" not in numbers["suggestions"]


def test_standard_errors_and_diagnosis_in_the_result():
    result = _search(UPPER_TIED, extend_edges=1)
    p = result.accuracies
    assert np.allclose(result.standard_errors, np.sqrt(p * (1 - p) / 8))
    d = result.diagnosis
    assert not d.converted and d.criterion == CONVERSION_CRITERION
    assert d.numbers["failing_types"]["go"] == {"accuracy_at_best": 0.0, "max_accuracy": 0.0,
                                                "min_accuracy": 0.0}
    assert set(d.numbers["readout_too_small"]) == {"go"}
    assert d.numbers["readout_too_small"]["go"] < 0.7
    assert d.numbers["best_at_bound"] is None  # 8 is the smallest of the tied best
    assert any("readout too small" in line for line in d.lines)
    assert any(line.startswith("go trials") for line in d.lines)
    plain = json.loads(json.dumps(result.to_dict()))
    assert plain["standard_errors"] == result.standard_errors.tolist()
    assert plain["extended_factors"] == [24.0]
    assert plain["diagnosis"]["numbers"]["failing_types"].keys() == {"go"}
    assert plain["peak_readout_by_type"][0].keys() == {"go", "nogo"}


def test_a_converted_search_has_nothing_to_diagnose():
    d = diagnose_search([20.0, 25.0], [0.9, 0.97], [{"go": 0.8}, {"go": 0.94}], [{}, {}],
                        responding_types=["go"], response_threshold=0.7, best_index=1,
                        stopped={})
    assert d.converted and d.lines == []
    at_edge = diagnose_search([20.0, 25.0], [0.9, 0.5], [{"go": 0.9}, {"go": 0.5}], [{}, {}],
                              responding_types=["go"], response_threshold=0.7, best_index=0,
                              stopped={"lower": "the extension budget (extend_edges)"})
    assert at_edge.numbers["best_at_bound"] == "lower"
    assert "extend_lower" in at_edge.numbers["suggestions"]
    assert at_edge.numbers["readout_too_small"] == {}  # no peaks measured: no claim


def test_extension_is_recorded_in_sidecar_and_model_and_resumes(tmp_path):
    path = tiny_model_file(tmp_path, seed=1)
    first = lambda_grid_search(path, "go_nogo", 8, UPPER_TIED, progress=False, extend_edges=2)
    sidecar = json.loads(path.with_name("model.search.json").read_text())
    assert sidecar["grid"] == {"requested": UPPER_TIED, "extended": [24.0, 32.0],
                               "extend_edges": 2}
    assert set(sidecar["results"]) == {repr(f) for f in first.scaling_factors.tolist()}
    model = load_model(path)
    assert model.scaling_factors.tolist() == [4.0, 8.0, 16.0, 24.0, 32.0]
    assert np.array_equal(model.all_perfs, first.accuracies)
    seen = []
    again = lambda_grid_search(path, "go_nogo", 8, UPPER_TIED, progress=False, extend_edges=2,
                               callback=lambda f, a: seen.append(f))
    assert seen == [] and again.extended_factors.tolist() == [24.0, 32.0]
    more = lambda_grid_search(path, "go_nogo", 8, UPPER_TIED, progress=False, extend_edges=3,
                              callback=lambda f, a: seen.append(f))
    assert seen == [40.0] and more.extended_factors.tolist() == [24.0, 32.0, 40.0]


def test_extend_edges_is_validated():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="extend_edges"):
            _search(UPPER_TIED, extend_edges=bad)


def test_cli_prints_errors_extension_and_diagnosis(tmp_path, capsys):
    path = tiny_model_file(tmp_path, seed=1)
    assert main(["search", str(path), "--n-trials", "8", "--scaling-factors", "4,8,16",
                 "--extend-edges", "1"]) == 0
    out = capsys.readouterr().out
    assert "± SE" in out and "(added)" in out and "24, " not in out
    assert "grid extended past its edges by 1 factor(s): 24" in out
    assert "not converted: best accuracy 25.0%" in out and "readout too small" in out
    assert load_model(path).scaling_factors.tolist() == [4.0, 8.0, 16.0, 24.0]
    assert main(["search", str(path), "--extend-edges", "-1"]) == 2
    assert "--extend-edges" in capsys.readouterr().err
