"""``spikernn analyze``: spike statistics and rate-versus-spiking agreement of a converted model.

Simulates task trials (recording the filtered spike trains once per rate step), runs the rate
model on the same stimuli, and writes ``analysis.json`` (the summary of
:func:`spikernn.analysis.summary.analyze`) and the figures of
:func:`spikernn.analysis.plots.plot_analysis` into the output folder.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .._io import write_json
from ..artifact import ModelArtifact, load_model
from .export import add_trial_arguments, export_result, simulate_task_trials


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` subcommand."""
    p = subparsers.add_parser(
        "analyze", help="spike statistics and rate-vs-spiking comparison (Elephant)",
        description="Simulate --n-trials trials of the task with the converted spiking "
                    "network and the rate model on the same stimuli; write analysis.json "
                    "(firing rates, ISI CV, LV, Fano factors, correlations, PSTHs, "
                    "rate-vs-spiking agreement) and figures to --out.")
    add_trial_arguments(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-plots", action="store_true", help="do not write figures")
    p.set_defaults(func=run)


def analyze_model(model: ModelArtifact | str | os.PathLike, out_dir: str | os.PathLike,
                  task_name: str | None = None, n_trials: int = 100, seed: int = 0,
                  scaling_factor: float | None = None, device: str = "cpu",
                  plots: bool = True, export_path: str | os.PathLike | None = None
                  ) -> dict[str, Any]:
    """Simulate, analyse and write ``analysis.json`` (and figures) into ``out_dir``.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model (file or folder).
    out_dir : path-like
        Output folder (created if needed).
    task_name : str, optional
        Task (default: the model's).
    n_trials : int
        Number of trials.
    seed : int
        Seeds the trials, the engine and the rate model's noise.
    scaling_factor : float, optional
        Default: the model's ``opt_scaling_factor``.
    device : str
        Torch device.
    plots : bool
        Write the figures.
    export_path : path-like, optional
        Also write the simulated trials there (NWB or NIX, by suffix).

    Returns
    -------
    dict
        The summary, with ``files`` (the paths written) and ``seed`` added.
    """
    from spikernn.analysis.plots import plot_analysis
    from spikernn.analysis.summary import analyze

    from ..clock import time_base
    from ..rate.simulate import run_rate_model
    from ..spiking.params import LIFParams

    model = load_model(model)
    steps_per_rate_step = time_base(model.dt_ms, LIFParams().dt).steps_per_rate_step
    model, task, batch, result = simulate_task_trials(
        model, task_name, n_trials, seed, scaling_factor, device, record=("rates",),
        record_every=steps_per_rate_step)
    rate_result = run_rate_model(model, batch.stimulus, seed=seed, device=device)
    summary = analyze(result, model, rate_result, task)
    summary["seed"] = seed
    out = Path(out_dir)
    files = [write_json(out / "analysis.json", summary)]
    if plots:
        files += plot_analysis(result, summary, out, rate_result, model)
    if export_path is not None:
        files.append(export_result(result, model, export_path))
    summary["files"] = [str(f) for f in files]
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """A few lines of the headline figures of an analysis summary."""
    def pop(key: str) -> str:
        return ", ".join(f"{p} {_fmt(summary[key][p]['mean'])}" for p in ("E", "I"))

    lines = [f"{summary['n_trials']} trials, {summary['n_units']} units "
             f"({summary['n_exc']} E, {summary['n_inh']} I), task {summary['task']}",
             f"firing rate (Hz): {pop('firing_rate_hz')}",
             f"ISI CV: {pop('isi_cv')};  LV: {pop('local_variation')}"]
    if "accuracy" in summary:
        lines.append("accuracy: " + ", ".join(f"{k} {_fmt(100 * v)}%"
                                              for k, v in summary["accuracy"].items()))
    if "rate_vs_spiking" in summary:
        cmp = summary["rate_vs_spiking"]
        lines.append(f"rate vs spiking: median unit corr "
                     f"{_fmt(cmp['unit_correlation']['all']['median'])} (single trials), "
                     f"{_fmt(cmp['unit_correlation_trial_mean']['all']['median'])} (trial-type "
                     f"means); readout corr "
                     f"{_fmt(cmp['readout']['correlation'])}, RMSE "
                     f"{_fmt(cmp['readout']['rmse'])}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def run(args: argparse.Namespace) -> int:
    """Analyse and print the headline figures and the files written."""
    summary = analyze_model(args.model, args.out, args.task, args.n_trials, args.seed,
                            args.scaling_factor, args.device, plots=not args.no_plots)
    print(format_summary(summary))
    for path in summary["files"]:
        print(f"wrote {path}")
    return 0
