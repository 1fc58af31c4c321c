"""The seed project's module path ``rate.tasks``: the tasks, defined once in
:mod:`spikernn.tasks`."""

from ..tasks import AbstractTask, GoNogoTask, ManteTask, TaskFactory, XORTask

__all__ = ["AbstractTask", "GoNogoTask", "ManteTask", "TaskFactory", "XORTask"]
