"""Simulate a task's trials with the spiking conversion of a rate model."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._validate import check_seed
from ..artifact import ModelArtifact, scaling_factor_of
from ..spiking.evaluation import simulate_trials as _simulate
from ..spiking.evaluation import task_for_model
from ..spiking.network import SpikingNetwork
from ..spiking.params import LIFParams
from ..spiking.result import SimulationResult
from ..spiking.search import resolve_model
from ..tasks import AbstractTask, TrialBatch


@dataclass(frozen=True)
class SimulatedTrials:
    """Trials of a task simulated with a converted network.

    Attributes
    ----------
    model : ModelArtifact
        The rate model.
    model_path : pathlib.Path or None
        The model file (None for an in-memory artifact).
    task : AbstractTask
        The task the trials were drawn from.
    network : SpikingNetwork
        The spiking network (scaling factor ``network.scaling_factor``).
    batch : TrialBatch
        The trials (stimulus, target, labels, trial types).
    result : SimulationResult
        The simulation; ``result.trials`` is the trial record, ``result.clock`` its time base.
    """

    model: ModelArtifact
    model_path: Path | None
    task: AbstractTask
    network: SpikingNetwork
    batch: TrialBatch
    result: SimulationResult


def spiking_network(model: ModelArtifact | str | os.PathLike,
                    scaling_factor: float | None = None, *, params: LIFParams | None = None,
                    device: str = "cpu", dtype: torch.dtype = torch.float32
                    ) -> tuple[ModelArtifact, Path | None, SpikingNetwork]:
    """Load a model (artifact, file or folder) and build its spiking network.

    Returns
    -------
    (ModelArtifact, pathlib.Path or None, SpikingNetwork)
        The model, its file (None for an artifact) and the network at ``scaling_factor``
        (default: the model's ``opt_scaling_factor``).
    """
    model, path = resolve_model(model)
    net = SpikingNetwork(model, scaling_factor=scaling_factor_of(model, scaling_factor),
                         params=params or LIFParams(), device=device, dtype=dtype)
    return model, path, net


def simulate_trials(model: ModelArtifact | str | os.PathLike, task: str | AbstractTask | None
                    = None, n_trials: int = 100, seed: int = 0, *,
                    scaling_factor: float | None = None,
                    task_settings: Mapping[str, Any] | None = None,
                    trial_types: str | Sequence[str] | None = None,
                    params: LIFParams | None = None, device: str = "cpu",
                    dtype: torch.dtype = torch.float32, **simulate_kwargs: Any
                    ) -> SimulatedTrials:
    """Draw ``n_trials`` trials of a task and simulate them with the converted network.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model (artifact, ``.mat``/``.pth`` file, folder with one ``.mat``).
    task : str or AbstractTask, optional
        The task or its registry name (default: the model's task, with its settings).
    n_trials : int
        Number of trials (one batch).
    seed : int
        Seeds the trials and the engine's draws.
    scaling_factor : float, optional
        Default: the model's ``opt_scaling_factor``.
    task_settings : mapping, optional
        Overrides of the task's settings (for a task given by name).
    trial_types : str or sequence of str, optional
        Force the trial types.
    params : LIFParams, optional
        Neuron and synapse parameters (default: SI Table S1).
    device, dtype : str, torch.dtype
        Where and in which precision to simulate.
    **simulate_kwargs
        Passed to :meth:`SpikingNetwork.simulate` (``downsample``, ``record``,
        ``record_every``, ``progress``, ...).

    Returns
    -------
    SimulatedTrials
    """
    seed = check_seed(seed)
    model, path, net = spiking_network(model, scaling_factor, params=params, device=device,
                                       dtype=dtype)
    if not isinstance(task, AbstractTask):
        task = task_for_model(model, task, task_settings)
    batch, result = _simulate(net, task, n_trials, seed=seed, trial_types=trial_types,
                              **simulate_kwargs)
    return SimulatedTrials(model, path, task, net, batch, result)
