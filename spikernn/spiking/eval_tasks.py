"""The seed project's evaluation entry point: ``evaluate_task`` and its command line.

A thin wrapper over :mod:`spikernn.pipeline` (which runs the spiking network and the rate
model, scores, plots and writes ``metrics.json``)::

    python -m spikernn.spiking.eval_tasks --task go_nogo --model_dir models/go-nogo

A custom task registered by a module of your own (``SpikingTaskFactory.register_task(...)``
or ``TaskFactory.register_task(...)`` when it is imported) is evaluated with
``--task_module``::

    python -m spikernn.spiking.eval_tasks --task my_custom --task_module my_tasks --model_dir m/

The module sits at the command-line layer although it lives in ``spiking/`` (the seed's
import path); nothing in the engine imports it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..pipeline.evaluate import METRICS_FILE, evaluate_task, evaluation_figures, format_metrics

__all__ = ["METRICS_FILE", "build_parser", "evaluate_task", "evaluation_figures",
           "format_metrics", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m spikernn.spiking.eval_tasks`` (the seed's names)."""
    p = argparse.ArgumentParser(
        prog="python -m spikernn.spiking.eval_tasks",
        description="Evaluate a converted spiking RNN on its task (n trials, one batch).")
    p.add_argument("--task", required=True, help="task name, e.g. go_nogo, xor, mante")
    p.add_argument("--model_dir", "--model_path", dest="model_dir", required=True,
                   help="model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--scaling_factor", type=float, default=None,
                   help="scaling factor s (default: the model's opt_scaling_factor)")
    p.add_argument("--n_trials", type=int, default=100, help="number of trials (100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--output_dir", default=None,
                   help="folder for metrics.json and figures (default: next to the model)")
    p.add_argument("--no_plots", action="store_true", help="do not write figures")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--task_module", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (it registers custom tasks); repeatable")
    for name in ("T", "stim_on", "stim_dur", "delay"):
        p.add_argument(f"--{name}", type=int, default=None,
                       help=f"task setting {name} (rate steps of 5 ms)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m spikernn.spiking.eval_tasks``; returns the exit status."""
    args = build_parser().parse_args(argv)
    if "" not in sys.path:  # python -m puts the working folder first; a console script not
        sys.path.insert(0, "")
    for module in args.task_module:
        importlib.import_module(module)
    settings = {k: getattr(args, k) for k in ("T", "stim_on", "stim_dur", "delay")
                if getattr(args, k) is not None}
    try:
        metrics = evaluate_task(args.task, args.model_dir, n_trials=args.n_trials,
                                scaling_factor=args.scaling_factor,
                                save_plots=not args.no_plots, output_dir=args.output_dir,
                                seed=args.seed, task_settings=settings or None,
                                device=args.device)
    except (ValueError, FileNotFoundError) as exc:
        print(f"eval_tasks: error: {exc}", file=sys.stderr)
        return 2
    print(format_metrics(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
