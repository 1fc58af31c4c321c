"""Task library: shapes, labels, targets and scoring as in Kim, Li & Sejnowski (2019)."""

from __future__ import annotations

import numpy as np
import pytest

from spikernn.rate import Trainer, TrainingConfig, create_default_config
from spikernn.tasks import AbstractTask, GoNogoTask, ManteTask, TaskFactory, XORTask


@pytest.mark.parametrize("name, cls, n_inputs, T", [
    ("go_nogo", GoNogoTask, 1, 200), ("go-nogo", GoNogoTask, 1, 200),
    ("xor", XORTask, 2, 300), ("mante", ManteTask, 4, 500)])
def test_factory_creates_tasks_with_paper_shapes(name, cls, n_inputs, T):
    task = TaskFactory.create_task(name)
    assert isinstance(task, cls)
    batch = task.sample_batch(6, rng=0)
    assert batch.stimulus.shape == (6, n_inputs, T)
    assert batch.target.shape == (6, T)
    assert batch.stimulus.dtype == batch.target.dtype == np.float32
    assert len(batch.labels) == len(batch.trial_types) == 6
    stimulus, target, label = task.simulate_trial()
    assert stimulus.shape == (n_inputs, T) and target.shape == (T,)


def test_go_nogo_stimulus_target_and_labels():
    task = GoNogoTask()
    go = task.sample_batch(2, rng=1, trial_types="go")
    nogo = task.sample_batch(2, rng=1, trial_types="nogo")
    assert go.labels == (1, 1) and nogo.labels == (0, 0)
    expected = np.zeros(200)
    expected[50:75] = 1
    np.testing.assert_array_equal(go.stimulus[0, 0], expected)
    assert not nogo.stimulus.any()
    np.testing.assert_array_equal(go.target[0], np.r_[np.zeros(75), np.ones(125)])
    assert not nogo.target.any()
    assert task.response_window() == (75, 200)


def test_go_nogo_score_uses_paper_thresholds():
    task = GoNogoTask()
    out = np.zeros((4, 200))
    out[0, 100] = 0.71          # go: max > 0.7 -> correct
    out[1, 100] = 0.69          # go: too low
    out[2, 100] = 0.29          # nogo: max < 0.3 -> correct
    out[3, 100] = 0.31          # nogo: too high
    np.testing.assert_array_equal(task.score(out, [1, 1, 0, 0]), [True, False, True, False])
    # a peak before the response window does not count
    early = np.zeros((1, 200))
    early[0, 60] = 1.0
    assert task.score(early, [0])[0]


def test_xor_labels_and_target_window():
    task = XORTask()
    batch = task.sample_batch(40, rng=3)
    for stim, target, label in zip(batch.stimulus, batch.target, batch.labels, strict=True):
        s1, s2 = stim[0, 50], stim[1, 110]
        assert abs(s1) == abs(s2) == 1
        assert not stim[0, 100:].any() and not stim[1, :110].any() and not stim[1, 160:].any()
        assert label == ("same" if s1 == s2 else "diff")
        sign = 1.0 if label == "same" else -1.0
        np.testing.assert_array_equal(target[170:270], sign)
        assert not target[:170].any() and not target[270:].any()
    assert task.response_window() == (170, 270)
    assert set(batch.labels) == {"same", "diff"}


def test_mante_context_and_label():
    task = ManteTask()
    batch = task.sample_batch(40, rng=5)
    for stim, target, label, kind in zip(batch.stimulus, batch.target, batch.labels,
                                         batch.trial_types, strict=True):
        context = 0 if kind.startswith("ctx1") else 1
        assert stim[2 + context].all() and not stim[3 - context].any()
        offset = stim[context, 50:250].mean()
        assert np.sign(offset) == label          # 200 samples of N(0,1) + 0.5 offset
        assert not stim[:2, :50].any() and not stim[:2, 250:].any()
        np.testing.assert_array_equal(target[250:], label)
        assert not target[:250].any()


def test_mante_and_xor_scoring():
    mante, xor = ManteTask(), XORTask()
    out = np.zeros((2, 500))
    out[0, 300] = 0.8
    out[1, 300] = -0.8
    np.testing.assert_array_equal(mante.score(out, [1, 1]), [True, False])
    np.testing.assert_array_equal(mante.score(out, [-1, -1]), [False, True])
    out = np.zeros((2, 300))
    out[0, 200] = 0.75
    out[1, 200] = -0.75
    np.testing.assert_array_equal(xor.score(out, ["same", "diff"]), [True, True])
    np.testing.assert_array_equal(xor.score(out, ["diff", "same"]), [False, False])


def test_spiking_samples_per_step_scales_the_window():
    task = GoNogoTask()
    out = np.zeros((1, 200 * 10))
    out[0, 80 * 10] = 1.0
    assert task.score(out, [1], samples_per_step=10)[0]
    assert not task.score(out, [0], samples_per_step=10)[0]


def test_forced_trial_types_and_seeded_batches():
    task = ManteTask()
    types = ["ctx1_pos", "ctx2_neg", "ctx1_neg"]
    batch = task.sample_batch(3, rng=0, trial_types=types)
    assert batch.trial_types == tuple(types) and batch.labels == (1, -1, -1)
    again = task.sample_batch(3, rng=0, trial_types=types)
    np.testing.assert_array_equal(batch.stimulus, again.stimulus)
    other = task.sample_batch(3, rng=1, trial_types=types)
    assert not np.array_equal(batch.stimulus, other.stimulus)


@pytest.mark.parametrize("name, settings, field", [
    ("go_nogo", {"stim_on": 190, "stim_dur": 25}, "T"),
    ("go_nogo", {"stim_dur": -5}, "stim_dur"),
    ("go_nogo", {"T": 0}, "T"),
    ("go_nogo", {"go_threshold": 1.5}, "go_threshold"),
    ("xor", {"delay": -1}, "delay"),
    ("xor", {"T": 200}, "T"),
    ("mante", {"offset": 0}, "offset"),
    ("mante", {"noise_std": -1.0}, "noise_std"),
])
def test_invalid_settings_name_the_setting(name, settings, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        TaskFactory.create_task(name, settings)


def test_unknown_trial_type_and_task_name():
    with pytest.raises(ValueError, match="trial_type"):
        GoNogoTask().sample_batch(2, trial_types="maybe")
    with pytest.raises(ValueError, match="trial_types"):
        GoNogoTask().sample_batch(3, trial_types=["go", "nogo"])
    with pytest.raises(ValueError, match="task_name"):
        TaskFactory.create_task("stroop")
    with pytest.raises(ValueError, match="batch_size"):
        GoNogoTask().sample_batch(0)


class _HoldTask(AbstractTask):
    """A custom task written against the seed interface: report the sign of a cue."""

    @classmethod
    def get_default_settings(cls):
        return {"T": 60, "stim_on": 10, "stim_dur": 10, "DeltaT": 1}

    def validate_settings(self):
        if self.settings["stim_on"] + self.settings["stim_dur"] > self.settings["T"]:
            raise ValueError("settings['T']: too short")

    def generate_stimulus(self, trial_type=None, seed=False):
        sign = trial_type if trial_type is not None else np.random.choice([-1, 1])
        u = np.zeros((1, self.settings["T"]))
        s = self.settings
        u[0, s["stim_on"]: s["stim_on"] + s["stim_dur"]] = sign
        return u, int(sign)

    def generate_target(self, label, seed=False):
        z = np.zeros(self.settings["T"])
        z[self.settings["stim_on"] + self.settings["stim_dur"]:] = 0.5 * label
        return z


def test_custom_task_registers_and_trains_without_extra_code():
    TaskFactory.register_task("hold_sign", _HoldTask)
    try:
        task = TaskFactory.create_task("hold-sign")
        assert task.name == "hold_sign"
        batch = task.sample_batch(8, rng=0)
        assert batch.stimulus.shape == (8, 1, 60)
        np.testing.assert_array_equal(batch.stimulus, task.sample_batch(8, rng=0).stimulus)
        trainer = Trainer(task, create_default_config(N=40, seed=0),
                          TrainingConfig(batch_size=8, max_trials=1600, eval_every=200,
                                         loss_threshold=1.5, acc_threshold=0.9))
        before = trainer.evaluate()[0]
        result = trainer.train(progress=False)
        assert result.history.loss[-1] < before
        assert result.converged, result.history
        assert result.artifact.task == "hold_sign"
    finally:
        TaskFactory._registry.pop("hold_sign", None)
