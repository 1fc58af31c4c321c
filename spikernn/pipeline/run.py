"""The whole conversion: model -> scaling-factor search -> evaluation -> analysis and export.

:func:`run_pipeline` takes the shipped pretrained rate model of a task (or a given model, or
trains one), searches the scaling factor, evaluates the spiking network at the best factor
on fresh trials, and writes everything into one folder::

    spikernn-run-go_nogo/
        go_nogo_model.mat             the model, with opt_scaling_factor/all_perfs recorded
        go_nogo_model.search.json     per-factor results (a rerun resumes from them)
        search_results.json           accuracy and firing rate per factor, best factor
        metrics.json                  spiking and rate accuracy at the best factor
        raster_<type>.png, readout_spiking_vs_rate.png, accuracy_vs_scaling_factor.png
        analysis/analysis.json        spike statistics and rate-vs-spiking comparison (Elephant)
        analysis/*.png                their figures
        trials.nwb                    the analysed trials' spikes, stimulus and readout (NWB)
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import write_json
from ..artifact import ModelArtifact, load_model
from ..spiking.search import SearchResult, lambda_grid_search
from ..tasks import TaskFactory, normalize_task_name
from .analyze import Analysis, analyze_model, format_summary
from .evaluate import Evaluation, evaluate, format_metrics

#: Minimum training trials of ``train=True``: models stopped right at the paper's termination
#: criteria solve the task as rate networks but often convert poorly (spikernn/pretrained).
TRAIN_MIN_TRIALS = 10_000


@dataclass(frozen=True)
class RunConfig:
    """What :func:`run_pipeline` does.

    Attributes
    ----------
    task : str
        Task name.
    out_dir : path, optional
        Output folder (default ``./spikernn-run-<task>``).
    model : ModelArtifact or path, optional
        Rate model to convert (default: the shipped pretrained model of ``task``).
    train : bool
        Train a new rate model (N = 200, the paper's defaults, at least
        :data:`TRAIN_MIN_TRIALS` trials, seeded with ``seed``) instead.
    n_trials : int
        Trials per scaling factor in the search, and trials of the evaluation.
    seed : int
        Seed of the training, the search, (``seed + 1``) the evaluation and (``seed + 2``)
        the analysis.
    device : str
        Torch device of the simulations.
    progress : bool
        Show progress bars.
    analysis_trials : int
        Fresh trials simulated at the best factor, analysed into ``out_dir/analysis`` and
        exported to ``out_dir/trials.nwb``; 0 skips both.
    nwb_metadata : dict, optional
        Subject, experimenter, institution, lab, keywords, session description of
        ``trials.nwb`` (see :func:`spikernn.bridges.nwb.result_to_nwb`).
    """

    task: str = "go_nogo"
    out_dir: str | os.PathLike | None = None
    model: ModelArtifact | str | os.PathLike | None = None
    train: bool = False
    n_trials: int = 100
    seed: int = 0
    device: str = "cpu"
    progress: bool = True
    analysis_trials: int = 20
    nwb_metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_pipeline` produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    model_path : pathlib.Path
        The model file in it (with the search result recorded).
    search : SearchResult
        The scaling-factor search.
    evaluation : Evaluation
        The evaluation at the best factor (fresh trials).
    analysis : Analysis or None
        The analysis of further fresh trials (None when ``analysis_trials`` is 0).
    elapsed_s : float
        Wall time, s.
    text : str
        The summary the command line prints.
    """

    out_dir: Path
    model_path: Path
    search: SearchResult
    evaluation: Evaluation
    analysis: Analysis | None
    elapsed_s: float
    text: str

    @property
    def metrics(self) -> dict:
        """The evaluation's metrics (``metrics.json``)."""
        return self.evaluation.metrics


def run_pipeline(config: RunConfig) -> RunResult:
    """Model -> search -> evaluation (-> analysis and NWB export), written into one folder.

    The search uses trials drawn from ``config.seed``; the evaluation uses fresh trials (from
    ``seed + 1``), so the reported accuracy is not the one the factor was selected on.

    Parameters
    ----------
    config : RunConfig

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        An unknown task or a bad value, before anything is written.
    """
    if config.analysis_trials < 0:
        raise ValueError(f"analysis_trials: expected >= 0, got {config.analysis_trials}")
    start = time.perf_counter()
    name = normalize_task_name(config.task)
    TaskFactory.get_task_class(name)  # unknown task: fail before writing anything
    out = Path(config.out_dir if config.out_dir is not None else f"spikernn-run-{name}")
    artifact = source_model(name, config.model, config.train, config.seed, config.device,
                            config.progress)
    model_path = artifact.save(out / f"{name}_model.mat")
    search = lambda_grid_search(model_path, name, config.n_trials, seed=config.seed,
                                device=config.device, progress=config.progress)
    write_json(out / "search_results.json", search.to_dict())
    evaluation = evaluate(model_path, name, config.n_trials, config.seed + 1, output_dir=out,
                          device=config.device)
    metrics = evaluation.metrics
    lines = [format_search(search), format_metrics(metrics)]
    analysis = None
    if config.analysis_trials > 0:
        analysis = analyze_model(model_path, out / "analysis", name, config.analysis_trials,
                                 seed=config.seed + 2, device=config.device,
                                 export_path=out / "trials.nwb",
                                 nwb_metadata=config.nwb_metadata)
        lines.append(format_summary(analysis.summary))
    elapsed = time.perf_counter() - start
    gap = metrics.get("rate_accuracy", 0.0) - metrics["overall_accuracy"]
    if gap > 0.05:
        lines.append(f"note: the spiking network is {100 * gap:.0f} points below the rate model; "
                     "the conversion is weak for this model (Kim et al. 2019 count >= 95% as "
                     "converted)")
    lines.append(f"spikernn run finished in {elapsed:.1f} s; outputs in {out}")
    return RunResult(out, model_path, search, evaluation, analysis, elapsed, "\n".join(lines))


def source_model(task: str, model: ModelArtifact | str | os.PathLike | None = None,
                 train: bool = False, seed: int = 0, device: str = "cpu",
                 progress: bool = False) -> ModelArtifact:
    """The rate model to convert: given, freshly trained, or the shipped pretrained one."""
    if model is not None:
        if train:
            raise ValueError("--train: expected no --model when training, got both")
        return load_model(model)
    if train:
        from ..rate.model import create_default_config
        from ..rate.training import TrainingConfig
        from ..rate.training import train as train_rate

        result = train_rate(task, create_default_config(N=200, seed=seed, device=device),
                            TrainingConfig(min_trials=TRAIN_MIN_TRIALS), progress=progress)
        if not result.converged:
            warnings.warn(f"training stopped after {result.trials} trials without meeting the "
                          "termination criteria; converting the model anyway", stacklevel=2)
        return result.artifact
    from ..pretrained import load_pretrained

    return load_pretrained(task)


def format_search(result: SearchResult) -> str:
    """Table of accuracy and firing rate per factor, and the best factor."""
    lines = [f"{'s':>8s}  {'accuracy':>8s}  {'rate (Hz)':>9s}"]
    for f, acc, hz in zip(result.scaling_factors, result.accuracies, result.mean_firing_rates,
                          strict=True):
        mark = "  <- best" if f == result.best_scaling_factor else ""
        lines.append(f"{f:8g}  {100 * acc:7.1f}%  {hz:9.1f}{mark}")
    lines.append(f"best scaling factor {result.best_scaling_factor:g}: "
                 f"{100 * result.best_accuracy:.1f}% of {result.n_trials} trials")
    if result.model_path is not None:
        lines.append(f"written to {result.model_path}")
    return "\n".join(lines)
