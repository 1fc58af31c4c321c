"""Spike statistics and rate-versus-spiking agreement of a converted model, to files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import check_output_folder, check_writable, write_json
from ..artifact import ModelArtifact
from ..clock import time_base
from ..rate.simulate import RateResult, run_rate_model
from ..spiking.params import LIFParams
from ..spiking.search import resolve_model
from .export import export_result, read_result
from .trials import SimulatedTrials, simulate_trials

#: Name of the summary file :func:`analyze_model` writes.
ANALYSIS_FILE = "analysis.json"


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze_model` produced.

    Attributes
    ----------
    summary : dict
        The JSON summary of :func:`spikernn.analysis.summary.analyze`, with ``seed`` and
        ``files``.
    simulation : SimulatedTrials
        The analysed trials (the filtered spike trains recorded once per rate step).
    rate : RateResult
        The rate model on the same stimuli.
    files : tuple of pathlib.Path
        Files written.
    """

    summary: dict[str, Any]
    simulation: SimulatedTrials
    rate: RateResult
    files: tuple[Path, ...] = field(default_factory=tuple)


def analyze_model(model: ModelArtifact | str | os.PathLike, out_dir: str | os.PathLike,
                  task: str | None = None, n_trials: int = 100, seed: int = 0,
                  scaling_factor: float | None = None, device: str = "cpu",
                  plots: bool = True, export_path: str | os.PathLike | None = None,
                  nwb_metadata: dict[str, Any] | None = None) -> Analysis:
    """Simulate, analyse and write ``analysis.json`` (and figures) into ``out_dir``.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model (file or folder).
    out_dir : path-like
        Output folder (created if needed).
    task : str, optional
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
    nwb_metadata : dict, optional
        Subject, experimenter, ... of the NWB export (see :func:`export_result`).

    Returns
    -------
    Analysis
    """
    from spikernn.analysis.plots import plot_analysis
    from spikernn.analysis.summary import analyze

    check_output_folder(out_dir, "out_dir")  # before simulating
    if export_path is not None:
        check_writable(export_path, "export_path")
    model, _ = resolve_model(model)
    sim = simulate_trials(model, task, n_trials, seed, scaling_factor=scaling_factor,
                          device=device, record=("rates",),
                          record_every=time_base(model.dt_ms, LIFParams().dt).steps_per_rate_step)
    rate = run_rate_model(sim.model, sim.batch.stimulus, seed=seed, device=device)
    summary = analyze(sim.result, sim.model, rate, sim.task)
    summary["seed"] = seed
    out = Path(out_dir)
    files = [write_json(out / ANALYSIS_FILE, summary)]
    if plots:
        files += plot_analysis(sim.result, summary, out, rate, sim.model)
    if export_path is not None:
        files.append(export_result(sim.result, sim.model, export_path, **(nwb_metadata or {})))
    summary["files"] = [str(f) for f in files]
    return Analysis(summary, sim, rate, tuple(files))


@dataclass(frozen=True)
class FileAnalysis:
    """What :func:`analyze_file` produced.

    Attributes
    ----------
    summary : dict
        As :attr:`Analysis.summary`, with ``source`` (the file) added.
    saved : spikernn.bridges.neo.SavedSimulation
        The result and model read from the file.
    rate : RateResult or None
        The rate model on the stored stimuli (None without a model or stimulus).
    files : tuple of pathlib.Path
        Files written.
    """

    summary: dict[str, Any]
    saved: Any
    rate: RateResult | None
    files: tuple[Path, ...] = field(default_factory=tuple)


def analyze_file(path: str | os.PathLike, out_dir: str | os.PathLike,
                 model: ModelArtifact | str | os.PathLike | None = None, seed: int = 0,
                 device: str = "cpu", plots: bool = True) -> FileAnalysis:
    """Analyse the trials stored in an NWB or NIX file; write ``analysis.json`` (and figures).

    Parameters
    ----------
    path : path-like
        A file of ``spikernn export`` / ``run`` (``.nwb`` or ``.nix``).
    out_dir : path-like
        Output folder (created if needed).
    model : ModelArtifact or path, optional
        The model; default: the one stored in the file. With a model and the stored stimulus
        the rate model runs on the same stimuli (seeded with ``seed``), which adds the
        rate-versus-spiking comparison; with the stored labels, the accuracy.
    seed : int
        Seed of the rate model's noise.
    device : str
        Torch device of the rate model.
    plots : bool
        Write the figures.

    Returns
    -------
    FileAnalysis
    """
    from spikernn.analysis.plots import plot_analysis
    from spikernn.analysis.summary import analyze

    from ..artifact import load_model
    from ..spiking.evaluation import task_for_model

    saved = read_result(path)
    result = saved.result
    model = load_model(model) if model is not None else saved.model
    task = rate = None
    if model is not None:
        trials = result.trials
        task = task_for_model(model, None if trials is None else trials.task)
        if trials is not None and trials.stimulus is not None:
            rate = run_rate_model(model, trials.stimulus, seed=seed, device=device)
    summary = analyze(result, model, rate, task)
    summary.update(seed=seed, source=str(path))
    out = Path(out_dir)
    files = [write_json(out / ANALYSIS_FILE, summary)]
    if plots:
        files += plot_analysis(result, summary, out, rate, model)
    summary["files"] = [str(f) for f in files]
    return FileAnalysis(summary, saved, rate, tuple(files))


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
