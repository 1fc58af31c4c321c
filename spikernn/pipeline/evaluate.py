"""Evaluate a converted spiking network on its task, compare it with the rate model, plot.

:func:`evaluate` simulates ``n_trials`` trials as one batch, scores them with the task's
criteria, runs the rate model on the same stimuli, writes ``metrics.json`` and the figures a
scientist expects (spike rasters per trial type, spiking vs rate readout, accuracy against
the scaling factor). :func:`evaluate_task` is the seed project's call (metrics dict only).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._io import check_output_folder, write_json
from .._validate import check_device, check_n_trials, check_seed
from ..artifact import ModelArtifact
from ..rate.simulate import run_rate_model
from ..spiking.evaluation import (
    accuracy_summary,
    summarize,
    task_for_model,
    task_name_of,
)
from ..spiking.evaluation import (
    simulate_trials as simulate,
)
from ..spiking.params import LIFParams
from ..spiking.tasks import overrides_evaluate_performance
from ..tasks import AbstractTask, TrialBatch
from .trials import SimulatedTrials, spiking_network

#: Name of the metrics file :func:`evaluate` writes into its output folder.
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` produced.

    Attributes
    ----------
    metrics : dict
        The metrics (JSON-ready; see :func:`evaluate`), as written to ``metrics.json``.
    simulation : SimulatedTrials or None
        The simulated trials (``simulation.result.trials`` is the trial record); None for a
        seed custom task that brings its own ``evaluate_performance``.
    rate_output : numpy.ndarray or None, shape (n_trials, T)
        The rate model's readout on the same stimuli (when compared).
    metrics_path : pathlib.Path or None
        Where ``metrics.json`` was written.
    figures : tuple of pathlib.Path
        Figures written.
    """

    metrics: dict[str, Any]
    simulation: SimulatedTrials | None = None
    rate_output: np.ndarray | None = None
    metrics_path: Path | None = None
    figures: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def accuracy(self) -> float:
        """Spiking accuracy, fraction in [0, 1]."""
        return float(self.metrics["overall_accuracy"])


def evaluate(model: ModelArtifact | str | os.PathLike, task: str | AbstractTask | None = None,
             n_trials: int = 100, seed: int = 0, *, scaling_factor: float | None = None,
             output_dir: str | os.PathLike | None = None, save_plots: bool = True,
             task_settings: Mapping[str, Any] | None = None, params: LIFParams | None = None,
             device: str = "cpu", dtype: torch.dtype = torch.float32, downsample: int = 1,
             compare_rate: bool = True, progress: bool = False) -> Evaluation:
    """Spiking accuracy of a converted model over ``n_trials`` trials, with figures.

    Parameters
    ----------
    model : ModelArtifact, .mat/.pth file or folder with one .mat file
        The rate model.
    task : str or AbstractTask, optional
        Task or its registry name (default: the task the model records, with its settings);
        ``go-nogo`` = ``go_nogo``.
    n_trials : int
        Trials, simulated as one batch.
    seed : int
        Seeds the trials, the spiking engine and the rate model's noise.
    scaling_factor : float, optional
        Scaling factor s (default: the model's ``opt_scaling_factor`` from a search).
    output_dir : path, optional
        Where to write ``metrics.json`` and figures (default: ``evaluation_<task>`` next to
        the model file; nothing is written for an artifact without ``output_dir``).
    save_plots : bool
        Write the figures (PNG) into the output folder.
    task_settings : mapping, optional
        Overrides of the task settings (default: those the model was trained with).
    params : LIFParams, optional
        Neuron and synapse parameters (default: SI Table S1).
    device, dtype : str, torch.dtype
        Where and in which precision to simulate.
    downsample : int
        Integration steps (0.05 ms) per readout sample.
    compare_rate : bool
        Also run the rate model on the same stimuli (``rate_accuracy`` and the rate traces
        in the readout figure).
    progress : bool
        Show the engine's progress bar.

    Returns
    -------
    Evaluation
        ``metrics`` holds the summary of :func:`spikernn.spiking.evaluation.summarize` plus
        ``task``, ``seed``, ``model_path``, ``n_units``, ``downsample``, ``params``,
        ``rate_accuracy`` and ``rate_accuracy_by_type`` (when ``compare_rate``),
        ``elapsed_s``, ``metrics_path`` and ``figures`` (paths written). A seed custom task
        with its own ``evaluate_performance`` gives that method's dict plus the same
        bookkeeping keys (and ``overall_accuracy`` from its ``accuracy``).

    Raises
    ------
    ValueError
        No scaling factor (neither given nor recorded), unknown task, bad settings.
    """
    start = time.perf_counter()
    seed, n_trials = check_seed(seed), check_n_trials(n_trials)
    check_device(device)
    model, path, net = spiking_network(model, scaling_factor, params=params, device=device,
                                       dtype=dtype)
    the_task = task if isinstance(task, AbstractTask) else task_for_model(model, task,
                                                                          task_settings)
    out_dir = _output_dir(output_dir, path, task_name_of(the_task))
    if out_dir is not None:
        check_output_folder(out_dir, "output_dir")  # before simulating
    sim, rate_output = None, None
    if overrides_evaluate_performance(the_task):
        metrics = dict(the_task.evaluate_performance(net, n_trials))
        if "overall_accuracy" not in metrics and "accuracy" in metrics:
            metrics["overall_accuracy"] = metrics["accuracy"]
    else:
        batch, result = simulate(net, the_task, n_trials, seed, downsample=downsample,
                                 progress=progress)
        sim = SimulatedTrials(model, path, the_task, net, batch, result)
        metrics = summarize(the_task, batch, result)
    task_label = task_name_of(the_task)
    metrics.update({"task": task_label, "seed": seed, "n_units": model.N,
                    "model_path": None if path is None else str(path),
                    "downsample": int(downsample), "params": net.params.to_dict()})
    if compare_rate and sim is not None:
        rate_output = rate_readout(model, sim.batch, seed, device)
        rate = accuracy_summary(the_task.score(rate_output, sim.batch.labels, 1.0),
                                sim.batch.trial_types)
        metrics["rate_accuracy"] = rate["overall_accuracy"]
        metrics["rate_accuracy_by_type"] = rate["accuracy_by_type"]
    figures: list[Path] = []
    if out_dir is not None and save_plots and sim is not None:
        figures = evaluation_figures(the_task, sim, rate_output, out_dir,
                                     metrics.get("rate_accuracy"))
    metrics["figures"] = [str(p) for p in figures]
    metrics["elapsed_s"] = time.perf_counter() - start
    metrics_path = None if out_dir is None else out_dir / METRICS_FILE
    metrics["metrics_path"] = None if metrics_path is None else str(metrics_path)
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return Evaluation(metrics, sim, rate_output, metrics_path, tuple(figures))


def evaluate_task(task_name: str | None = None,
                  model_dir: ModelArtifact | str | os.PathLike | None = None,
                  optimal_scaling_factor: float | None = None,
                  task_settings: Mapping[str, Any] | None = None, save_plots: bool = True, *,
                  n_trials: int = 100, scaling_factor: float | None = None,
                  output_dir: str | os.PathLike | None = None, seed: int = 0,
                  params: LIFParams | None = None, device: str = "cpu",
                  dtype: torch.dtype = torch.float32, downsample: int = 1,
                  compare_rate: bool = True, model_path: str | os.PathLike | None = None,
                  progress: bool = False) -> dict[str, Any]:
    """The seed project's ``evaluate_task``: :func:`evaluate`'s metrics dict.

    The first five parameters are the seed's, in its order: ``task_name``, ``model_dir`` (or,
    keyword only, ``model_path``: the model file, folder, or artifact),
    ``optimal_scaling_factor`` (or, keyword only, ``scaling_factor``; default the model's
    search result), ``task_settings`` and ``save_plots``. The others are :func:`evaluate`'s,
    keyword only; ``n_trials`` trials are evaluated (the seed evaluated one). Returns
    ``evaluate(...).metrics``.
    """
    if (model_dir is None) == (model_path is None):
        raise ValueError("model_dir: expected exactly one of model_dir and model_path, got "
                         f"model_dir={model_dir!r}, model_path={model_path!r}")
    if optimal_scaling_factor is not None and scaling_factor is not None:
        raise ValueError("scaling_factor: expected it or optimal_scaling_factor (the same "
                         f"setting), got both ({scaling_factor!r}, {optimal_scaling_factor!r})")
    return evaluate(model_dir if model_dir is not None else model_path, task_name, n_trials,
                    seed, scaling_factor=scaling_factor if optimal_scaling_factor is None
                    else optimal_scaling_factor, output_dir=output_dir,
                    save_plots=save_plots, task_settings=task_settings, params=params,
                    device=device, dtype=dtype, downsample=downsample,
                    compare_rate=compare_rate, progress=progress).metrics


def rate_readout(model: ModelArtifact, batch: TrialBatch, seed: int, device: str = "cpu"
                 ) -> np.ndarray:
    """Rate-model readouts (trials, T) on the batch's stimuli (noise seeded by ``seed``)."""
    return np.asarray(run_rate_model(model, batch.stimulus, seed=seed, device=device).output)


def _output_dir(output_dir: str | os.PathLike | None, model_path: Path | None,
                task: str) -> Path | None:
    if output_dir is not None:
        return Path(output_dir)
    if model_path is None:
        return None
    return model_path.parent / f"evaluation_{task}"


# --------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------

def evaluation_figures(task: AbstractTask, simulation: SimulatedTrials,
                       rate_output: np.ndarray | None, output_dir: str | os.PathLike,
                       rate_accuracy: float | None = None) -> list[Path]:
    """Write the evaluation figures into ``output_dir`` and return their paths.

    ``raster_<type>.png`` (one trial per type: E/I raster above its readout),
    ``readout_spiking_vs_rate.png`` (mean +/- SD per trial type) and, when the model holds
    a search result, ``accuracy_vs_scaling_factor.png``.
    """
    from matplotlib.figure import Figure

    from ..spiking.plots import (
        plot_accuracy_vs_scaling,
        plot_readout_comparison,
        plot_spike_raster,
        save_figure,
    )

    batch, result, model = simulation.batch, simulation.result, simulation.model
    out = Path(output_dir)
    types = _figure_trial_types(task, batch)
    rows_of = {t: np.flatnonzero(np.asarray(batch.trial_types) == t) for t in types}
    window = task.response_window_s()
    step = max(1, round(1e-3 / (result.dt * result.downsample)))  # plot at 1 ms
    t_spk = result.output_times[step - 1::step]
    spk = result.output[:, step - 1::step]
    t_rate = np.arange(batch.stimulus.shape[2]) * result.clock.rate_dt
    name_of_task = task_name_of(task)
    paths = []
    for name, rows in rows_of.items():
        fig = Figure(figsize=(7.0, 5.5), layout="constrained")
        ax_raster, ax_out = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        trial = int(rows[0])
        plot_spike_raster(result, trial, ax=ax_raster,
                          title=f"{name_of_task}: {name} trial (s = "
                                f"{result.scaling_factors[trial]:g})")
        plot_readout_comparison(t_spk, spk[trial:trial + 1], t_rate,
                                None if rate_output is None else rate_output[trial:trial + 1],
                                batch.target[trial], window, ax=ax_out)
        ax_raster.set_xlabel("")
        paths.append(save_figure(fig, out / f"raster_{_slug(name)}.png"))
    fig = Figure(figsize=(4.5 * len(types), 3.8), layout="constrained")
    for ax, (name, rows) in zip(np.atleast_1d(fig.subplots(1, len(types), sharey=True)),
                                rows_of.items(), strict=True):
        plot_readout_comparison(t_spk, spk[rows], t_rate,
                                None if rate_output is None else rate_output[rows],
                                batch.target[rows[0]], window, ax=ax, title=name)
    paths.append(save_figure(fig, out / "readout_spiking_vs_rate.png"))
    if model.scaling_factors is not None:
        ax = plot_accuracy_vs_scaling(model.scaling_factors, model.all_perfs,
                                      model.opt_scaling_factor, rate_accuracy,
                                      title=f"{name_of_task}: scaling-factor search")
        paths.append(save_figure(ax.figure, out / "accuracy_vs_scaling_factor.png"))
    return paths


def _figure_trial_types(task: AbstractTask, batch: TrialBatch) -> list[str]:
    """The task's sample trial types present in the batch, else the batch's types in order."""
    present = list(dict.fromkeys(batch.trial_types))
    wanted = [t for t in task.get_sample_trial_types() if t in present]
    return wanted or present


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "trial"


def format_metrics(metrics: Mapping[str, Any]) -> str:
    """A few lines summarising :func:`evaluate`'s metrics for a terminal."""
    head = f"task {metrics['task']}: spiking accuracy {100 * metrics['overall_accuracy']:.1f}%"
    if "accuracy_by_type" in metrics:
        by_type = ", ".join(f"{k} {100 * v:.1f}%" for k, v in metrics["accuracy_by_type"].items())
        head += (f" ({metrics['n_correct']}/{metrics['n_trials']} trials; {by_type}) at s = "
                 f"{metrics['scaling_factor']}")
    lines = [head]
    if "rate_accuracy" in metrics:
        lines.append(f"rate model on the same stimuli: {100 * metrics['rate_accuracy']:.1f}%")
    if "mean_firing_rate_hz" in metrics:
        lines.append(f"mean firing rate {metrics['mean_firing_rate_hz']:.1f} Hz (E "
                     f"{metrics['mean_firing_rate_exc_hz']:.1f} Hz, I "
                     f"{metrics['mean_firing_rate_inh_hz']:.1f} Hz)")
    if metrics.get("metrics_path"):
        lines.append(f"metrics: {metrics['metrics_path']}")
    if metrics.get("figures"):
        lines.append(f"figures: {', '.join(metrics['figures'])}")
    return "\n".join(lines)
