"""The synaptic filter of the converted network (Kim, Li & Sejnowski 2019, SI), in one place.

Each integration step ``dt``, unit ``i``'s synaptic current and filtered spike train decay
with its own constant ``tau_d[i]`` and receive the spikes of the step:

- double exponential: ``s <- s e_d + h dt``, ``h <- h e_r + x / (tau_r tau_d)``;
- single exponential: ``s <- s e_d + x / tau_d``;

with ``e_d = exp(-dt / tau_d)``, ``e_r = exp(-dt / tau_r)`` and ``x`` the step's weighted
spikes. :func:`synaptic_filter` gives these constants; the Brian2 bridge and the analysis
(filtering recorded spikes) take them from here, and :meth:`SynapticFilter.transfer_function`
gives the same filter as a linear recursion for :func:`scipy.signal.lfilter`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import LIFParams

__all__ = ["SynapticFilter", "synaptic_filter"]


@dataclass(frozen=True)
class SynapticFilter:
    """Per-step constants of the synaptic filter of N units.

    Attributes
    ----------
    double : bool
        Double-exponential synapse (else single exponential).
    decay : numpy.ndarray, shape (N,)
        ``e_d = exp(-dt / tau_d)`` per unit.
    rise_decay : float
        ``e_r = exp(-dt / tau_r)`` (0 for the single-exponential synapse).
    gain : numpy.ndarray, shape (N,)
        What one unit of input adds per step: ``dt / (tau_r tau_d)`` to ``h dt`` (double)
        or ``1 / tau_d`` to ``s`` (single), 1/s.
    """

    double: bool
    decay: np.ndarray
    rise_decay: float
    gain: np.ndarray

    def transfer_function(self, unit: int) -> tuple[list[float], list[float]]:
        """``(b, a)`` of unit ``unit``'s filter from input ``x_k`` to ``s_k`` (lfilter form)."""
        d, g = float(self.decay[unit]), float(self.gain[unit])
        if not self.double:
            return [g], [1.0, -d]
        r = self.rise_decay
        return [0.0, g], [1.0, -(d + r), d * r]


def synaptic_filter(tau_d: np.ndarray, params: LIFParams) -> SynapticFilter:
    """The filter constants of units with decay constants ``tau_d`` under ``params``.

    Parameters
    ----------
    tau_d : array-like, shape (N,)
        Synaptic decay constant of each unit, s (``ModelArtifact.tau_d_ms / 1000``).
    params : LIFParams
        Gives ``dt``, ``tau_r`` and ``synapse``.

    Returns
    -------
    SynapticFilter

    Raises
    ------
    ValueError
        If ``tau_d`` holds a value that is not a finite positive number.
    """
    tau_d = np.atleast_1d(np.asarray(tau_d, dtype=float))
    if tau_d.ndim != 1 or not np.all(np.isfinite(tau_d) & (tau_d > 0)):
        raise ValueError(f"tau_d: expected finite positive decay constants (s) of shape (N,), "
                         f"got shape {tau_d.shape}")
    dt, double = params.dt, params.synapse == "double"
    gain = dt / (params.tau_r * tau_d) if double else 1.0 / tau_d
    return SynapticFilter(double=double, decay=np.exp(-dt / tau_d),
                          rise_decay=float(np.exp(-dt / params.tau_r)) if double else 0.0,
                          gain=gain)
