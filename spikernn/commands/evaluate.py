"""``spikernn evaluate``: spiking accuracy of a converted model, with figures."""

from __future__ import annotations

import argparse

from ..pipeline import evaluate, format_metrics
from . import _args
from .search import add_simulation_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate", help="evaluate a converted spiking network on its task",
        description="Simulate n trials as one batch at the model's best scaling factor (or "
                    "--scaling-factor), compare with the rate model on the same stimuli, and "
                    "write metrics.json and figures.")
    p.add_argument("model", help="model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--task", default=None, help="task name (default: the model's task)")
    p.add_argument("--scaling-factor", type=_args.scaling_factor, default=None,
                   help="scaling factor s (default: the model's opt_scaling_factor)")
    p.add_argument("--out", default=None,
                   help="output folder (default: evaluation_<task> next to the model)")
    p.add_argument("--no-plots", action="store_true", help="do not write figures")
    add_simulation_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the summary."""
    evaluation = evaluate(args.model, args.task, args.n_trials, args.seed,
                          scaling_factor=args.scaling_factor, save_plots=not args.no_plots,
                          output_dir=args.out, device=args.device)
    print(format_metrics(evaluation.metrics))
    return 0
