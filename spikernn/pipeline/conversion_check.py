"""Conversion-aware training: a quick spiking check as an extra stopping criterion.

With a :class:`ConversionCheck`, training that meets the rate criteria goes on until the
current model, converted one to one into the LIF network, also meets the task's criterion
(:data:`~spikernn.spiking.diagnosis.CONVERSION_CRITERION`, 95%) in a quick batched search,
or until ``max_checks`` checks have failed. :func:`conversion_hook` makes the trainer's
generic ``on_evaluation`` hook (:meth:`spikernn.rate.training.Trainer.train`); the rate
trainer knows nothing of spiking.

A check searches a coarse grid (by default every other factor of the paper's grid for the
model's activation, starting two paper steps below it: 10, 20, ..., 70 for sigmoid models),
the first time on every factor and afterwards on the last best factor and its neighbours in
that grid, ``n_trials`` trials per factor through the batched engine. Its trials and draws
come from ``child_seed(model seed, "conversion_check")``: every check and every factor sees
the same trials (common random numbers), none of them trials of the training, the
evaluation or a later search. A check runs when no check has run yet or at least
``every_trials`` training trials have passed since the last one. Everything a check needs
is read from the trainer's history (``history.checks``), so a resumed run checks as an
uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._seeding import child_seed
from .._validate import check_int, check_scaling_factors
from ..rate.training import CriterionCheck, Trainer
from ..spiking.diagnosis import CONVERSION_CRITERION
from ..spiking.params import LIFParams
from ..spiking.search import MIN_EXTENDED_FACTOR, default_scaling_factors, lambda_grid_search

#: Key of the checks' seed below the model's seed (``child_seed(seed, CHECK_STREAM)``).
CHECK_STREAM = "conversion_check"


@dataclass(frozen=True)
class ConversionCheck:
    """Settings of conversion-aware training (``spikernn train --conversion-aware``).

    Attributes
    ----------
    enabled : bool
        Run the checks (False: training as without them).
    n_trials : int
        Trials per factor in a check (same trials in every check).
    scaling_factors : tuple of float, optional
        The coarse grid (default :func:`coarse_grid` of the model's activation).
    max_checks : int
        At most this many checks; when the last one fails, training stops, not converged.
    every_trials : int
        Training trials at least between two checks (a check runs at the first evaluation
        that meets the rate criteria this long after the previous check).
    criterion : float
        Best accuracy over the checked factors at which the check passes.
    """

    enabled: bool = True
    n_trials: int = 50
    scaling_factors: tuple[float, ...] | None = None
    max_checks: int = 10
    every_trials: int = 500
    criterion: float = CONVERSION_CRITERION

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ValueError(f"conversion_check.enabled: expected true or false, "
                             f"got {self.enabled!r}")
        check_int(self.n_trials, "conversion_check.n_trials", 1)
        check_int(self.max_checks, "conversion_check.max_checks", 1)
        check_int(self.every_trials, "conversion_check.every_trials", 1)
        if isinstance(self.criterion, bool) or not (
                isinstance(self.criterion, int | float) and 0 < self.criterion <= 1):
            raise ValueError(f"conversion_check.criterion: expected a number in (0, 1], "
                             f"got {self.criterion!r}")
        if self.scaling_factors is not None:
            factors = check_scaling_factors(list(self.scaling_factors),
                                            "conversion_check.scaling_factors", distinct=True)
            object.__setattr__(self, "scaling_factors", tuple(sorted(map(float, factors))))

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values."""
        return {"enabled": self.enabled, "n_trials": self.n_trials,
                "scaling_factors": None if self.scaling_factors is None
                else list(self.scaling_factors),
                "max_checks": self.max_checks, "every_trials": self.every_trials,
                "criterion": float(self.criterion)}


def coarse_grid(activation: str) -> np.ndarray:
    """Every other factor of the paper's grid for ``activation``, from two paper steps below
    its start (factors below :data:`~spikernn.spiking.search.MIN_EXTENDED_FACTOR` dropped):
    10, 20, ..., 70 for sigmoid; 4, 8, ..., 24 for softplus and ReLU."""
    grid = default_scaling_factors(activation)
    step = 2 * float(grid[1] - grid[0])
    factors = np.arange(float(grid[0]) - step, float(grid[-1]) + step / 4, step)
    return factors[factors >= MIN_EXTENDED_FACTOR].round(10)


def check_factors(grid: Sequence[float], previous_best: float | None) -> list[float]:
    """The factors of the next check: all of ``grid`` first, then the previous best factor
    and its neighbours in ``grid``."""
    grid = [float(f) for f in grid]
    if previous_best is None or float(previous_best) not in grid:
        return grid
    i = grid.index(float(previous_best))
    return grid[max(i - 1, 0):i + 2]


def conversion_hook(check: ConversionCheck, params: LIFParams | None = None,
                    device: str = "cpu"):
    """The trainer's ``on_evaluation`` hook for ``check`` (see the module docstring).

    Parameters
    ----------
    check : ConversionCheck
        The settings.
    params : LIFParams, optional
        The LIF network's parameters (default SI Table S1; use the later search's).
    device : str
        Where the checks simulate.

    Returns
    -------
    callable
        ``hook(trainer) -> CriterionCheck | None``; each check's record: ``check`` (1, 2,
        ...), ``scaling_factors``, ``accuracies``, ``best_scaling_factor``,
        ``best_accuracy``, ``passed``, ``bound_reached``, ``seconds``.
    """
    def hook(trainer: Trainer) -> CriterionCheck | None:
        done = trainer.history.checks
        if done and trainer.trials - int(done[-1]["trials"]) < check.every_trials:
            return None
        start = time.perf_counter()
        artifact = trainer.to_artifact()
        grid = (check.scaling_factors if check.scaling_factors is not None
                else coarse_grid(artifact.activation).tolist())
        factors = check_factors(grid, done[-1]["best_scaling_factor"] if done else None)
        result = lambda_grid_search(
            artifact, n_trials=check.n_trials, scaling_factors=factors,
            seed=child_seed(trainer.seed, CHECK_STREAM), params=params, device=device,
            save=False, resume=False, progress=False, extend_edges=0)
        passed = bool(result.best_accuracy >= check.criterion)
        bound = not passed and len(done) + 1 >= check.max_checks
        return CriterionCheck(met=passed, stop=bound, values={
            "check": len(done) + 1, "scaling_factors": result.scaling_factors.tolist(),
            "accuracies": result.accuracies.tolist(),
            "best_scaling_factor": result.best_scaling_factor,
            "best_accuracy": result.best_accuracy, "passed": passed, "bound_reached": bound,
            "seconds": time.perf_counter() - start})

    return hook


def check_summary(history_checks: Sequence[dict[str, Any]], check: ConversionCheck,
                  seed: int) -> dict[str, Any]:
    """What the model file records about the checks of a run with model seed ``seed``: the
    settings, the checks' seed, their number, whether the last passed, whether the bound
    was reached, and their total time (s); each check is in ``history.checks``."""
    last = history_checks[-1] if history_checks else {}
    return {"settings": check.to_dict(), "seed": child_seed(seed, CHECK_STREAM),
            "checks": len(history_checks), "passed": bool(last.get("passed", False)),
            "bound_reached": bool(last.get("bound_reached", False)),
            "seconds": float(sum(c.get("seconds", 0.0) for c in history_checks))}


def format_checks(history_checks: Sequence[dict[str, Any]], check: ConversionCheck) -> str:
    """One line on the checks of a training run (for ``spikernn train``)."""
    if not history_checks:
        return "spiking check: none ran (the rate criteria were never met)"
    last = history_checks[-1]
    where = (f"best s = {last['best_scaling_factor']:g}: "
             f"{100 * last['best_accuracy']:.0f}% of {check.n_trials} trials")
    if last.get("passed"):
        return (f"spiking check passed at check {last['check']} ({last['trials']} trials; "
                f"{where})")
    why = (f"--max-checks {check.max_checks} reached" if last.get("bound_reached")
           else "--max-trials ran out")
    return (f"spiking check did NOT pass: {why} after {len(history_checks)} check(s); last "
            f"at {last['trials']} trials, {where} (criterion "
            f"{100 * check.criterion:g}%)")
