"""Write a simulation (with its trial record) as an NWB or NIX file or a SONATA folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..artifact import ModelArtifact
from ..spiking.result import RECORDABLE, SimulationResult

#: File formats and their conventional suffixes.
FORMATS = {"nwb": ".nwb", "nix": ".nix", "sonata": ".sonata"}


def parse_record(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of trace names out of :data:`RECORDABLE`."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in RECORDABLE]
    if unknown:
        raise ValueError(f"--record: expected names from {RECORDABLE}, got {unknown}")
    return names


def file_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the one the suffix of ``path`` names."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format: expected one of {sorted(FORMATS)}, got {fmt!r}")
        return fmt
    by_suffix = {suffix: name for name, suffix in FORMATS.items()}
    suffix = Path(path).suffix.lower()
    if suffix not in by_suffix:
        raise ValueError(f"--out: expected a .nwb, .nix or .sonata suffix (or --format), got "
                         f"{str(path)!r}")
    return by_suffix[suffix]


def export_result(result: SimulationResult, model: ModelArtifact | None,
                  path: str | os.PathLike, fmt: str | None = None, **nwb_metadata: Any) -> Path:
    """Write ``result`` (spikes, readout, recordings, ``result.trials``) to ``path``.

    Parameters
    ----------
    result : SimulationResult
        The simulation.
    model : ModelArtifact, optional
        Adds per-unit decay constants and the model's construction values.
    path : path-like
        Destination; written atomically.
    fmt : {'nwb', 'nix', 'sonata'}, optional
        Default: from the suffix of ``path``. ``'sonata'`` writes a folder (the network, the
        spikes and the trials: :func:`spikernn.bridges.sonata.write_sonata`) and needs the
        model.
    **nwb_metadata
        NWB only: ``subject``, ``experimenter``, ``institution``, ``lab``, ``keywords``,
        ``session_description`` (see :func:`spikernn.bridges.nwb.result_to_nwb`).

    Returns
    -------
    pathlib.Path
    """
    fmt = file_format(path, fmt)
    if fmt == "nwb":
        from spikernn.bridges.nwb import write_nwb

        return write_nwb(result, path, model, **nwb_metadata)
    if fmt == "sonata":
        from spikernn.bridges.sonata import write_sonata

        if model is None:
            raise ValueError("model: expected the model (SONATA stores the network), got None")
        return write_sonata(model, path, result=result).folder
    from spikernn.bridges.neo import result_to_block, write_nix

    return write_nix(result_to_block(result, model), path)


def read_result(path: str | os.PathLike):
    """The simulation (and model) of an NWB or NIX file written by :func:`export_result`.

    Returns
    -------
    spikernn.bridges.neo.SavedSimulation
        ``result`` (with its trials) and ``model`` (None when the file holds none).
    """
    fmt = file_format(path)
    if fmt == "sonata":
        raise ValueError(f"path: expected an NWB or NIX file (SONATA folders are read with "
                         f"libsonata, not back into a result), got {str(path)!r}")
    if fmt == "nwb":
        from spikernn.bridges.nwb import read_nwb

        return read_nwb(path)
    from spikernn.bridges.neo import read_nix

    return read_nix(path)
