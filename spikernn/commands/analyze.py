"""``spikernn analyze``: spike statistics and rate-versus-spiking agreement of a converted model.

Simulates task trials (recording the filtered spike trains once per rate step), runs the rate
model on the same stimuli, and writes ``analysis.json`` (the summary of
:func:`spikernn.analysis.summary.analyze`) and the figures of
:func:`spikernn.analysis.plots.plot_analysis` into the output folder
(:func:`spikernn.pipeline.analyze_model`).
"""

from __future__ import annotations

import argparse

from ..pipeline import analyze_file, analyze_model, format_summary
from .export import add_trial_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` subcommand."""
    p = subparsers.add_parser(
        "analyze", help="spike statistics and rate-vs-spiking comparison (Elephant)",
        description="Simulate --n-trials trials of the task with the converted spiking "
                    "network and the rate model on the same stimuli (or read them from an "
                    "exported FILE.nwb / FILE.nix); write analysis.json (firing rates, ISI "
                    "CV, LV, Fano factors, correlations, PSTHs, rate-vs-spiking agreement) "
                    "and figures to --out.")
    p.add_argument("file", nargs="?", default=None,
                   help="analyse the trials of this .nwb or .nix file (from spikernn export "
                        "or run) instead of simulating; --model is then optional (default: "
                        "the model stored in the file)")
    add_trial_arguments(p, model_required=False)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-plots", action="store_true", help="do not write figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyse and print the headline figures and the files written."""
    if args.file is not None:
        analysis = analyze_file(args.file, args.out, args.model, args.seed, args.device,
                                plots=not args.no_plots)
    elif args.model is None:
        raise ValueError("analyze: expected a FILE.nwb/.nix or --model, got neither")
    else:
        analysis = analyze_model(args.model, args.out, args.task, args.n_trials, args.seed,
                                 args.scaling_factor, args.device, plots=not args.no_plots)
    print(format_summary(analysis.summary))
    for path in analysis.files:
        print(f"wrote {path}")
    return 0
