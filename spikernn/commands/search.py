"""``spikernn search``: find the scaling factor that converts a rate model into spikes."""

from __future__ import annotations

import argparse

import numpy as np

from ..pipeline import format_search, search_scaling_factor
from ..spiking.search import DEFAULT_EXTEND_EDGES, MIN_EXTENDED_FACTOR, check_scaling_factors
from . import _args


def parse_scaling_factors(text: str) -> np.ndarray:
    """Parse ``'start:stop:step'`` (stop included) or a comma-separated list of factors."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if not step > 0 or stop < start:
                raise ValueError
            values = np.arange(start, stop + step / 2, step)
        else:
            values = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'start:stop:step' (step > 0, stop >= start) or a comma-separated list "
            f"of numbers, got {text!r}") from None
    try:
        return check_scaling_factors(values)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("scaling_factors: ")) from None


def add_simulation_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``search``, ``evaluate`` and ``run``."""
    p.add_argument("--n-trials", type=_args.n_trials, default=100, help="trials (default 100)")
    p.add_argument("--seed", type=_args.seed, default=0, help="random seed (default 0)")
    p.add_argument("--device", type=_args.device, default="cpu",
                   help="torch device: cpu (default), cuda, ...")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``search`` subcommand."""
    p = subparsers.add_parser(
        "search", help="grid-search the scaling factor of a rate model's spiking conversion",
        description="Simulate every scaling factor on the same trials, write the best one "
                    "(opt_scaling_factor, scaling_factors, all_perfs) into the model file, "
                    "and keep per-factor results in <model>.search.json (reruns resume).")
    p.add_argument("model", help="model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--task", default=None, help="task name (default: the model's task)")
    p.add_argument("--scaling-factors", type=parse_scaling_factors, default=None,
                   help="'start:stop:step' or 'a,b,c' (default: the paper's grid, 20:75:5 "
                        "for sigmoid, 4:26:2 for softplus/ReLU)")
    p.add_argument("--extend-edges", type=_args.non_negative_int, default=None,
                   metavar="N",
                   help=f"when the best factor is at an edge of the grid, add up to N factors "
                        f"past it, one grid step at a time, never below {MIN_EXTENDED_FACTOR:g} "
                        f"(0: the grid as given; default: the model's training protocol's, "
                        f"{DEFAULT_EXTEND_EDGES} for 'default' and models that record none, 0 "
                        f"for 'paper')")
    add_simulation_arguments(p)
    p.add_argument("--memory-mb", type=_args.positive_float, default=512.0,
                   help="memory budget of one engine call, MiB (default 512)")
    p.add_argument("--no-resume", action="store_true", help="ignore earlier per-factor results")
    p.add_argument("--no-save", action="store_true", help="do not write into the model file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the search and print the accuracy per factor (and, when the best accuracy is under
    the criterion, why)."""
    result = search_scaling_factor(args.model, args.task, args.n_trials, args.scaling_factors,
                                seed=args.seed, device=args.device,
                                memory_budget_mb=args.memory_mb, save=not args.no_save,
                                resume=not args.no_resume, extend_edges=args.extend_edges)
    print(format_search(result))
    return 0
