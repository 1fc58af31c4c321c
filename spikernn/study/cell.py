"""One cell of a study: train a rate model, search its scaling factor, evaluate the spiking
network at the best factor (the pipeline's :func:`~spikernn.pipeline.search_scaling_factor`
and :func:`~spikernn.pipeline.evaluate`), and write a record of it all into the cell's own
folder.

A cell reads and writes nothing outside its folder, so cells run anywhere (a local process,
a Dask worker on another machine) in any order. Its folder::

    <out>/cells/<condition>__r<replicate>/
        settings.json        the cell's exact settings, seed and identity (settings hash)
        attempts             one line per start: worker (host:pid) and UTC time
        train.ckpt.pth       training checkpoint (a restarted cell resumes from it)
        model.mat            the trained model with its search result (opt_scaling_factor,
                             scaling_factors, all_perfs)
        model.search.json    per-factor search results (a restarted search resumes)
        evaluation/          metrics.json (and figures when evaluation.save_plots)
        record.json          what the study table holds for this cell, written last

A restarted cell (its worker was killed) resumes from the checkpoint and the search sidecar;
the training and the search give the same numbers resumed or not, so a cell's results do not
depend on where or how often it ran.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path, write_json
from .._seeding import child_seed
from .._version import __version__

#: Version of the record layout written by :func:`run_cell`.
RECORD_FORMAT = 1
RECORD_FILE = "record.json"
SETTINGS_FILE = "settings.json"
#: One line per start of the cell: the worker (``host:pid``) and the UTC time.
ATTEMPTS_FILE = "attempts"
#: Stage names, in order; each gets a ``<stage>_s`` time in the record.
STAGES = ("train", "search", "evaluate")


@dataclass(frozen=True)
class Cell:
    """One cell of a study (picklable: it travels to worker processes).

    Attributes
    ----------
    condition : str
        Name of the cell's condition.
    replicate : int
        Replicate id within the condition.
    seed : int
        The cell's seed (training; the search and evaluation seeds derive from it).
    settings : dict
        Every setting, ``{section: {key: value}}``, library defaults filled in.
    overrides : dict
        The settings the condition changes (``section.key``).
    key : str
        Hash of ``settings`` and ``seed``: the identity of the cell's results.
    folder : str
        The cell's folder under ``<out>/cells``.
    device : str
        Torch device.
    threads : int or None
        Cores the cell uses (torch threads, the spiking engine's threads and chunk
        processes); None: all the cores of the process. The runner sets it for cells that
        run side by side.
    """

    condition: str
    replicate: int
    seed: int
    settings: dict[str, dict[str, Any]] = field(repr=False)
    overrides: dict[str, Any]
    key: str
    folder: str
    device: str = "cpu"
    threads: int | None = None

    @property
    def search_seed(self) -> int:
        """Seed of the search trials and draws: ``child_seed(seed, "search")``."""
        return child_seed(self.seed, "search")

    @property
    def evaluation_seed(self) -> int:
        """Seed of the evaluation's fresh trials (not the ones the factor was picked on):
        ``child_seed(seed, "evaluation")``."""
        return child_seed(self.seed, "evaluation")

    def identity(self) -> dict[str, Any]:
        """What names the cell: condition, replicate, seeds, key and settings."""
        return {"condition": self.condition, "replicate": self.replicate, "seed": self.seed,
                "search_seed": self.search_seed, "evaluation_seed": self.evaluation_seed,
                "key": self.key, "folder": self.folder, "overrides": self.overrides,
                "settings": self.settings}


def cell_dir(out_dir: str | os.PathLike, cell: Cell) -> Path:
    """The folder of ``cell`` in the study folder ``out_dir``."""
    return Path(out_dir) / "cells" / cell.folder


def read_record(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The record in a cell folder, or None when there is none (or it is unreadable)."""
    import json

    path = Path(folder) / RECORD_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RECORD_FORMAT else None


def is_finished(record: dict[str, Any] | None, cell: Cell) -> bool:
    """Whether ``record`` is a successful result of exactly this cell's settings and seed."""
    return bool(record) and record.get("key") == cell.key and record.get("status") == "ok"


def run_cell(cell: Cell, out_dir: str | os.PathLike) -> dict[str, Any]:
    """Run one cell (train, search, evaluate) and return its record (also written to
    ``record.json`` in its folder).

    A cell that already holds a finished record for the same settings returns it unchanged.
    An exception inside the cell is caught and recorded (``status`` 'error', ``error``,
    ``traceback``); interrupts (``KeyboardInterrupt``) pass through.
    """
    folder = cell_dir(out_dir, cell)
    existing = read_record(folder)
    if is_finished(existing, cell):
        return existing
    _prepare_folder(folder, cell)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    attempt = _log_attempt(folder, worker)
    start, cpu_start = time.perf_counter(), time.process_time()
    record: dict[str, Any] = {"format": RECORD_FORMAT, **cell.identity(), "attempt": attempt,
                              "worker": worker, "versions": versions()}
    try:
        record.update(_stages(cell, folder))
        record["status"] = "ok"
    except Exception as exc:  # a failing cell is recorded; the study goes on
        record.update(status="error", error=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc())
    record["total_s"] = time.perf_counter() - start
    record["cpu_s"] = time.process_time() - cpu_start  # this process's CPU time (threads too)
    write_json(folder / RECORD_FILE, record)
    return record


def error_record(cell: Cell, message: str) -> dict[str, Any]:
    """A record for a cell that failed outside itself (e.g. its worker kept dying)."""
    return {"format": RECORD_FORMAT, **cell.identity(), "status": "error", "error": message,
            "versions": versions()}


def versions() -> dict[str, str]:
    """Versions of spikernn, Python, numpy and torch, and the platform."""
    import torch

    return {"spikernn": __version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "torch": torch.__version__,
            "platform": platform.platform()}


def _prepare_folder(folder: Path, cell: Cell) -> None:
    """Make the folder; empty it first if it holds another cell's (or settings') work."""
    import json

    settings_file = folder / SETTINGS_FILE
    if settings_file.is_file():
        try:
            same = json.loads(settings_file.read_text()).get("key") == cell.key
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(folder)
    if not settings_file.is_file():
        write_json(settings_file, {"format": RECORD_FORMAT, **cell.identity()})


def _log_attempt(folder: Path, worker: str) -> int:
    """Add a line ``<host>:<pid> <UTC time>`` to the folder's ``attempts`` log and return how
    many times this cell has started in this folder (this start included)."""
    path = folder / ATTEMPTS_FILE
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    lines.append(f"{worker} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return len(lines)


def _stages(cell: Cell, folder: Path) -> dict[str, Any]:
    """Train (or resume), search and evaluate on ``cell.threads`` cores; the results the
    record holds."""
    import torch

    from ..spiking.memory import cpu_count, limit_cores

    saved_threads = torch.get_num_threads()
    with limit_cores(cell.threads):
        cores = cpu_count()
        torch.set_num_threads(cores)
        try:
            return {**_run_stages(cell, folder), "cores": cores}
        finally:
            torch.set_num_threads(saved_threads)


def _run_stages(cell: Cell, folder: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        t0 = time.perf_counter()
        model_path, training = _train(cell, folder)
        out.update(training)
        t1 = time.perf_counter()
        out.update(_search(cell, model_path))
        t2 = time.perf_counter()
        out.update(_evaluate(cell, model_path, folder))
        t3 = time.perf_counter()
        out.update(search_s=t2 - t1, evaluate_s=t3 - t2, train_wall_s=t1 - t0)
        return out


def _train(cell: Cell, folder: Path) -> tuple[Path, dict[str, Any]]:
    from ..artifact import load_model
    from ..pipeline.conversion_check import ConversionCheck, check_summary, conversion_hook
    from ..rate.model import RNNConfig
    from ..rate.training import Trainer, TrainingConfig

    model_path = folder / "model.mat"
    checkpoint = folder / "train.ckpt.pth"
    if model_path.is_file():
        training = dict(load_model(model_path).training or {})
    else:
        s = cell.settings
        task_settings = {k: v for k, v in s["task"].items() if k != "name"}
        if checkpoint.is_file():
            trainer = Trainer.from_checkpoint(checkpoint, device=cell.device)
        else:
            model = RNNConfig(**s["model"], seed=cell.seed, device=cell.device)
            trainer = Trainer(s["task"]["name"], model, TrainingConfig(**s["training"]),
                              task_settings=task_settings)
        check = (ConversionCheck(**s["conversion_check"]) if "conversion_check" in s
                 else None)
        hook = None if check is None else conversion_hook(check, _lif_params(cell),
                                                         cell.device)
        trainer.train(progress=False, checkpoint=checkpoint, on_evaluation=hook)
        extra = {} if check is None else {
            "conversion_check": check_summary(trainer.history.checks, check, trainer.seed)}
        artifact = trainer.to_artifact(study_cell=cell.key, **extra)
        artifact.save(model_path)
        training = dict(artifact.training)
        checkpoint.unlink(missing_ok=True)
    history = training.get("history") or {}
    checks = training.get("conversion_check")
    return model_path, {
        "train_converged": bool(training.get("converged", False)),
        "train_trials": int(training.get("trials", 0)),
        "train_updates": int(training.get("updates", 0)),
        "train_s": float(training.get("elapsed_s", float("nan"))),
        "train_final_loss": _last(history.get("loss")),
        "train_final_accuracy": _last(history.get("accuracy")),
        **({} if checks is None else {
            "check_count": int(checks["checks"]), "check_passed": bool(checks["passed"]),
            "check_bound_reached": bool(checks["bound_reached"]),
            "check_s": float(checks["seconds"])}),
    }


def _last(values) -> float:
    return float(values[-1]) if values else float("nan")


def _lif_params(cell: Cell):
    from ..spiking.params import LIFParams

    return LIFParams(**cell.settings["lif"])


def _search(cell: Cell, model_path: Path) -> dict[str, Any]:
    import torch

    from ..pipeline import search_scaling_factor

    s = cell.settings["search"]
    result = search_scaling_factor(
        model_path, n_trials=s["n_trials"], scaling_factors=s["scaling_factors"],
        seed=cell.search_seed, params=_lif_params(cell), device=cell.device,
        dtype=getattr(torch, s["dtype"]), downsample=s["downsample"],
        memory_budget_mb=s["memory_budget_mb"], extend_edges=s["extend_edges"],
        progress=False)
    best = result.best_index
    return {
        "best_scaling_factor": result.best_scaling_factor,
        "search_best_accuracy": result.best_accuracy,
        "search_scaling_factors": result.scaling_factors.tolist(),
        "search_accuracies": result.accuracies.tolist(),
        "search_mean_firing_rates_hz": result.mean_firing_rates.tolist(),
        "search_best_accuracy_by_type": result.accuracy_by_type[best],
    }


def _evaluate(cell: Cell, model_path: Path, folder: Path) -> dict[str, Any]:
    import torch

    from ..pipeline import evaluate

    s = cell.settings["evaluation"]
    metrics = evaluate(
        model_path, n_trials=s["n_trials"], seed=cell.evaluation_seed,
        output_dir=folder / "evaluation", save_plots=s["save_plots"],
        params=_lif_params(cell), device=cell.device,
        dtype=getattr(torch, cell.settings["search"]["dtype"]), downsample=s["downsample"],
        compare_rate=True).metrics
    return {
        "lif_accuracy": float(metrics["overall_accuracy"]),
        "lif_accuracy_by_type": {k: float(v) for k, v in metrics["accuracy_by_type"].items()},
        "rate_accuracy": float(metrics["rate_accuracy"]),
        "rate_accuracy_by_type": {k: float(v)
                                  for k, v in metrics["rate_accuracy_by_type"].items()},
        "mean_firing_rate_hz": float(metrics["mean_firing_rate_hz"]),
        "mean_firing_rate_exc_hz": float(metrics["mean_firing_rate_exc_hz"]),
        "mean_firing_rate_inh_hz": float(metrics["mean_firing_rate_inh_hz"]),
        "n_units": int(metrics["n_units"]),
    }
