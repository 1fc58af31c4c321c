"""Spiking task adapters: shapes, time-base mapping of the scoring rule, batch evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from spiking_helpers import SHORT_GO_NOGO, tiny_model

from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.tasks import (
    AbstractSpikingTask,
    GoNogoSpikingTask,
    ManteSpikingTask,
    RateTaskAdapter,
    SpikingTaskFactory,
    XORSpikingTask,
    samples_per_rate_step,
)
from spikernn.tasks import AbstractTask, TaskFactory


@pytest.fixture(scope="module")
def net():
    return SpikingNetwork(tiny_model(), scaling_factor=20.0)


@pytest.mark.parametrize(("name", "cls", "shape", "types"), [
    ("go_nogo", GoNogoSpikingTask, (1, 200), ["go", "nogo"]),
    ("go-nogo", GoNogoSpikingTask, (1, 200), ["go", "nogo"]),
    ("xor", XORSpikingTask, (2, 300), ["same", "diff"]),
    ("Mante", ManteSpikingTask, (4, 500), ["ctx1_pos", "ctx1_neg", "ctx2_pos", "ctx2_neg"]),
])
def test_factory_builds_adapters_with_rate_task_shapes(name, cls, shape, types):
    task = SpikingTaskFactory.create_task(name, seed=0)
    assert type(task) is cls
    assert task.get_sample_trial_types() == types
    stimulus, _ = task.generate_stimulus(types[0])
    assert stimulus.shape == shape
    assert task.sample_trials(2, seed=0, trial_types=types[0]).trial_types == (types[0],) * 2
    batch = task.sample_trials(6, seed=1)
    assert batch.stimulus.shape == (6, *shape)
    assert batch.target.shape == (6, shape[1])
    assert set(batch.trial_types) <= set(types)


def test_same_seed_same_trials():
    task = GoNogoSpikingTask()
    a, b = task.sample_trials(10, seed=3), task.sample_trials(10, seed=3)
    assert np.array_equal(a.stimulus, b.stimulus) and a.labels == b.labels


def test_unknown_task_and_bad_registration_are_clear_errors():
    with pytest.raises(ValueError, match="task_name.*'no_such_task'"):
        SpikingTaskFactory.create_task("no_such_task")
    with pytest.raises(TypeError, match="task_class"):
        SpikingTaskFactory.register_task("bad", dict)
    with pytest.raises(ValueError, match="n_trials"):
        GoNogoSpikingTask().sample_trials(0)
    assert {"go_nogo", "xor", "mante"} <= set(SpikingTaskFactory.list_available_tasks())


@pytest.mark.parametrize("downsample", [1, 10])
def test_go_nogo_window_is_mapped_to_the_spiking_time_base(downsample):
    """The response window starts at stim_on + stim_dur = 75 rate steps = 7,500 steps."""
    task = GoNogoSpikingTask()
    per_step = 100 / downsample
    n = int(200 * per_step)
    start = int(75 * per_step)
    peak_in_window = np.zeros(n)
    peak_in_window[start] = 1.0
    peak_before = np.zeros(n)
    peak_before[start - 1] = 1.0
    outputs = np.stack([peak_in_window, peak_before, peak_in_window, peak_before])
    labels = [1, 1, 0, 0]
    assert task.score(outputs, labels, per_step).tolist() == [True, False, False, True]


def test_xor_and_mante_score_signed_outputs_in_their_windows():
    xor = XORSpikingTask()
    start, stop = xor.task.response_window()            # rate steps
    out = np.zeros(300 * 100)
    out[start * 100: stop * 100] = -0.9
    assert xor.score(np.stack([out, out]), ["diff", "same"], 100).tolist() == [True, False]
    out_early = np.zeros(300 * 100)
    out_early[: start * 100] = -0.9
    assert not xor.score(out_early[None], ["diff"], 100)[0]
    mante = ManteSpikingTask()
    out = np.zeros(500 * 100)
    out[250 * 100 + 5] = 0.8
    assert mante.score(np.stack([out, -out]), [1, -1], 100).tolist() == [True, True]


def test_samples_per_rate_step_follows_dt_and_downsample(net):
    stim = np.zeros((1, 1, 10), dtype=np.float32)
    assert samples_per_rate_step(net.simulate(stim, seed=0), 5.0) == pytest.approx(100)
    result = net.simulate(stim, seed=0, downsample=4)
    assert result.output.shape == (1, 250)
    assert samples_per_rate_step(result, 5.0) == pytest.approx(25)


def test_evaluate_performance_runs_one_batch_and_summarises(net):
    task = GoNogoSpikingTask(SHORT_GO_NOGO)
    batch, result = task.run_trials(net, 12, seed=5)
    assert result.batch_size == 12 and result.output.shape == (12, 1000)
    perf = task.evaluate_performance(net, n_trials=12, seed=5)
    assert perf["n_trials"] == 12
    assert perf["go_trials"] + perf["nogo_trials"] == 12
    assert len(perf["correct"]) == 12
    expected = np.mean(task.score(result.output, batch.labels, 100))
    assert perf["overall_accuracy"] == pytest.approx(expected)
    go = np.asarray(perf["trial_types"]) == "go"
    if go.any():
        assert perf["go_accuracy"] == pytest.approx(np.mean(np.asarray(perf["correct"])[go]))
    assert perf["mean_firing_rate_hz"] > 0
    assert perf["scaling_factor"] == 20.0
    again = task.evaluate_performance(net, n_trials=12, seed=5)
    assert again["correct"] == perf["correct"]
    assert again["mean_firing_rate_hz"] == perf["mean_firing_rate_hz"]


def test_evaluate_performance_builds_a_network_from_a_model():
    model = tiny_model().replace(opt_scaling_factor=25.0)
    perf = GoNogoSpikingTask(SHORT_GO_NOGO).evaluate_performance(model, n_trials=4, seed=0,
                                                                 trial_types="go")
    assert perf["trials_by_type"] == {"go": 4} and perf["scaling_factor"] == 25.0


def test_evaluate_trial(net):
    task = GoNogoSpikingTask(SHORT_GO_NOGO, seed=0)
    stimulus, label = task.generate_stimulus("go")
    trial = task.evaluate_trial(net, stimulus, label, seed=1)
    assert trial["output"].shape == (1000,) and trial["trial_type"] == "go"
    assert trial["correct"] == bool(task.score(trial["output"][None], [1], 100)[0])


class _Pulse(AbstractTask):
    """A seed-style custom rate task: report a pulse's sign after it ends."""

    n_inputs = 1

    @classmethod
    def get_default_settings(cls):
        return {"T": 10, "stim_on": 2, "stim_dur": 3}

    def validate_settings(self):
        pass

    def generate_stimulus(self, trial_type=None, seed=False):
        sign = 1.0 if np.random.rand() < 0.5 else -1.0
        u = np.zeros((1, self.T))
        u[0, 2:5] = sign
        return u, sign

    def generate_target(self, label, seed=False):
        z = np.zeros(self.T)
        z[5:] = label
        return z


@pytest.fixture
def pulse_registered():
    TaskFactory.register_task("pulse_sign", _Pulse)
    yield "pulse_sign"
    TaskFactory._registry.pop("pulse_sign")


def test_any_registered_rate_task_is_evaluated_as_spiking(pulse_registered, net):
    task = SpikingTaskFactory.create_task(pulse_registered)
    assert isinstance(task, RateTaskAdapter)
    assert pulse_registered in SpikingTaskFactory.list_available_tasks()
    perf = task.evaluate_performance(net, n_trials=6, seed=2)
    assert perf["n_trials"] == 6
    assert set(perf["accuracy_by_type"]) <= {"1.0", "-1.0"}


class _AlwaysLow(AbstractSpikingTask):
    """A seed-style spiking task written directly on the abstract class."""

    def get_default_settings(self):
        return {"T": 10}

    def get_sample_trial_types(self):
        return ["quiet"]

    def generate_stimulus(self, trial_type=None):
        return np.zeros((1, self.settings["T"])), "quiet"

    def is_correct(self, output, label, samples_per_step):
        return float(np.max(output)) < 10.0


def test_custom_spiking_task_registers_and_evaluates(net):
    SpikingTaskFactory.register_task("always-low", _AlwaysLow)
    try:
        task = SpikingTaskFactory.create_task("always_low")
        perf = task.evaluate_performance(net, n_trials=3, seed=0)
    finally:
        SpikingTaskFactory._registry.pop("always_low")
    assert perf["overall_accuracy"] == 1.0 and perf["quiet_trials"] == 3


# -- the seed README's custom spiking task: its own evaluate_performance ------------------

SEED_CUSTOM_TASK = '''
import numpy as np

from spikernn.spiking.tasks import AbstractSpikingTask, SpikingTaskFactory


class MyCustomSpikingTask(AbstractSpikingTask):
    def get_default_settings(self):
        return {'T': 200, 'custom_param': 1.0}

    def get_sample_trial_types(self):
        return ['type_a', 'type_b']  # For visualization

    def generate_stimulus(self, trial_type=None):
        stimulus = np.zeros((1, self.settings['T']))
        label = trial_type or 'type_a'
        return stimulus, label

    def evaluate_performance(self, spiking_rnn, n_trials=100):
        # Multi-trial performance evaluation
        return {'accuracy': 0.85, 'n_trials': n_trials}


SpikingTaskFactory.register_task('my_custom', MyCustomSpikingTask)
'''


@pytest.fixture
def seed_custom_task(tmp_path, monkeypatch):
    (tmp_path / "my_seed_tasks.py").write_text(SEED_CUSTOM_TASK)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("my_seed_tasks")
    yield module
    TaskFactory._registry.pop("my_custom", None)
    monkeypatch.delitem(__import__("sys").modules, "my_seed_tasks")


def _model_dir(folder):
    folder.mkdir()
    tiny_model().replace(opt_scaling_factor=20.0).save(folder / "model.mat")
    return folder


def test_seed_custom_task_with_its_own_evaluate_performance_evaluates(seed_custom_task,
                                                                      tmp_path):
    from spikernn.spiking.eval_tasks import evaluate_task

    task = SpikingTaskFactory.create_task("my_custom")
    assert isinstance(task, AbstractTask) and "my_custom" in TaskFactory.list_available_tasks()
    assert task.get_sample_trial_types() == ["type_a", "type_b"]
    metrics = evaluate_task("my_custom", model_dir=_model_dir(tmp_path / "m"), n_trials=7)
    assert metrics["accuracy"] == metrics["overall_accuracy"] == 0.85
    assert metrics["n_trials"] == 7 and metrics["task"] == "my_custom"
    assert (tmp_path / "m" / "evaluation_my_custom" / "metrics.json").is_file()


def test_seed_custom_task_evaluates_from_the_seed_command_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "my_seed_tasks.py").write_text(SEED_CUSTOM_TASK)
    model_dir = _model_dir(tmp_path / "m")
    run = subprocess.run([sys.executable, "-m", "spikernn.spiking.eval_tasks", "--task",
                          "my_custom", "--task_module", "my_seed_tasks", "--model_dir",
                          str(model_dir), "--n_trials", "5"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "spiking accuracy 85.0%" in run.stdout
