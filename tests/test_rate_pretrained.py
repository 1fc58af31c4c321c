"""Shipped pretrained rate models: present, recorded, and solving their tasks."""

from __future__ import annotations

import numpy as np
import pytest

from spikernn.pretrained import list_pretrained, load_pretrained, pretrained_index, pretrained_path
from spikernn.rate import run_rate_model
from spikernn.tasks import TaskFactory

EXPECTED_N = {"go_nogo": 200, "mante": 250, "xor": 200}


def test_every_builtin_task_has_a_model():
    assert list_pretrained() == ["go_nogo", "mante", "xor"]
    assert pretrained_path("go-nogo") == pretrained_path("go_nogo")
    assert pretrained_path("go_nogo").suffix == ".mat"


@pytest.mark.parametrize("task", list_pretrained())
def test_pretrained_model_records_its_training(task):
    art = load_pretrained(task)
    entry = pretrained_index()[task]
    assert art.task == task and art.N == EXPECTED_N[task] == entry["N"]
    assert art.activation == "sigmoid" and art.apply_dale
    assert art.taus == tuple(entry["taus_steps"]) and art.seed == entry["seed"]
    assert art.training["converged"]
    assert art.training["command"] == entry["command"]
    assert art.training["command"].startswith(f"spikernn train --task {task} --seed {art.seed}")
    assert (art.w >= 0).all()
    assert not np.array_equal(art.taus_gaus, art.taus_gaus0)


@pytest.mark.parametrize("task", list_pretrained())
def test_pretrained_rate_model_solves_its_task(task):
    art = load_pretrained(task)
    spec = TaskFactory.create_task(task, art.task_settings)
    batch = spec.sample_batch(100, rng=11)
    out = run_rate_model(art, batch.stimulus, seed=11).output
    assert spec.score(out, batch.labels).mean() >= 0.95


@pytest.mark.parametrize("task", list_pretrained())
def test_pretrained_model_carries_its_search_result(task):
    art = load_pretrained(task)
    entry = pretrained_index()[task]
    np.testing.assert_array_equal(art.scaling_factors, np.arange(20.0, 76.0, 5.0))
    assert art.all_perfs.shape == art.scaling_factors.shape
    best = np.flatnonzero(art.all_perfs == art.all_perfs.max())[0]  # ties: the smallest s
    assert art.opt_scaling_factor == art.scaling_factors[best] == entry["opt_scaling_factor"]
    assert art.all_perfs.max() >= 0.95
    assert entry["search_all_perfs"] == art.all_perfs.tolist()
    assert entry["search_command"] == (f"spikernn search spikernn/pretrained/{entry['file']} "
                                       "--n-trials 100 --seed 0 --extend-edges 0")


@pytest.mark.slow
def test_commands_use_the_shipped_search_result_without_scaling_factor(tmp_path):
    import json

    from spikernn.cli import main

    model = str(pretrained_path("go_nogo"))
    common = ["--model", model, "--task", "go_nogo", "--n-trials", "2"]
    assert main(["export", *common, "--out", str(tmp_path / "t.nwb")]) == 0
    assert main(["analyze", *common, "--out", str(tmp_path / "an")]) == 0
    assert main(["crosscheck", *common, "--out", str(tmp_path / "cc")]) == 0
    report = json.loads((tmp_path / "cc" / "crosscheck.json").read_text())
    assert report["settings"]["scaling_factor"] == load_pretrained("go_nogo").opt_scaling_factor


def test_unknown_pretrained_task():
    with pytest.raises(ValueError, match="task"):
        pretrained_path("stroop")
