"""spikernn: functional spiking RNNs from trained rate RNNs (Kim, Li & Sejnowski 2019, PNAS).

Train a continuous rate RNN with Dale's principle and trained synaptic time constants
(:mod:`spikernn.rate`), convert it one to one into a leaky (or quadratic) integrate-and-fire
network and find its scaling factor (:mod:`spikernn.spiking`), then cross-check it in Brian2
and export or analyse its spikes (:mod:`spikernn.bridges`, :mod:`spikernn.analysis`).

Tasks are defined once (:mod:`spikernn.tasks`); every workflow (simulate a task's trials,
search, evaluate, analyse, export, the whole run) is a call in :mod:`spikernn.pipeline`; a
simulation result carries its trials and its clock (:mod:`spikernn.clock`). The names below
are loaded on first use; ``docs/architecture.md`` draws the map.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__ as __version__

#: Public names and the module each one is loaded from on first use, so that importing one
#: part of the package (``spikernn.spiking.engine``, ``spikernn.tasks``) loads only that part.
_EXPORTS = {
    "ModelArtifact": "artifact", "ModelFileError": "artifact", "load_model": "artifact",
    "FR_RNN_dale": "rate", "run_rate_model": "rate", "train": "rate",
    "LIF_network_fnc": "spiking", "LIFParams": "spiking", "SimulationResult": "spiking",
    "SpikingNetwork": "spiking", "SpikingTaskFactory": "spiking",
    "lambda_grid_search": "spiking", "evaluate_task": "pipeline",
    "AbstractTask": "tasks", "GoNogoTask": "tasks", "ManteTask": "tasks",
    "TaskFactory": "tasks", "XORTask": "tasks", "TrialInfo": "tasks",
    "time_base": "clock",
}

__all__ = sorted([*_EXPORTS, "__version__"])


#: Subpackages reachable as attributes (``spikernn.spiking.X`` after ``import spikernn``).
_SUBMODULES = ("analysis", "artifact", "bridges", "clock", "pipeline", "pretrained", "rate",
               "spiking", "study", "tasks")


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
