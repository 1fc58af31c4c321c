"""One validator per concept (seeds, trial counts, scaling factors, devices), used everywhere:
the message names the field, the expected and the actual value."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikernn._validate import (
    check_device,
    check_int,
    check_n_trials,
    check_scaling_factor,
    check_scaling_factors,
    check_seed,
)
from spikernn.pretrained import load_pretrained
from spikernn.spiking import SpikingNetwork, lambda_grid_search
from spikernn.spiking.eval_tasks import evaluate_task
from spikernn.tasks import TaskFactory


@pytest.mark.parametrize("value, shown", [(-1, "got -1"), (1.5, "got 1.5"), (True, "got True"),
                                          ("3", "got '3'"), (2**64, "got 18446744073709551616")])
def test_bad_seeds_are_named(value, shown):
    with pytest.raises(ValueError,
                       match=r"^seed: expected an integer in \[0, 2\*\*63 - 1\]") as info:
        check_seed(value)
    assert shown in str(info.value)


def test_good_values_pass_through():
    assert check_seed(np.int64(7)) == 7 and type(check_seed(np.int64(7))) is int
    assert check_n_trials(3) == 3
    assert check_int(0, "x", 0) == 0
    assert check_scaling_factor(np.float32(50)) == 50.0
    np.testing.assert_array_equal(check_scaling_factors([20, 25]), [20.0, 25.0])
    assert check_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("value", [0, -3, 2.0, None])
def test_bad_trial_counts_are_named(value):
    with pytest.raises(ValueError, match=rf"^n_trials: expected an integer >= 1, got {value}"):
        check_n_trials(value)


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), 1e-300, 1e300, "50"])
def test_bad_scaling_factor_is_named(value):
    with pytest.raises(ValueError, match=r"^scaling_factor: expected"):
        check_scaling_factor(value)


def test_bad_scaling_factor_lists_are_named():
    with pytest.raises(ValueError, match=r"scaling_factors: expected finite numbers .*\[-1\.0\]"):
        check_scaling_factors([20, -1])
    with pytest.raises(ValueError, match=r"scaling_factors: expected distinct values"):
        check_scaling_factors([20, 20], distinct=True)
    with pytest.raises(ValueError, match=r"scaling_factors: expected a non-empty"):
        check_scaling_factors([])
    with pytest.raises(ValueError, match=r"scaling_factors: expected positive numbers"):
        check_scaling_factors(["a"])


def test_bad_devices_are_named():
    with pytest.raises(ValueError, match=r"^device: expected a torch device .* got 'foo'"):
        check_device("foo")
    with pytest.raises(ValueError, match=r"^--device: expected a torch device .* got 3"):
        check_device(3, "--device")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device: expected 'cpu' \(CUDA is not available"
                                             r" on this machine\), got 'cuda'"):
            check_device("cuda")
    else:
        with pytest.raises(ValueError, match=r"^device: expected a CUDA index below"):
            check_device(f"cuda:{torch.cuda.device_count()}")


def test_entry_points_use_the_validators():
    """Bad values are refused where they enter, before anything is simulated."""
    model = load_pretrained("go_nogo")
    with pytest.raises(ValueError, match=r"^seed: expected an integer in .*got -1"):
        lambda_grid_search(model, n_trials=2, scaling_factors=[50], seed=-1, progress=False)
    with pytest.raises(ValueError, match=r"^seed: expected an integer in .*got 1\.5"):
        evaluate_task("go_nogo", model, n_trials=2, seed=1.5)
    with pytest.raises(ValueError, match=r"^n_trials: expected an integer >= 1, got 0"):
        evaluate_task("go_nogo", model, n_trials=0)
    with pytest.raises(ValueError, match=r"^device: expected a torch device .* got 'foo'"):
        lambda_grid_search(model, n_trials=2, scaling_factors=[50], device="foo",
                           progress=False)
    with pytest.raises(ValueError, match=r"^scaling_factor: expected a number in"):
        SpikingNetwork(model, scaling_factor=1e-300)
    with pytest.raises(ValueError, match=r"^seed: expected an integer in .*got -2"):
        TaskFactory.create_task("go_nogo").sample_batch(2, rng=-2)
    net = SpikingNetwork(model, scaling_factor=50.0)
    with pytest.raises(ValueError, match=r"^seed: expected an integer in .*got 1\.5"):
        net.simulate(np.zeros((1, 1, 10)), seed=1.5)


@pytest.mark.parametrize("task", ["go_nogo", "xor", "mante"])
def test_unknown_task_setting_keys_are_refused(task):
    with pytest.raises(ValueError, match=r"^settings: expected keys from \[.*'T'.*\], got "
                                         r"unknown key\(s\) \['stim_onn'\]"):
        TaskFactory.create_task(task, {"stim_onn": 10})


def test_unknown_task_setting_keys_in_a_model_are_refused_before_simulating(tmp_path):
    art = load_pretrained("go_nogo")
    path = art.replace(task_settings={**art.task_settings, "colour": "red"}).save(
        tmp_path / "m.mat")
    before = path.read_bytes()
    seen = []
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['colour'\]"):
        lambda_grid_search(path, n_trials=2, scaling_factors=[50], progress=False,
                           callback=lambda f, a: seen.append(f))
    assert seen == [] and path.read_bytes() == before
