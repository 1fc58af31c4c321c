"""Scaling-factor search: pick the factor s (the paper's 1/lambda) that converts a rate model.

Kim, Li & Sejnowski (2019) scale the recurrent and readout weights of the spiking network by
1/s and choose s by grid search (20..75 step 5 for sigmoid models, 4..26 step 2 for
softplus/ReLU), keeping the s with the best task accuracy over 100 trials.
:func:`lambda_grid_search` runs every factor on the same seeded trials, as batches of
(factor x trial) through the batched engine sized to a memory budget, keeps per-factor
results in a sidecar JSON file after each batch (a rerun with the same settings resumes),
and records the result in the model file atomically. When the best factor sits at an edge
of the grid, the grid is extended past that edge by its own step (at most ``extend_edges``
extra factors, never below :data:`MIN_EXTENDED_FACTOR`), and a model that does not reach
:data:`~spikernn.spiking.diagnosis.CONVERSION_CRITERION` gets a
:class:`~spikernn.spiking.diagnosis.Diagnosis` from the measurements already made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import operator
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import _validate
from .._io import check_writable, locked, to_plain, write_json
from .._version import __version__
from ..artifact import ModelArtifact, find_model_file, load_model
from ..clock import time_base
from ..protocol import DEFAULT_PROTOCOL, PROTOCOLS, protocol_of
from ..tasks import AbstractTask, TrialBatch
from .diagnosis import CONVERSION_CRITERION, Diagnosis, diagnose_search
from .engine import resolve_backend
from .evaluation import (
    accuracy_summary,
    sample_trials,
    split_seed,
    task_for_model,
    task_name_of,
)
from .memory import trial_memory, trials_within
from .network import SpikingNetwork
from .params import LIFParams

#: The paper's search grids by activation (scaling factors, dimensionless).
DEFAULT_GRIDS: dict[str, tuple[float, float, float]] = {
    "sigmoid": (20.0, 75.0, 5.0),
    "softplus": (4.0, 26.0, 2.0),
    "relu": (4.0, 26.0, 2.0),
}

#: Extra factors the search adds past the grid's edges for a model trained under the default
#: protocol, or one that records none (``extend_edges``; :mod:`spikernn.protocol`).
DEFAULT_EXTEND_EDGES = PROTOCOLS[DEFAULT_PROTOCOL].extend_edges
#: The search never extends the grid below this factor (weights are divided by it).
MIN_EXTENDED_FACTOR = 1.0

def default_scaling_factors(activation: str) -> np.ndarray:
    """The paper's grid for a model's activation: 20..75 step 5 (sigmoid), else 4..26 step 2."""
    if activation not in DEFAULT_GRIDS:
        raise ValueError(f"activation: expected one of {list(DEFAULT_GRIDS)}, got {activation!r}")
    start, stop, step = DEFAULT_GRIDS[activation]
    return np.arange(start, stop + step / 2, step)


def check_scaling_factors(scaling_factors: Sequence[float] | np.ndarray) -> np.ndarray:
    """Validate a search grid: a non-empty 1-D list of distinct scaling factors
    (:func:`spikernn._validate.check_scaling_factors`)."""
    return _validate.check_scaling_factors(scaling_factors, distinct=True)


def trials_per_batch(n_units: int, n_steps: int, downsample: int, budget_bytes: float,
                     dt: float, itemsize: int = 4) -> int:
    """How many trials of one network fit a memory budget (at least 1): the engine's
    memory model (:func:`spikernn.spiking.memory.trial_memory`) with spike events kept.

    Parameters
    ----------
    n_units, n_steps, downsample : int
        Network size, integration steps per trial, steps per readout sample.
    budget_bytes : float
        Memory budget for one engine call, bytes.
    dt : float
        Integration step, s.
    itemsize : int
        Bytes per tensor element (4 for float32, 8 for float64).
    """
    memory = trial_memory(n_units, n_steps, downsample=downsample, itemsize=itemsize, dt=dt)
    return trials_within(budget_bytes, memory)


class _BestFactorNumber:
    """Makes a :class:`SearchResult` behave as the number the seed's search returned (its
    best scaling factor): formatting, arithmetic, comparison, hashing, ``math``/``numpy``."""

    def __float__(self) -> float:
        return self.best_scaling_factor

    def __str__(self) -> str:
        return str(float(self))

    def __format__(self, spec: str) -> str:
        return format(float(self), spec)

    def __hash__(self) -> int:
        return hash(float(self))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(float(self), dtype=dtype)

    def __int__(self) -> int:
        return int(float(self))

    def __round__(self, ndigits: int | None = None):
        return round(float(self), ndigits)


def _number_method(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Any]:
    def method(self, other=None):
        if other is None:
            return op(float(self))
        if isinstance(other, _BestFactorNumber):
            other = float(other)
        elif not isinstance(other, numbers.Number | np.ndarray | np.generic):
            return NotImplemented
        return op(other, float(self)) if reflected else op(float(self), other)
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(_BestFactorNumber, f"__{_name}__", _number_method(getattr(operator, _name)))
    setattr(_BestFactorNumber, f"__r{_name}__",
            _number_method(getattr(operator, _name), reflected=True))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(_BestFactorNumber, f"__{_name}__", _number_method(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "trunc", "floor", "ceil", "bool"):
    _op = {"trunc": math.trunc, "floor": math.floor, "ceil": math.ceil, "bool": bool
           }.get(_name) or getattr(operator, _name)
    setattr(_BestFactorNumber, f"__{_name}__", _number_method(_op))
numbers.Real.register(_BestFactorNumber)


@dataclass(frozen=True, eq=False)
class SearchResult(_BestFactorNumber):
    """Outcome of :func:`lambda_grid_search`.

    It behaves as the number the seed project's search returned, the best scaling factor:
    ``float(r)``, ``f"{r:.1f}"``, ``r * 2``, ``r == 25``, ``np.isnan(r)``, ``np.asarray(r)``
    work on that value (and ``hash(r) == hash(float(r))``); ``repr(r)`` shows the summary.

    Attributes
    ----------
    task : str
        Task name.
    scaling_factors : numpy.ndarray, shape (K,)
        Searched factors, in the order given.
    accuracies : numpy.ndarray, shape (K,)
        Fraction of correct trials at each factor (the model file's ``all_perfs``).
    accuracy_by_type : list of dict
        Per factor, the accuracy of each trial type.
    mean_firing_rates : numpy.ndarray, shape (K,)
        Mean firing rate over trials and units at each factor, Hz.
    n_trials : int
        Trials per factor (the same trials for every factor).
    seed : int
        Seed of the trials and of the engine's draws.
    model : ModelArtifact
        The model with ``opt_scaling_factor``, ``scaling_factors`` and ``all_perfs`` set.
    model_path : pathlib.Path or None
        The model file the result was written to (None when not saved).
    results_path : pathlib.Path or None
        The sidecar JSON file with per-factor results.
    extended_factors : numpy.ndarray, shape (E,)
        The factors the search added past the grid's edges (the last ``E`` of
        ``scaling_factors``, in the order added; empty when none).
    peak_readout_by_type : list of dict
        Per factor, the median over each trial type's trials of the peak ``|readout|`` in
        the response window (dimensionless; empty dicts for results recorded without it).
    diagnosis : Diagnosis or None
        Why the best accuracy is under the criterion (``diagnosis.converted`` when it is not).
    """

    task: str
    scaling_factors: np.ndarray
    accuracies: np.ndarray
    accuracy_by_type: list[dict[str, float]]
    mean_firing_rates: np.ndarray
    n_trials: int
    seed: int
    model: ModelArtifact
    model_path: Path | None = None
    results_path: Path | None = None
    extended_factors: np.ndarray = dataclass_field(default_factory=lambda: np.zeros(0))
    peak_readout_by_type: list[dict[str, float]] = dataclass_field(default_factory=list)
    diagnosis: Diagnosis | None = None

    def __repr__(self) -> str:
        return (f"SearchResult(task={self.task!r}, best_scaling_factor="
                f"{self.best_scaling_factor:g}, best_accuracy={self.best_accuracy:.3f}, "
                f"n_factors={self.scaling_factors.size}, n_trials={self.n_trials})")

    @property
    def best_index(self) -> int:
        """Index of the best factor (the smallest factor among ties)."""
        return best_factor_index(self.scaling_factors, self.accuracies)

    @property
    def best_scaling_factor(self) -> float:
        """The factor with the highest accuracy (the paper's optimal s)."""
        return float(self.scaling_factors[self.best_index])

    @property
    def best_accuracy(self) -> float:
        """Accuracy at the best factor."""
        return float(self.accuracies[self.best_index])

    @property
    def standard_errors(self) -> np.ndarray:
        """Binomial standard error of each factor's accuracy, ``sqrt(p (1 - p) / n_trials)``."""
        p = self.accuracies
        return np.sqrt(p * (1.0 - p) / self.n_trials)

    #: Seed-compatible names.
    opt_scaling_factor = best_scaling_factor
    all_perfs = property(lambda self: self.accuracies)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "task": self.task, "n_trials": self.n_trials, "seed": self.seed,
            "scaling_factors": self.scaling_factors.tolist(),
            "accuracies": self.accuracies.tolist(),
            "standard_errors": self.standard_errors.tolist(),
            "extended_factors": self.extended_factors.tolist(),
            "accuracy_by_type": self.accuracy_by_type,
            "peak_readout_by_type": self.peak_readout_by_type,
            "mean_firing_rates_hz": self.mean_firing_rates.tolist(),
            "best_scaling_factor": self.best_scaling_factor,
            "best_accuracy": self.best_accuracy,
            "model_path": None if self.model_path is None else str(self.model_path),
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
        }


def lambda_grid_search(model_dir: ModelArtifact | str | os.PathLike | Mapping[str, Any],
                       task_name: str | None = None, n_trials: int = 100,
                       scaling_factors: Sequence[float] | None = None,
                       task_settings: Mapping[str, Any] | None = None, *,
                       seed: int = 0, params: LIFParams | None = None, device: str = "cpu",
                       dtype: torch.dtype = torch.float32, use_initial_weights: bool = False,
                       downsample: int = 1, memory_budget_mb: float = 512.0,
                       save: bool = True, resume: bool = True,
                       results_path: str | os.PathLike | None = None, progress: bool = True,
                       callback: Callable[[float, float], None] | None = None,
                       extend_edges: int | None = None) -> SearchResult:
    """Grid search of the scaling factor s over ``n_trials`` trials per factor.

    Every factor sees the same trials and the same random draws (common random numbers:
    trial ``b``'s initial voltages, noise and perturbation coins depend on ``(seed, b)``
    only), so a factor's result does not depend on the memory budget, the order or subset
    of the grid, the core count or a resume, and factors are compared pairwise. Factors are
    simulated together, ``n_trials`` rows each, in engine calls sized to
    ``memory_budget_mb``. After each call the
    finished factors are written to a sidecar JSON file (atomically), so an interrupted search
    resumes where it stopped when rerun with the same settings. At the end the model file gets
    ``opt_scaling_factor``, ``scaling_factors`` and ``all_perfs`` (atomically; its other
    fields are unchanged).

    When the best accuracy (ties included) is reached at the grid's smallest (largest) factor,
    is under 1 and is not reached at every factor, the factor one grid step below (above) is
    added, and so on, until the
    best lies inside the grid, ``extend_edges`` factors were added, or the next factor would
    be below :data:`MIN_EXTENDED_FACTOR` (the step is the grid's spacing at that edge; a
    one-factor grid is not extended). Added factors run on the same trials and draws, are
    listed in ``result.extended_factors`` and the sidecar's ``grid``, and are recorded in the
    model like the others.

    Parameters
    ----------
    model_dir : ModelArtifact, path to a .mat/.pth file, or folder of .mat files
        The rate model (the seed's name, although it may be a file; a folder's first
        ``.mat`` file, with a warning if it holds several). An artifact or a
        ``scipy.io.loadmat`` dict is searched but not written anywhere.
    task_name : str, optional
        Task to score (default: the task the model records). ``go-nogo`` = ``go_nogo``.
    n_trials : int
        Trials per factor (the paper: 100).
    scaling_factors : sequence of float, optional
        Factors to try (default: the paper's grid for the model's activation, see
        :func:`default_scaling_factors`).
    task_settings : mapping, optional
        Overrides of the task settings (default: the settings the model was trained with).
    seed : int
        Seeds the trials and the engine (initial voltages, noise).
    params : LIFParams, optional
        Neuron and synapse parameters (default: SI Table S1).
    device, dtype : str, torch.dtype
        Where and in which precision to simulate.
    use_initial_weights : bool
        Convert the untrained initial weights ``w0`` instead (a control).
    downsample : int
        Integration steps (0.05 ms) per readout sample; scoring windows follow.
    memory_budget_mb : float
        Memory budget of one engine call, MiB.
    save : bool
        Write the result into the model file (when the model came from a file).
    resume : bool
        Reuse per-factor results of an earlier run with the same settings.
    results_path : path, optional
        Sidecar JSON file (default: ``<model stem>.search.json`` next to the model; none
        for an artifact unless given).
    progress : bool
        Show tqdm progress bars (factors done, and the engine's steps).
    callback : callable, optional
        Called as ``callback(scaling_factor, accuracy)`` after each factor is recorded.
    extend_edges : int, optional
        At most this many factors are added past the grid's edges (0 searches the grid as
        given). Default: the rule of the protocol the model was trained under
        (:mod:`spikernn.protocol`): 4 for ``default`` (and models that record none), 0 for
        ``paper``.

    Returns
    -------
    SearchResult

    Raises
    ------
    ValueError
        Unknown task, bad scaling factors, ``n_trials`` or ``extend_edges``, or a task whose
        number of inputs
        differs from the model's.

    Examples
    --------
    >>> from spikernn.spiking.search import lambda_grid_search
    >>> result = lambda_grid_search("models/go-nogo", "go_nogo")  # doctest: +SKIP
    >>> result.best_scaling_factor, result.best_accuracy  # doctest: +SKIP
    (50.0, 0.99)
    """
    model, model_path = resolve_model(model_dir)
    params = params if params is not None else LIFParams()
    task = task_for_model(model, task_name, task_settings)
    factors = (default_scaling_factors(model.activation) if scaling_factors is None
               else check_scaling_factors(scaling_factors))
    seed = _validate.check_seed(seed)
    n_trials = _validate.check_n_trials(n_trials)
    if extend_edges is None:
        extend_edges = protocol_of(model.training).extend_edges
    extend_edges = _validate.check_int(extend_edges, "extend_edges", 0)
    memory_budget_mb = _validate.check_positive(memory_budget_mb, "memory_budget_mb")
    _validate.check_device(device)
    trial_rng, engine_seed = split_seed(int(seed))
    batch = sample_trials(task, n_trials, seed=trial_rng)
    _check_inputs(task, batch, model)

    if isinstance(downsample, bool) or not isinstance(downsample, int | np.integer) \
            or downsample < 1:
        raise ValueError(f"downsample: expected a positive integer (integration steps per "
                         f"readout sample), got {downsample!r}")
    engine = f"{resolve_backend(None, torch.device(device))}:{torch.device(device).type}"
    settings = _settings_key(model, task, n_trials, int(seed), params, dtype,
                             use_initial_weights, downsample, engine)
    # --no-save --no-resume writes nothing at all (also in a read-only folder).
    sidecar = (_sidecar_path(model_path, results_path)
               if save or resume or results_path is not None else None)
    for path, field in ((sidecar, "results_path"), (model_path if save else None, "model")):
        if path is not None:
            check_writable(path, field)  # refused before any simulation
    done = _load_sidecar(sidecar, settings) if resume else {}

    net = SpikingNetwork(model, scaling_factor=float(factors[0]), params=params, device=device,
                         dtype=dtype, use_initial_weights=use_initial_weights)
    n_steps = time_base(model.dt_ms, params.dt).n_steps(batch.stimulus.shape[2])
    capacity = trials_per_batch(model.N, n_steps, downsample, memory_budget_mb * 2**20,
                                params.dt, itemsize=torch.finfo(dtype).bits // 8)
    per_call = max(1, capacity // n_trials)
    steps = _edge_steps(factors)
    grid = {"requested": factors.tolist(), "extended": [], "extend_edges": int(extend_edges)}
    bar = tqdm(total=factors.size, unit="factor", desc=f"search {task_name_of(task)}",
               disable=not progress)
    todo = factors
    try:
        while todo.size:
            for i in range(0, todo.size, per_call):
                chunk = todo[i: i + per_call]
                if not all(_factor_key(f) in done for f in chunk):
                    records = _simulate_factors(net, task, batch, chunk, downsample,
                                                seed=engine_seed, progress=progress)
                    _record(done, records, sidecar, settings, callback, grid)
                bar.update(chunk.size)
            searched = np.concatenate([factors, grid["extended"]])
            todo = _edge_extensions(searched, done, steps, extend_edges - len(grid["extended"]))
            grid["extended"] += todo.tolist()
            bar.total += todo.size
    finally:
        bar.close()
    if sidecar is not None and grid["extended"]:
        _record(done, [], sidecar, settings, None, grid)
    stopped = _extension_stops(searched, steps, extend_edges - len(grid["extended"]))
    return _finish(task, searched, grid, done, n_trials, int(seed), model, model_path,
                   sidecar, settings, save, batch, stopped)


# --------------------------------------------------------------------------------------
# pieces
# --------------------------------------------------------------------------------------

def resolve_model(model: ModelArtifact | str | os.PathLike | Mapping[str, Any]
                  ) -> tuple[ModelArtifact, Path | None]:
    """``(artifact, file)`` from an artifact or a ``scipy.io.loadmat`` dict (file None), a
    model file or a model folder."""
    if isinstance(model, ModelArtifact | Mapping):
        return load_model(model), None
    path = find_model_file(model)
    return load_model(path), path


def _edge_steps(factors: np.ndarray) -> dict[str, float]:
    """The grid's spacing at its lower and upper edge (none for a one-factor grid)."""
    g = np.sort(factors)
    return {} if g.size < 2 else {"lower": float(g[1] - g[0]), "upper": float(g[-1] - g[-2])}


def _next_factor(searched: np.ndarray, steps: Mapping[str, float], edge: str) -> float | None:
    """The factor one step past ``edge`` of ``searched``, or None past the bounds."""
    if edge not in steps:
        return None
    if edge == "lower":
        value = float(np.round(searched.min() - steps["lower"], 12))
        return value if value >= MIN_EXTENDED_FACTOR else None
    value = float(np.round(searched.max() + steps["upper"], 12))
    return value if value <= _validate.SCALING_FACTOR_RANGE[1] else None


def _edge_extensions(searched: np.ndarray, done: Mapping[str, dict],
                     steps: Mapping[str, float], budget: int) -> np.ndarray:
    """Factors to add next: one step past each edge whose accuracy equals the best (when
    the best is under 1 and not reached at every factor), at most ``budget`` of them (the
    lower edge first)."""
    accuracies = np.array([done[_factor_key(f)]["accuracy"] for f in searched])
    best = accuracies.max()
    new = []
    if best < 1.0 and accuracies.min() < best:
        for edge, at in (("lower", searched.argmin()), ("upper", searched.argmax())):
            value = _next_factor(searched, steps, edge)
            if accuracies[at] == best and value is not None and len(new) < budget:
                new.append(value)
    return np.array(new, dtype=float)


def _extension_stops(searched: np.ndarray, steps: Mapping[str, float], budget: int
                     ) -> dict[str, str]:
    """Per edge, what keeps the search from adding another factor past it."""
    if not steps:
        return dict.fromkeys(("lower", "upper"), "a one-factor grid is not extended")
    stops = {"lower": f"the minimum factor {MIN_EXTENDED_FACTOR:g}",
             "upper": f"the maximum factor {_validate.SCALING_FACTOR_RANGE[1]:g}"}
    return {edge: ("the extension budget (extend_edges)" if budget <= 0 else stops[edge])
            if budget <= 0 or _next_factor(searched, steps, edge) is None else "nothing"
            for edge in ("lower", "upper")}


def _check_inputs(task: AbstractTask, batch: TrialBatch, model: ModelArtifact) -> None:
    if batch.stimulus.shape[1] != model.n_inputs:
        raise ValueError(f"task_name: task {task_name_of(task)!r} has "
                         f"{batch.stimulus.shape[1]} inputs, expected the model's "
                         f"{model.n_inputs}")


def _simulate_factors(net: SpikingNetwork, task: AbstractTask, batch: TrialBatch,
                      factors: np.ndarray, downsample: int, seed: int, progress: bool
                      ) -> list[dict[str, Any]]:
    """Simulate the batch once per factor in one engine call; one record per factor."""
    n = len(batch)
    stimuli = np.tile(batch.stimulus, (factors.size, 1, 1))
    result = net.simulate(stimuli, scaling_factors=np.repeat(factors, n), seed=seed,
                          downsample=downsample, progress=progress,
                          trial_ids=np.tile(np.arange(n), factors.size))
    correct = task.score(result.output, batch.labels * factors.size,
                         result.clock.samples_per_rate_step)
    counts = result.spike_counts()
    rates = counts / result.duration
    start, stop = task.window_samples(result.clock.samples_per_rate_step)
    peaks = np.abs(np.asarray(result.output)[:, start:stop]).max(axis=1)
    types = np.asarray(batch.trial_types, dtype=object)
    records = []
    for k in range(factors.size):
        rows = slice(k * n, (k + 1) * n)
        summary = accuracy_summary(correct[rows], batch.trial_types)
        records.append({
            "peak_readout_by_type": {name: float(np.median(peaks[rows][types == name]))
                                     for name in summary["accuracy_by_type"]},
            "scaling_factor": float(factors[k]),
            "accuracy": summary["overall_accuracy"],
            "n_correct": summary["n_correct"],
            "accuracy_by_type": summary["accuracy_by_type"],
            "mean_firing_rate_hz": float(rates[rows].mean()),
            "n_spikes": int(counts[rows].sum()),
        })
    return records


def _record(done: dict[str, dict], records: list[dict[str, Any]], sidecar: Path | None,
            settings: dict[str, Any], callback: Callable[[float, float], None] | None,
            grid: dict[str, Any]) -> None:
    """Add finished factors to ``done``, write the sidecar file (with this search's
    ``grid``: requested and extended factors), then tell ``callback``.

    The sidecar is rewritten under its lock with the results other processes recorded
    meanwhile (same settings), so concurrent searches of one model keep each other's factors.
    """
    for record in records:
        done[_factor_key(record["scaling_factor"])] = record
    if sidecar is not None:
        with locked(sidecar):
            merged = {**_load_sidecar(sidecar, settings), **done}
            write_json(sidecar, {"settings": settings, "results": merged, "grid": grid})
    if callback is not None:
        for record in records:
            callback(record["scaling_factor"], record["accuracy"])


def _finish(task: AbstractTask, factors: np.ndarray, grid: Mapping[str, Any],
            done: dict[str, dict], n_trials: int, seed: int, model: ModelArtifact,
            model_path: Path | None, sidecar: Path | None, settings: dict[str, Any],
            save: bool, batch: TrialBatch, stopped: Mapping[str, str]) -> SearchResult:
    records = [done[_factor_key(f)] for f in factors]
    accuracies = np.array([r["accuracy"] for r in records], dtype=float)
    by_type = [r["accuracy_by_type"] for r in records]
    peaks = [r.get("peak_readout_by_type", {}) for r in records]
    diagnosis = diagnose_search(
        factors, accuracies, by_type, peaks, responding_types=_responding_types(batch),
        response_threshold=_response_threshold(task),
        best_index=best_factor_index(factors, accuracies), stopped=stopped,
        criterion=CONVERSION_CRITERION)
    result = SearchResult(
        task=task_name_of(task), scaling_factors=factors.astype(float), accuracies=accuracies,
        accuracy_by_type=by_type,
        mean_firing_rates=np.array([r["mean_firing_rate_hz"] for r in records]),
        n_trials=n_trials, seed=seed, model=model, model_path=None, results_path=sidecar,
        extended_factors=np.array(grid["extended"], dtype=float), peak_readout_by_type=peaks,
        diagnosis=diagnosis)
    if not (save and model_path is not None):
        return dataclasses.replace(result, model=_with_search(model, factors, accuracies))
    with locked(model_path):  # read-modify-write: another search may have written meanwhile
        on_disk = load_model(model_path)
        if _model_digest(on_disk) != settings["model_sha256"]:
            raise RuntimeError(
                f"model: {model_path} changed on disk during the search (other weights); the "
                f"search result was not written into it (per-factor results: {sidecar})")
        factors, accuracies = _merge_recorded(on_disk, factors, accuracies,
                                              _load_sidecar(sidecar, settings))
        updated = _with_search(on_disk, factors, accuracies)
        updated.save(model_path)
    return dataclasses.replace(result, model=updated, model_path=model_path)


def _responding_types(batch: TrialBatch) -> list[str]:
    """Trial types whose target asks for a response (a non-zero target somewhere)."""
    active = np.abs(np.asarray(batch.target)).max(axis=1) > 0
    return sorted({t for t, a in zip(batch.trial_types, active, strict=True) if a})


def _response_threshold(task: AbstractTask) -> float | None:
    """The readout a response must reach (``go_threshold`` or ``threshold``), if any."""
    for key in ("go_threshold", "threshold"):
        value = task.settings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _with_search(model: ModelArtifact, factors: np.ndarray, accuracies: np.ndarray
                 ) -> ModelArtifact:
    """``model`` with the search record (factors, accuracies, best factor) replaced."""
    return model.replace(opt_scaling_factor=float(factors[best_factor_index(factors, accuracies)]),
                         scaling_factors=np.array(factors, dtype=float),
                         all_perfs=np.array(accuracies, dtype=float))


def _merge_recorded(on_disk: ModelArtifact, factors: np.ndarray, accuracies: np.ndarray,
                    sidecar_results: Mapping[str, dict]) -> tuple[np.ndarray, np.ndarray]:
    """This search's factors plus those the model file records from a search with the same
    settings (they are in the sidecar); sorted by factor when any are added."""
    if on_disk.scaling_factors is None:
        return factors, accuracies
    ours = {_factor_key(f) for f in factors}
    extra = [f for f in on_disk.scaling_factors
             if _factor_key(f) not in ours and _factor_key(f) in sidecar_results]
    if not extra:
        return factors, accuracies
    merged = {**{float(f): sidecar_results[_factor_key(f)]["accuracy"] for f in extra},
              **{float(f): float(a) for f, a in zip(factors, accuracies, strict=True)}}
    keys = np.array(sorted(merged))
    return keys, np.array([merged[k] for k in keys])


def best_factor_index(factors: np.ndarray, accuracies: np.ndarray) -> int:
    """Index of the best factor: the highest accuracy, the smallest factor among ties."""
    best = np.flatnonzero(accuracies == accuracies.max())
    return int(best[np.argmin(np.asarray(factors)[best])])


def _factor_key(factor: float) -> str:
    return repr(float(factor))


def _settings_key(model: ModelArtifact, task: AbstractTask, n_trials: int, seed: int,
                  params: LIFParams, dtype: torch.dtype, use_initial_weights: bool,
                  downsample: int, engine: str) -> dict[str, Any]:
    """Everything a per-factor result depends on (a resumed search must match it): with
    common random numbers a factor's result does not depend on the memory budget, the
    grid's order or subset, or the core count, so those are left out; the engine path and
    device type (``'fused:cpu'``, ...) are in (float32 results differ between paths), and
    the library version stands for the engine's code."""
    key = {
        "model_sha256": _model_digest(model), "task": task_name_of(task),
        "task_settings": task.settings, "n_trials": int(n_trials), "seed": seed,
        "params": params.to_dict(), "dtype": str(dtype),
        "use_initial_weights": bool(use_initial_weights), "downsample": int(downsample),
        "engine": engine, "spikernn_version": __version__,
    }
    return to_plain(key, fallback=str)


def _model_digest(model: ModelArtifact) -> str:
    """SHA-256 of the arrays that determine the spiking network."""
    digest = hashlib.sha256()
    for arr in (model.w, model.w0, model.m, model.som_m, model.w_in, model.w_out,
                model.tau_steps):
        digest.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return digest.hexdigest()


def _sidecar_path(model_path: Path | None, results_path: str | os.PathLike | None
                  ) -> Path | None:
    if results_path is not None:
        return Path(results_path)
    if model_path is None:
        return None
    return model_path.with_name(model_path.stem + ".search.json")


def _load_sidecar(path: Path | None, settings: dict[str, Any]) -> dict[str, dict]:
    """Per-factor results of an earlier run with the same settings (empty otherwise).

    Nothing in the file is trusted: a record that is not what :func:`_simulate_factors`
    writes (a key missing, a wrong type, an accuracy outside [0, 1], counts that disagree)
    is dropped with a warning, and its factor is simulated again.
    """
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"{path}: unreadable search results ignored ({exc})", UserWarning,
                      stacklevel=3)
        return {}
    if not isinstance(data, dict) or data.get("settings") != settings:
        return {}
    results = data.get("results")
    if not isinstance(results, dict):
        warnings.warn(f"{path}: 'results' is not a mapping; ignored", UserWarning, stacklevel=3)
        return {}
    valid = {}
    for key, record in results.items():
        problem = _record_problem(key, record, settings["n_trials"])
        if problem is None:
            valid[key] = record
        else:
            warnings.warn(f"{path}: result {key!r} ignored ({problem}); it is simulated again",
                          UserWarning, stacklevel=3)
    return valid


def _fraction(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and 0.0 <= value <= 1.0)


def _record_problem(key: str, record: Any, n_trials: int) -> str | None:
    """Why a sidecar record is not a valid per-factor result (None when it is)."""
    if not isinstance(record, dict):
        return f"expected a mapping, got {type(record).__name__}"
    missing = [k for k in ("scaling_factor", "accuracy", "n_correct", "accuracy_by_type",
                           "mean_firing_rate_hz") if k not in record]
    if missing:
        return f"missing {missing}"
    factor = record["scaling_factor"]
    if not isinstance(factor, int | float) or isinstance(factor, bool) \
            or _factor_key(factor) != key:
        return f"scaling_factor: expected {key}, got {factor!r}"
    if not _fraction(record["accuracy"]):
        return f"accuracy: expected a number in [0, 1], got {record['accuracy']!r}"
    n_correct = record["n_correct"]
    if not isinstance(n_correct, int) or isinstance(n_correct, bool) \
            or not 0 <= n_correct <= n_trials:
        return f"n_correct: expected an integer in [0, {n_trials}], got {n_correct!r}"
    if abs(n_correct / n_trials - record["accuracy"]) > 1e-9:
        return (f"accuracy: expected n_correct / n_trials = {n_correct / n_trials:g}, got "
                f"{record['accuracy']!r}")
    by_type = record["accuracy_by_type"]
    if not isinstance(by_type, dict) or not all(isinstance(k, str) and _fraction(v)
                                                for k, v in by_type.items()):
        return "accuracy_by_type: expected a mapping of trial types to numbers in [0, 1]"
    peaks = record.get("peak_readout_by_type", {})
    if not isinstance(peaks, dict) or not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
            and math.isfinite(v) and v >= 0 for k, v in peaks.items()):
        return "peak_readout_by_type: expected a mapping of trial types to numbers >= 0"
    rate = record["mean_firing_rate_hz"]
    if not isinstance(rate, int | float) or isinstance(rate, bool) \
            or not math.isfinite(rate) or rate < 0:
        return f"mean_firing_rate_hz: expected a non-negative number, got {rate!r}"
    return None
