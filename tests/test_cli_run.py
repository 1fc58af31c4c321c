"""``spikernn search``, ``spikernn evaluate`` and ``spikernn run`` end to end (small models)."""

from __future__ import annotations

import json

import pytest
from spiking_helpers import tiny_model_file

from spikernn.artifact import load_model
from spikernn.cli import main


def test_search_then_evaluate(tmp_path, capsys):
    path = tiny_model_file(tmp_path)
    assert main(["search", str(path), "--n-trials", "4", "--scaling-factors", "10:30:10"]) == 0
    out = capsys.readouterr().out
    assert "best scaling factor" in out
    model = load_model(path)
    assert model.scaling_factors.tolist() == [10.0, 20.0, 30.0]
    assert main(["evaluate", str(path), "--n-trials", "4", "--out", str(tmp_path / "ev"),
                 "--no-plots"]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["scaling_factor"] == model.opt_scaling_factor
    assert "spiking accuracy" in capsys.readouterr().out


def test_run_writes_everything_into_one_folder(tmp_path, capsys):
    source = tiny_model_file(tmp_path)
    out = tmp_path / "run"
    assert main(["run", "--task", "go-nogo", "--model", str(source), "--out", str(out),
                 "--n-trials", "3", "--seed", "2"]) == 0
    text = capsys.readouterr().out
    assert "best scaling factor" in text and "spiking accuracy" in text
    names = {p.name for p in out.iterdir()}
    assert {"go_nogo_model.mat", "go_nogo_model.search.json", "search_results.json",
            "metrics.json", "readout_spiking_vs_rate.png",
            "accuracy_vs_scaling_factor.png"} <= names
    search = json.loads((out / "search_results.json").read_text())
    assert search["scaling_factors"] == list(map(float, range(20, 76, 5)))
    model = load_model(out / "go_nogo_model.mat")
    assert model.opt_scaling_factor == search["best_scaling_factor"]
    assert json.loads((out / "metrics.json").read_text())["scaling_factor"] == \
        search["best_scaling_factor"]
    assert load_model(source).opt_scaling_factor is None  # the source is not modified


@pytest.mark.parametrize("argv", [
    ["run", "--task", "no_such_task", "--model", "MODEL"],
    ["search", "MODEL", "--task", "no_such_task"],
    ["evaluate", "MODEL", "--scaling-factor", "-3"],
    ["search", "MISSING.mat"],
])
def test_bad_input_exits_with_status_2(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    path = tiny_model_file(tmp_path)
    before = set(tmp_path.iterdir())
    argv = [str(path) if a == "MODEL" else str(tmp_path / a) if a == "MISSING.mat" else a
            for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spikernn {argv[0]}: error:") and len(err.splitlines()) == 1
    assert set(tmp_path.iterdir()) == before  # nothing written on bad input


def test_bad_scaling_factor_range_is_an_argument_error(tmp_path, capsys):
    assert main(["search", str(tmp_path), "--scaling-factors", "20:75:0"]) == 2
    assert "start:stop:step" in capsys.readouterr().err


@pytest.mark.slow
def test_run_on_defaults_converts_the_shipped_go_nogo_model(tmp_path, capsys, monkeypatch):
    """``spikernn run`` as the README's first command: shipped model, paper grid, 100 trials."""
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 0
    out = tmp_path / "spikernn-run-go_nogo"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall_accuracy"] >= 0.9 and metrics["n_trials"] == 100
    assert {"raster_go.png", "raster_nogo.png"} <= {p.name for p in out.iterdir()}
