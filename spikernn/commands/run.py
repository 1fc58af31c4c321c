"""``spikernn run``: the whole conversion pipeline in one command.

Take the shipped pretrained rate model of a task (or a given model, or train one), search
the scaling factor, evaluate the spiking network at the best factor on fresh trials, and
write everything into one folder (:func:`spikernn.pipeline.run_pipeline` lists the files).
"""

from __future__ import annotations

import argparse

from ..pipeline import RunConfig, run_pipeline
from ..pipeline.conversion_check import ConversionCheck
from . import _args
from .export import add_nwb_metadata_arguments, nwb_metadata
from .search import add_simulation_arguments


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
                        help="train a new rate model first (N=200, the paper's model "
                             "defaults, the default training protocol)")
    p.add_argument("--conversion-aware", action="store_true",
                   help="with --train: keep training until a quick spiking check passes "
                        "(bounded; see `spikernn train --help`)")
    add_simulation_arguments(p)
    p.add_argument("--analysis-trials", type=_args.non_negative_int, default=20,
                   help="trials analysed and exported to NWB (default 20; 0 skips both)")
    add_nwb_metadata_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print its summary."""
    result = run_pipeline(RunConfig(task=args.task, out_dir=args.out, model=args.model,
                                    train=args.train, n_trials=args.n_trials, seed=args.seed,
                                    device=args.device, analysis_trials=args.analysis_trials,
                                    nwb_metadata=nwb_metadata(args),
                                    conversion_check=ConversionCheck()
                                    if args.conversion_aware else None))
    print(result.text)
    return 0
