"""Validation shared by the built-in tasks' timing settings (rate steps)."""

from __future__ import annotations

from numbers import Integral, Real

from .base import AbstractTask


def _is_int(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def validate_timing(task: AbstractTask, last_step: int, last_name: str) -> None:
    """Check ``T``, ``stim_on``, ``stim_dur``, ``DeltaT`` and that ``last_step`` <= ``T``.

    Parameters
    ----------
    task : AbstractTask
        The task whose settings are checked.
    last_step : int
        The last rate step the trial structure needs (e.g. the end of the stimulus).
    last_name : str
        How to name that step in the error message.
    """
    T = task._require("T", lambda v: _is_int(v) and v > 0, "a positive integer (rate steps)")
    task._require("stim_on", lambda v: _is_int(v) and v >= 0, "a non-negative integer")
    task._require("stim_dur", lambda v: _is_int(v) and v > 0, "a positive integer")
    task._require("DeltaT", lambda v: isinstance(v, Real) and v > 0, "a positive number")
    if last_step > T:
        raise ValueError(f"settings['T']: expected at least {last_step} ({last_name}), got {T}")


def validate_threshold(task: AbstractTask, key: str) -> float:
    """Check that ``settings[key]`` is a number in (0, 1]."""
    return float(task._require(key, lambda v: isinstance(v, Real) and 0 < v <= 1,
                               "a number in (0, 1]"))
