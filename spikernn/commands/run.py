"""``spikernn run``: the whole conversion pipeline in one command.

Take the shipped pretrained rate model of a task (or a given model, or train one), search
the scaling factor, evaluate the spiking network at the best factor on fresh trials, and
write everything into one folder::

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

import argparse
import os
import time
from pathlib import Path
from typing import Any

from .._io import write_json
from ..artifact import ModelArtifact, load_model
from ..spiking.eval_tasks import evaluate_task, format_metrics
from ..spiking.search import lambda_grid_search
from ..spiking.tasks import SpikingTaskFactory
from ..tasks import normalize_task_name
from .analyze import analyze_model, format_summary
from .search import add_simulation_arguments, format_search

#: Minimum training trials of ``--train``: models stopped right at the paper's termination
#: criteria solve the task as rate networks but often convert poorly (spikernn/pretrained).
TRAIN_MIN_TRIALS = 10_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    p = subparsers.add_parser(
        "run", help="pretrained (or trained) model -> scaling-factor search -> evaluation",
        description="Convert a rate model into a spiking network end to end: take the "
                    "shipped pretrained model (or --model, or --train a new one), search the "
                    "scaling factor, evaluate at the best factor, and write the model, search "
                    "results, metrics and figures into one folder.")
    p.add_argument("--task", default="go_nogo", help="task name (default go_nogo)")
    p.add_argument("--out", default=None, help="output folder (default ./spikernn-run-<task>)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", default=None,
                        help="rate model .mat/.pth file or folder (default: shipped model)")
    source.add_argument("--train", action="store_true",
                        help="train a new rate model first (N=200, paper defaults, at least "
                             f"{TRAIN_MIN_TRIALS} trials)")
    add_simulation_arguments(p)
    p.add_argument("--analysis-trials", type=int, default=20,
                   help="trials analysed and exported to NWB (default 20; 0 skips both)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print its summary."""
    summary = run_pipeline(args.task, args.out, model=args.model, train=args.train,
                           n_trials=args.n_trials, seed=args.seed, device=args.device,
                           analysis_trials=args.analysis_trials)
    print(summary["text"])
    return 0


def run_pipeline(task: str = "go_nogo", out_dir: str | os.PathLike | None = None,
                 model: ModelArtifact | str | os.PathLike | None = None, train: bool = False,
                 n_trials: int = 100, seed: int = 0, device: str = "cpu",
                 progress: bool = True, analysis_trials: int = 20) -> dict[str, Any]:
    """Pretrained/given/trained model -> search -> evaluation, written into ``out_dir``.

    The search uses trials drawn from ``seed``; the evaluation uses fresh trials (from
    ``seed + 1``), so the reported accuracy is not the one the factor was selected on.

    Parameters
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
        Seed of the training, the search and (``seed + 1``) the evaluation.
    device : str
        Torch device of the simulations.
    progress : bool
        Show progress bars.
    analysis_trials : int
        Fresh trials (from ``seed + 2``) simulated at the best factor, analysed into
        ``out_dir/analysis`` and exported to ``out_dir/trials.nwb``; 0 skips both.

    Returns
    -------
    dict
        ``out_dir``, ``model_path``, ``search`` (:class:`SearchResult`), ``metrics``,
        ``analysis`` (the analysis summary or None), ``elapsed_s`` and ``text`` (the printed
        summary).
    """
    if analysis_trials < 0:
        raise ValueError(f"analysis_trials: expected >= 0, got {analysis_trials}")
    start = time.perf_counter()
    name = normalize_task_name(task)
    SpikingTaskFactory.create_task(name)  # unknown task: fail before writing anything
    out = Path(out_dir if out_dir is not None else f"spikernn-run-{name}")
    artifact = _source_model(name, model, train, seed, device, progress)
    model_path = artifact.save(out / f"{name}_model.mat")
    search = lambda_grid_search(model_path, name, n_trials, seed=seed, device=device,
                                progress=progress)
    write_json(out / "search_results.json", search.to_dict())
    metrics = evaluate_task(name, model_path, n_trials=n_trials, output_dir=out,
                            seed=seed + 1, device=device)
    lines = [format_search(search), format_metrics(metrics)]
    analysis = None
    if analysis_trials > 0:
        analysis = analyze_model(model_path, out / "analysis", name, analysis_trials,
                                 seed=seed + 2, device=device, export_path=out / "trials.nwb")
        lines.append(format_summary(analysis))
    elapsed = time.perf_counter() - start
    gap = metrics.get("rate_accuracy", 0.0) - metrics["overall_accuracy"]
    if gap > 0.05:
        lines.append(f"note: the spiking network is {100 * gap:.0f} points below the rate model; "
                     "the conversion is weak for this model (Kim et al. 2019 count >= 95% as "
                     "converted)")
    lines.append(f"spikernn run finished in {elapsed:.1f} s; outputs in {out}")
    text = "\n".join(lines)
    return {"out_dir": out, "model_path": model_path, "search": search, "metrics": metrics,
            "analysis": analysis, "elapsed_s": elapsed, "text": text}


def _source_model(task: str, model: ModelArtifact | str | os.PathLike | None, train: bool,
                  seed: int, device: str, progress: bool) -> ModelArtifact:
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
            print(f"warning: training stopped after {result.trials} trials without meeting "
                  "the termination criteria; converting the model anyway")
        return result.artifact
    from ..pretrained import load_pretrained

    return load_pretrained(task)
