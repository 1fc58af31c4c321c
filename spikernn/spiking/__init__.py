"""Spiking RNNs converted one to one from rate models (Kim, Li & Sejnowski 2019).

The batched LIF/QIF engine (:mod:`.engine`), the conversion API (:class:`SpikingNetwork`,
the seed's :func:`LIF_network_fnc`), a task's trials on a network (:mod:`.evaluation`), the
scaling-factor search (:func:`lambda_grid_search`) and the seed's spiking-task names
(:mod:`.tasks`, aliases over :mod:`spikernn.tasks`). This package never imports
:mod:`spikernn.rate` or matplotlib; the seed's :func:`evaluate_task` (which runs the rate model
too) lives in :mod:`spikernn.pipeline` and is loaded from here on first use.
"""

import warnings as _warnings
from typing import Any

from .lambda_grid_search import lambda_grid_search
from .LIF_network_fnc import LIF_network_fnc
from .network import SpikingNetwork
from .noise import NOISE_KINDS
from .params import LIFParams
from .perturbation import Perturbation
from .result import SimulationResult
from .search import SearchResult, default_scaling_factors
from .tasks import (
    AbstractSpikingTask,
    GoNogoSpikingTask,
    ManteSpikingTask,
    RateTaskAdapter,
    SpikingTaskFactory,
    XORSpikingTask,
)
from .utils import (
    create_connectivity_masks,
    generate_lif_params,
    load_rate_model,
    validate_stimulus,
)

__all__ = [
    "NOISE_KINDS",
    "AbstractSpikingTask",
    "GoNogoSpikingTask",
    "LIFParams",
    "LIF_network_fnc",
    "ManteSpikingTask",
    "Perturbation",
    "RateTaskAdapter",
    "SearchResult",
    "SimulationResult",
    "SpikingNetwork",
    "SpikingTaskFactory",
    "XORSpikingTask",
    "create_connectivity_masks",
    "default_scaling_factors",
    "evaluate_task",
    "generate_lif_params",
    "lambda_grid_search",
    "load_rate_model",
    "validate_stimulus",
]


def __getattr__(name: str) -> Any:
    if name == "evaluate_task":  # the seed name; the pipeline layer implements it
        from .eval_tasks import evaluate_task

        return evaluate_task
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ``python -m spikernn.spiking.lambda_grid_search`` (the seed's command) runs a module this
# package imports above, so that ``spikernn.spiking.lambda_grid_search`` and
# ``.LIF_network_fnc`` stay the functions after their modules are imported; runpy's warning
# about that is not for users.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module="runpy",
                         message=r"'spikernn\.spiking\.\w+' found in sys\.modules")
