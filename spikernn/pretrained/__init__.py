"""Trained rate models shipped with spikernn, one per built-in task.

Each model was produced by ``spikernn train`` (the exact command and seed are stored in the
model file's ``training['command']`` and in ``index.json`` beside it), so examples and
commands can run without training first.

Examples
--------
>>> from spikernn.pretrained import list_pretrained, load_pretrained
>>> list_pretrained()
['go_nogo', 'mante', 'xor']
>>> load_pretrained("go-nogo").N
200
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from ..artifact import ModelArtifact, load_mat
from ..tasks import normalize_task_name

_HERE = Path(__file__).resolve().parent
INDEX_FILE = _HERE / "index.json"


@cache
def pretrained_index() -> dict[str, dict[str, Any]]:
    """Per task: file name, command, seed, N, training trials and accuracy (from index.json)."""
    if not INDEX_FILE.is_file():
        return {}
    return json.loads(INDEX_FILE.read_text())


def list_pretrained() -> list[str]:
    """Names of the tasks that have a shipped model, sorted."""
    return sorted(pretrained_index())


def pretrained_path(task: str) -> Path:
    """Path of the shipped ``.mat`` model for ``task`` ('go_nogo', 'go-nogo', 'mante', 'xor').

    Raises
    ------
    ValueError
        If no model is shipped for ``task`` (the message lists those that are).
    """
    key = normalize_task_name(task)
    index = pretrained_index()
    if key not in index:
        raise ValueError(f"task: expected one of {list_pretrained()} (shipped pretrained "
                         f"models), got {task!r}")
    path = _HERE / index[key]["file"]
    if not path.is_file():
        raise FileNotFoundError(f"pretrained model file missing from the installation: {path}")
    return path


def load_pretrained(task: str) -> ModelArtifact:
    """The shipped trained model for ``task`` as a :class:`~spikernn.artifact.ModelArtifact`."""
    return load_mat(pretrained_path(task))


__all__ = ["list_pretrained", "load_pretrained", "pretrained_index", "pretrained_path"]
