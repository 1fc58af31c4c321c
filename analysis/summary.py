"""One call that summarises a spiking simulation: :func:`analyze`.

The summary is a JSON-serialisable dict (NaN becomes ``None``) of the spike statistics of
:mod:`spikernn.analysis.statistics`, per unit and per population (all units, excitatory 'E',
inhibitory 'I'), the PSTH and population rate per trial type, the task accuracy when a task
is given, and the rate-versus-spiking comparison of :mod:`spikernn.analysis.comparison`
when the rate model's run on the same stimuli is given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from spikernn._io import to_plain
from spikernn.artifact import ModelArtifact
from spikernn.spiking.result import SimulationResult
from spikernn.tasks import AbstractTask, TrialInfo

from .comparison import RateTraces, compare_rate_and_spiking
from .statistics import (
    correlation_matrix,
    fano_factors,
    firing_rates,
    instantaneous_rates,
    isi_cv,
    local_variation,
    psth,
)

#: Trial-type name used when the result carries no trial types.
ALL_TRIALS = "all"


def analyze(result: SimulationResult, model: ModelArtifact | None = None,
            rate_result: RateTraces | None = None,
            task: AbstractTask | None = None, *,
            correlation_bin: float = 0.01, psth_bin: float = 0.02,
            rate_sampling_period: float = 0.005, kernel_sigma: float = 0.02,
            min_spikes: int = 3) -> dict[str, Any]:
    """Spike statistics and rate-versus-spiking agreement of a simulation, as a dict.

    Parameters
    ----------
    result : SimulationResult
        The spiking run. Trial types, labels and the task name are read from
        ``result.trials`` (the task name from ``model`` when the result has none).
    model : ModelArtifact, optional
        The converted model (decay constants when ``result.rates`` was not recorded).
    rate_result : RateResult, optional
        The rate model on the same stimuli (``spikernn.rate.run_rate_model``); adds
        ``rate_vs_spiking`` and the rate model's accuracy.
    task : AbstractTask, optional
        Adds ``accuracy`` (needs labels in ``result.trials``): its ``score(outputs, labels,
        samples_per_step)`` and ``dt_ms`` are used.
    correlation_bin : float
        Bin width of the pairwise count correlations, s (10 ms).
    psth_bin : float
        Bin width of the PSTH, s (20 ms).
    rate_sampling_period, kernel_sigma : float
        Sampling period and Gaussian kernel width of the population rate, s (5 ms, 20 ms).
    min_spikes : int
        Trains with fewer spikes are left out of the ISI CV and LV (NaN).

    Returns
    -------
    dict
        ``n_trials, n_units, n_exc, n_inh, exc`` (per unit), ``duration_s, dt_s, task,
        scaling_factors, trial_types`` (trial counts per type), ``firing_rate_hz``, ``isi_cv``,
        ``local_variation`` (each ``{"per_unit": [...], "all"|"E"|"I": {mean, std, median,
        n}}``, per-unit values averaged over trials), ``fano_factor`` (per trial type),
        ``correlation`` (mean pairwise coefficient of all, E-E, E-I and I-I pairs),
        ``psth`` and ``population_rate`` (per trial type and population, Hz), and when
        available ``accuracy`` and ``rate_vs_spiking``.

    Examples
    --------
    >>> summary = analyze(result, model, run_rate_model(model, stimulus, seed=0),
    ...                   TaskFactory.create_task("go_nogo"))           # doctest: +SKIP
    >>> sorted(summary["firing_rate_hz"]["E"])                        # doctest: +SKIP
    ['mean', 'median', 'n', 'std']
    """
    info = result.trials if result.trials is not None else TrialInfo()
    # spike times per trial and unit; every statistic on the window result.spike_window
    trains = [result.spike_trains(b) for b in range(result.batch_size)]
    window = dict(zip(("t_start", "t_stop"), result.spike_window, strict=True))
    groups = _trial_groups(info.trial_types, result.batch_size)
    exc = np.asarray(result.exc, dtype=bool)
    summary: dict[str, Any] = {
        "n_trials": result.batch_size, "n_units": result.n_units, "n_exc": int(exc.sum()),
        "n_inh": int((~exc).sum()), "exc": exc, "duration_s": result.duration,
        "dt_s": result.dt,
        "task": info.task if info.task is not None or model is None else model.task,
        "scaling_factors": sorted({float(s) for s in result.scaling_factors}),
        "trial_types": {name: len(trials) for name, trials in groups.items()},
    }
    per_trial = {
        "firing_rate_hz": np.array([firing_rates(t, **window) for t in trains]),
        "isi_cv": np.array([isi_cv(t, min_spikes=min_spikes, **window) for t in trains]),
        "local_variation": np.array([local_variation(t, min_spikes=min_spikes, **window)
                                     for t in trains]),
    }
    for name, values in per_trial.items():
        summary[name] = describe(_nanmean(values, axis=0), exc)
    summary["fano_factor"] = {
        name: describe(fano_factors([trains[b] for b in trials], **window), exc)
        for name, trials in groups.items() if len(trials) >= 2}
    summary["correlation"] = _correlations(trains, exc, correlation_bin, window)
    summary["psth"] = _per_type_curves(psth, trains, groups, exc, bin_size=psth_bin, **window)
    summary["population_rate"] = _population_rates(trains, groups, exc, rate_sampling_period,
                                                   kernel_sigma, window)
    if task is not None and info.labels is not None:
        summary["accuracy"] = _accuracy(result, rate_result, task, info.labels)
    if rate_result is not None:
        summary["rate_vs_spiking"] = _comparison(result, rate_result, model, exc,
                                                 info.trial_types)
    return to_jsonable(summary)


def _trial_groups(trial_types: Sequence[str] | None, batch: int) -> dict[str, list[int]]:
    """Trial indices per trial type (one group of all trials without types)."""
    if trial_types is None:
        return {ALL_TRIALS: list(range(batch))}
    groups: dict[str, list[int]] = {}
    for b, name in enumerate(trial_types):
        groups.setdefault(name, []).append(b)
    return groups


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():  # all-NaN columns are NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def describe(values: np.ndarray, exc: np.ndarray) -> dict[str, Any]:
    """Per-unit values and their summary over all, excitatory and inhibitory units.

    Parameters
    ----------
    values : numpy.ndarray, shape (N,)
        One value per unit; NaN values are left out of the summaries.
    exc : numpy.ndarray of bool, shape (N,)
        Excitatory identity.

    Returns
    -------
    dict
        ``per_unit`` (the values) and, for ``all``, ``E`` and ``I``: ``mean``, ``std``,
        ``median`` (NaN when no finite value) and ``n`` (finite values).

    Examples
    --------
    >>> describe(np.array([1.0, 3.0, np.nan]), np.array([True, True, False]))["E"]
    {'mean': 2.0, 'std': 1.0, 'median': 2.0, 'n': 2}
    """
    values = np.asarray(values, dtype=float)
    out: dict[str, Any] = {"per_unit": values}
    for name, sel in (("all", np.ones_like(exc)), ("E", exc), ("I", ~exc)):
        finite = values[sel & np.isfinite(values)]
        out[name] = {"mean": float(finite.mean()) if finite.size else np.nan,
                     "std": float(finite.std()) if finite.size else np.nan,
                     "median": float(np.median(finite)) if finite.size else np.nan,
                     "n": int(finite.size)}
    return out


def _correlations(trains: list[list[np.ndarray]], exc: np.ndarray, bin_size: float,
                  window: dict[str, float]) -> dict[str, Any]:
    """Mean pairwise count correlation per trial, averaged over trials, by pair type."""
    off_diagonal = ~np.eye(exc.size, dtype=bool)
    pairs = {"all": off_diagonal, "EE": np.outer(exc, exc) & off_diagonal,
             "EI": np.outer(exc, ~exc), "II": np.outer(~exc, ~exc) & off_diagonal}
    means = {name: [] for name in pairs}
    for trial in trains:
        corr = correlation_matrix(trial, bin_size, **window)
        for name, sel in pairs.items():
            means[name].append(_nanmean(corr[sel], axis=0) if sel.any() else np.nan)
    out: dict[str, Any] = {"bin_size_s": bin_size}
    out.update({name: _nanmean(np.array(v), axis=0) for name, v in means.items()})
    return out


def _per_type_curves(curve, trains: list[list[np.ndarray]], groups: dict[str, list[int]],
                     exc: np.ndarray, t_start: float, t_stop: float, **kwargs) -> dict[str, Any]:
    """``curve`` (:func:`psth`) of each population over each trial type."""
    out: dict[str, Any] = {**{f"{k}_s": v for k, v in kwargs.items()}, "per_trial_type": {}}
    for name, trials in groups.items():
        curves = {}
        for population, sel in (("all", np.ones_like(exc)), ("E", exc), ("I", ~exc)):
            if sel.any():
                times, curves[population] = curve(
                    [trains[b][i] for b in trials for i in np.flatnonzero(sel)],
                    t_start=t_start, t_stop=t_stop, **kwargs)
        out["per_trial_type"][name] = curves
    out["times_s"] = times
    return out


def _population_rates(trains: list[list[np.ndarray]], groups: dict[str, list[int]],
                      exc: np.ndarray, sampling_period: float, kernel_sigma: float,
                      window: dict[str, float]) -> dict[str, Any]:
    """Mean kernel rate of each population over each trial type (each train estimated once)."""
    out: dict[str, Any] = {"sampling_period_s": sampling_period,
                           "kernel_sigma_s": kernel_sigma, "per_trial_type": {}}
    for name, trials in groups.items():
        times, rates = instantaneous_rates([t for b in trials for t in trains[b]],
                                           sampling_period, kernel_sigma, **window)
        rates = rates.reshape(rates.shape[0], len(trials), exc.size)
        out["per_trial_type"][name] = {
            population: rates[:, :, sel].mean(axis=(1, 2))
            for population, sel in (("all", np.ones_like(exc)), ("E", exc), ("I", ~exc))
            if sel.any()}
    out["times_s"] = times
    return out


def _accuracy(result: SimulationResult, rate_result: RateTraces | None,
              task: AbstractTask, labels: Sequence) -> dict[str, float]:
    spiking = task.score(result.output, labels,
                         samples_per_step=result.clock.samples_per_rate_step)
    out = {"spiking": float(spiking.mean())}
    if rate_result is not None:
        out["rate"] = float(task.score(rate_result.output, labels, 1.0).mean())
    return out


def _comparison(result: SimulationResult, rate_result: RateTraces,
                model: ModelArtifact | None, exc: np.ndarray,
                trial_types: Sequence[str] | None) -> dict[str, Any]:
    stats = compare_rate_and_spiking(result, rate_result, model, trial_types)
    return {"unit_correlation": describe(stats["unit_correlation"], exc),
            "unit_correlation_trial_mean": describe(stats["unit_correlation_trial_mean"], exc),
            "unit_rmse": describe(stats["unit_rmse"], exc),
            "readout": {"correlation": stats["readout_correlation"],
                        "rmse": stats["readout_rmse"],
                        "correlation_per_trial": stats["readout_correlation_per_trial"]}}


def to_jsonable(obj: Any) -> Any:
    """``obj`` with numpy arrays and scalars as Python lists and numbers, NaN as None
    (:func:`spikernn._io.to_plain` with ``nan_to_none=True``).

    Examples
    --------
    >>> to_jsonable({"a": np.array([1.0, np.nan]), "b": np.int64(2)})
    {'a': [1.0, None], 'b': 2}
    """
    return to_plain(obj, nan_to_none=True)
