"""Cross-validation of spikernn's engine against an independent Brian2 simulation.

The same trials (stimuli, scaling factor, initial voltages) run in the engine
(:class:`spikernn.spiking.network.SpikingNetwork`, float64) and in the equivalent Brian2 network
(:func:`spikernn.bridges.brian2.simulate_brian2`); :func:`cross_validate` compares them.

What "agree" means:

* noise off, same initial voltages: the two simulators carry out the same arithmetic up to
  the order of floating-point operations, so they must agree spike for spike. The report
  gives the horizon over which they do (the whole trial, or the time of the first differing
  spike, its trial and units, and the largest readout difference before it: a difference at
  roundoff level there means one unit sat within roundoff of threshold and the network's
  chaotic dynamics amplified it). It passes when the spikes agree for at least
  ``min_horizon_s``.
* noise on: the noise realisations differ, so only statistics can agree. The engine runs
  the trials a second time with another noise seed; Brian2 agrees when it differs from the
  engine no more than the engine differs from itself (per-unit rate difference and readout
  RMS difference at most :data:`NOISE_TOLERANCES` ``diff_ratio_max`` times the engine's own),
  and the per-unit rates correlate, the total spike counts match and the accuracies agree
  within the stated tolerances.

Both reports carry the accuracy under each simulator, per-unit firing-rate agreement
(Pearson correlation and mean absolute difference, Hz), readout trace correlation and the
total spike counts; :func:`plot_cross_validation` draws them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from spikernn._validate import check_n_trials, check_scaling_factor, check_seed
from spikernn.artifact import ModelArtifact, load_model
from spikernn.spiking.evaluation import task_for_model
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.params import LIFParams
from spikernn.spiking.plots import save_figure
from spikernn.spiking.result import SimulationResult
from spikernn.tasks import AbstractTask

from .brian2 import initial_voltages, simulate_brian2

#: Tolerances of the statistical checks (all of them with noise on; the first three also
#: with noise off, where they hold exactly until the spikes part).
NOISE_TOLERANCES: dict[str, float] = {
    # Pearson r of the per-unit firing rates (mean over trials), Brian2 vs engine
    "rate_correlation_min": 0.9,
    # |total spikes Brian2 - engine| / engine
    "spike_count_rel_diff_max": 0.05,
    # |accuracy Brian2 - engine| <= max(this, 3 binomial standard errors of a difference
    # at the pooled accuracy)
    "accuracy_diff_min": 0.1,
    # noise on: Brian2-vs-engine per-unit rate difference and readout RMS difference, divided
    # by the same between two engine runs with different noise seeds
    "diff_ratio_max": 1.5,
}


def cross_validate(model: ModelArtifact | str | os.PathLike,
                   scaling_factor: float | None = None,
                   task: str | AbstractTask | None = None,
                   n_trials: int = 20,
                   seed: int = 0,
                   params: LIFParams | None = None,
                   noise: bool = False,
                   downsample: int = 10,
                   min_horizon_s: float = 0.2,
                   codegen: str = "numpy",
                   target: str = "runtime",
                   engine_noise: str = "pool",
                   figure: str | os.PathLike | None = None) -> dict[str, Any]:
    """Run the same trials in the engine and in Brian2 and compare them.

    Parameters
    ----------
    model : ModelArtifact or path
        The trained rate model.
    scaling_factor : float, optional
        Scaling factor; the model's ``opt_scaling_factor`` when omitted.
    task : str or AbstractTask, optional
        Task drawing and scoring the trials; the model's task (with its settings) when
        omitted.
    n_trials : int
        Number of trials (random trial types).
    seed : int
        Seed of the trials, the initial voltages and both simulators' noise (the engine's
        second run, noise on, uses ``seed + 1``).
    params : LIFParams, optional
        Neuron and synapse parameters (SI Table S1 when omitted); ``noise`` decides
        ``noise_std``.
    noise : bool
        Keep ``params.noise_std`` (True) or set it to 0 (False, spike-for-spike check).
    downsample : int
        Steps between readout samples (scored with ``100 / downsample`` samples per rate step).
    min_horizon_s : float
        Noise off: the spikes must agree for at least this long, s.
    codegen : {'numpy', 'cython'}
        Brian2's code generation target (runtime mode).
    target : {'runtime', 'cpp_standalone'}
        Brian2 runtime mode, or one compiled C++ program (faster for many trials once
        built; the build takes tens of seconds).
    engine_noise : {'pool', 'gaussian'}
        The engine's noise source (:mod:`spikernn.spiking.noise`) when noise is on.
    figure : path, optional
        Where to save :func:`plot_cross_validation` (PNG, PDF, ... from the suffix).

    Returns
    -------
    dict
        JSON-serialisable report: settings, ``accuracy`` (engine, brian2, agreement),
        ``rates`` (correlation, mean absolute difference), ``readout`` (correlations,
        RMS and largest difference), ``spike_counts``, ``spike_for_spike`` (noise off) or
        ``engine_vs_engine`` (noise on, the baseline), ``tolerances``, ``checks``,
        ``passed``, ``wall_time_s``.
    """
    model = load_model(model)
    s = _scaling_factor(model, scaling_factor)
    task = _task(model, task)
    base = params or LIFParams()
    params = base if noise else base.replace(noise_std=0.0)
    n_trials, seed = check_n_trials(n_trials), check_seed(seed)
    batch = task.sample_batch(int(n_trials), rng=seed)
    v0 = initial_voltages(params, int(n_trials), model.N, seed)

    engine, engine_time = _timed(_simulate_engine, model, s, batch.stimulus, params, seed, v0,
                                 downsample, engine_noise)
    brian, brian_time = _timed(simulate_brian2, model, s, batch.stimulus, params, seed=seed,
                               v0=v0, downsample=downsample, codegen=codegen, target=target)
    repeat = _simulate_engine(model, s, batch.stimulus, params, seed + 1, v0, downsample,
                              engine_noise) if noise else None
    report = compare_results(engine, brian, task, batch.labels, batch.trial_types,
                             engine_repeat=repeat, min_horizon_s=min_horizon_s)
    report["settings"] = {
        "model_task": model.task, "task": task.name, "N": model.N, "scaling_factor": s,
        "n_trials": int(n_trials), "seed": seed, "noise": noise, "downsample": downsample,
        "duration_s": engine.duration, "params": params.to_dict(), "codegen": codegen,
        "target": target, "engine_dtype": "float64",
        "engine_noise": engine_noise if noise else None,
    }
    report["wall_time_s"] = {"engine": engine_time, "brian2": brian_time}
    if figure is not None:
        save_figure(plot_cross_validation(engine, brian, report), figure)
    return report


def _scaling_factor(model: ModelArtifact, scaling_factor: float | None) -> float:
    s = model.opt_scaling_factor if scaling_factor is None else scaling_factor
    if s is None:
        raise ValueError("scaling_factor: expected a positive number (the model has no "
                         "opt_scaling_factor to fall back on), got None")
    return check_scaling_factor(s)


def _task(model: ModelArtifact, task: str | AbstractTask | None) -> AbstractTask:
    return task if isinstance(task, AbstractTask) else task_for_model(model, task or None)


def _timed(func, *args, **kwargs) -> tuple[Any, float]:
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def _simulate_engine(model: ModelArtifact, s: float, stimuli: np.ndarray, params: LIFParams,
                     seed: int, v0: np.ndarray, downsample: int, noise: str) -> SimulationResult:
    """The engine in float64 (float32 roundoff alone parts the two within ~0.1 s)."""
    net = SpikingNetwork(model, scaling_factor=s, params=params, dtype=torch.float64)
    return net.simulate(stimuli, seed=seed, v0=v0, downsample=downsample, noise=noise)


# --------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------

def compare_results(engine: SimulationResult, brian: SimulationResult, task: AbstractTask,
                    labels: Sequence[Hashable], trial_types: Sequence[str],
                    engine_repeat: SimulationResult | None = None,
                    min_horizon_s: float = 0.2) -> dict[str, Any]:
    """Compare two simulations of the same trials (see the module docstring).

    Parameters
    ----------
    engine, brian : SimulationResult
        The same trials simulated by the engine and by Brian2.
    task : AbstractTask
        Scores the readouts.
    labels, trial_types : sequence
        Label and trial type of each trial.
    engine_repeat : SimulationResult, optional
        Noise on: the same trials in the engine again with another noise seed, the baseline
        of the statistical checks. Omitted: noise off, spike-for-spike check.
    min_horizon_s : float
        Noise off: shortest spike-for-spike horizon that passes, s.

    Returns
    -------
    dict
    """
    for name, other in (("brian", brian), ("engine_repeat", engine_repeat)):
        if other is not None and (other.output.shape != engine.output.shape
                                  or other.n_units != engine.n_units):
            raise ValueError(f"{name}: expected the engine's readout shape {engine.output.shape}"
                             f" and N={engine.n_units}, got {other.output.shape} and "
                             f"N={other.n_units}")
    spt = engine.clock.samples_per_rate_step
    correct = {key: task.score(result.output, labels, samples_per_step=spt)
               for key, result in (("engine", engine), ("brian2", brian))}
    rates_e, rates_b = engine.firing_rates().mean(0), brian.firing_rates().mean(0)
    total_e, total_b = engine.n_spikes, brian.n_spikes
    report: dict[str, Any] = {
        "accuracy": {"engine": float(correct["engine"].mean()),
                     "brian2": float(correct["brian2"].mean()),
                     "same_outcome_fraction": float(np.mean(correct["engine"]
                                                            == correct["brian2"]))},
        "rates": {"mean_rate_engine_hz": float(rates_e.mean()),
                  "mean_rate_brian2_hz": float(rates_b.mean()),
                  **_rate_agreement(engine, brian)},
        "readout": {**_readout_agreement(engine, brian),
                    "mean_by_type_correlation": _mean_readout_correlation(
                        engine.output, brian.output, trial_types)},
        "spike_counts": {"engine": total_e, "brian2": total_b,
                         "rel_diff": abs(total_b - total_e) / max(total_e, 1)},
        "tolerances": dict(NOISE_TOLERANCES),
        "trials": {"trial_types": [str(t) for t in trial_types],
                   "correct_engine": correct["engine"].tolist(),
                   "correct_brian2": correct["brian2"].tolist()},
    }
    tol = NOISE_TOLERANCES
    n = len(labels)
    # pooled accuracy: an engine at 0% (or 100%) has no binomial spread of its own
    p = (report["accuracy"]["engine"] + report["accuracy"]["brian2"]) / 2
    accuracy_tol = max(tol["accuracy_diff_min"], 3 * np.sqrt(2 * p * (1 - p) / n))
    checks = {
        "rate_correlation": report["rates"]["correlation"] >= tol["rate_correlation_min"],
        "spike_count": report["spike_counts"]["rel_diff"] <= tol["spike_count_rel_diff_max"],
        "accuracy": abs(report["accuracy"]["engine"] - report["accuracy"]["brian2"])
        <= accuracy_tol,
    }
    report["accuracy"]["tolerance"] = float(accuracy_tol)
    if engine_repeat is None:
        sfs = spike_for_spike(engine, brian)
        report["spike_for_spike"] = sfs
        report["min_horizon_s"] = min_horizon_s
        checks["spike_for_spike_horizon"] = bool(
            sfs["horizon_s"] >= min(min_horizon_s, engine.duration))
    else:
        baseline = {"rates": _rate_agreement(engine, engine_repeat),
                    "readout": _readout_agreement(engine, engine_repeat),
                    "spike_count_rel_diff": abs(engine_repeat.n_spikes - total_e)
                    / max(total_e, 1)}
        report["engine_vs_engine"] = baseline
        report["accuracy"]["engine_repeat"] = float(
            task.score(engine_repeat.output, labels, samples_per_step=spt).mean())
        report["rates"]["diff_ratio"] = _ratio(report["rates"]["mean_abs_diff_hz"],
                                               baseline["rates"]["mean_abs_diff_hz"])
        report["readout"]["rms_ratio"] = _ratio(report["readout"]["rms_diff"],
                                                baseline["readout"]["rms_diff"])
        checks["rate_diff_vs_engine_seeds"] = report["rates"]["diff_ratio"] \
            <= tol["diff_ratio_max"]
        checks["readout_vs_engine_seeds"] = report["readout"]["rms_ratio"] \
            <= tol["diff_ratio_max"]
    report["checks"] = {k: bool(v) for k, v in checks.items()}
    report["passed"] = bool(all(checks.values()))
    return report


def _rate_agreement(a: SimulationResult, b: SimulationResult) -> dict[str, float]:
    """Per-unit mean firing rates (over trials): Pearson r and mean absolute difference, Hz."""
    ra, rb = a.firing_rates().mean(0), b.firing_rates().mean(0)
    return {"correlation": _pearson(ra, rb), "mean_abs_diff_hz": float(np.mean(np.abs(ra - rb)))}


def _readout_agreement(a: SimulationResult, b: SimulationResult) -> dict[str, float]:
    """Readout traces: correlation (all samples, and mean over trials), RMS and max diff."""
    diff = a.output - b.output
    return {"correlation": _pearson(a.output.ravel(), b.output.ravel()),
            "trial_correlation_mean": float(np.nanmean(
                [_pearson(x, y) for x, y in zip(a.output, b.output, strict=True)])),
            "rms_diff": float(np.sqrt(np.mean(diff ** 2))),
            "max_abs_diff": float(np.max(np.abs(diff)))}


def _ratio(value: float, baseline: float) -> float:
    return float(value / baseline) if baseline > 0 else (0.0 if value == 0 else float("inf"))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; 1.0 for two identical constant vectors, NaN for other constants."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return 1.0 if np.array_equal(a, b) else float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _mean_readout_correlation(out_e: np.ndarray, out_b: np.ndarray,
                              trial_types: Sequence[str]) -> dict[str, float]:
    types = np.asarray(trial_types)
    return {str(t): _pearson(out_e[types == t].mean(0), out_b[types == t].mean(0))
            for t in dict.fromkeys(trial_types)}


def spike_for_spike(a: SimulationResult, b: SimulationResult) -> dict[str, Any]:
    """Where two simulations of the same trials first emit different spikes.

    Returns
    -------
    dict
        ``identical`` (bool); ``horizon_s``: the whole duration when identical, else the
        time of the first step with differing spikes (s); ``first_divergence``: ``None`` or
        ``{trial, step, time_s, units_a, units_b}``; ``matched_spikes``: spikes of ``a``
        emitted before the horizon (identical in ``b``); ``trials_identical``: count;
        ``max_readout_diff_before``: largest readout difference before the horizon.
    """
    n = a.n_units
    first: dict[str, Any] | None = None
    n_identical = 0
    for trial in range(a.batch_size):
        step = _first_difference(_events(a, trial, n), _events(b, trial, n), n)
        if step is None:
            n_identical += 1
        elif first is None or step < first["step"]:
            first = {"trial": trial, "step": step, "time_s": (step + 1) * a.dt,
                     "units_a": _units_at(a, trial, step), "units_b": _units_at(b, trial, step)}
    horizon_steps = a.n_steps if first is None else first["step"]
    before = a.output_times <= horizon_steps * a.dt
    max_diff = float(np.max(np.abs(a.output[:, before] - b.output[:, before]))) \
        if before.any() else 0.0
    return {"identical": first is None, "horizon_s": horizon_steps * a.dt,
            "first_divergence": first, "matched_spikes": int(np.sum(a.spike_step < horizon_steps)),
            "trials_identical": n_identical, "n_trials": a.batch_size,
            "max_readout_diff_before": max_diff}


def _events(result: SimulationResult, trial: int, n: int) -> np.ndarray:
    sel = result.spike_trial == trial
    return np.sort(result.spike_step[sel] * n + result.spike_unit[sel])


def _first_difference(ea: np.ndarray, eb: np.ndarray, n: int) -> int | None:
    """First step at which two sorted event codes (``step * n + unit``) differ."""
    m = min(ea.size, eb.size)
    bad = np.flatnonzero(ea[:m] != eb[:m])
    if bad.size:
        return int(min(ea[bad[0]], eb[bad[0]]) // n)
    if ea.size != eb.size:
        return int((ea[m] if ea.size > m else eb[m]) // n)
    return None


def _units_at(result: SimulationResult, trial: int, step: int) -> list[int]:
    sel = (result.spike_trial == trial) & (result.spike_step == step)
    return sorted(result.spike_unit[sel].tolist())


# --------------------------------------------------------------------------------------
# figure
# --------------------------------------------------------------------------------------

def plot_cross_validation(engine: SimulationResult, brian: SimulationResult,
                          report: dict[str, Any], trial: int = 0) -> Figure:
    """Engine against Brian2: per-unit rates, mean readouts per trial type, one trial's spikes.

    Parameters
    ----------
    engine, brian : SimulationResult
        The compared simulations.
    report : dict
        :func:`compare_results` (or :func:`cross_validate`) output, for the annotations.
    trial : int
        Trial whose spikes are drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11.0, 7.5), layout="constrained")
    axes = fig.subplot_mosaic([["rates", "readout"], ["raster", "raster"]])
    ax_rate, ax_out, ax_raster = axes["rates"], axes["readout"], axes["raster"]
    exc = np.asarray(engine.exc, dtype=bool)
    rates_e, rates_b = engine.firing_rates().mean(0), brian.firing_rates().mean(0)
    for sel, color, label in ((exc, "tab:blue", "excitatory"), (~exc, "tab:red", "inhibitory")):
        ax_rate.scatter(rates_e[sel], rates_b[sel], s=12, color=color, label=label)
    top = max(rates_e.max(initial=0.0), rates_b.max(initial=0.0)) * 1.05 or 1.0
    ax_rate.plot([0, top], [0, top], color="0.5", lw=0.8)
    r = report["rates"]
    ax_rate.set(xlabel="engine rate (Hz)", ylabel="Brian2 rate (Hz)",
                title=f"per-unit rates: r = {r['correlation']:.4f}, "
                      f"|diff| = {r['mean_abs_diff_hz']:.3g} Hz")
    ax_rate.legend(fontsize="small")

    types = report["trials"]["trial_types"]
    for k, kind in enumerate(dict.fromkeys(types)):
        sel = np.asarray(types) == kind
        color = f"C{k}"
        ax_out.plot(engine.output_times, engine.output[sel].mean(0), color=color, lw=1.5,
                    label=f"{kind}: engine")
        ax_out.plot(brian.output_times, brian.output[sel].mean(0), color=color, lw=1.0,
                    ls="--", label=f"{kind}: Brian2")
    acc = report["accuracy"]
    ax_out.set(xlabel="time (s)", ylabel="readout (trial mean)",
               title=f"readout by trial type; accuracy engine {acc['engine']:.0%}, "
                     f"Brian2 {acc['brian2']:.0%}")
    ax_out.legend(fontsize="small")

    for result, color, marker, size, label in ((engine, "k", "|", 30, "engine"),
                                               (brian, "tab:orange", ".", 4, "Brian2")):
        sel = result.spike_trial == trial
        ax_raster.scatter(result.spike_times[sel], result.spike_unit[sel], s=size,
                          marker=marker, color=color, linewidths=0.6, label=label,
                          rasterized=True)
    sfs = report.get("spike_for_spike")
    title = f"trial {trial} spikes; totals engine {report['spike_counts']['engine']}, " \
            f"Brian2 {report['spike_counts']['brian2']}"
    if sfs is not None:
        title += ("; identical spikes over all trials" if sfs["identical"] else
                  f"; first differing spike at {sfs['horizon_s'] * 1e3:.2f} ms "
                  f"(trial {sfs['first_divergence']['trial']})")
        if not sfs["identical"]:
            ax_raster.axvline(sfs["horizon_s"], color="tab:red", lw=0.8)
    ax_raster.set(xlabel="time (s)", ylabel="unit", xlim=(0, engine.duration), title=title)
    ax_raster.legend(loc="upper right", fontsize="small", markerscale=2)
    noise = report.get("settings", {}).get("noise")
    fig.suptitle("spikernn engine vs Brian2" + ("" if noise is None else
                                                 f" (noise {'on' if noise else 'off'})"))
    return fig


__all__ = ["NOISE_TOLERANCES", "compare_results", "cross_validate", "plot_cross_validation",
           "spike_for_spike"]
