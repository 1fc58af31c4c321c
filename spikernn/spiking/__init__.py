"""Spiking RNNs converted one to one from rate models (Kim, Li & Sejnowski 2019).

The batched LIF/QIF engine (:mod:`.engine`), the conversion API (:class:`SpikingNetwork`,
the seed's :func:`LIF_network_fnc`), spiking task adapters (:class:`SpikingTaskFactory`),
the scaling-factor search (:func:`lambda_grid_search`) and evaluation (:func:`evaluate_task`).
"""

from .eval_tasks import evaluate_task
from .network import LIF_network_fnc, SpikingNetwork
from .noise import NOISE_KINDS
from .params import LIFParams
from .perturbation import Perturbation
from .result import SimulationResult
from .search import SearchResult, default_scaling_factors, lambda_grid_search
from .tasks import (
    AbstractSpikingTask,
    GoNogoSpikingTask,
    ManteSpikingTask,
    RateTaskAdapter,
    SpikingTaskFactory,
    XORSpikingTask,
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
    "default_scaling_factors",
    "evaluate_task",
    "lambda_grid_search",
]
