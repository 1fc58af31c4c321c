"""A study's results as data: one tidy table (a row per cell) and a summary per condition.

The table (``table.csv`` and ``table.parquet``) has the cell's identity (condition,
replicate, seed, key, status), what the paper reports (rate accuracy, best scaling factor,
LIF accuracy overall and per trial type, firing rates), the training outcome, the times per
stage, and every setting as a ``section.key`` column; list values (``model.taus``,
``search.scaling_factors``) are JSON text. The summary (``summary.json``) gives per condition
the share of cells converted (LIF accuracy >= 95%, the paper's criterion) with a 95% Wilson
score interval, and mean +/- SD (sample SD, ddof 1) of the LIF and rate accuracies, as in
Kim, Li & Sejnowski (2019), Fig. 7.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path, write_json
from ..spiking.diagnosis import CONVERSION_CRITERION

TABLE_CSV = "table.csv"
TABLE_PARQUET = "table.parquet"
SUMMARY_FILE = "summary.json"
#: Two-sided 95% normal quantile of the Wilson score interval.
_Z95 = 1.959963984540054

_IDENTITY = ("condition", "replicate", "seed", "search_seed", "evaluation_seed", "key",
             "status")
_RESULTS = ("rate_accuracy", "best_scaling_factor", "search_best_accuracy", "lif_accuracy",
            "converted", "mean_firing_rate_hz", "mean_firing_rate_exc_hz",
            "mean_firing_rate_inh_hz", "train_converged", "train_trials", "train_updates",
            "train_final_loss", "train_final_accuracy", "train_s", "search_s", "evaluate_s",
            "total_s", "cpu_s", "cores", "n_units", "attempt", "worker", "error", "check_count",
            "check_passed", "check_bound_reached", "check_s")


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% by default).

    Parameters
    ----------
    successes, n : int
        Successes and trials (``0 <= successes <= n``).
    z : float
        Normal quantile (1.96 for 95%).

    Returns
    -------
    (float, float)
        Lower and upper bound; (nan, nan) when ``n`` is 0.

    Examples
    --------
    >>> [round(v, 3) for v in wilson_interval(94, 100)]
    [0.875, 0.972]
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes: expected 0 <= successes <= n ({n}), got {successes}")
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def record_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One table row from a cell record (flat: scalars and JSON text only)."""
    row: dict[str, Any] = {k: record.get(k) for k in _IDENTITY}
    ok = record.get("status") == "ok"
    for k in _RESULTS:
        row[k] = record.get(k)
    row["converted"] = bool(record["lif_accuracy"] >= CONVERSION_CRITERION) if ok else None
    for prefix in ("lif_accuracy", "rate_accuracy"):
        for trial_type, value in (record.get(f"{prefix}_by_type") or {}).items():
            row[f"{prefix}_{trial_type}"] = value
    for k in ("search_scaling_factors", "search_accuracies"):
        row[k] = _text(record.get(k))
    row["spikernn_version"] = (record.get("versions") or {}).get("spikernn")
    for section, values in (record.get("settings") or {}).items():
        for k, v in values.items():
            row[f"{section}.{k}"] = _text(v)
    return row


def _text(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def records_table(records: Sequence[Mapping[str, Any]]):
    """The tidy table (pandas.DataFrame), one row per record, in the given order."""
    import pandas as pd

    return pd.DataFrame([record_row(r) for r in records])


def write_table(out_dir: str | os.PathLike, records: Sequence[Mapping[str, Any]]
                ) -> tuple[Path, Path]:
    """Write ``table.csv`` and ``table.parquet`` atomically; return their paths."""
    out = Path(out_dir)
    table = records_table(records)
    csv, parquet = out / TABLE_CSV, out / TABLE_PARQUET
    with atomic_path(parquet) as tmp:
        table.to_parquet(tmp, index=False, engine="pyarrow")
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    return csv, parquet


def summarize(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-condition statistics of a study's records (see the module docstring).

    Returns
    -------
    dict
        ``{"converted_at": 0.95, "ci": "...", "conditions": {name: {...}}}``; each condition
        has ``n_cells``, ``n_ok``, ``n_errors``, ``n_converted``, ``share_converted`` and
        ``share_ci`` (Wilson 95%), ``lif_accuracy_mean``/``_sd``, ``rate_accuracy_mean``/
        ``_sd``, ``best_scaling_factor_median``/``_mean``/``_sd``, ``n_train_converged``,
        mean firing rate and mean times per stage (``check_count``/``check_s``: the spiking
        checks of conversion-aware training, NaN without), and the condition's
        ``overrides``.
    """
    conditions: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["condition"] for r in records):
        rows = [r for r in records if r["condition"] == name]
        ok = [r for r in rows if r.get("status") == "ok"]
        lif = np.array([r["lif_accuracy"] for r in ok], dtype=float)
        converted = int((lif >= CONVERSION_CRITERION).sum())
        low, high = wilson_interval(converted, len(ok))
        entry = {
            "overrides": rows[0].get("overrides", {}),
            "n_cells": len(rows), "n_ok": len(ok), "n_errors": len(rows) - len(ok),
            "n_converted": converted,
            "share_converted": converted / len(ok) if ok else math.nan,
            "share_ci": [low, high],
            "n_train_converged": sum(bool(r.get("train_converged")) for r in ok),
        }
        for key in ("lif_accuracy", "rate_accuracy", "best_scaling_factor",
                    "mean_firing_rate_hz", "train_trials", "train_s", "search_s",
                    "evaluate_s", "total_s", "check_count", "check_s"):
            values = np.array([r.get(key, math.nan) for r in ok], dtype=float)
            entry[f"{key}_mean"] = _mean(values)
            if key in ("lif_accuracy", "rate_accuracy", "best_scaling_factor"):
                entry[f"{key}_sd"] = _sd(values)
        factors = np.array([r["best_scaling_factor"] for r in ok], dtype=float)
        entry["best_scaling_factor_median"] = float(np.median(factors)) if ok else math.nan
        conditions[name] = entry
    return {"converted_at": CONVERSION_CRITERION,
            "ci": "Wilson score interval, 95%, of the share converted",
            "sd": "sample standard deviation (ddof 1) over the condition's finished cells",
            "n_cells": len(records), "conditions": conditions}


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else math.nan


def write_summary(out_dir: str | os.PathLike, summary: Mapping[str, Any]) -> Path:
    """Write ``summary.json`` atomically."""
    return write_json(Path(out_dir) / SUMMARY_FILE, summary)


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a text table (one line per condition)."""
    lines = [f"{'condition':<32} {'cells':>7} {'converted (95% CI)':>24} "
             f"{'LIF accuracy':>16} {'rate accuracy':>16} {'best s':>8}"]
    for name, c in summary["conditions"].items():
        low, high = c["share_ci"]
        share = (f"{c['n_converted']}/{c['n_ok']} {_pct(c['share_converted'])} "
                 f"({_pct(low)}-{_pct(high)})") if c["n_ok"] else "-"
        cells = f"{c['n_ok']}/{c['n_cells']}"
        lines.append(f"{name[:32]:<32} {cells:>7} {share:>24} "
                     f"{_pm(c['lif_accuracy_mean'], c['lif_accuracy_sd']):>16} "
                     f"{_pm(c['rate_accuracy_mean'], c['rate_accuracy_sd']):>16} "
                     f"{c['best_scaling_factor_median']:>8g}")
    errors = sum(c["n_errors"] for c in summary["conditions"].values())
    lines.append(f"converted = LIF accuracy >= {100 * summary['converted_at']:g}%; CI: Wilson "
                 f"95%; accuracies mean +/- SD over finished cells; best s: median"
                 + (f"; {errors} cell(s) failed (see the table's error column)"
                    if errors else ""))
    return "\n".join(lines)


def _pct(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{100 * value:.0f}%"


def _pm(mean: float, sd: float) -> str:
    if not np.isfinite(mean):
        return "-"
    if not np.isfinite(sd):  # one finished cell: no spread
        return f"{100 * mean:.1f}%"
    return f"{100 * mean:.1f} +/- {100 * sd:.1f}%"
