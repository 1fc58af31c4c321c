"""Figures of a study: accuracy per condition, share converted with its interval, best factor.

Each figure has one column per condition (in the spec's order) and shows every finished cell
as a dot, so a reader sees the spread as well as the summary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..spiking.diagnosis import CONVERSION_CRITERION
from ..spiking.plots import save_figure

FIGURES = ("accuracy_by_condition.png", "share_converted.png", "best_scaling_factor.png")


def _columns(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping]]]:
    names = list(dict.fromkeys(r["condition"] for r in records))
    return [(n, [r for r in records if r["condition"] == n and r.get("status") == "ok"])
            for n in names]


def _jitter(n: int, index: int) -> np.ndarray:
    """Fixed horizontal offsets of ``n`` dots around column ``index`` (no randomness)."""
    return index + (np.linspace(-0.18, 0.18, n) if n > 1 else np.zeros(n))


def _axes(columns, width_per: float = 1.3, height: float = 4.2):
    fig = Figure(figsize=(max(4.0, 1.6 + width_per * len(columns)), height),
                 layout="constrained")
    ax = fig.add_subplot()
    ax.set_xticks(range(len(columns)), [n for n, _ in columns],
                  rotation=20 if len(columns) > 3 else 0, ha="right" if len(columns) > 3
                  else "center")
    ax.set_xlim(-0.6, len(columns) - 0.4)
    return fig, ax


def plot_accuracy(records: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """LIF accuracy of every cell per condition (dots), mean +/- SD (bar), the rate
    model's mean (open diamond), and the 95% conversion line."""
    columns = _columns(records)
    fig, ax = _axes(columns)
    for i, (_, rows) in enumerate(columns):
        lif = 100 * np.array([r["lif_accuracy"] for r in rows], dtype=float)
        rate = 100 * np.array([r["rate_accuracy"] for r in rows], dtype=float)
        if not lif.size:
            continue
        ax.plot(_jitter(lif.size, i), lif, "o", ms=4, color="C0", alpha=0.6,
                label="LIF, one cell" if i == 0 else None)
        sd = lif.std(ddof=1) if lif.size > 1 else 0.0
        ax.errorbar(i + 0.3, lif.mean(), yerr=sd, fmt="s", color="k", capsize=4,
                    label="LIF mean +/- SD" if i == 0 else None)
        ax.plot(i + 0.3, rate.mean(), "D", mfc="none", color="C3",
                label="rate model, mean" if i == 0 else None)
    ax.axhline(100 * CONVERSION_CRITERION, color="0.5", ls="--", lw=1,
               label=f"converted ({100 * CONVERSION_CRITERION:g}%)")
    ax.set_ylabel("accuracy (%)")
    lowest = min((100 * r[k] for _, rows in columns for r in rows
                  for k in ("lif_accuracy", "rate_accuracy")), default=100.0)
    ax.set_ylim(0 if lowest < 45 else 40, 103)
    ax.set_title(title or "Task accuracy per condition")
    fig.legend(fontsize="small", loc="outside lower center", ncols=2)
    return fig


def plot_share_converted(summary: Mapping[str, Any], title: str = "") -> Figure:
    """Share of cells converted per condition with its 95% Wilson interval."""
    conds = summary["conditions"]
    columns = [(n, []) for n in conds]
    fig, ax = _axes(columns)
    for i, c in enumerate(conds.values()):
        share = c["share_converted"]
        if not np.isfinite(share):
            continue
        low, high = c["share_ci"]
        ax.bar(i, 100 * share, width=0.6, color="C0", alpha=0.7)
        ax.errorbar(i, 100 * share, yerr=[[100 * (share - low)], [100 * (high - share)]],
                    color="k", capsize=5)
        ax.text(i, 100 * high + 2, f"{c['n_converted']}/{c['n_ok']}", ha="center",
                fontsize="small")
    ax.set_ylim(0, 112)
    ax.set_ylabel(f"converted (LIF accuracy >= {100 * summary['converted_at']:g}%), %")
    ax.set_title(title or "Share converted (95% Wilson interval)")
    return fig


def plot_best_factor(records: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """Best scaling factor of every cell per condition, with each condition's median."""
    columns = _columns(records)
    fig, ax = _axes(columns)
    for i, (_, rows) in enumerate(columns):
        s = np.array([r["best_scaling_factor"] for r in rows], dtype=float)
        if not s.size:
            continue
        ax.plot(_jitter(s.size, i), s, "o", ms=4, color="C2", alpha=0.7)
        ax.plot([i - 0.3, i + 0.3], [np.median(s)] * 2, color="k", lw=2,
                label="median" if i == 0 else None)
    ax.set_ylabel("best scaling factor s")
    ax.set_title(title or "Best scaling factor per condition")
    if any(rows for _, rows in columns):
        ax.legend(fontsize="small")
    return fig


def write_figures(out_dir: str | os.PathLike, records: Sequence[Mapping[str, Any]],
                  summary: Mapping[str, Any], name: str = "") -> list[Path]:
    """Write the three figures (PNG) into ``out_dir/figures`` and return their paths."""
    folder = Path(out_dir) / "figures"
    prefix = f"{name}: " if name else ""
    figs = (plot_accuracy(records, f"{prefix}task accuracy per condition"),
            plot_share_converted(summary, f"{prefix}share converted (95% Wilson CI)"),
            plot_best_factor(records, f"{prefix}best scaling factor"))
    return [save_figure(fig, folder / fname) for fig, fname in zip(figs, FIGURES, strict=True)]
