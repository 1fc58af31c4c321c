"""``spikernn crosscheck``: run the same trials in the engine and in Brian2 and compare them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..pipeline.crosscheck import FIGURE_FILE, REPORT_FILE, crosscheck
from . import _args


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``crosscheck`` subcommand."""
    p = subparsers.add_parser(
        "crosscheck", help="cross-validate the spiking engine against Brian2",
        description="Simulate the same trials with spikernn's engine and with an equivalent "
                    "Brian2 network; write crosscheck.json (accuracy both ways, firing-rate "
                    "and readout agreement, spike counts, spike-for-spike horizon) and "
                    "crosscheck.png.")
    p.add_argument("--model", required=True, help="model file (.mat/.pth) or folder")
    p.add_argument("--task", default=None,
                   help="task name (default: the model's task), e.g. go_nogo")
    p.add_argument("--n-trials", type=_args.n_trials, default=20,
                   help="number of trials (default 20)")
    p.add_argument("--seed", type=_args.seed, default=0, help="seed of trials, v0 and noise")
    p.add_argument("--scaling-factor", type=_args.scaling_factor, default=None,
                   help="scaling factor (default: the model's opt_scaling_factor)")
    p.add_argument("--noise", action=argparse.BooleanOptionalAction, default=False,
                   help="voltage noise on (statistical check) or off (spike-for-spike "
                        "check, the default)")
    p.add_argument("--downsample", type=_args.positive_int, default=10,
                   help="integration steps per readout sample (default 10)")
    p.add_argument("--codegen", choices=("numpy", "cython"), default="numpy",
                   help="Brian2 code generation in runtime mode (default numpy)")
    p.add_argument("--target", choices=("runtime", "cpp_standalone"), default="runtime",
                   help="Brian2 runtime mode (default) or one compiled C++ program")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Cross-validate, write the report and the figure, print a summary."""
    out = Path(args.out)
    report = crosscheck(args.model, out, task=args.task, n_trials=args.n_trials,
                        seed=args.seed, scaling_factor=args.scaling_factor, noise=args.noise,
                        downsample=args.downsample, codegen=args.codegen, target=args.target)
    summary = {"passed": report["passed"], "accuracy": report["accuracy"],
               "rate_correlation": report["rates"]["correlation"],
               "spike_counts": report["spike_counts"]}
    if "spike_for_spike" in report:
        summary["spike_for_spike_horizon_s"] = report["spike_for_spike"]["horizon_s"]
    print(json.dumps(summary, indent=2))
    print(f"wrote {out / REPORT_FILE} and {out / FIGURE_FILE}")
    return 0
