"""Named protocols: how a rate model is trained for conversion, and how its factor is searched.

Two protocols, chosen by name wherever a model is trained (``TrainingConfig(protocol=...)``,
``spikernn train --protocol``, the study key ``training.protocol``):

- ``paper``: the original TensorFlow/MATLAB code's rules (Kim, Li & Sejnowski 2019): one trial
  per Adam update, evaluation on 100 fresh trials every 100 trials, stop when the mean
  evaluation loss is below 7 and the accuracy above 95% (``> 0.95`` on 100 trials, i.e. at
  least 96 correct), for Go/NoGo not before 1,500 trials; the search on the paper's grid
  (20..75 step 5 for sigmoid models) with no grid extension.
- ``default``: this library's rules, chosen from measurements of how many trained models
  convert and how fast (``docs/convertibility.md``): 16 trials per update (the fastest per
  trial on 2 CPU cores), for XOR 4 (its loss sits on a plateau that more updates leave
  sooner: a third of the training time); the paper's evaluation; stop at loss < 7 and accuracy
  >= 95%, for Go/NoGo at loss < 2 and for Mante at loss < 4 (models stopped at loss < 7
  convert less often); the search extends its grid past an edge holding the best factor by
  up to 4 factors.

A protocol fills the training settings a caller leaves unset (None); settings given
explicitly always win. The protocol's name is recorded in the model file's training record
(``training["protocol"]``), and the search reads it to pick its grid extension.
This module is in the ground layer: rate training and the spiking search both read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The training settings a protocol decides (``TrainingConfig`` fields).
PROTOCOL_FIELDS = ("batch_size", "min_trials", "loss_threshold", "acc_threshold")


@dataclass(frozen=True)
class Protocol:
    """A named set of training and search rules.

    Attributes
    ----------
    name : str
        ``paper`` or ``default``.
    training : mapping
        Values of :data:`PROTOCOL_FIELDS` for every task.
    per_task : mapping
        Task name -> values that replace ``training``'s for that task.
    extend_edges : int
        Factors the scaling-factor search may add past an edge of its grid that holds the
        best factor (0: the grid as given).
    """

    name: str
    training: Mapping[str, Any]
    per_task: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extend_edges: int = 0

    def training_settings(self, task: str) -> dict[str, Any]:
        """The protocol's :data:`PROTOCOL_FIELDS` values for the task named ``task``."""
        return {**self.training, **self.per_task.get(task, {})}


PROTOCOLS: dict[str, Protocol] = {
    "paper": Protocol(
        "paper",
        training={"batch_size": 1, "min_trials": 0, "loss_threshold": 7.0,
                  "acc_threshold": 0.96},
        per_task={"go_nogo": {"min_trials": 1500}},
        extend_edges=0),
    "default": Protocol(
        "default",
        training={"batch_size": 16, "min_trials": 0, "loss_threshold": 7.0,
                  "acc_threshold": 0.95},
        per_task={"go_nogo": {"loss_threshold": 2.0}, "mante": {"loss_threshold": 4.0},
                  "xor": {"batch_size": 4}},
        extend_edges=4),
}
#: The protocol used when none is named (and for models that record none).
DEFAULT_PROTOCOL = "default"


def get_protocol(name: str, where: str = "protocol") -> Protocol:
    """The protocol called ``name``; ``ValueError`` naming ``where`` when there is none."""
    if not isinstance(name, str) or name.lower() not in PROTOCOLS:
        raise ValueError(f"{where}: expected one of {sorted(PROTOCOLS)}, got {name!r}")
    return PROTOCOLS[name.lower()]


def protocol_of(training: Mapping[str, Any] | None) -> Protocol:
    """The protocol a model's training record names (the default when it names none, as in
    files of the original code and of older spikernn versions)."""
    name = str((training or {}).get("protocol") or DEFAULT_PROTOCOL).lower()
    return PROTOCOLS.get(name, PROTOCOLS[DEFAULT_PROTOCOL])
