"""The seed project's spiking-task names, as thin aliases over the one task system.

There is one task hierarchy and one registry: :mod:`spikernn.tasks` (``AbstractTask``,
``TaskFactory``). This module is the compatibility layer that keeps the seed project's
spiking-task code working on top of it:

- :class:`SpikingTask` adds the seed's spiking methods (``evaluate_performance``,
  ``run_trials``, ``sample_trials``, ``summarize``, ``evaluate_trial``, ``.task``) to
  a task of :mod:`spikernn.tasks`; each is one call into :mod:`spikernn.spiking.evaluation`.
  :class:`GoNogoSpikingTask`, :class:`XORSpikingTask` and :class:`ManteSpikingTask` are the
  built-in tasks with those methods (``isinstance(GoNogoSpikingTask(), GoNogoTask)``).
- :class:`AbstractSpikingTask` is the base of seed-style custom spiking tasks
  (``get_default_settings``, ``generate_stimulus`` and either ``is_correct`` or their own
  ``evaluate_performance``); it is an :class:`~spikernn.tasks.AbstractTask`.
- :class:`SpikingTaskFactory` is a view of :class:`~spikernn.tasks.TaskFactory`: it
  registers into the same registry and creates any registered task with the spiking
  methods.

New code uses :mod:`spikernn.tasks`, :mod:`spikernn.spiking.evaluation` and
:mod:`spikernn.pipeline` directly.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..artifact import ModelArtifact
from ..clock import time_base
from ..tasks import (
    AbstractTask,
    GoNogoTask,
    ManteTask,
    TaskFactory,
    TrialBatch,
    XORTask,
)
from ..tasks.base import SeedLike
from . import evaluation
from .evaluation import (
    accuracy_summary,
    as_network,
    firing_rate_summary,
    split_seed,
    task_name_of,
)
from .network import SpikingNetwork
from .result import SimulationResult

__all__ = [
    "AbstractSpikingTask",
    "GoNogoSpikingTask",
    "ManteSpikingTask",
    "RateTaskAdapter",
    "SpikingTask",
    "SpikingTaskFactory",
    "XORSpikingTask",
    "accuracy_summary",
    "as_network",
    "firing_rate_summary",
    "overrides_evaluate_performance",
    "samples_per_rate_step",
    "spiking_task_class",
    "split_seed",
    "task_for_model",
    "task_name_of",
]


def samples_per_rate_step(result: SimulationResult, dt_ms: float) -> float:
    """How many samples of ``result.output`` cover one rate step of ``dt_ms`` ms."""
    return time_base(dt_ms, result.dt, result.downsample).samples_per_rate_step


class SpikingTask(AbstractTask):
    """The seed's spiking-task methods on a task of :mod:`spikernn.tasks`.

    Mixed in after a task class (``class GoNogoSpikingTask(GoNogoTask, SpikingTask)``): the
    task's own definition wins; these methods call :mod:`spikernn.spiking.evaluation`.
    ``SpikingTask(task=name_or_instance)`` builds the registered task with these methods
    (the seed's ``RateTaskAdapter``).

    Examples
    --------
    >>> from spikernn.spiking.tasks import RateTaskAdapter
    >>> RateTaskAdapter(task="go-nogo").get_sample_trial_types()
    ['go', 'nogo']
    """

    def __new__(cls, settings: Mapping[str, Any] | None = None, seed: SeedLike = None,
                task: str | AbstractTask | None = None):
        if cls is SpikingTask:
            if task is None:
                raise ValueError("task: expected a task name or instance, got None")
            cls = spiking_task_class(type(task) if isinstance(task, AbstractTask)
                                     else TaskFactory.get_task_class(task))
        return super().__new__(cls)

    def __init__(self, settings: Mapping[str, Any] | None = None, seed: SeedLike = None,
                 task: str | AbstractTask | None = None):
        if isinstance(task, AbstractTask):
            if settings is not None or seed is not None:
                raise ValueError("settings/seed: expected None when a task instance is given")
            settings, seed = task.settings, task.rng
        super().__init__(settings, seed)

    @property
    def task(self) -> AbstractTask:
        """The task itself (the seed adapter's ``.task``)."""
        return self

    def sample_trials(self, n_trials: int, seed: SeedLike = None,
                      trial_types: str | Sequence[str] | None = None) -> TrialBatch:
        """Draw ``n_trials`` trials (:func:`spikernn.spiking.evaluation.sample_trials`)."""
        return evaluation.sample_trials(self, n_trials, seed, trial_types)

    def run_trials(self, spiking_rnn: SpikingNetwork, n_trials: int = 100, seed: SeedLike = None,
                   trial_types: str | Sequence[str] | None = None,
                   **simulate_kwargs: Any) -> tuple[TrialBatch, SimulationResult]:
        """Draw and simulate trials (:func:`spikernn.spiking.evaluation.simulate_trials`)."""
        return evaluation.simulate_trials(spiking_rnn, self, n_trials, seed, trial_types,
                                          **simulate_kwargs)

    def summarize(self, batch: TrialBatch, result: SimulationResult) -> dict[str, Any]:
        """Score and summarise (:func:`spikernn.spiking.evaluation.summarize`)."""
        return evaluation.summarize(self, batch, result)

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
        correct = bool(evaluation.score_result(self, result, [label] * result.batch_size)[0])
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
            See :func:`spikernn.spiking.evaluation.summarize`.
        """
        net = as_network(spiking_rnn, scaling_factor)
        batch, result = self.run_trials(net, n_trials, seed=seed, trial_types=trial_types,
                                        **simulate_kwargs)
        return self.summarize(batch, result)


#: The seed's name of :class:`SpikingTask` (a registered task with the spiking methods).
RateTaskAdapter = SpikingTask


class AbstractSpikingTask(SpikingTask):
    """Base class of seed-style custom spiking tasks (an :class:`AbstractTask`).

    Subclasses implement :meth:`get_default_settings` and :meth:`generate_stimulus`
    (``(stimulus (n_inputs, T), label)``, drawing from ``np.random``), and either
    :meth:`is_correct` (then trials are batched, scored and summarised by
    :meth:`evaluate_performance`) or their own :meth:`evaluate_performance`. Register them
    with :meth:`SpikingTaskFactory.register_task` (or ``TaskFactory.register_task``).

    Parameters
    ----------
    settings : mapping, optional
        Overrides of :meth:`get_default_settings` (times in rate steps of ``dt_ms``).
    seed : int or numpy.random.Generator, optional
        Source of :meth:`generate_stimulus`'s draws.
    """

    #: Seed spiking tasks have no fixed list of forcible trial types.
    trial_types: ClassVar[tuple[str, ...]] = ()

    def validate_settings(self) -> None:
        """Accept any settings (subclasses check theirs)."""
        return

    def generate_target(self, label: Hashable, seed: SeedLike | bool = False) -> np.ndarray:
        """Seed spiking tasks define no target: NaN over ``settings['T']`` rate steps."""
        return self.target_for(label, int(self.settings.get("T", 0)))

    def target_for(self, label: Hashable, n_steps: int) -> np.ndarray:
        """NaN: seed spiking tasks define no target."""
        return np.full(n_steps, np.nan, dtype=np.float32)

    def get_sample_trial_types(self) -> list[str]:
        """Trial types shown in figures (none by default)."""
        return []

    def response_window_s(self) -> tuple[float, float] | None:
        """Seed spiking tasks define no scored window."""
        return None

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


def task_for_model(model: ModelArtifact, task_name: str | None = None,
                   task_settings: Mapping[str, Any] | None = None) -> SpikingTask:
    """:func:`spikernn.spiking.evaluation.task_for_model` with the spiking methods."""
    task = evaluation.task_for_model(model, task_name, task_settings)
    return spiking_task_class(type(task))(task.settings)


def overrides_evaluate_performance(task: AbstractTask) -> bool:
    """Whether ``task`` brings its own ``evaluate_performance`` (a seed custom spiking task)."""
    own = getattr(type(task), "evaluate_performance", None)
    return own is not None and own is not SpikingTask.evaluate_performance


class GoNogoSpikingTask(GoNogoTask, SpikingTask):
    """Go/NoGo (:class:`~spikernn.tasks.GoNogoTask`) with the seed's spiking methods."""


class XORSpikingTask(XORTask, SpikingTask):
    """XOR (:class:`~spikernn.tasks.XORTask`) with the seed's spiking methods."""


class ManteSpikingTask(ManteTask, SpikingTask):
    """Context-dependent integration (:class:`~spikernn.tasks.ManteTask`) with the seed's
    spiking methods."""


_SPIKING_CLASSES: dict[type, type] = {GoNogoTask: GoNogoSpikingTask, XORTask: XORSpikingTask,
                                      ManteTask: ManteSpikingTask}


def spiking_task_class(task_class: type[AbstractTask]) -> type[SpikingTask]:
    """``task_class`` with the spiking methods (itself if it has them already)."""
    if issubclass(task_class, SpikingTask):
        return task_class
    if task_class not in _SPIKING_CLASSES:
        _SPIKING_CLASSES[task_class] = type(task_class.__name__, (task_class, SpikingTask),
                                            {"__module__": task_class.__module__,
                                             "__doc__": task_class.__doc__})
    return _SPIKING_CLASSES[task_class]


class SpikingTaskFactory:
    """The seed's spiking-task factory: a view of :class:`~spikernn.tasks.TaskFactory`.

    Examples
    --------
    >>> from spikernn.spiking.tasks import SpikingTaskFactory
    >>> type(SpikingTaskFactory.create_task("go-nogo")).__name__
    'GoNogoSpikingTask'
    """

    #: The one registry (``TaskFactory``'s).
    _registry = TaskFactory._registry

    @classmethod
    def create_task(cls, task_name: str, settings: Mapping[str, Any] | None = None,
                    seed: SeedLike = None) -> SpikingTask:
        """The registered task ``task_name`` with the spiking methods.

        Raises
        ------
        ValueError
            If ``TaskFactory`` does not know ``task_name``.
        """
        return spiking_task_class(TaskFactory.get_task_class(task_name))(settings, seed=seed)

    @classmethod
    def register_task(cls, task_name: str, task_class: type[AbstractTask]) -> None:
        """Register ``task_class`` (e.g. an AbstractSpikingTask) on ``TaskFactory``."""
        TaskFactory.register_task(task_name, task_class)

    @classmethod
    def list_available_tasks(cls) -> list[str]:
        """Names of the registered tasks, sorted."""
        return TaskFactory.list_available_tasks()

