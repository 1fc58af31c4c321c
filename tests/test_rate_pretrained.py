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


def test_unknown_pretrained_task():
    with pytest.raises(ValueError, match="task"):
        pretrained_path("stroop")
