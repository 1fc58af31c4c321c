"""Cognitive tasks, defined once for rate training, the scaling-factor search and spiking
evaluation: :class:`GoNogoTask`, :class:`XORTask`, :class:`ManteTask` and the
:class:`NeuroGymTask` (a NeuroGym environment, optional extra ``neurogym``) and the
:class:`TaskFactory` registry."""

from .base import AbstractTask, TrialBatch, TrialInfo, as_generator
from .factory import TaskFactory, normalize_task_name
from .go_nogo import GoNogoTask
from .mante import ManteTask
from .neurogym import NeuroGymTask
from .xor import XORTask

__all__ = [
    "AbstractTask",
    "GoNogoTask",
    "ManteTask",
    "NeuroGymTask",
    "TaskFactory",
    "TrialBatch",
    "TrialInfo",
    "XORTask",
    "as_generator",
    "normalize_task_name",
]
