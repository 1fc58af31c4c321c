"""Figures of :func:`spikernn.analysis.summary.analyze`: rasters, population activity, spike
statistics and the rate-versus-spiking comparison.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state, no GUI
backend needed) and written atomically. Times are in seconds, rates in Hz.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spikernn.artifact import ModelArtifact
from spikernn.spiking.plots import COLORS, plot_spike_raster, save_figure
from spikernn.spiking.result import SimulationResult

from .comparison import AlignedTraces, RateTraces, align_traces

#: Most trial types drawn side by side in the raster figure.
MAX_TYPES = 4
POPULATIONS = (("E", COLORS["exc"]), ("I", COLORS["inh"]))


def plot_analysis(result: SimulationResult, summary: Mapping[str, Any],
                  out_dir: str | os.PathLike, rate_result: RateTraces | None = None,
                  model: ModelArtifact | None = None, prefix: str = "analysis_") -> list[Path]:
    """Draw the analysis figures and write them as PNG files.

    Parameters
    ----------
    result : SimulationResult
        The spiking run that ``summary`` describes.
    summary : mapping
        The dict returned by :func:`~spikernn.analysis.summary.analyze`.
    out_dir : path-like
        Folder of the figures (created if needed).
    rate_result : RateResult, optional
        The rate model on the same stimuli; adds the rate-versus-spiking figure and the rate
        readout in the raster figure.
    model : ModelArtifact, optional
        Needed for the comparison figure when ``result.rates`` was not recorded.
    prefix : str
        File-name prefix.

    Returns
    -------
    list of pathlib.Path
        ``<prefix>spikes.png``, ``<prefix>population.png``, ``<prefix>statistics.png``,
        with ``rate_result`` ``<prefix>rate_vs_spiking.png``, and with viziphant installed
        ``<prefix>viziphant.png`` (:func:`viziphant_figure`).

    Examples
    --------
    >>> summary = analyze(result, model, rate_result)                    # doctest: +SKIP
    >>> plot_analysis(result, summary, "figures", rate_result, model)    # doctest: +SKIP
    """
    out = Path(out_dir)
    traces = None if rate_result is None else align_traces(result, rate_result, model)
    figures = {"spikes": spikes_figure(result, traces),
               "population": population_figure(summary),
               "statistics": statistics_figure(summary)}
    if traces is not None:
        figures["rate_vs_spiking"] = comparison_figure(traces, summary)
    with contextlib.suppress(ImportError):  # viziphant is the optional extra 'viziphant'
        figures["viziphant"] = viziphant_figure(result)
    return [save_figure(fig, out / f"{prefix}{name}.png") for name, fig in figures.items()]


def viziphant_figure(result: SimulationResult, trial: int = 0) -> Figure:
    """Viziphant's raster (excitatory then inhibitory units) and ISI histograms of one trial.

    Raises
    ------
    ImportError
        Without viziphant (``pip install 'spikernn[viziphant]'``).
    """
    import quantities as pq
    from viziphant.rasterplot import rasterplot
    from viziphant.statistics import plot_isi_histogram

    from .statistics import result_spiketrains

    trains = result_spiketrains(result)[trial]
    exc = np.asarray(result.exc, dtype=bool)
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    raster, isi = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    populations = [[t for t, e in zip(trains, exc, strict=True) if e == flag]
                   for flag in (True, False)]
    rasterplot([group for group in populations if group], axes=raster, s=2,
               color=[COLORS[k] for k, group in zip(("exc", "inh"), populations, strict=True)
                      if group],
               title=f"trial {trial} (viziphant): E (bottom) and I units")
    active = [group for group in populations if sum(len(t) for t in group) > 1]
    if active:
        plot_isi_histogram(active, axes=isi, bin_size=2 * pq.ms, cutoff=100 * pq.ms,
                           legend=["E", "I"][:len(active)] if len(active) == 2 else None)
    return fig


def _first_trial_of_each_type(result: SimulationResult) -> dict[str, int]:
    types = None if result.trials is None else result.trials.trial_types
    if types is None:
        return {"trial 0": 0}
    first: dict[str, int] = {}
    for b, name in enumerate(types):
        first.setdefault(str(name), b)
    return dict(list(first.items())[:MAX_TYPES])


def spikes_figure(result: SimulationResult, traces: AlignedTraces | None = None) -> Figure:
    """Raster and readout of the first trial of each trial type (at most four)."""
    trials = _first_trial_of_each_type(result)
    fig = Figure(figsize=(4.5 * len(trials), 6.0), layout="constrained")
    axes = fig.subplots(2, len(trials), squeeze=False, sharex=True,
                        gridspec_kw={"height_ratios": [3, 1]})
    for column, (name, trial) in enumerate(trials.items()):
        plot_spike_raster(result, trial, ax=axes[0, column], title=f"{name} (trial {trial})")
        axes[0, column].set_xlabel("")
        ax = axes[1, column]
        ax.plot(result.output_times, result.output[trial], color=COLORS["spiking"], lw=1,
                label="spiking")
        if traces is not None:
            ax.plot(traces.times, traces.rate_output[trial], color=COLORS["rate"], lw=1,
                    label="rate")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("readout")
        ax.legend(loc="best", fontsize="small")
    return fig


def _values(node: Any) -> np.ndarray:
    """A JSON list (None for NaN) as a float array."""
    return np.array([np.nan if v is None else v for v in node], dtype=float)


def population_figure(summary: Mapping[str, Any]) -> Figure:
    """PSTH and kernel population rate of each population per trial type."""
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, title in ((axes[0], "psth", "PSTH"), (axes[1], "population_rate",
                                                          "population rate (kernel)")):
        curves = summary[key]
        times = _values(curves["times_s"])
        for style, (name, per_pop) in zip(("-", "--", ":", "-."),
                                          curves["per_trial_type"].items(), strict=False):
            for population, color in POPULATIONS:
                if population in per_pop:
                    ax.plot(times, _values(per_pop[population]), style, color=color, lw=1.2,
                            label=f"{name} {population}",
                            drawstyle="steps-post" if key == "psth" else "default")
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.legend(loc="best", fontsize="small")
    axes[0].set_ylabel("rate per unit (Hz)")
    return fig


def _histogram(ax: Axes, values: np.ndarray, exc: np.ndarray, xlabel: str) -> None:
    finite = np.isfinite(values)
    if not finite.any():
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    else:
        bins = np.histogram_bin_edges(values[finite], bins=20)
        for (population, color), sel in zip(POPULATIONS, (exc, ~exc), strict=True):
            ax.hist(values[finite & sel], bins=bins, color=color, alpha=0.6,
                    label=f"{population} (n={int((finite & sel).sum())})")
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("units")


def statistics_figure(summary: Mapping[str, Any]) -> Figure:
    """Histograms over units of the firing rate, ISI CV, LV and Fano factor."""
    exc = np.asarray(summary["exc"], dtype=bool)
    fig = Figure(figsize=(9.0, 6.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    _histogram(axes[0], _values(summary["firing_rate_hz"]["per_unit"]), exc,
               "mean firing rate (Hz)")
    _histogram(axes[1], _values(summary["isi_cv"]["per_unit"]), exc, "ISI CV")
    _histogram(axes[2], _values(summary["local_variation"]["per_unit"]), exc,
               "local variation LV")
    fano = summary["fano_factor"]
    name = next(iter(fano), None)
    _histogram(axes[3], _values(fano[name]["per_unit"]) if name else np.full(exc.size, np.nan),
               exc, f"Fano factor ({name} trials)" if name else "Fano factor")
    return fig


def comparison_figure(traces: AlignedTraces, summary: Mapping[str, Any],
                      n_examples: int = 3) -> Figure:
    """Per-unit agreement of ``r(t)`` and ``r_spk(t) / s``: histogram and example units."""
    exc = np.asarray(summary["exc"], dtype=bool)
    comparison = summary["rate_vs_spiking"]
    corr = _values(comparison["unit_correlation"]["per_unit"])
    fig = Figure(figsize=(12.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 1 + n_examples)
    _histogram(axes[0], _values(comparison["unit_correlation_trial_mean"]["per_unit"]), exc,
               "corr(r, r_spk / s) of trial-type means")
    axes[0].set_title(f"per unit; readout corr {_fmt(comparison['readout']['correlation'])}")
    active = np.argsort(traces.rate.std(axis=(0, 1)))[::-1][:n_examples]
    for ax, unit in zip(axes[1:], active, strict=False):
        color = COLORS["exc"] if exc[unit] else COLORS["inh"]
        ax.plot(traces.times, traces.rate[0, :, unit], color=COLORS["rate"], lw=1.2, label="r")
        ax.plot(traces.times, traces.spiking[0, :, unit], color=color, lw=1.0,
                label="r_spk / s")
        ax.set_title(f"unit {unit} ({'E' if exc[unit] else 'I'}), trial 0, "
                     f"corr {_fmt(corr[unit])}")
        ax.set_xlabel("time (s)")
        ax.legend(loc="best", fontsize="small")
    return fig


def _fmt(value: Any) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2f}"
