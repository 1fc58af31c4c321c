"""evaluate_task: real n-trial evaluation, metrics JSON, figures, errors, seed CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from spiking_helpers import tiny_model, tiny_model_file

from spikernn.spiking.eval_tasks import evaluate_task, format_metrics, main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def searched_model(tmp_path_factory):
    """A tiny model file holding a (made-up) search result."""
    folder = tmp_path_factory.mktemp("model")
    model = tiny_model().replace(opt_scaling_factor=20.0,
                                 scaling_factors=np.array([10.0, 20.0, 40.0]),
                                 all_perfs=np.array([0.4, 0.6, 0.5]))
    model.save(folder / "model.mat")
    return folder


def test_evaluate_task_writes_metrics_and_figures(searched_model, tmp_path):
    metrics = evaluate_task("go_nogo", searched_model, n_trials=10, output_dir=tmp_path, seed=3)
    assert metrics["n_trials"] == 10 and len(metrics["correct"]) == 10
    assert metrics["scaling_factor"] == 20.0
    assert 0 <= metrics["overall_accuracy"] <= 1 and 0 <= metrics["rate_accuracy"] <= 1
    assert set(metrics["rate_accuracy_by_type"]) == set(metrics["accuracy_by_type"])
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["overall_accuracy"] == metrics["overall_accuracy"]
    assert written["correct"] == metrics["correct"]
    names = {p.split("/")[-1] for p in metrics["figures"]}
    types = set(metrics["trial_types"])
    assert names == {f"raster_{t}.png" for t in types} | {
        "readout_spiking_vs_rate.png", "accuracy_vs_scaling_factor.png"}
    for name in names:
        assert (tmp_path / name).read_bytes().startswith(PNG)
    assert "spiking accuracy" in format_metrics(metrics)


def test_same_seed_same_metrics_without_plots(searched_model, tmp_path):
    a = evaluate_task("go-nogo", searched_model, n_trials=6, save_plots=False,
                      output_dir=tmp_path / "a", seed=1, compare_rate=False)
    b = evaluate_task(None, searched_model / "model.mat", n_trials=6, save_plots=False,
                      output_dir=tmp_path / "b", seed=1, compare_rate=False)
    assert a["correct"] == b["correct"] and a["trial_types"] == b["trial_types"]
    assert a["figures"] == [] and not list((tmp_path / "a").glob("*.png"))


def test_default_output_dir_is_next_to_the_model(tmp_path):
    path = tiny_model_file(tmp_path)
    evaluate_task("go_nogo", path, n_trials=2, scaling_factor=15.0, save_plots=False,
                  compare_rate=False)
    assert (tmp_path / "evaluation_go_nogo" / "metrics.json").is_file()


def test_missing_or_bad_scaling_factor_is_a_clear_error(tmp_path):
    path = tiny_model_file(tmp_path)
    with pytest.raises(ValueError, match="scaling_factor.*lambda_grid_search"):
        evaluate_task("go_nogo", path, n_trials=2)
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="scaling_factor"):
            evaluate_task("go_nogo", path, n_trials=2, scaling_factor=bad)
    with pytest.raises(ValueError, match="task_name"):
        evaluate_task("no_such_task", path, n_trials=2, scaling_factor=20.0)
    assert not (tmp_path / "evaluation_go_nogo").exists()


def test_seed_command_line(searched_model, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["--task", "go_nogo", "--model_dir", str(searched_model), "--n_trials", "4",
                 "--output_dir", str(out), "--no_plots"])
    assert code == 0
    assert "spiking accuracy" in capsys.readouterr().out
    assert json.loads((out / "metrics.json").read_text())["n_trials"] == 4
    assert main(["--task", "nope", "--model_dir", str(searched_model)]) == 2
    assert "task_name" in capsys.readouterr().err
