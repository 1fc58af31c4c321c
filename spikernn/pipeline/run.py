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

import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import check_output_folder, locked, write_json
from .._validate import check_device, check_int, check_n_trials, check_seed
from .._version import __version__
from ..artifact import ModelArtifact, load_model
from ..spiking.search import SearchResult, lambda_grid_search
from ..tasks import TaskFactory, normalize_task_name
from .analyze import Analysis, analyze_model, format_summary
from .conversion_check import ConversionCheck, conversion_hook
from .evaluate import Evaluation, evaluate, format_metrics


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
        Train a new rate model (N = 200, the paper's model defaults, the ``default``
        training protocol of :mod:`spikernn.protocol`, seeded with ``seed``) instead.
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
    conversion_check : ConversionCheck, optional
        With ``train``: conversion-aware training (keep training until a quick spiking
        check passes, bounded; :mod:`spikernn.pipeline.conversion_check`).
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
    conversion_check: ConversionCheck | None = None


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
    # everything is checked before anything is written
    check_int(config.analysis_trials, "analysis_trials", 0)
    check_seed(config.seed)
    check_n_trials(config.n_trials)
    check_device(config.device)
    start = time.perf_counter()
    name = normalize_task_name(config.task)
    TaskFactory.get_task_class(name)  # unknown task
    out = check_output_folder(config.out_dir if config.out_dir is not None
                              else f"spikernn-run-{name}", "out_dir")
    if config.conversion_check is not None and not config.train:
        raise ValueError("conversion_check: expected train=True (it is a training option), "
                         "got train=False")
    artifact = source_model(name, config.model, config.train, config.seed, config.device,
                            config.progress, conversion_check=config.conversion_check)
    out.mkdir(parents=True, exist_ok=True)
    with locked(out / MANIFEST_FILE, timeout=0):  # one run per folder at a time
        owned = _clear_previous_run(out, keep=(f"{name}_model.mat", f"{name}_model.search.json"))
        model_path = artifact.save(out / f"{name}_model.mat")
        search = lambda_grid_search(model_path, name, config.n_trials, seed=config.seed,
                                    device=config.device, progress=config.progress)
        owned += [model_path, search.results_path, write_json(out / "search_results.json",
                                                              search.to_dict())]
        _write_manifest(out, owned, config, done=False)
        evaluation = evaluate(model_path, name, config.n_trials, config.seed + 1,
                              output_dir=out, device=config.device)
        owned += [evaluation.metrics_path, *evaluation.figures]
        _write_manifest(out, owned, config, done=False)
        metrics = evaluation.metrics
        lines = [format_search(search), format_metrics(metrics)]
        analysis = None
        if config.analysis_trials > 0:
            analysis = analyze_model(model_path, out / "analysis", name, config.analysis_trials,
                                     seed=config.seed + 2, device=config.device,
                                     export_path=out / "trials.nwb",
                                     nwb_metadata=config.nwb_metadata)
            owned += list(analysis.files)
            lines.append(format_summary(analysis.summary))
        _write_manifest(out, owned, config, done=True)
    elapsed = time.perf_counter() - start
    gap = metrics.get("rate_accuracy", 0.0) - metrics["overall_accuracy"]
    if gap > 0.05:
        lines.append(f"note: the spiking network is {100 * gap:.0f} points below the rate model; "
                     "the conversion is weak for this model (Kim et al. 2019 count >= 95% as "
                     "converted)")
    lines.append(f"spikernn run finished in {elapsed:.1f} s; outputs in {out}")
    return RunResult(out, model_path, search, evaluation, analysis, elapsed, "\n".join(lines))


#: The run folder's record of the files the run wrote (a rerun removes them first).
MANIFEST_FILE = "run-manifest.json"


def _clear_previous_run(out: Path, keep: tuple[str, ...]) -> list[Path]:
    """Remove the files an earlier run listed in ``out``'s manifest, except ``keep`` (the
    model and its per-factor search results, from which a rerun resumes); return the kept
    ones that exist (this run owns them too). Files the manifest does not list are never
    touched."""
    manifest = out / MANIFEST_FILE
    try:
        listed = json.loads(manifest.read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        listed = []
    kept = []
    for name in listed if isinstance(listed, list) else []:
        path = out / str(name)
        if ".." in Path(str(name)).parts or Path(str(name)).is_absolute() or not path.is_file():
            continue  # never outside the folder
        if str(name) in keep:
            kept.append(path)
        else:
            path.unlink()
    return kept


def _write_manifest(out: Path, owned: list, config: RunConfig, done: bool) -> None:
    files = sorted({str(Path(p).relative_to(out)) for p in owned
                    if p is not None and Path(p).is_file() and Path(p).is_relative_to(out)})
    write_json(out / MANIFEST_FILE, {
        "files": files, "finished": done, "spikernn_version": __version__,
        "task": config.task, "n_trials": config.n_trials, "seed": config.seed,
        "device": str(config.device), "analysis_trials": config.analysis_trials,
        "model": None if config.model is None or isinstance(config.model, ModelArtifact)
        else str(config.model), "train": config.train})


def source_model(task: str, model: ModelArtifact | str | os.PathLike | None = None,
                 train: bool = False, seed: int = 0, device: str = "cpu",
                 progress: bool = False, *, conversion_check: ConversionCheck | None = None
                 ) -> ModelArtifact:
    """The rate model to convert: given, freshly trained (conversion-aware with an enabled
    ``conversion_check``), or the shipped pretrained one."""
    if model is not None:
        if train:
            raise ValueError("--train: expected no --model when training, got both")
        return load_model(model)
    if train:
        from ..rate.model import create_default_config
        from ..rate.training import Trainer, TrainingConfig

        hook = (conversion_hook(conversion_check, device=device)
                if conversion_check is not None and conversion_check.enabled else None)
        trainer = Trainer(task, create_default_config(N=200, seed=seed, device=device),
                          TrainingConfig())
        result = trainer.train(progress=progress, on_evaluation=hook)
        if not result.converged:
            warnings.warn(f"training stopped after {result.trials} trials without meeting the "
                          "termination criteria; converting the model anyway", stacklevel=2)
        return result.artifact
    from ..pretrained import load_pretrained

    return load_pretrained(task)


def format_search(result: SearchResult) -> str:
    """Table of accuracy (± binomial standard error) and firing rate per factor, the best
    factor, and why the model does not convert when it does not."""
    lines = [f"{'s':>8s}  {'accuracy':>8s}  {'± SE':>6s}  {'rate (Hz)':>9s}"]
    extended = {float(f) for f in result.extended_factors}
    for f, acc, se, hz in zip(result.scaling_factors, result.accuracies,
                              result.standard_errors, result.mean_firing_rates, strict=True):
        mark = ("  (added)" if float(f) in extended else "") + (
            "  <- best" if f == result.best_scaling_factor else "")
        lines.append(f"{f:8g}  {100 * acc:7.1f}%  {100 * se:5.1f}%  {hz:9.1f}{mark}")
    best_se = result.standard_errors[result.best_index]
    lines.append(f"best scaling factor {result.best_scaling_factor:g}: "
                 f"{100 * result.best_accuracy:.1f}% ± {100 * best_se:.1f}% "
                 f"of {result.n_trials} trials")
    if extended:
        lines.append(f"grid extended past its edges by {len(extended)} factor(s): "
                     + ", ".join(f"{f:g}" for f in result.extended_factors))
    if result.diagnosis is not None and not result.diagnosis.converted:
        lines += result.diagnosis.lines
    if result.model_path is not None:
        lines.append(f"written to {result.model_path}")
    return "\n".join(lines)
