"""Spiking evaluation of cognitive tasks.

A spiking task is a thin adapter over a task of :mod:`spikernn.tasks`: the stimulus, the
labels, the trial types and the scoring rule come from that one definition; the adapter maps
the task's time windows (rate steps of ``dt_ms`` = 5 ms) onto the spiking readout (one sample
every ``downsample`` integration steps of ``params.dt`` = 0.05 ms, i.e. 100 / downsample
samples per rate step), runs all trials as one batch through
:meth:`~spikernn.spiking.network.SpikingNetwork.simulate` and summarises the outcome.

:class:`GoNogoSpikingTask`, :class:`XORSpikingTask` and :class:`ManteSpikingTask` adapt the
built-in tasks; any task registered on :class:`~spikernn.tasks.TaskFactory` is evaluated by
:class:`RateTaskAdapter` with no extra code (``SpikingTaskFactory.create_task(name)``).
Seed-style custom spiking tasks subclass :class:`AbstractSpikingTask` directly.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .._validate import check_n_trials
from ..artifact import ModelArtifact
from ..clock import time_base
from ..tasks import (
    AbstractTask,
    TaskFactory,
    TrialBatch,
    TrialInfo,
    as_generator,
    normalize_task_name,
)
from ..tasks.base import Configured, SeedLike, global_numpy_seeded, score_traces
from .network import SpikingNetwork
from .result import SimulationResult


def split_seed(seed: SeedLike) -> tuple[np.random.Generator, int]:
    """Derive a trial generator and an integer engine seed from one seed.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        ``None`` draws fresh entropy.

    Returns
    -------
    (numpy.random.Generator, int)
        The generator that draws the trials and the seed passed to the engine.
    """
    rng = as_generator(seed)
    engine_seed = int(rng.integers(0, 2**31 - 1))
    return rng, engine_seed


def samples_per_rate_step(result: SimulationResult, dt_ms: float) -> float:
    """How many samples of ``result.output`` cover one rate step of ``dt_ms`` ms."""
    return time_base(dt_ms, result.dt, result.downsample).samples_per_rate_step


def task_name_of(task: AbstractSpikingTask) -> str:
    """Display name of a spiking task: its registry name, else its class name."""
    return str(getattr(task, "name", type(task).__name__))


def as_network(spiking_rnn: SpikingNetwork | ModelArtifact | str | os.PathLike,
               scaling_factor: float | None = None) -> SpikingNetwork:
    """Return ``spiking_rnn`` if it is a network, else build one from a model or model file.

    Parameters
    ----------
    spiking_rnn : SpikingNetwork, ModelArtifact or path
        A network, or a model (artifact, ``.mat``/``.pth`` file, folder with one ``.mat``).
    scaling_factor : float, optional
        Scaling factor of a network built here (default: the model's ``opt_scaling_factor``).
    """
    if isinstance(spiking_rnn, SpikingNetwork):
        return spiking_rnn
    return SpikingNetwork(spiking_rnn, scaling_factor=scaling_factor)


def task_for_model(model: ModelArtifact, task_name: str | None = None,
                   task_settings: Mapping[str, Any] | None = None) -> AbstractSpikingTask:
    """The spiking task to evaluate ``model`` on.

    Parameters
    ----------
    model : ModelArtifact
        The model; its recorded task and settings are the defaults.
    task_name : str, optional
        Task name (default: ``model.task``). The model's settings apply only when this is the
        task the model records.
    task_settings : mapping, optional
        Overrides of the settings.
    """
    name = task_name if task_name is not None else model.task
    if not name:
        raise ValueError("task_name: expected a task name (the model records none), got None")
    same = bool(model.task) and normalize_task_name(name) == normalize_task_name(model.task)
    settings = dict(model.task_settings) if same else {}
    settings.update(task_settings or {})
    return SpikingTaskFactory.create_task(name, settings)


class AbstractSpikingTask(Configured, ABC):
    """Base class of spiking tasks (the seed project's interface).

    Subclasses implement :meth:`get_default_settings` and :meth:`generate_stimulus`, and
    either :meth:`is_correct` (then trials are batched, scored and summarised here) or their
    own :meth:`evaluate_performance`. Adapters of :mod:`spikernn.tasks` tasks derive from
    :class:`RateTaskAdapter` instead.

    Parameters
    ----------
    settings : mapping, optional
        Overrides of :meth:`get_default_settings` (times in rate steps of ``dt_ms``).
    seed : int or numpy.random.Generator, optional
        Source of :meth:`generate_stimulus`'s draws.
    """

    #: Duration of one rate step of the task's time base, ms.
    dt_ms: ClassVar[float] = 5.0

    # -- the seed project's interface ---------------------------------------------------
    @abstractmethod
    def get_default_settings(self) -> dict[str, Any]:
        """Default settings of the task (rate steps)."""

    def validate_settings(self) -> None:
        """Raise ``ValueError`` naming the setting if ``self.settings`` is invalid.

        The default accepts any settings; subclasses check theirs.
        """
        return

    def get_sample_trial_types(self) -> list[str]:
        """Trial types shown in figures (one raster and readout panel each)."""
        return []

    @abstractmethod
    def generate_stimulus(self, trial_type: str | None = None) -> tuple[np.ndarray, Hashable]:
        """Draw one trial: ``(stimulus (n_inputs, T), label)``."""

    def is_correct(self, output: np.ndarray, label: Hashable, samples_per_step: float) -> bool:
        """Whether one spiking readout trace solves a trial with ``label``.

        Parameters
        ----------
        output : numpy.ndarray, shape (T * samples_per_step,)
            Spiking readout.
        label : hashable
            The trial's label.
        samples_per_step : float
            Readout samples per rate step (100 / downsample at dt = 0.05 ms).
        """
        raise NotImplementedError(
            f"{type(self).__name__}: implement is_correct() or override evaluate_performance()")

    def trial_type_of(self, label: Hashable) -> str:
        """Name of the trial type a label belongs to (default ``str(label)``)."""
        return str(label)

    def response_window_s(self) -> tuple[float, float] | None:
        """The scored window ``[start, stop)`` in seconds, if the task defines one."""
        return None

    # -- batches ------------------------------------------------------------------------
    def sample_trials(self, n_trials: int, seed: SeedLike = None,
                      trial_types: str | Sequence[str] | None = None) -> TrialBatch:
        """Draw ``n_trials`` trials as a :class:`~spikernn.tasks.TrialBatch`.

        This default calls :meth:`generate_stimulus` with numpy's global generator seeded
        from ``seed`` (then restored); it knows no target, so ``target`` is NaN.
        """
        n_trials = check_n_trials(n_trials)
        if isinstance(trial_types, str) or trial_types is None:
            trial_types = [trial_types] * n_trials
        if len(trial_types) != n_trials:
            raise ValueError(f"trial_types: expected {n_trials} names, got {len(trial_types)}")
        rng = self.rng if seed is None else as_generator(seed)
        stims, labels = [], []
        with global_numpy_seeded(rng):
            for trial_type in trial_types:
                stimulus, label = self.generate_stimulus(trial_type=trial_type)
                stims.append(np.atleast_2d(np.asarray(stimulus, dtype=np.float32)))
                labels.append(label)
        stimulus = np.stack(stims)
        names = tuple(t or self.trial_type_of(lab) for t, lab in zip(trial_types, labels,
                                                                      strict=True))
        target = np.full((n_trials, stimulus.shape[2]), np.nan, dtype=np.float32)
        return TrialBatch(stimulus, target, tuple(labels), names)

    def score(self, outputs: np.ndarray, labels: Sequence[Hashable],
              samples_per_step: float) -> np.ndarray:
        """Score spiking readouts, shape (batch, samples): bool array (batch,)."""
        return score_traces(self.is_correct, outputs, labels, samples_per_step)

    def run_trials(self, spiking_rnn: SpikingNetwork, n_trials: int = 100, seed: SeedLike = None,
                   trial_types: str | Sequence[str] | None = None,
                   **simulate_kwargs: Any) -> tuple[TrialBatch, SimulationResult]:
        """Draw ``n_trials`` trials and simulate them as one batch.

        Parameters
        ----------
        spiking_rnn : SpikingNetwork
            The network.
        n_trials : int
            Number of trials.
        seed : int or numpy.random.Generator, optional
            Seeds both the trials and the engine's draws (initial voltages, noise).
        trial_types : str or sequence of str, optional
            Force the trial types.
        **simulate_kwargs
            Passed to :meth:`SpikingNetwork.simulate` (``downsample``, ``record``,
            ``scaling_factors``, ``max_batch``, ``progress``, ...).

        Returns
        -------
        (TrialBatch, SimulationResult)
            The result carries the trials (``result.trials``: task name, labels, trial
            types, stimulus).
        """
        rng, engine_seed = split_seed(self.rng if seed is None else seed)
        batch = self.sample_trials(n_trials, seed=rng, trial_types=trial_types)
        result = spiking_rnn.simulate(batch.stimulus, seed=engine_seed, **simulate_kwargs)
        trials = TrialInfo.from_batch(batch, task_name_of(self))
        return batch, dataclasses.replace(result, trials=trials)

    def summarize(self, batch: TrialBatch, result: SimulationResult) -> dict[str, Any]:
        """Score a simulated batch and summarise it (see :meth:`evaluate_performance`)."""
        correct = self.score(result.output, batch.labels,
                             result.clock.samples_per_rate_step)
        metrics = accuracy_summary(correct, batch.trial_types)
        metrics.update(firing_rate_summary(result))
        metrics.update({
            "correct": correct.tolist(),
            "labels": list(batch.labels),
            "trial_types": list(batch.trial_types),
            "scaling_factor": _unique_or_list(result.scaling_factors),
            "engine_seed": result.seed,
        })
        return metrics

    def evaluate_trial(self, spiking_rnn: SpikingNetwork, stimulus: np.ndarray,
                       label: Hashable, seed: int | None = None,
                       **simulate_kwargs: Any) -> dict[str, Any]:
        """Simulate and score one trial.

        Returns
        -------
        dict
            ``stimulus``, ``label``, ``trial_type``, ``output`` (readout, shape (samples,)),
            ``correct``, ``result`` (the :class:`SimulationResult`, with spikes).
        """
        stimulus = np.asarray(stimulus, dtype=np.float32)
        result = spiking_rnn.simulate(stimulus[None] if stimulus.ndim == 2 else stimulus,
                                      seed=seed, **simulate_kwargs)
        correct = bool(self.score(result.output[:1], [label],
                                  result.clock.samples_per_rate_step)[0])
        return {"stimulus": stimulus, "label": label, "trial_type": self.trial_type_of(label),
                "output": result.output[0], "correct": correct, "result": result}

    def evaluate_performance(self, spiking_rnn: SpikingNetwork | ModelArtifact | str
                             | os.PathLike, n_trials: int = 100, seed: SeedLike = None,
                             trial_types: str | Sequence[str] | None = None,
                             scaling_factor: float | None = None,
                             **simulate_kwargs: Any) -> dict[str, Any]:
        """Accuracy of a spiking network over ``n_trials`` trials simulated as one batch.

        Parameters
        ----------
        spiking_rnn : SpikingNetwork, ModelArtifact or path
            The network, or a model to build it from (with ``scaling_factor``, default the
            model's ``opt_scaling_factor``).
        n_trials : int
            Number of trials (random trial types unless ``trial_types`` is given).
        seed : int or numpy.random.Generator, optional
            Seeds the trials and the engine; same seed, same numbers.
        trial_types : str or sequence of str, optional
            Force the trial types.
        scaling_factor : float, optional
            Only for a network built here from a model.
        **simulate_kwargs
            Passed to :meth:`SpikingNetwork.simulate` (e.g. ``downsample``, ``max_batch``).

        Returns
        -------
        dict
            ``overall_accuracy`` (fraction in [0, 1]), ``n_trials``, ``n_correct``,
            ``accuracy_by_type`` and ``trials_by_type`` dicts, ``<type>_accuracy`` and
            ``<type>_trials`` per trial type (seed names such as ``go_accuracy``), per-trial
            ``correct``, ``labels`` and ``trial_types``, ``mean_firing_rate_hz`` (all,
            ``_exc_hz``, ``_inh_hz``), ``scaling_factor`` and ``engine_seed`` (the seed the
            engine drew its initial voltages and noise from).
        """
        net = as_network(spiking_rnn, scaling_factor)
        batch, result = self.run_trials(net, n_trials, seed=seed, trial_types=trial_types,
                                        **simulate_kwargs)
        return self.summarize(batch, result)


class RateTaskAdapter(AbstractSpikingTask):
    """Spiking evaluation of a task registered on :class:`~spikernn.tasks.TaskFactory`.

    Parameters
    ----------
    settings : mapping, optional
        Overrides of the rate task's default settings.
    seed : int or numpy.random.Generator, optional
        Source of the task's own draws.
    task : str or AbstractTask, optional
        The rate task to adapt: a registry name or an instance (then ``settings`` and
        ``seed`` must be omitted). Subclasses fix it through :attr:`task_name`.

    Examples
    --------
    >>> from spikernn.spiking.tasks import RateTaskAdapter
    >>> RateTaskAdapter(task="go-nogo").get_sample_trial_types()
    ['go', 'nogo']
    """

    #: Registry name of the adapted rate task (set by the built-in subclasses).
    task_name: ClassVar[str | None] = None

    def __init__(self, settings: Mapping[str, Any] | None = None, seed: SeedLike = None,
                 task: str | AbstractTask | None = None):
        if isinstance(task, AbstractTask):
            if settings is not None or seed is not None:
                raise ValueError("settings/seed: expected None when a task instance is given")
            self.task = task
        else:
            name = task if task is not None else self.task_name
            if name is None:
                raise ValueError("task: expected a task name or instance, got None")
            self.task = TaskFactory.create_task(name, settings, seed=seed)
        self.dt_ms = float(self.task.dt_ms)
        super().__init__(self.task.settings, seed=self.task.rng)
        self.settings = self.task.settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r})"

    @property
    def name(self) -> str:
        """Registry name of the adapted task."""
        return self.task.name

    def get_default_settings(self) -> dict[str, Any]:
        return dict(type(self.task).get_default_settings())

    def get_sample_trial_types(self) -> list[str]:
        return list(self.task.trial_types)

    def generate_stimulus(self, trial_type: str | None = None) -> tuple[np.ndarray, Hashable]:
        batch = self.task.sample_batch(1, rng=self.rng, trial_types=trial_type)
        return batch.stimulus[0], batch.labels[0]

    def trial_type_of(self, label: Hashable) -> str:
        return self.task.trial_type_of(label)

    def response_window_s(self) -> tuple[float, float]:
        start, stop = self.task.response_window()
        return start * self.dt_ms * 1e-3, stop * self.dt_ms * 1e-3

    def is_correct(self, output: np.ndarray, label: Hashable, samples_per_step: float) -> bool:
        return bool(self.task.is_correct(output, label, samples_per_step))

    def score(self, outputs: np.ndarray, labels: Sequence[Hashable],
              samples_per_step: float) -> np.ndarray:
        return self.task.score(outputs, labels, samples_per_step=samples_per_step)

    def sample_trials(self, n_trials: int, seed: SeedLike = None,
                      trial_types: str | Sequence[str] | None = None) -> TrialBatch:
        return self.task.sample_batch(check_n_trials(n_trials),
                                      rng=self.rng if seed is None else seed,
                                      trial_types=trial_types)


class GoNogoSpikingTask(RateTaskAdapter):
    """Go/NoGo on a spiking network (criteria of :class:`~spikernn.tasks.GoNogoTask`)."""

    task_name = "go_nogo"


class XORSpikingTask(RateTaskAdapter):
    """XOR on a spiking network (criteria of :class:`~spikernn.tasks.XORTask`)."""

    task_name = "xor"


class ManteSpikingTask(RateTaskAdapter):
    """Context-dependent integration on a spiking network (:class:`~spikernn.tasks.ManteTask`)."""

    task_name = "mante"


class SpikingTaskFactory:
    """Create spiking tasks by name; tasks only registered on ``TaskFactory`` are adapted.

    Examples
    --------
    >>> from spikernn.spiking.tasks import SpikingTaskFactory
    >>> type(SpikingTaskFactory.create_task("go-nogo")).__name__
    'GoNogoSpikingTask'
    """

    _registry: dict[str, type[AbstractSpikingTask]] = {
        "go_nogo": GoNogoSpikingTask,
        "xor": XORSpikingTask,
        "mante": ManteSpikingTask,
    }

    @classmethod
    def create_task(cls, task_name: str, settings: Mapping[str, Any] | None = None,
                    seed: SeedLike = None) -> AbstractSpikingTask:
        """The spiking task ``task_name`` with ``settings`` and ``seed``.

        Raises
        ------
        ValueError
            If neither this factory nor :class:`TaskFactory` knows ``task_name``.
        """
        key = normalize_task_name(task_name)
        if key in cls._registry:
            return cls._registry[key](settings, seed=seed)
        if key in TaskFactory.list_available_tasks():
            return RateTaskAdapter(settings, seed=seed, task=key)
        raise ValueError(f"task_name: expected one of {cls.list_available_tasks()}, "
                         f"got {task_name!r}")

    @classmethod
    def register_task(cls, task_name: str, task_class: type[AbstractSpikingTask]) -> None:
        """Register ``task_class`` (a subclass of AbstractSpikingTask) under ``task_name``."""
        if not (isinstance(task_class, type) and issubclass(task_class, AbstractSpikingTask)):
            raise TypeError(
                f"task_class: expected a subclass of AbstractSpikingTask, got {task_class!r}")
        cls._registry[normalize_task_name(task_name)] = task_class

    @classmethod
    def list_available_tasks(cls) -> list[str]:
        """Names of the spiking tasks and of every task registered on TaskFactory, sorted."""
        return sorted(set(cls._registry) | set(TaskFactory.list_available_tasks()))


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------

def accuracy_summary(correct: np.ndarray, trial_types: Sequence[str]) -> dict[str, Any]:
    """Overall and per-trial-type accuracy of a batch.

    Parameters
    ----------
    correct : numpy.ndarray of bool, shape (batch,)
        Per-trial outcome.
    trial_types : sequence of str
        Trial type of each trial.

    Returns
    -------
    dict
        ``overall_accuracy``, ``n_trials``, ``n_correct``, ``accuracy_by_type``,
        ``trials_by_type``, and ``<type>_accuracy`` / ``<type>_trials`` for each type.
    """
    correct = np.asarray(correct, dtype=bool)
    types = np.asarray(trial_types, dtype=object)
    by_type, counts = {}, {}
    for name in dict.fromkeys(trial_types):
        sel = types == name
        counts[name] = int(sel.sum())
        by_type[name] = float(correct[sel].mean())
    out: dict[str, Any] = {
        "overall_accuracy": float(correct.mean()),
        "n_trials": int(correct.size),
        "n_correct": int(correct.sum()),
        "accuracy_by_type": by_type,
        "trials_by_type": counts,
    }
    for name in by_type:
        out[f"{name}_accuracy"] = by_type[name]
        out[f"{name}_trials"] = counts[name]
    return out


def firing_rate_summary(result: SimulationResult) -> dict[str, float]:
    """Mean firing rate over trials and units (all, excitatory, inhibitory), Hz."""
    rates = result.firing_rates()
    exc = np.asarray(result.exc, dtype=bool)
    summary = {"mean_firing_rate_hz": float(rates.mean())}
    for key, sel in (("exc", exc), ("inh", ~exc)):
        summary[f"mean_firing_rate_{key}_hz"] = float(rates[:, sel].mean()) if sel.any() else 0.0
    return summary


def _unique_or_list(values: np.ndarray) -> float | list[float]:
    values = np.asarray(values, dtype=float).ravel()
    unique = np.unique(values)
    return float(unique[0]) if unique.size == 1 else values.tolist()
