"""The result of a spiking simulation: readout, sparse spikes and any opt-in recordings.

Time convention: integration step ``k`` (0-based) advances the state from ``k * dt`` to
``(k + 1) * dt``; a spike emitted in step ``k`` has time ``(k + 1) * dt``. Traces sampled
every ``n`` steps hold the state after steps ``n - 1, 2n - 1, ...`` (times ``n dt, 2n dt, ...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .params import LIFParams


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """What one batched simulation produced.

    Attributes
    ----------
    output : numpy.ndarray, shape (batch, n_steps // downsample)
        Spiking readout ``W_out r_spk / s`` every ``downsample`` steps.
    spike_trial, spike_unit, spike_step : numpy.ndarray of int64, shape (n_spikes,)
        Sparse spike events, sorted by step then trial then unit.
    dt : float
        Integration step, s.
    n_steps : int
        Number of integration steps simulated.
    downsample : int
        Steps between readout samples.
    scaling_factors : numpy.ndarray, shape (batch,)
        Scaling factor used for each trial.
    exc : numpy.ndarray of bool, shape (N,)
        Excitatory identity of the units (for colouring and population splits).
    params : LIFParams
        Parameters used.
    record_every : int
        Steps between samples of the opt-in recordings below.
    voltages, currents, rates : numpy.ndarray or None, shape (batch, n_samples, N)
        Membrane voltages (mV; ``v_peak`` at spikes), synaptic currents (mV, unit
        resistance) and filtered spike trains (1/s), when recorded.
    v0 : numpy.ndarray, shape (batch, N)
        Initial voltages, mV.
    seed : int or None
        Seed of the random draws (initial voltages, noise, perturbations).
    metadata : dict
        Anything the caller attached (task, labels, trial types, stimulus, ...).
    """

    output: np.ndarray
    spike_trial: np.ndarray
    spike_unit: np.ndarray
    spike_step: np.ndarray
    dt: float
    n_steps: int
    downsample: int
    scaling_factors: np.ndarray
    exc: np.ndarray
    params: LIFParams
    record_every: int = 1
    voltages: np.ndarray | None = None
    currents: np.ndarray | None = None
    rates: np.ndarray | None = None
    v0: np.ndarray | None = None
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        rec = [n for n in ("voltages", "currents", "rates") if getattr(self, n) is not None]
        return (f"SimulationResult(batch={self.batch_size}, N={self.n_units}, "
                f"n_steps={self.n_steps}, dt={self.dt}, n_spikes={self.n_spikes}, "
                f"recorded={rec})")

    @property
    def batch_size(self) -> int:
        """Number of simulated trials."""
        return int(self.output.shape[0])

    @property
    def n_units(self) -> int:
        """Number of units N."""
        return int(self.exc.shape[0])

    @property
    def n_spikes(self) -> int:
        """Total number of spikes."""
        return int(self.spike_step.shape[0])

    @property
    def duration(self) -> float:
        """Simulated time, s."""
        return self.n_steps * self.dt

    @property
    def output_times(self) -> np.ndarray:
        """Times of the readout samples, s, shape (n_steps // downsample,)."""
        return (np.arange(self.output.shape[1]) + 1) * self.downsample * self.dt

    @property
    def record_times(self) -> np.ndarray:
        """Times of the samples of voltages/currents/rates, s."""
        return (np.arange(self.n_steps // self.record_every) + 1) * self.record_every * self.dt

    @property
    def spike_times(self) -> np.ndarray:
        """Time of each spike event, s."""
        return (self.spike_step + 1) * self.dt

    def spike_counts(self) -> np.ndarray:
        """Spikes per trial and unit, shape (batch, N), int64."""
        counts = np.zeros((self.batch_size, self.n_units), dtype=np.int64)
        np.add.at(counts, (self.spike_trial, self.spike_unit), 1)
        return counts

    def firing_rates(self) -> np.ndarray:
        """Mean firing rate per trial and unit over the whole simulation, Hz."""
        return self.spike_counts() / self.duration

    def spike_trains(self, trial: int) -> list[np.ndarray]:
        """Spike times (s) of every unit in one trial: a list of N sorted arrays."""
        if not 0 <= trial < self.batch_size:
            raise IndexError(f"trial: expected 0 <= trial < {self.batch_size}, got {trial}")
        sel = self.spike_trial == trial
        units, times = self.spike_unit[sel], self.spike_times[sel]
        order = np.lexsort((times, units))
        units, times = units[order], times[order]
        bounds = np.searchsorted(units, np.arange(self.n_units + 1))
        return [times[bounds[i]:bounds[i + 1]] for i in range(self.n_units)]

    def dense_spikes(self, trial: int) -> np.ndarray:
        """Spike raster of one trial, shape (n_steps, N), bool (memory: n_steps x N)."""
        raster = np.zeros((self.n_steps, self.n_units), dtype=bool)
        sel = self.spike_trial == trial
        raster[self.spike_step[sel], self.spike_unit[sel]] = True
        return raster
