"""``spikernn export``: simulate task trials and write them as an NWB or NIX file."""

from __future__ import annotations

import argparse

from ..pipeline import export_result, file_format, parse_record, simulate_trials
from ..pipeline.export import FORMATS
from ..spiking.result import RECORDABLE
from .search import add_simulation_arguments


def add_trial_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``export`` and ``analyze``: model, task, trials, seed, s, device."""
    p.add_argument("--model", required=True,
                   help="rate model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--task", default=None, help="task name (default: the model's task)")
    p.add_argument("--scaling-factor", type=float, default=None,
                   help="scaling factor s (default: the model's opt_scaling_factor)")
    add_simulation_arguments(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export", help="simulate task trials and write spikes to an NWB or NIX file",
        description="Simulate --n-trials trials of the task with the converted spiking "
                    "network and write spikes, readout, stimulus and trial metadata as NWB "
                    "(pynwb) or NIX (Neo). NIX writing is slow: tens of ms per spike train (one "
                    "per unit and trial), minutes for 10 trials of 200 units.")
    add_trial_arguments(p)
    p.add_argument("--out", required=True, help="output file (.nwb or .nix)")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="file format (default: from the suffix of --out)")
    p.add_argument("--record", default="",
                   help=f"comma-separated traces to record and export, from {RECORDABLE}")
    p.add_argument("--record-every", type=int, default=20,
                   help="integration steps between recorded samples (default 20 = 1 ms)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate and export; print where the file went."""
    fmt = file_format(args.out, args.format)
    sim = simulate_trials(args.model, args.task, args.n_trials, args.seed,
                          scaling_factor=args.scaling_factor, device=args.device,
                          record=parse_record(args.record), record_every=args.record_every)
    result = sim.result
    path = export_result(result, sim.model, args.out, fmt)
    print(f"wrote {path} ({fmt}: {result.batch_size} trials, {result.n_units} units, "
          f"{result.n_spikes} spikes)")
    return 0
