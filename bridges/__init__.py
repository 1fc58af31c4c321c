"""Bridges from spikernn to the ecosystem: Brian2 (:mod:`spikernn.bridges.brian2`,
cross-validation in :mod:`spikernn.bridges.crosscheck`; the network as ordinary Brian2
equations in :mod:`spikernn.bridges.brian2_equations`), Neo/NIX (:mod:`spikernn.bridges.neo`),
NWB (:mod:`spikernn.bridges.nwb`), PyNN on NEST (:mod:`spikernn.bridges.pynn`, extra
``pynn``), NIR (:mod:`spikernn.bridges.nir`, extra ``nir``) and SONATA
(:mod:`spikernn.bridges.sonata`; NIX files are written by :mod:`spikernn.bridges.nix`).

The submodules import their heavy libraries (brian2, neo, pynwb) on first use, so
``import spikernn.bridges`` stays cheap; the names below load their module lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_brian2_network": "brian2", "simulate_brian2": "brian2", "Brian2Network": "brian2",
    "Brian2StandaloneSimulator": "brian2",
    "build_brian2_model": "brian2_equations", "Brian2Model": "brian2_equations",
    "cross_validate": "crosscheck", "compare_results": "crosscheck",
    "spike_for_spike": "crosscheck", "plot_cross_validation": "crosscheck",
    "NOISE_TOLERANCES": "crosscheck",
    "result_to_block": "neo", "write_nix": "neo", "read_nix": "neo", "trial_info": "neo",
    "TrialInfo": "neo", "read_nix_block": "neo", "block_to_result": "neo",
    "SavedSimulation": "neo", "trial_window": "neo",
    "result_to_nwb": "nwb", "write_nwb": "nwb", "read_nwb": "nwb", "read_nwb_neo": "nwb",
    "default_subject": "nwb",
    "build_pynn_network": "pynn", "simulate_pynn": "pynn", "synapse_weights": "pynn",
    "to_nir": "nir", "write_nir": "nir", "NIRExportWarning": "nir",
    "write_block_nix": "nix", "write_sonata": "sonata", "SonataFiles": "sonata",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
