"""``spikernn tasks``: list the registered tasks with their inputs and trial types."""

from __future__ import annotations

import argparse

from ..tasks import TaskFactory


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tasks`` subcommand."""
    p = subparsers.add_parser("tasks", help="list the available tasks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per task: name, inputs, trial types, trial length."""
    for name in TaskFactory.list_available_tasks():
        task = TaskFactory.create_task(name)
        types = ", ".join(task.trial_types) or "-"
        print(f"{name:12s} inputs={task.n_inputs}  T={task.T} steps "
              f"({task.T * task.dt_ms:.0f} ms)  trial types: {types}")
    return 0
