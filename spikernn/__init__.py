"""spikernn: functional spiking RNNs from trained rate RNNs (Kim, Li & Sejnowski 2019, PNAS).

Train a continuous rate RNN with Dale's principle and trained synaptic time constants
(:mod:`spikernn.rate`), convert it one to one into a leaky (or quadratic) integrate-and-fire
network and find its scaling factor (:mod:`spikernn.spiking`), then cross-check it in Brian2
and export or analyse its spikes (:mod:`spikernn.bridges`, :mod:`spikernn.analysis`).
"""

from ._version import __version__
from .artifact import ModelArtifact, ModelFileError, load_model
from .rate import FR_RNN_dale, run_rate_model, train
from .spiking import (
    LIF_network_fnc,
    LIFParams,
    SimulationResult,
    SpikingNetwork,
    SpikingTaskFactory,
    evaluate_task,
    lambda_grid_search,
)
from .tasks import AbstractTask, GoNogoTask, ManteTask, TaskFactory, XORTask

__all__ = [
    "AbstractTask",
    "FR_RNN_dale",
    "GoNogoTask",
    "LIFParams",
    "LIF_network_fnc",
    "ManteTask",
    "ModelArtifact",
    "ModelFileError",
    "SimulationResult",
    "SpikingNetwork",
    "SpikingTaskFactory",
    "TaskFactory",
    "XORTask",
    "__version__",
    "evaluate_task",
    "lambda_grid_search",
    "load_model",
    "run_rate_model",
    "train",
]
