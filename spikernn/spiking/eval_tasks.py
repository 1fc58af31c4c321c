"""Evaluate a converted spiking network on its task, compare it with the rate model, plot.

:func:`evaluate_task` simulates ``n_trials`` trials as one batch, scores them with the task's
criteria, runs the rate model on the same stimuli, writes ``metrics.json`` and the figures a
scientist expects (spike rasters per trial type, spiking vs rate readout, accuracy against
the scaling factor). From the shell (the seed project's entry point)::

    python -m spikernn.spiking.eval_tasks --task go_nogo --model_dir models/go-nogo
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from .._io import write_json
from .._validate import check_device, check_n_trials, check_scaling_factor, check_seed
from ..artifact import ModelArtifact
from ..rate.simulate import run_rate_model
from ..tasks import TrialBatch
from .network import SpikingNetwork
from .params import LIFParams
from .plots import (
    plot_accuracy_vs_scaling,
    plot_readout_comparison,
    plot_spike_raster,
    save_figure,
)
from .result import SimulationResult
from .search import resolve_model
from .tasks import AbstractSpikingTask, accuracy_summary, task_for_model, task_name_of

#: Name of the metrics file :func:`evaluate_task` writes into its output folder.
METRICS_FILE = "metrics.json"


def evaluate_task(task_name: str | None = None,
                  model_dir: ModelArtifact | str | os.PathLike | None = None,
                  n_trials: int = 100, scaling_factor: float | None = None,
                  save_plots: bool = True, output_dir: str | os.PathLike | None = None,
                  seed: int = 0, *, task_settings: Mapping[str, Any] | None = None,
                  params: LIFParams | None = None, device: str = "cpu",
                  dtype: torch.dtype = torch.float32, downsample: int = 1,
                  compare_rate: bool = True, model_path: str | os.PathLike | None = None,
                  progress: bool = False) -> dict[str, Any]:
    """Spiking accuracy of a converted model over ``n_trials`` trials, with figures.

    Parameters
    ----------
    task_name : str, optional
        Task (default: the task the model records); ``go-nogo`` = ``go_nogo``.
    model_dir : ModelArtifact, .mat/.pth file or folder with one .mat file
        The rate model (``model_path`` is accepted as another name).
    n_trials : int
        Trials, simulated as one batch.
    scaling_factor : float, optional
        Scaling factor s (default: the model's ``opt_scaling_factor`` from a search).
    save_plots : bool
        Write the figures (PNG) into ``output_dir``.
    output_dir : path, optional
        Where to write ``metrics.json`` and figures (default: ``evaluation_<task>`` next to
        the model file; nothing is written for an artifact without ``output_dir``).
    seed : int
        Seeds the trials, the spiking engine and the rate model's noise.
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
    dict
        The metrics of :meth:`AbstractSpikingTask.evaluate_performance` plus ``task``,
        ``model_path``, ``n_units``, ``rate_accuracy`` and ``rate_accuracy_by_type`` (when
        ``compare_rate``), ``elapsed_s``, ``metrics_path`` and ``figures`` (paths written).

    Raises
    ------
    ValueError
        No scaling factor (neither given nor recorded), unknown task, bad settings.
    """
    start = time.perf_counter()
    seed, n_trials = check_seed(seed), check_n_trials(n_trials)
    check_device(device)
    model, path = resolve_model(_one_model(model_dir, model_path))
    task = task_for_model(model, task_name, task_settings)
    factor = _scaling_factor(model, scaling_factor)
    net = SpikingNetwork(model, scaling_factor=factor, params=params or LIFParams(),
                         device=device, dtype=dtype)
    batch, result = task.run_trials(net, n_trials, seed=seed, downsample=downsample,
                                    progress=progress)
    metrics = task.summarize(batch, result)
    task_label = task_name_of(task)
    metrics.update({"task": task_label, "seed": seed, "n_units": model.N,
                    "model_path": None if path is None else str(path),
                    "downsample": int(downsample), "params": net.params.to_dict()})
    rate_output = None
    if compare_rate:
        rate_output = _rate_outputs(model, batch, seed, device)
        rate = accuracy_summary(task.score(rate_output, batch.labels, 1.0), batch.trial_types)
        metrics["rate_accuracy"] = rate["overall_accuracy"]
        metrics["rate_accuracy_by_type"] = rate["accuracy_by_type"]
    out_dir = _output_dir(output_dir, path, task_label)
    figures: list[str] = []
    if out_dir is not None and save_plots:
        figures = [str(p) for p in evaluation_figures(task, batch, result, rate_output, model,
                                                      out_dir, metrics.get("rate_accuracy"))]
    metrics["figures"] = figures
    metrics["elapsed_s"] = time.perf_counter() - start
    metrics["metrics_path"] = None if out_dir is None else str(out_dir / METRICS_FILE)
    if out_dir is not None:
        write_json(out_dir / METRICS_FILE, metrics)
    return metrics


def _one_model(model_dir, model_path) -> ModelArtifact | str | os.PathLike:
    if (model_dir is None) == (model_path is None):
        raise ValueError("model_dir: expected exactly one of model_dir and model_path, got "
                         f"model_dir={model_dir!r}, model_path={model_path!r}")
    return model_dir if model_dir is not None else model_path


def _scaling_factor(model: ModelArtifact, scaling_factor: float | None) -> float:
    if scaling_factor is None:
        scaling_factor = model.opt_scaling_factor
        if scaling_factor is None:
            raise ValueError("scaling_factor: expected a number (the model holds no search "
                             "result; run lambda_grid_search first), got None")
    return check_scaling_factor(scaling_factor)


def _rate_outputs(model: ModelArtifact, batch: TrialBatch, seed: int, device: str
                  ) -> np.ndarray:
    """Rate-model readouts (trials, T) on the batch's stimuli."""
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

def evaluation_figures(task: AbstractSpikingTask, batch: TrialBatch, result: SimulationResult,
                       rate_output: np.ndarray | None, model: ModelArtifact,
                       output_dir: str | os.PathLike,
                       rate_accuracy: float | None = None) -> list[Path]:
    """Write the evaluation figures into ``output_dir`` and return their paths.

    ``raster_<type>.png`` (one trial per type: E/I raster above its readout),
    ``readout_spiking_vs_rate.png`` (mean +/- SD per trial type) and, when the model holds
    a search result, ``accuracy_vs_scaling_factor.png``.
    """
    out = Path(output_dir)
    types = _figure_trial_types(task, batch)
    rows_of = {t: np.flatnonzero(np.asarray(batch.trial_types) == t) for t in types}
    window = task.response_window_s()
    step = max(1, round(1e-3 / (result.dt * result.downsample)))  # plot at 1 ms
    t_spk = result.output_times[step - 1::step]
    spk = result.output[:, step - 1::step]
    t_rate = np.arange(batch.stimulus.shape[2]) * task.dt_ms * 1e-3
    paths = []
    for name, rows in rows_of.items():
        fig = Figure(figsize=(7.0, 5.5), layout="constrained")
        ax_raster, ax_out = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        trial = int(rows[0])
        plot_spike_raster(result, trial, ax=ax_raster,
                          title=f"{task_name_of(task)}: {name} trial (s = "
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
                                      title=f"{task_name_of(task)}: scaling-factor search")
        paths.append(save_figure(ax.figure, out / "accuracy_vs_scaling_factor.png"))
    return paths


def _figure_trial_types(task: AbstractSpikingTask, batch: TrialBatch) -> list[str]:
    """The task's sample trial types present in the batch, else the batch's types in order."""
    present = list(dict.fromkeys(batch.trial_types))
    wanted = [t for t in task.get_sample_trial_types() if t in present]
    return wanted or present


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "trial"


# --------------------------------------------------------------------------------------
# text summary and the seed's command line
# --------------------------------------------------------------------------------------

def format_metrics(metrics: Mapping[str, Any]) -> str:
    """A few lines summarising :func:`evaluate_task`'s metrics for a terminal."""
    by_type = ", ".join(f"{k} {100 * v:.1f}%" for k, v in metrics["accuracy_by_type"].items())
    lines = [
        f"task {metrics['task']}: spiking accuracy {100 * metrics['overall_accuracy']:.1f}% "
        f"({metrics['n_correct']}/{metrics['n_trials']} trials; {by_type}) at s = "
        f"{metrics['scaling_factor']}",
    ]
    if "rate_accuracy" in metrics:
        lines.append(f"rate model on the same stimuli: {100 * metrics['rate_accuracy']:.1f}%")
    lines.append(f"mean firing rate {metrics['mean_firing_rate_hz']:.1f} Hz (E "
                 f"{metrics['mean_firing_rate_exc_hz']:.1f} Hz, I "
                 f"{metrics['mean_firing_rate_inh_hz']:.1f} Hz)")
    if metrics.get("metrics_path"):
        lines.append(f"metrics: {metrics['metrics_path']}")
    if metrics.get("figures"):
        lines.append(f"figures: {', '.join(metrics['figures'])}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m spikernn.spiking.eval_tasks`` (the seed's names)."""
    p = argparse.ArgumentParser(
        prog="python -m spikernn.spiking.eval_tasks",
        description="Evaluate a converted spiking RNN on its task (n trials, one batch).")
    p.add_argument("--task", required=True, help="task name, e.g. go_nogo, xor, mante")
    p.add_argument("--model_dir", "--model_path", dest="model_dir", required=True,
                   help="model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--scaling_factor", type=float, default=None,
                   help="scaling factor s (default: the model's opt_scaling_factor)")
    p.add_argument("--n_trials", type=int, default=100, help="number of trials (100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--output_dir", default=None,
                   help="folder for metrics.json and figures (default: next to the model)")
    p.add_argument("--no_plots", action="store_true", help="do not write figures")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    for name in ("T", "stim_on", "stim_dur", "delay"):
        p.add_argument(f"--{name}", type=int, default=None,
                       help=f"task setting {name} (rate steps of 5 ms)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m spikernn.spiking.eval_tasks``; returns the exit status."""
    args = build_parser().parse_args(argv)
    settings = {k: getattr(args, k) for k in ("T", "stim_on", "stim_dur", "delay")
                if getattr(args, k) is not None}
    try:
        metrics = evaluate_task(args.task, args.model_dir, n_trials=args.n_trials,
                                scaling_factor=args.scaling_factor,
                                save_plots=not args.no_plots, output_dir=args.output_dir,
                                seed=args.seed, task_settings=settings or None,
                                device=args.device)
    except (ValueError, FileNotFoundError) as exc:
        print(f"eval_tasks: error: {exc}", file=sys.stderr)
        return 2
    print(format_metrics(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
