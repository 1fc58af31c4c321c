"""``spikernn export``: simulate task trials and write them as an NWB or NIX file."""

from __future__ import annotations

import argparse
from typing import Any

from .._io import check_output_folder, check_writable
from ..pipeline import export_result, file_format, parse_record, simulate_trials
from ..pipeline.export import FORMATS
from ..spiking.result import RECORDABLE
from . import _args
from .search import add_simulation_arguments


def add_trial_arguments(p: argparse.ArgumentParser, model_required: bool = True) -> None:
    """Arguments shared by ``export`` and ``analyze``: model, task, trials, seed, s, device."""
    p.add_argument("--model", required=model_required,
                   help="rate model .mat/.pth file or folder holding one .mat file")
    p.add_argument("--task", default=None, help="task name (default: the model's task)")
    p.add_argument("--scaling-factor", type=_args.scaling_factor, default=None,
                   help="scaling factor s (default: the model's opt_scaling_factor)")
    add_simulation_arguments(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export", help="simulate task trials and write them as NWB, NIX or SONATA",
        description="Simulate --n-trials trials of the task with the converted spiking "
                    "network and write spikes, readout, stimulus and trial metadata as NWB "
                    "(pynwb) or NIX (Neo's layout, written with h5py), or the network, spikes "
                    "and trials as a SONATA folder (--format sonata or an --out ending in "
                    ".sonata).")
    add_trial_arguments(p)
    p.add_argument("--out", required=True, help="output file (.nwb or .nix) or SONATA folder")
    p.add_argument("--format", choices=sorted(FORMATS), default=None,
                   help="file format (default: from the suffix of --out)")
    p.add_argument("--record", default="",
                   help=f"comma-separated traces to record and export, from {RECORDABLE}")
    p.add_argument("--record-every", type=_args.positive_int, default=20,
                   help="integration steps between recorded samples (default 20 = 1 ms)")
    add_nwb_metadata_arguments(p)
    p.set_defaults(func=run)


def add_nwb_metadata_arguments(p: argparse.ArgumentParser) -> None:
    """NWB file metadata options (``export``, ``run``); see :func:`nwb_metadata`."""
    g = p.add_argument_group("NWB metadata (DANDI asks for these)")
    g.add_argument("--experimenter", action="append", default=None,
                   help="experimenter, 'Last, First' (repeatable)")
    g.add_argument("--institution", default=None)
    g.add_argument("--lab", default=None)
    g.add_argument("--keywords", default=None, help="comma-separated keywords")
    g.add_argument("--session-description", default=None)
    g.add_argument("--subject-id", default=None,
                   help="subject id (default spikernn-<task>-N<N>: a simulated network)")
    g.add_argument("--species", default=None,
                   help="subject species (default NCBITaxon_32630, 'synthetic construct')")
    g.add_argument("--sex", default=None, help="subject sex (default U)")
    g.add_argument("--age", default=None, help="subject age, ISO 8601 (default P0D)")


def nwb_metadata(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`spikernn.bridges.nwb.write_nwb` from the NWB options."""
    subject = {name: getattr(args, name) for name in ("subject_id", "species", "sex", "age")
               if getattr(args, name, None) is not None}
    keywords = None if args.keywords is None else [
        k.strip() for k in args.keywords.split(",") if k.strip()]
    values = {"experimenter": args.experimenter, "institution": args.institution,
              "lab": args.lab, "session_description": args.session_description,
              "keywords": keywords, "subject": subject or None}
    return {k: v for k, v in values.items() if v is not None}


def run(args: argparse.Namespace) -> int:
    """Simulate and export; print where the file went."""
    fmt = file_format(args.out, args.format)
    if fmt == "sonata":  # before simulating
        check_output_folder(args.out, "--out")
    else:
        check_writable(args.out, "--out")
    sim = simulate_trials(args.model, args.task, args.n_trials, args.seed,
                          scaling_factor=args.scaling_factor, device=args.device,
                          record=parse_record(args.record), record_every=args.record_every)
    result = sim.result
    path = export_result(result, sim.model, args.out, fmt, **nwb_metadata(args))
    print(f"wrote {path} ({fmt}: {result.batch_size} trials, {result.n_units} units, "
          f"{result.n_spikes} spikes)")
    return 0
