"""Scaling-factor search: defaults, validation, results written atomically, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from spiking_helpers import tiny_model, tiny_model_file

from spikernn.artifact import load_model
from spikernn.spiking.evaluation import task_for_model
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.search import (
    SearchResult,
    check_scaling_factors,
    default_scaling_factors,
    lambda_grid_search,
    trials_per_batch,
)

FACTORS = [10.0, 20.0, 40.0]
TWO_FACTORS = [10.0, 40.0]
#: A memory budget that fits one factor of 6 short trials (N = 20, 1,000 steps) per call.
ONE_FACTOR_MB = 6.5 * 2**30 / trials_per_batch(20, 1000, 1, 2**30, 5e-5) / 2**20


def test_default_grids_are_the_papers():
    assert default_scaling_factors("sigmoid").tolist() == list(range(20, 76, 5))
    for act in ("softplus", "relu"):
        assert default_scaling_factors(act).tolist() == list(range(4, 27, 2))
    with pytest.raises(ValueError, match="activation"):
        default_scaling_factors("tanh")


@pytest.mark.parametrize("bad", [[], [0.0], [-5.0], [np.nan], [np.inf], [[20.0, 25.0]],
                                 ["abc"], [20.0, 20.0]])
def test_bad_scaling_factors_are_rejected(bad):
    with pytest.raises(ValueError, match="scaling_factors"):
        check_scaling_factors(bad)


def test_bad_scaling_factors_fail_before_any_simulation(tmp_path):
    path = tiny_model_file(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="scaling_factors"):
        lambda_grid_search(path, "go_nogo", 4, [20.0, -1.0], progress=False)
    assert path.read_bytes() == before
    assert not path.with_name("model.search.json").exists()


def test_unknown_task_and_input_mismatch_are_clear_errors(tmp_path):
    model = tiny_model()
    with pytest.raises(ValueError, match="task_name.*'nope'"):
        lambda_grid_search(model, "nope", 4, FACTORS, progress=False)
    with pytest.raises(ValueError, match="2 inputs.*model's 1"):
        lambda_grid_search(model, "xor", 4, FACTORS, progress=False)
    with pytest.raises(ValueError, match="n_trials"):
        lambda_grid_search(model, "go_nogo", 0, FACTORS, progress=False)
    with pytest.raises(ValueError, match="memory_budget_mb"):
        lambda_grid_search(model, "go_nogo", 4, FACTORS, memory_budget_mb=0, progress=False)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="downsample: expected a positive integer"):
            lambda_grid_search(model, "go_nogo", 4, FACTORS, downsample=bad, progress=False)


def test_trials_per_batch_follows_the_budget():
    small = trials_per_batch(200, 20_000, 1, 2**20, 5e-5)
    large = trials_per_batch(200, 20_000, 1, 2**30, 5e-5)
    assert small >= 1 and large > 100 * small
    assert trials_per_batch(200, 20_000, 10, 2**30, 5e-5) > large


def test_search_returns_and_records_the_result(tmp_path):
    path = tiny_model_file(tmp_path)
    original = load_model(path)
    result = lambda_grid_search(tmp_path, "go-nogo", 6, FACTORS, progress=False)
    assert isinstance(result, SearchResult)
    assert result.scaling_factors.tolist() == FACTORS
    assert result.accuracies.shape == (3,)
    assert np.all((result.accuracies >= 0) & (result.accuracies <= 1))
    assert result.best_accuracy == result.accuracies.max()
    assert result.best_scaling_factor in FACTORS and float(result) == result.best_scaling_factor
    assert result.model_path == path
    saved = load_model(path)
    assert saved.opt_scaling_factor == result.best_scaling_factor
    assert np.array_equal(saved.all_perfs, result.accuracies)
    assert np.array_equal(saved.scaling_factors, FACTORS)
    for name in ("w", "w0", "w_in", "w_out", "taus_gaus", "inh"):
        assert np.array_equal(getattr(saved, name), getattr(original, name)), name
    assert saved.task_settings == original.task_settings and saved.b_out == original.b_out
    sidecar = json.loads(path.with_name("model.search.json").read_text())
    assert sorted(sidecar["results"]) == sorted(repr(f) for f in FACTORS)
    assert json.dumps(result.to_dict())  # JSON-ready


def test_search_of_an_artifact_writes_nothing(tmp_path):
    result = lambda_grid_search(tiny_model(), None, 4, [20.0], progress=False)
    assert result.model_path is None and result.results_path is None
    assert result.model.opt_scaling_factor == 20.0
    assert list(tmp_path.iterdir()) == []


class _InterruptError(Exception):
    pass


def test_interrupted_search_leaves_the_file_intact_and_resumes(tmp_path):
    path = tiny_model_file(tmp_path)
    before = path.read_bytes()

    def stop_after_first(factor, accuracy):
        raise _InterruptError

    with pytest.raises(_InterruptError):
        lambda_grid_search(path, "go_nogo", 6, TWO_FACTORS, memory_budget_mb=ONE_FACTOR_MB,
                           progress=False, callback=stop_after_first)
    assert path.read_bytes() == before
    partial = json.loads(path.with_name("model.search.json").read_text())
    assert list(partial["results"]) == [repr(TWO_FACTORS[0])]

    seen = []
    resumed = lambda_grid_search(path, "go_nogo", 6, TWO_FACTORS, memory_budget_mb=ONE_FACTOR_MB,
                                 progress=False, callback=lambda f, a: seen.append(f))
    assert seen == TWO_FACTORS[1:]
    assert load_model(path).opt_scaling_factor == resumed.best_scaling_factor

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    fresh = lambda_grid_search(tiny_model_file(fresh_dir), "go_nogo", 6, TWO_FACTORS,
                               progress=False)  # default budget: both factors in one call
    assert np.array_equal(fresh.accuracies, resumed.accuracies)


def test_changed_settings_do_not_reuse_old_results(tmp_path):
    path = tiny_model_file(tmp_path)
    lambda_grid_search(path, "go_nogo", 4, [20.0], progress=False)
    seen = []
    lambda_grid_search(path, "go_nogo", 4, [20.0], seed=1, progress=False,
                       callback=lambda f, a: seen.append(f))
    assert seen == [20.0]


@pytest.mark.slow
def test_shipped_go_nogo_model_converts():
    """Paper criterion: >= 95% spiking accuracy at the best factor over 100 trials."""
    from spikernn.pretrained import load_pretrained

    result = lambda_grid_search(load_pretrained("go_nogo"), "go_nogo", 100, progress=False)
    assert result.best_accuracy >= 0.95, result.to_dict()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_factor_gives_the_same_numbers_in_any_grid_and_budget(dtype):
    """Common random numbers: factor 25 alone, in the default grid, in the reversed grid
    and one factor per engine call gives bit-identical accuracy and spike counts; the
    engine calls the search makes give bit-identical readouts."""
    model = tiny_model()
    grid = default_scaling_factors(model.activation).tolist()
    kw = dict(progress=False, dtype=dtype, seed=3)
    runs = {"alone": lambda_grid_search(model, None, 6, [25.0], **kw),
            "grid": lambda_grid_search(model, None, 6, grid, **kw),
            "reversed": lambda_grid_search(model, None, 6, grid[::-1], **kw),
            "tiny budget": lambda_grid_search(model, None, 6, grid, memory_budget_mb=1e-3,
                                              **kw)}
    records = {}
    for name, result in runs.items():
        sidecar_like = dict(zip(result.scaling_factors.tolist(), zip(
            result.accuracies.tolist(), result.mean_firing_rates.tolist(),
            map(str, result.accuracy_by_type), strict=True), strict=True))
        records[name] = sidecar_like[25.0]
    assert len(set(records.values())) == 1, records
    assert records["alone"][1] > 0

    net = SpikingNetwork(model, 25.0, dtype=dtype)
    stim = task_for_model(model).sample_batch(6, rng=0).stimulus

    def factor_25(factors):
        n = len(factors)
        res = net.simulate(np.tile(stim, (n, 1, 1)), np.repeat(factors, 6), seed=3,
                           trial_ids=np.tile(np.arange(6), n))
        rows = slice(6 * factors.index(25.0), 6 * factors.index(25.0) + 6)
        return res.output[rows], res.spike_counts()[rows]

    alone = factor_25([25.0])
    for factors in (grid, grid[::-1], [40.0, 25.0]):
        out, counts = factor_25(factors)
        np.testing.assert_array_equal(out, alone[0])
        np.testing.assert_array_equal(counts, alone[1])
