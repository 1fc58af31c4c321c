"""Tasks on a spiking network: draw a task's trials, simulate them as one batch, score them.

These functions take any task of :mod:`spikernn.tasks` (the one task system) and a
:class:`~spikernn.spiking.network.SpikingNetwork`. The task's windows (rate steps) are mapped
onto the spiking readout by the result's clock (:func:`spikernn.clock.time_base`), and the
simulated result carries the trials (``result.trials``). The pipeline
(:mod:`spikernn.pipeline`) builds evaluation, analysis and export on them; the seed
project's spiking-task classes (:mod:`spikernn.spiking.tasks`) are thin aliases over them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validate import check_n_trials
from ..artifact import ModelArtifact
from ..tasks import AbstractTask, TaskFactory, TrialBatch, TrialInfo, as_generator
from ..tasks import normalize_task_name as _normalize
from ..tasks.base import SeedLike
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


def task_name_of(task: AbstractTask) -> str:
    """Display name of a task: its registry name, else its class name."""
    return str(getattr(task, "name", None) or type(task).__name__)


def task_for_model(model: ModelArtifact, task_name: str | None = None,
                   task_settings: Mapping[str, Any] | None = None) -> AbstractTask:
    """The task (from :class:`~spikernn.tasks.TaskFactory`) to evaluate ``model`` on.

    Parameters
    ----------
    model : ModelArtifact
        The model; its recorded task and settings are the defaults.
    task_name : str, optional
        Task name (default: ``model.task``). The model's settings apply only when this is the
        task the model records.
    task_settings : mapping, optional
        Overrides of the settings.

    Raises
    ------
    ValueError
        No task name (neither given nor recorded), or an unknown one.
    """
    name = task_name if task_name is not None else model.task
    if not name:
        raise ValueError("task_name: expected a task name (the model records none), got None")
    same = bool(model.task) and _normalize(name) == _normalize(model.task)
    settings = dict(model.task_settings) if same else {}
    settings.update(task_settings or {})
    return TaskFactory.create_task(name, settings)


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


def sample_trials(task: AbstractTask, n_trials: int, seed: SeedLike = None,
                  trial_types: str | Sequence[str] | None = None) -> TrialBatch:
    """Draw ``n_trials`` trials of ``task`` (its own generator when ``seed`` is None)."""
    return task.sample_batch(check_n_trials(n_trials), rng=task.rng if seed is None else seed,
                             trial_types=trial_types)


def simulate_trials(net: SpikingNetwork, task: AbstractTask, n_trials: int = 100,
                    seed: SeedLike = None, trial_types: str | Sequence[str] | None = None,
                    **simulate_kwargs: Any) -> tuple[TrialBatch, SimulationResult]:
    """Draw ``n_trials`` trials of ``task`` and simulate them as one batch.

    Parameters
    ----------
    net : SpikingNetwork
        The network.
    task : AbstractTask
        Any task of :mod:`spikernn.tasks`.
    n_trials : int
        Number of trials.
    seed : int or numpy.random.Generator, optional
        Seeds both the trials and the engine's draws (initial voltages, noise); the task's
        own generator when omitted.
    trial_types : str or sequence of str, optional
        Force the trial types.
    **simulate_kwargs
        Passed to :meth:`SpikingNetwork.simulate` (``downsample``, ``record``,
        ``scaling_factors``, ``max_batch``, ``progress``, ...).

    Returns
    -------
    (TrialBatch, SimulationResult)
        The result carries the trials (``result.trials``: task name, labels, trial types,
        stimulus).
    """
    rng, engine_seed = split_seed(task.rng if seed is None else seed)
    batch = sample_trials(task, n_trials, seed=rng, trial_types=trial_types)
    result = net.simulate(batch.stimulus, seed=engine_seed, **simulate_kwargs)
    trials = TrialInfo.from_batch(batch, task_name_of(task))
    return batch, dataclasses.replace(result, trials=trials)


def score_result(task: AbstractTask, result: SimulationResult,
                 labels: Sequence | None = None) -> np.ndarray:
    """Whether each trial of ``result`` was solved: bool array (batch,).

    ``labels`` default to ``result.trials.labels``; the task's windows are mapped onto the
    readout by ``result.clock``.
    """
    if labels is None:
        if result.trials is None or result.trials.labels is None:
            raise ValueError("labels: expected labels (the result carries no trials), got None")
        labels = result.trials.labels
    return task.score(result.output, labels, result.clock.samples_per_rate_step)


def summarize(task: AbstractTask, batch: TrialBatch, result: SimulationResult
              ) -> dict[str, Any]:
    """Score a simulated batch and summarise it.

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
    correct = score_result(task, result, batch.labels)
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
