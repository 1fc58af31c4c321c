"""The continuous rate RNN (Kim, Li & Sejnowski 2019): model, training, simulation, lesions.

The seed project's names are kept (``FR_RNN_dale``, ``set_gpu``, ``create_default_config``,
``loss_op``, ``eval_rnn`` and the task classes); :class:`Trainer` / :func:`train` implement
the paper's training protocol with batched trials, checkpoints and resume.
"""

from ..tasks import AbstractTask, GoNogoTask, ManteTask, TaskFactory, XORTask
from .compat import restricted_float, str2bool
from .lesion import CONNECTION_TYPES, connection_type_mask, lesion, lesion_by_type
from .model import FR_RNN_dale, RNNConfig, create_default_config, set_gpu
from .simulate import RateResult, run_rate_model
from .training import (
    Trainer,
    TrainingConfig,
    TrainingHistory,
    TrainingResult,
    eval_rnn,
    loss_op,
    train,
)

__all__ = [
    "CONNECTION_TYPES",
    "AbstractTask",
    "FR_RNN_dale",
    "GoNogoTask",
    "ManteTask",
    "RNNConfig",
    "RateResult",
    "TaskFactory",
    "Trainer",
    "TrainingConfig",
    "TrainingHistory",
    "TrainingResult",
    "XORTask",
    "connection_type_mask",
    "create_default_config",
    "eval_rnn",
    "lesion",
    "lesion_by_type",
    "loss_op",
    "restricted_float",
    "run_rate_model",
    "set_gpu",
    "str2bool",
    "train",
]
