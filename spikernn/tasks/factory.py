"""Registry of tasks by name (``go_nogo`` and ``go-nogo`` are the same task)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import AbstractTask, SeedLike
from .go_nogo import GoNogoTask
from .mante import ManteTask
from .neurogym import NeuroGymTask
from .xor import XORTask


def normalize_task_name(name: str) -> str:
    """Canonical form of a task name: lower case, '-' and spaces become '_'."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"task_name: expected a non-empty string, got {name!r}")
    return name.strip().lower().replace("-", "_").replace(" ", "_")


class TaskFactory:
    """Create tasks by name and register custom ones.

    Examples
    --------
    >>> from spikernn import TaskFactory
    >>> task = TaskFactory.create_task("go-nogo", {"T": 200})
    >>> stimulus, target, label = task.simulate_trial()
    >>> stimulus.shape
    (1, 200)
    """

    _registry: dict[str, type[AbstractTask]] = {
        "go_nogo": GoNogoTask,
        "xor": XORTask,
        "mante": ManteTask,
        "neurogym": NeuroGymTask,   # needs the optional extra 'neurogym'
    }

    @classmethod
    def create_task(cls, task_name: str, settings: Mapping[str, Any] | None = None,
                    seed: SeedLike = None) -> AbstractTask:
        """Instantiate the task registered as ``task_name`` with ``settings`` and ``seed``."""
        return cls.get_task_class(task_name)(settings, seed=seed)

    @classmethod
    def get_task_class(cls, task_name: str) -> type[AbstractTask]:
        """The class registered as ``task_name``; ``ValueError`` naming the known tasks."""
        key = normalize_task_name(task_name)
        if key not in cls._registry:
            raise ValueError(f"task_name: expected one of {cls.list_available_tasks()}, "
                             f"got {task_name!r}")
        return cls._registry[key]

    @classmethod
    def register_task(cls, task_name: str, task_class: type[AbstractTask]) -> None:
        """Register ``task_class`` (a subclass of AbstractTask) under ``task_name``."""
        if not (isinstance(task_class, type) and issubclass(task_class, AbstractTask)):
            raise TypeError(f"task_class: expected a subclass of AbstractTask, got {task_class!r}")
        key = normalize_task_name(task_name)
        if task_class.name == AbstractTask.name:
            task_class.name = key
        cls._registry[key] = task_class

    @classmethod
    def list_available_tasks(cls) -> list[str]:
        """Names of the registered tasks, sorted."""
        return sorted(cls._registry)
