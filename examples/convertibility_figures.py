"""Figures and tables of docs/convertibility.md from finished convertibility studies.

For every cell of the given study folders (``spikernn study examples/convertibility_*.toml``)
this reads the cell's record and, for Go/NoGo cells, measures two features of the trained
rate model's output on 200 fresh trials (100 Go, 100 NoGo, trial seed 12345, the rate
model's noise on): the **NoGo maximum** (mean over NoGo trials of the largest output in the
response window) and the **Go late level** (mean over Go trials of the output averaged over
the trial's last 25 steps, 125 ms). It writes ``cells.csv`` (one row per cell), prints the
Markdown tables of the doc (shares converted with 95% Wilson intervals; the search's best
accuracy on the paper's grid alone vs with the edge extension) and draws (Agg backend):

- ``rate_features.png``: NoGo maximum vs Go late level, converted or not;
- ``loss_vs_lif.png``: the final evaluation loss of training vs LIF accuracy;
- ``shares.png``: share converted per condition with its Wilson interval;
- ``training_curves.png``: the evaluation loss against training trials of every Mante and
  XOR cell (from the model files' training histories), one panel per task.

Run (a few seconds; no spiking simulation)::

    python examples/convertibility_figures.py STUDY_DIR [STUDY_DIR ...] --out docs/convertibility
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import numpy as np

from spikernn.artifact import load_model
from spikernn.rate import run_rate_model
from spikernn.spiking.diagnosis import CONVERSION_CRITERION
from spikernn.study.results import wilson_interval
from spikernn.tasks import TaskFactory

FEATURE_SEED = 12345
LATE_STEPS = 25


def rate_features(model_path: Path) -> dict[str, float]:
    """NoGo maximum and Go late level of a Go/NoGo rate model (see the module docstring)."""
    model = load_model(model_path)
    task = TaskFactory.create_task(model.task, model.task_settings)
    batch = task.sample_batch(200, rng=FEATURE_SEED, trial_types=["go"] * 100 + ["nogo"] * 100)
    out = run_rate_model(model, batch.stimulus, seed=FEATURE_SEED).output
    start, stop = task.response_window()
    go = np.array([t == "go" for t in batch.trial_types])
    return {"nogo_max": float(out[~go, start:stop].max(axis=1).mean()),
            "go_late": float(out[go, -LATE_STEPS:].mean())}


def cell_rows(study: Path) -> list[dict]:
    """One row per finished cell of ``study``."""
    rows = []
    for record_path in sorted(study.glob("cells/*/record.json")):
        r = json.loads(record_path.read_text())
        if r.get("status") != "ok":
            continue
        s = r["settings"]
        factors = np.array(r["search_scaling_factors"])
        accs = np.array(r["search_accuracies"])
        requested = np.isin(factors, s["search"]["scaling_factors"])
        row = {
            "study": study.name, "task": s["task"]["name"], "condition": r["condition"],
            "replicate": r["replicate"], "seed": r["seed"],
            "protocol": s["training"].get("protocol", ""),
            "batch_size": s["training"]["batch_size"],
            "lif_accuracy": r["lif_accuracy"],
            "converted": r["lif_accuracy"] >= CONVERSION_CRITERION,
            "rate_accuracy": r["rate_accuracy"],
            "best_scaling_factor": r["best_scaling_factor"],
            "search_best_accuracy": r["search_best_accuracy"],
            "grid_only_best_accuracy": float(accs[requested].max()),
            "extended": bool((~requested).any()),
            "train_trials": r["train_trials"], "train_updates": r["train_updates"],
            "train_final_loss": r["train_final_loss"], "train_s": r["train_s"],
            "search_s": r["search_s"], "total_s": r["total_s"],
        }
        if row["task"] == "go_nogo":
            row.update(rate_features(record_path.parent / "model.mat"))
        rows.append(row)
    return rows


def training_curves(studies: list[Path], tasks=("mante", "xor")
                    ) -> dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]]:
    """Task -> ``study: condition`` -> (training trials, evaluation loss) of each finished
    cell of ``tasks`` in ``studies``, read from its model file's training history."""
    curves: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]] = {}
    for study in studies:
        for record_path in sorted(study.glob("cells/*/record.json")):
            r = json.loads(record_path.read_text())
            task = r.get("settings", {}).get("task", {}).get("name")
            if r.get("status") != "ok" or task not in tasks:
                continue
            history = load_model(record_path.parent / "model.mat").training["history"]
            curves.setdefault(task, {}).setdefault(f"{study.name}: {r['condition']}", []).append(
                (np.asarray(history["trials"]), np.asarray(history["loss"])))
    return curves


def plot_curves(curves, out: Path) -> Path:
    """``training_curves.png`` from :func:`training_curves`' result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4.0), squeeze=False)
    for ax, (task, by_condition) in zip(axes[0], sorted(curves.items()), strict=True):
        for i, (label, runs) in enumerate(sorted(by_condition.items())):
            for j, (trials, loss) in enumerate(runs):
                ax.plot(trials, loss, color=f"C{i}", lw=0.7, alpha=0.6,
                        label=f"{label} (n={len(runs)})" if j == 0 else None)
        ax.axhline(7.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("training trials")
        ax.set_ylabel("mean evaluation loss (100 fresh trials)")
        ax.set_title(f"{task}: training loss until the stop", fontsize=10)
        ax.legend(fontsize=7)
    return _save(fig, out / "training_curves.png")


def share_table(rows: list[dict]) -> str:
    """Markdown: share converted (Wilson 95%), LIF accuracy, training and search cost."""
    lines = ["| study | condition | cells | converted | share (95% CI) | LIF accuracy "
             "mean ± SD | training trials (updates), median | train / search s, median |",
             "|---|---|---|---|---|---|---|---|"]
    for (study, cond), group in _groups(rows).items():
        n, k = len(group), sum(g["converted"] for g in group)
        lo, hi = wilson_interval(k, n)
        lif = np.array([g["lif_accuracy"] for g in group])
        sd = lif.std(ddof=1) if n > 1 else 0.0
        lines.append(
            f"| {study} | {cond} | {n} | {k} | {100 * k / n:.0f}% ({100 * lo:.0f}–"
            f"{100 * hi:.0f}%) | {100 * lif.mean():.1f} ± {100 * sd:.1f}% | "
            f"{_median(group, 'train_trials'):.0f} ({_median(group, 'train_updates'):.0f}) | "
            f"{_median(group, 'train_s'):.0f} / {_median(group, 'search_s'):.0f} |")
    return "\n".join(lines)


def grid_table(rows: list[dict]) -> str:
    """Markdown: cells whose search reached the criterion on the grid alone vs extended."""
    lines = ["| study | condition | cells | search best >= 95%: grid alone | with the extension "
             "| cells extended |", "|---|---|---|---|---|---|"]
    for (study, cond), group in _groups(rows).items():
        grid = sum(g["grid_only_best_accuracy"] >= CONVERSION_CRITERION for g in group)
        ext = sum(g["search_best_accuracy"] >= CONVERSION_CRITERION for g in group)
        lines.append(f"| {study} | {cond} | {len(group)} | {grid} | {ext} | "
                     f"{sum(g['extended'] for g in group)} |")
    return "\n".join(lines)


def _groups(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["study"], r["condition"]), []).append(r)
    return out


def _median(group: list[dict], key: str) -> float:
    return float(np.median([g[key] for g in group]))


def plot(rows: list[dict], out: Path) -> list[Path]:
    """The three figures; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    go = [r for r in rows if r["task"] == "go_nogo"]
    paths = []
    conv = np.array([r["converted"] for r in go], dtype=bool)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    x = np.array([r["nogo_max"] for r in go])
    y = np.array([r["go_late"] for r in go])
    ax.scatter(x[conv], y[conv], s=22, c="tab:green", label=f"converted ({conv.sum()})")
    ax.scatter(x[~conv], y[~conv], s=40, c="tab:red", marker="x",
               label=f"not converted ({(~conv).sum()})")
    ax.axvline(0.3, color="grey", lw=0.8, ls="--")
    ax.axhline(0.7, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("NoGo maximum (rate model, mean over trials)")
    ax.set_ylabel(f"Go late level (last {LATE_STEPS} steps)")
    ax.set_title("Go/NoGo rate models: output features vs conversion", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    paths.append(_save(fig, out / "rate_features.png"))

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for study, cond in sorted({(r["study"], r["condition"]) for r in go}):
        g = [r for r in go if (r["study"], r["condition"]) == (study, cond)]
        ax.scatter([r["train_final_loss"] for r in g], [100 * r["lif_accuracy"] for r in g],
                   s=18, label=f"{study}: {cond}", alpha=0.8)
    ax.axhline(100 * CONVERSION_CRITERION, color="grey", lw=0.8, ls="--")
    ax.axvline(2.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("final evaluation loss of training")
    ax.set_ylabel("LIF accuracy at the best factor (%)")
    ax.set_title("Go/NoGo: training loss at the stop vs conversion", fontsize=10)
    ax.legend(fontsize=7)
    paths.append(_save(fig, out / "loss_vs_lif.png"))

    groups = _groups(rows)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(groups) + 1.2))
    for i, g in enumerate(groups.values()):
        n, k = len(g), sum(r["converted"] for r in g)
        lo, hi = wilson_interval(k, n)
        ax.errorbar(100 * k / n, i, xerr=[[100 * (k / n - lo)], [100 * (hi - k / n)]],
                    fmt="o", color="tab:blue", capsize=3)
    ax.axvline(94, color="grey", lw=0.8, ls="--")
    ax.set_yticks(range(len(groups)), [f"{s}: {c} (n={len(g)})"
                                       for (s, c), g in groups.items()], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 101)
    ax.set_xlabel("converted (LIF accuracy >= 95%), % with 95% Wilson interval; dashed: "
                  "paper 94%", fontsize=8)
    paths.append(_save(fig, out / "shares.png"))
    return paths


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("studies", nargs="+", type=Path, help="study folders")
    p.add_argument("--out", type=Path, default=Path("docs/convertibility"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [row for study in args.studies for row in cell_rows(study)]
    with open(args.out / "cells.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    print(share_table(rows), "", grid_table(rows), sep="\n")
    paths = plot(rows, args.out)
    curves = training_curves(args.studies)
    if curves:
        paths.append(plot_curves(curves, args.out))
    for path in paths:
        print("wrote", os.fspath(path))


if __name__ == "__main__":
    main()
