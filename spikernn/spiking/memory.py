"""The one memory model of the spiking engine: bytes per trial, batch sizes, and a check
against the memory the machine has before anything large is allocated.

Per trial of ``N`` units and ``n_steps`` integration steps in a dtype of ``itemsize`` bytes:

* held (kept in the result until the call returns): the readout, ``n_steps // downsample``
  values; each recorded trace, ``(n_steps // record_every) N`` values; the spike events
  (when kept), 32 bytes per spike (24 in the result, 8 while running) at a bound of
  ``RATE_BOUND_HZ`` per unit;
* working (per trial simulated at once): ``STATE_VALUES N`` values of state and work space.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from .._validate import available_bytes, check_fits, check_int

#: Firing rate assumed when sizing for the sparse spike record, Hz.
RATE_BOUND_HZ = 50.0
#: Bytes per spike event (trial, unit, step as int64 in the result; the in-run log).
BYTES_PER_SPIKE = 32
#: Values of the engine dtype held per trial and unit while simulating.
STATE_VALUES = 16


class TrialMemory(NamedTuple):
    """Bytes one trial needs: ``held`` until the call returns, ``working`` while it runs."""

    held: float
    working: float

    @property
    def total(self) -> float:
        return self.held + self.working


def trial_memory(n_units: int, n_steps: int, *, downsample: int = 1, n_traces: int = 0,
                 record_every: int = 1, itemsize: int = 4, spikes: bool = True,
                 dt: float = 5e-5) -> TrialMemory:
    """Bytes per trial (see the module docstring).

    Parameters
    ----------
    n_units, n_steps : int
        Network size and integration steps per trial.
    downsample, record_every : int
        Steps per readout sample and per trace sample.
    n_traces : int
        Number of recorded traces (voltages, currents, rates).
    itemsize : int
        Bytes per value (4 for float32, 8 for float64).
    spikes : bool
        Whether spike events are kept.
    dt : float
        Integration step, s.
    """
    held = itemsize * (n_steps // downsample + n_traces * (n_steps // record_every) * n_units)
    if spikes:
        held += BYTES_PER_SPIKE * n_units * n_steps * dt * RATE_BOUND_HZ
    return TrialMemory(float(held), float(itemsize * STATE_VALUES * n_units))


def trials_within(budget_bytes: float, memory: TrialMemory, part: str = "total") -> int:
    """How many trials fit ``budget_bytes`` counting ``part`` ('total', 'held' or
    'working') of ``memory`` (at least 1)."""
    per_trial = getattr(memory, part)
    return max(1, int(budget_bytes // per_trial)) if per_trial > 0 else 2**31


#: Cores the engine may use in this process (None: all it may run on); see limit_cores.
_core_limit: int | None = None


def cpu_count() -> int:
    """Cores the engine uses by default: those this process may run on, at most the limit
    set by :func:`limit_cores`."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return n if _core_limit is None else max(1, min(n, _core_limit))


@contextmanager
def limit_cores(cores: int | None) -> Iterator[None]:
    """Inside the block the engine uses at most ``cores`` cores by default (the fused path's
    threads, the torch path's forked chunk processes); None: no limit. Results do not depend
    on it. A study sets it per cell, so cells running side by side do not oversubscribe the
    machine."""
    global _core_limit
    if cores is not None:
        check_int(cores, "cores", 1)
    saved, _core_limit = _core_limit, cores
    try:
        yield
    finally:
        _core_limit = saved


__all__ = ["BYTES_PER_SPIKE", "RATE_BOUND_HZ", "STATE_VALUES", "TrialMemory",
           "available_bytes", "check_fits", "cpu_count", "limit_cores", "trial_memory",
           "trials_within"]
