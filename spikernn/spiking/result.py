"""The result of a spiking simulation: readout, sparse spikes and any opt-in recordings.

Time convention: integration step ``k`` (0-based) advances the state from ``k * dt`` to
``(k + 1) * dt``; a spike emitted in step ``k`` has time ``(k + 1) * dt``. Traces sampled
every ``n`` steps hold the state after steps ``n - 1, 2n - 1, ...`` (times ``n dt, 2n dt, ...``).

A result knows its clock (:attr:`SimulationResult.clock`, from :func:`spikernn.clock.time_base`:
stimulus rate step ``stimulus_dt_ms``, integration step ``dt``, ``downsample``) and, when the
caller drew the trials from a task, its trials (:attr:`SimulationResult.trials`, a
:class:`~spikernn.tasks.TrialInfo`: task name, labels, trial types, stimulus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..clock import TimeBase, time_base
from ..tasks import TrialInfo
from .params import LIFParams

#: The traces a simulation can record (``record=``), each of shape (batch, n_samples, N),
#: with their units: membrane voltages (mV), synaptic currents (mV, unit resistance) and
#: filtered spike trains (1/s).
RECORDING_UNITS = {"voltages": "mV", "currents": "mV", "rates": "Hz"}
#: Their names, in that order.
RECORDABLE = tuple(RECORDING_UNITS)
#: Keys of ``metadata`` that older code used for the trial record (read into ``trials``).
_LEGACY_TRIAL_KEYS = ("task", "labels", "trial_types", "stimulus")


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
        Anything else the caller attached (e.g. ``'simulator'``). The keys ``'task'``,
        ``'labels'``, ``'trial_types'`` and ``'stimulus'`` of older code are read into
        ``trials`` when ``trials`` is not given.
    stimulus_dt_ms : float
        Rate step of the stimulus: each stimulus sample was held for
        ``stimulus_dt_ms / 1000 / dt`` integration steps, ms (5).
    trials : TrialInfo or None
        The simulated trials (task, labels, trial types, stimulus), when known.

    Raises
    ------
    ValueError
        If ``trials`` does not describe ``batch`` trials, or its stimulus does not span the
        simulated time at ``stimulus_dt_ms`` per sample.
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
    stimulus_dt_ms: float = 5.0
    trials: TrialInfo | None = None

    def __post_init__(self) -> None:
        trials = self.trials
        if trials is None and any(k in self.metadata for k in _LEGACY_TRIAL_KEYS):
            stimulus = self.metadata.get("stimulus")
            if stimulus is not None and np.ndim(stimulus) == 2:
                stimulus = np.broadcast_to(stimulus, (self.batch_size, *np.shape(stimulus)))
            trials = TrialInfo(self.metadata.get("task"), self.metadata.get("labels"),
                               self.metadata.get("trial_types"), stimulus)
            object.__setattr__(self, "trials", trials)
        if trials is not None:
            check_trials(trials, self)

    @property
    def clock(self) -> TimeBase:
        """The result's time base: rate step, integration step, readout samples."""
        return time_base(self.stimulus_dt_ms, self.dt, self.downsample)

    def __repr__(self) -> str:
        rec = [n for n in RECORDABLE if getattr(self, n) is not None]
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
    def spike_window(self) -> tuple[float, float]:
        """Window of the possible spike times, s: ``(dt, duration + dt)``, half-open.

        Step ``k`` emits at ``(k + 1) dt``, so spikes lie in ``[dt, duration]``; as a
        half-open window (Elephant's convention) that is ``[dt, duration + dt)``, of length
        ``duration``, and bins of width ``w`` from ``dt`` hold the steps ``[j w, (j+1) w)``.
        """
        return self.dt, self.duration + self.dt

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


def check_trials(trials: TrialInfo, result: SimulationResult) -> TrialInfo:
    """Raise ``ValueError`` naming the field unless ``trials`` fits ``result``.

    ``trials`` must describe ``result.batch_size`` trials, and its stimulus must span the
    simulated time (``result.clock.n_steps(T) == n_steps``).
    """
    n = trials.n_trials
    if n is not None and n != result.batch_size:
        field_name = next(k for k in ("labels", "trial_types", "stimulus")
                          if getattr(trials, k) is not None)
        raise ValueError(f"{field_name}: expected one entry per trial ({result.batch_size}), "
                         f"got {n} entries")
    if trials.stimulus is not None:
        n_rate_steps, clock = trials.stimulus.shape[2], result.clock
        if clock.n_steps(n_rate_steps) != result.n_steps:
            raise ValueError(f"stimulus: expected T = {result.n_steps} steps / "
                             f"{clock.steps_per_rate_step} per rate step of "
                             f"{result.stimulus_dt_ms:g} ms (the simulated {result.duration:g}"
                             f" s), got T = {n_rate_steps}")
    return trials
