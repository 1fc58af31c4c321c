"""Figures of a spiking evaluation: spike rasters, spiking vs rate readout, accuracy vs s.

Every function draws on a :class:`matplotlib.figure.Figure` it creates (no pyplot state, no
GUI backend needed) or on an ``ax`` the caller passes, and returns it; :func:`save_figure`
writes a figure atomically. Times on the axes are in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._io import atomic_path
from .result import SimulationResult

#: Colours of excitatory and inhibitory units, spiking and rate traces.
COLORS = {"exc": "tab:blue", "inh": "tab:red", "spiking": "tab:green", "rate": "0.35",
          "target": "k"}


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    return ax if ax is not None else Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_spike_raster(result: SimulationResult, trial: int = 0, ax: Axes | None = None,
                      title: str | None = None) -> Axes:
    """Spike raster of one trial, excitatory units in blue, inhibitory units in red.

    Units are drawn excitatory first (bottom), then inhibitory.

    Parameters
    ----------
    result : SimulationResult
        A simulation (spikes are always recorded).
    trial : int
        Trial (row of the batch) to draw.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when omitted).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    exc = np.asarray(result.exc, dtype=bool)
    order = np.concatenate([np.flatnonzero(exc), np.flatnonzero(~exc)])
    row_of = np.empty_like(order)
    row_of[order] = np.arange(order.size)
    trains = result.spike_trains(trial)
    for kind, sel in (("exc", exc), ("inh", ~exc)):
        units = np.flatnonzero(sel)
        times = np.concatenate([trains[u] for u in units]) if units.size else np.empty(0)
        rows = np.concatenate([np.full(trains[u].size, row_of[u]) for u in units]) \
            if units.size else np.empty(0)
        ax.scatter(times, rows, s=4, marker="|", linewidths=0.7, color=COLORS[kind],
                   label=f"{'excitatory' if kind == 'exc' else 'inhibitory'} ({units.size})",
                   rasterized=True)
    ax.set_xlim(0.0, result.duration)
    ax.set_ylim(-0.5, result.n_units - 0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit (E, then I)")
    ax.legend(loc="upper right", fontsize="small", markerscale=6, frameon=True)
    if title:
        ax.set_title(title)
    return ax


def plot_readout_comparison(spiking_times: np.ndarray, spiking_outputs: np.ndarray,
                            rate_times: np.ndarray | None = None,
                            rate_outputs: np.ndarray | None = None,
                            target: np.ndarray | None = None,
                            window: tuple[float, float] | None = None,
                            ax: Axes | None = None, title: str | None = None) -> Axes:
    """Mean +/- SD of the spiking readout over trials, with the rate readout and the target.

    Parameters
    ----------
    spiking_times : numpy.ndarray, shape (S,)
        Sample times of the spiking readout, s.
    spiking_outputs : numpy.ndarray, shape (trials, S)
        Spiking readouts.
    rate_times : numpy.ndarray, shape (T,), optional
        Start times of the rate steps (the rate readout and the target), s.
    rate_outputs : numpy.ndarray, shape (trials, T), optional
        Rate-model readouts on the same stimuli.
    target : numpy.ndarray, shape (T,), optional
        Target trace (NaN entries are not drawn).
    window : (float, float), optional
        Response window, s, shaded.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    if window is not None:
        ax.axvspan(*window, color="0.92", zorder=0, label="response window")
    _mean_sd(ax, spiking_times, spiking_outputs, COLORS["spiking"], "spiking")
    if rate_outputs is not None and rate_times is not None:
        _mean_sd(ax, rate_times, rate_outputs, COLORS["rate"], "rate")
    if target is not None and rate_times is not None and np.all(np.isfinite(target)):
        ax.plot(rate_times, target, "--", color=COLORS["target"], lw=1.0, label="target",
                drawstyle="steps-post")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("readout")
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _mean_sd(ax: Axes, times: np.ndarray, traces: np.ndarray, color: str, label: str) -> None:
    traces = np.atleast_2d(traces)
    mean, sd = traces.mean(axis=0), traces.std(axis=0)
    ax.fill_between(times, mean - sd, mean + sd, color=color, alpha=0.25, lw=0)
    ax.plot(times, mean, color=color, lw=1.5, label=f"{label} (mean +/- SD, n={len(traces)})")


def plot_accuracy_vs_scaling(scaling_factors: Sequence[float], accuracies: Sequence[float],
                             best: float | None = None, rate_accuracy: float | None = None,
                             ax: Axes | None = None, title: str | None = None) -> Axes:
    """Spiking accuracy (%) against the scaling factor s, with the chosen s marked.

    Parameters
    ----------
    scaling_factors, accuracies : sequence of float
        The searched factors and the fraction of correct trials at each.
    best : float, optional
        The chosen factor (a vertical line).
    rate_accuracy : float, optional
        The rate model's accuracy (a horizontal line), fraction.
    ax : matplotlib.axes.Axes, optional
        Where to draw.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    f = np.asarray(scaling_factors, dtype=float)
    order = np.argsort(f)
    ax.plot(f[order], 100 * np.asarray(accuracies, dtype=float)[order], "o-",
            color=COLORS["spiking"], label="spiking")
    if rate_accuracy is not None:
        ax.axhline(100 * rate_accuracy, color=COLORS["rate"], ls=":", label="rate model")
    if best is not None:
        ax.axvline(best, color="k", ls="--", lw=1, label=f"best s = {best:g}")
    ax.set_xlabel("scaling factor s")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` atomically (format from the suffix) and return the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip(".") or "png")
    return Path(path)
