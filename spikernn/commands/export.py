"""``spikernn export``: simulate task trials and write them as an NWB or NIX file.

The simulation helpers here (:func:`simulate_task_trials`, :func:`export_result`) are also
what ``spikernn analyze`` and the ``run`` pipeline call.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..artifact import ModelArtifact, load_model
from .search import add_simulation_arguments

#: File formats and their conventional suffixes.
FORMATS = {"nwb": ".nwb", "nix": ".nix"}
RECORDABLE = ("voltages", "currents", "rates")


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


def parse_record(text: str) -> tuple[str, ...]:
    """Parse ``--record``: comma-separated names out of :data:`RECORDABLE`."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RECORDABLE]
    if unknown:
        raise ValueError(f"--record: expected names from {RECORDABLE}, got {unknown}")
    return names


def file_format(path: str | os.PathLike, fmt: str | None) -> str:
    """The export format: ``fmt`` if given, else the one the suffix of ``path`` names."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format: expected one of {sorted(FORMATS)}, got {fmt!r}")
        return fmt
    by_suffix = {suffix: name for name, suffix in FORMATS.items()}
    suffix = Path(path).suffix.lower()
    if suffix not in by_suffix:
        raise ValueError(f"--out: expected a .nwb or .nix suffix (or --format), got {str(path)!r}")
    return by_suffix[suffix]


def simulate_task_trials(model: ModelArtifact | str | os.PathLike, task_name: str | None = None,
                         n_trials: int = 100, seed: int = 0, scaling_factor: float | None = None,
                         device: str = "cpu", **simulate_kwargs: Any):
    """Simulate task trials with the converted network; the result carries the trials.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model (file or folder).
    task_name : str, optional
        Task (default: the model's).
    n_trials : int
        Number of trials (random trial types).
    seed : int
        Seeds the trials and the engine.
    scaling_factor : float, optional
        Default: the model's ``opt_scaling_factor``.
    device : str
        Torch device of the engine.
    **simulate_kwargs
        Passed to ``SpikingNetwork.simulate`` (``record``, ``record_every``, ...).

    Returns
    -------
    (ModelArtifact, AbstractSpikingTask, TrialBatch, SimulationResult)
        ``result.trials`` holds the task name, labels, trial types and stimulus.
    """
    from ..spiking.network import SpikingNetwork
    from ..spiking.tasks import task_for_model

    model = load_model(model)
    task = task_for_model(model, task_name)
    net = SpikingNetwork(model, scaling_factor, device=device)
    batch, result = task.run_trials(net, n_trials, seed=seed, **simulate_kwargs)
    return model, task, batch, result


def export_result(result, model: ModelArtifact | None, path: str | os.PathLike,
                  fmt: str | None = None) -> Path:
    """Write ``result`` to ``path`` as NWB or NIX (``fmt``, else from the suffix)."""
    if file_format(path, fmt) == "nwb":
        from spikernn.bridges.nwb import write_nwb

        return write_nwb(result, path, model)
    from spikernn.bridges.neo import result_to_block, write_nix

    return write_nix(result_to_block(result, model), path)


def run(args: argparse.Namespace) -> int:
    """Simulate and export; print where the file went."""
    fmt = file_format(args.out, args.format)
    record = parse_record(args.record)
    model, _, _, result = simulate_task_trials(
        args.model, args.task, args.n_trials, args.seed, args.scaling_factor, args.device,
        record=record, record_every=args.record_every)
    path = export_result(result, model, args.out, fmt)
    print(f"wrote {path} ({fmt}: {result.batch_size} trials, {result.n_units} units, "
          f"{result.n_spikes} spikes)")
    return 0
