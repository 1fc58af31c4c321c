"""Small models shared by the spiking task, search, evaluation and CLI tests."""

from __future__ import annotations

from pathlib import Path

from spikernn.artifact import ModelArtifact
from spikernn.rate.model import FR_RNN_dale, create_default_config

#: A Go/NoGo trial of 10 rate steps (50 ms, 1,000 spiking steps): fast to simulate.
SHORT_GO_NOGO = {"T": 10, "stim_on": 2, "stim_dur": 3}


def tiny_model(task: str = "go_nogo", settings: dict | None = None, n_inputs: int = 1,
               N: int = 20, seed: int = 1) -> ModelArtifact:
    """An untrained rate model of N units recording ``task`` with short trials."""
    net = FR_RNN_dale.from_config(create_default_config(N=N, n_inputs=n_inputs, seed=seed))
    return net.to_artifact(task=task, task_settings=dict(
        SHORT_GO_NOGO if settings is None else settings))


def tiny_model_file(folder: Path, name: str = "model.mat", **kwargs) -> Path:
    """:func:`tiny_model` saved as ``folder/name``."""
    return tiny_model(**kwargs).save(Path(folder) / name)
