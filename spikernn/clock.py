"""The time base of a spiking simulation: rate steps, integration steps and readout samples.

Three clocks meet in every conversion:

- the **rate step** of a task and its stimulus (``rate_dt_ms`` = 5 ms, one stimulus sample,
  one Euler step of the rate model);
- the **integration step** of the spiking network (``dt`` = 0.05 ms, SI Table S1);
- the **readout sample** (one every ``downsample`` integration steps).

:func:`time_base` is the one place that maps them onto each other: each stimulus sample is
held for ``steps_per_rate_step = rate_dt / dt`` integration steps (100), which must be a whole
number, and one rate step covers ``samples_per_rate_step = steps_per_rate_step / downsample``
readout samples (the ``samples_per_step`` a task scores a spiking readout with). The engine,
the search, the Brian2 bridge, the cross-check, the spiking tasks and the analysis all ask
it instead of working the ratio out themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

__all__ = ["TimeBase", "time_base"]


@dataclass(frozen=True)
class TimeBase:
    """How the rate steps, integration steps and readout samples of a simulation line up.

    Build it with :func:`time_base`, which checks the values.

    Attributes
    ----------
    rate_dt_ms : float
        Rate step: duration of one stimulus sample, ms.
    dt : float
        Integration step, s.
    downsample : int
        Integration steps per readout sample.
    steps_per_rate_step : int
        Integration steps each stimulus sample is held for (``rate_dt_ms / 1000 / dt``).
    """

    rate_dt_ms: float
    dt: float
    downsample: int
    steps_per_rate_step: int

    @property
    def samples_per_rate_step(self) -> float:
        """Readout samples per rate step (``steps_per_rate_step / downsample``; 100 at
        ``downsample`` = 1), the ``samples_per_step`` of :meth:`AbstractTask.score`."""
        return self.steps_per_rate_step / self.downsample

    @property
    def rate_dt(self) -> float:
        """Rate step, s."""
        return self.rate_dt_ms * 1e-3

    def n_steps(self, n_rate_steps: int) -> int:
        """Integration steps that simulate ``n_rate_steps`` stimulus samples."""
        return int(n_rate_steps) * self.steps_per_rate_step

    def rate_step_of(self, step: int) -> int:
        """The stimulus sample that drives integration step ``step`` (0-based)."""
        return int(step) // self.steps_per_rate_step


def time_base(rate_dt_ms: float, dt: float, downsample: int = 1) -> TimeBase:
    """The time base of a simulation of a stimulus of rate step ``rate_dt_ms``.

    Parameters
    ----------
    rate_dt_ms : float
        Rate step of the stimulus (``task.dt_ms``, ``model.dt_ms``), ms; 5 in the paper.
    dt : float
        Integration step of the spiking network (``params.dt``), s; 5e-5 in the paper.
    downsample : int
        Integration steps per readout sample.

    Returns
    -------
    TimeBase

    Raises
    ------
    ValueError
        ``params.dt`` when ``dt`` is not positive or does not divide the rate step into a
        whole number of steps; ``rate_dt_ms`` or ``downsample`` when not positive.

    Examples
    --------
    >>> tb = time_base(5.0, 5e-5, downsample=10)
    >>> tb.steps_per_rate_step, tb.samples_per_rate_step
    (100, 10.0)
    """
    if not (isinstance(rate_dt_ms, Real) and math.isfinite(rate_dt_ms) and rate_dt_ms > 0):
        raise ValueError(f"rate_dt_ms: expected a positive number of ms, got {rate_dt_ms!r}")
    if not (isinstance(dt, Real) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"params.dt: expected a positive number of s, got {dt!r}")
    if isinstance(downsample, bool) or not isinstance(downsample, Integral) or downsample < 1:
        raise ValueError(f"downsample: expected a positive integer, got {downsample!r}")
    rate_dt = float(rate_dt_ms) * 1e-3
    hold = int(round(rate_dt / float(dt)))
    if hold < 1 or not math.isclose(hold * float(dt), rate_dt, rel_tol=1e-9):
        raise ValueError(f"params.dt: expected a divisor of the rate step {rate_dt_ms} ms, "
                         f"got {dt} s")
    return TimeBase(float(rate_dt_ms), float(dt), int(downsample), hold)
