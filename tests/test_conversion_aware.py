"""Conversion-aware training: the trainer's generic hook and the pipeline's spiking check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikernn.artifact import load_model
from spikernn.cli import main
from spikernn.pipeline import ConversionCheck, train_model
from spikernn.pipeline.conversion_check import check_factors, coarse_grid, conversion_hook
from spikernn.rate import RNNConfig, Trainer, TrainingConfig
from spikernn.rate.training import CriterionCheck
from spikernn.study import SpecError, parse_spec
from spikernn.study.cell import run_cell

#: 0.4 s Go/NoGo trials.
TASK = {"T": 80, "stim_on": 20, "stim_dur": 20}
#: Rate criteria met at every evaluation (one update of 8 trials apart), so that the
#: spiking check alone decides when training stops.
EASY = TrainingConfig(batch_size=8, eval_every=8, eval_trials=8, max_trials=400,
                      loss_threshold=1e9, acc_threshold=0.0)
#: Checks of 4 trials on two factors, every 8 training trials.
QUICK = {"n_trials": 4, "scaling_factors": (20.0, 40.0), "every_trials": 8}


def trainer(seed: int = 3, config: TrainingConfig = EASY) -> Trainer:
    return Trainer("go_nogo", RNNConfig(N=20, taus=(4, 10), seed=seed), config,
                   task_settings=TASK)


def weights(result) -> np.ndarray:
    return np.asarray(result.artifact.w)


def without_times(checks):
    return [{k: v for k, v in c.items() if k != "seconds"} for c in checks]


@pytest.fixture(scope="module")
def plain():
    return trainer().train(progress=False)


def test_off_trains_exactly_as_before(plain, tmp_path):
    again = trainer().train(progress=False, on_evaluation=None)
    assert again.trials == plain.trials == 8 and again.converged
    np.testing.assert_array_equal(weights(again), weights(plain))
    assert "checks" not in plain.artifact.training["history"]
    assert "stopped_by_hook" not in plain.artifact.training
    model = RNNConfig(N=20, taus=(4, 10), seed=3)
    a = train_model("go_nogo", model, EASY, tmp_path / "a", task_settings=TASK, progress=False)
    b = train_model("go_nogo", model, EASY, tmp_path / "b", task_settings=TASK, progress=False,
                    conversion_check=ConversionCheck(enabled=False))
    ta, tb = (load_model(t.paths[0]).training for t in (a, b))
    np.testing.assert_array_equal(load_model(a.paths[0]).w, load_model(b.paths[0]).w)
    assert "conversion_check" not in ta and "conversion_check" not in tb
    assert set(ta) == set(tb) and ta["history"]["loss"] == tb["history"]["loss"]


def test_a_passing_check_stops_at_the_rate_criteria(plain):
    check = ConversionCheck(**QUICK, criterion=0.01)
    result = trainer().train(progress=False, on_evaluation=conversion_hook(check))
    assert result.converged and result.trials == plain.trials
    np.testing.assert_array_equal(weights(result), weights(plain))
    (entry,) = result.history.checks
    assert entry["check"] == 1 and entry["passed"] and not entry["bound_reached"]
    assert entry["trials"] == plain.trials and entry["scaling_factors"] == [20.0, 40.0]
    assert result.artifact.training["history"]["checks"][0]["passed"]
    assert result.artifact.training["stopped_by_hook"] is False


@pytest.fixture(scope="module")
def failing():
    """Checks that cannot pass (criterion 100%, on 4 trials of a barely trained network)."""
    check = ConversionCheck(**QUICK, criterion=1.0, max_checks=3)
    return check, trainer().train(progress=False, on_evaluation=conversion_hook(check))


def test_a_failing_check_keeps_training_until_the_bound(plain, failing):
    check, result = failing
    checks = result.history.checks
    assert [c["check"] for c in checks] == [1, 2, 3]
    assert not any(c["passed"] for c in checks)
    assert [c["bound_reached"] for c in checks] == [False, False, True]
    assert [c["trials"] for c in checks] == [8, 16, 24]
    assert result.trials == 24 > plain.trials
    assert not result.converged and result.artifact.training["stopped_by_hook"] is True
    assert all(0 <= a <= 1 for c in checks for a in c["accuracies"])


def test_checks_are_reproducible_with_the_same_seed(failing):
    check, result = failing
    again = trainer().train(progress=False, on_evaluation=conversion_hook(check))
    assert without_times(again.history.checks) == without_times(result.history.checks)
    np.testing.assert_array_equal(weights(again), weights(result))


def test_checks_respect_every_trials_and_resume(tmp_path, failing):
    check, result = failing
    sparse = ConversionCheck(**{**QUICK, "every_trials": 16}, criterion=1.0, max_checks=2)
    run = trainer().train(progress=False, on_evaluation=conversion_hook(sparse))
    assert [c["trials"] for c in run.history.checks] == [8, 24]
    # interrupted after the first check, resumed: the same checks and the same model
    ckpt = tmp_path / "run.ckpt.pth"
    first = trainer()
    first.train(progress=False, checkpoint=ckpt, max_trials=16,
                on_evaluation=conversion_hook(check))
    resumed = Trainer.from_checkpoint(ckpt).train(progress=False, max_trials=400,
                                                  on_evaluation=conversion_hook(check))
    assert without_times(resumed.history.checks) == without_times(result.history.checks)
    np.testing.assert_array_equal(weights(resumed), weights(result))


def test_a_generic_hook_can_defer_and_stop():
    calls = []

    def hook(t: Trainer):
        calls.append(t.trials)
        return None if t.trials < 24 else CriterionCheck(met=False, values={"n": 1},
                                                         stop=True)

    result = trainer().train(progress=False, on_evaluation=hook)
    assert calls == [8, 16, 24] and result.trials == 24 and not result.converged
    assert result.history.checks == [{"trials": 24, "n": 1}]


def test_grids_of_the_checks():
    np.testing.assert_allclose(coarse_grid("sigmoid"), [10, 20, 30, 40, 50, 60, 70])
    np.testing.assert_allclose(coarse_grid("softplus"), [4, 8, 12, 16, 20, 24])
    grid = [10.0, 20.0, 30.0]
    assert check_factors(grid, None) == grid
    assert check_factors(grid, 10.0) == [10.0, 20.0]
    assert check_factors(grid, 20.0) == grid
    assert check_factors(grid, 30.0) == [20.0, 30.0]


@pytest.mark.parametrize(("settings", "message"), [
    ({"n_trials": 0}, "conversion_check.n_trials"),
    ({"max_checks": 0}, "conversion_check.max_checks"),
    ({"every_trials": -5}, "conversion_check.every_trials"),
    ({"criterion": 1.5}, "conversion_check.criterion: expected a number in (0, 1]"),
    ({"scaling_factors": (20.0, 20.0)}, "conversion_check.scaling_factors"),
    ({"enabled": "yes"}, "conversion_check.enabled: expected true or false"),
])
def test_bad_settings_name_the_field(settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ConversionCheck(**settings)


SMALL = ["--N", "20", "--seed", "3", "--batch-size", "8", "--eval-every", "8",
         "--eval-trials", "8", "--loss-threshold", "1e9", "--acc-threshold", "0", "--quiet",
         "--task-settings", json.dumps(TASK), "--conversion-aware", "--check-trials", "4",
         "--check-factors", "20,40", "--check-every", "8"]


def test_cli_records_the_checks_and_exits_1_at_the_bound(tmp_path, capsys):
    code = main(["train", "--out", str(tmp_path), "--max-checks", "2", *SMALL])
    out = capsys.readouterr().out
    model = load_model(tmp_path / "go_nogo_N20_seed3.mat")
    record = model.training["conversion_check"]
    if record["passed"]:  # pragma: no cover (the tiny network is not expected to convert)
        pytest.skip("the tiny network converted")
    assert code == 1 and "spiking check did NOT pass: --max-checks 2 reached" in out
    assert record["checks"] == 2 and record["bound_reached"]
    assert record["settings"]["n_trials"] == 4 and record["settings"]["scaling_factors"] == [
        20.0, 40.0]
    assert len(model.training["history"]["checks"]) == 2
    assert "--conversion-aware" in model.training["command"]
    assert main(["train", "--out", str(tmp_path), "--max-checks", "0", *SMALL]) == 2


STUDY = {
    "study": {"name": "aware", "seed": 7, "replicates": 1},
    "settings": {
        "task": {"name": "go_nogo", **TASK},
        "model": {"N": 20, "taus": [4, 10]},
        "training": {"batch_size": 8, "max_trials": 400, "eval_every": 8, "eval_trials": 8,
                     "loss_threshold": 1e9, "acc_threshold": 0.0},
        "search": {"n_trials": 4, "scaling_factors": [20.0, 40.0]},
        "evaluation": {"n_trials": 4},
        "conversion_check": {"n_trials": 4, "scaling_factors": [20.0, 40.0],
                             "every_trials": 8, "criterion": 1.0, "max_checks": 2},
    },
    "grid": {"conversion_check": {"enabled": [False, True]}},
}


def test_study_axis_plain_vs_aware(tmp_path):
    spec = parse_spec(STUDY)
    plain_cell, aware_cell = spec.cells()
    assert "conversion_check" not in plain_cell.settings
    assert aware_cell.settings["conversion_check"]["max_checks"] == 2
    # the plain cell is the cell of a spec without the section: the same identity
    bare = json.loads(json.dumps(STUDY))
    del bare["settings"]["conversion_check"], bare["grid"]
    assert parse_spec(bare).cells()[0].key == plain_cell.key
    plain_record, aware_record = (run_cell(c, tmp_path) for c in (plain_cell, aware_cell))
    assert plain_record["status"] == aware_record["status"] == "ok"
    assert "check_count" not in plain_record
    assert aware_record["check_count"] == 2 and aware_record["check_bound_reached"]
    assert aware_record["train_trials"] > plain_record["train_trials"]
    bad = json.loads(json.dumps(STUDY))
    bad["settings"]["conversion_check"]["max_checks"] = 0
    with pytest.raises(SpecError, match="conversion_check.max_checks"):
        parse_spec(bad)


def test_run_pipeline_takes_the_check_only_with_training(tmp_path):
    from spikernn.pipeline import RunConfig, run_pipeline

    with pytest.raises(ValueError, match="conversion_check: expected train=True"):
        run_pipeline(RunConfig(out_dir=tmp_path / "run", conversion_check=ConversionCheck()))
    assert not (tmp_path / "run").exists()
