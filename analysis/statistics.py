"""Spike-train statistics, computed by Elephant.

Every function takes a sequence of spike trains, each a :class:`neo.SpikeTrain` or a 1-D
array of sorted spike times in seconds, sharing one observation window ``[t_start,
t_stop)`` (taken from Neo trains, or given as arguments for arrays; Elephant's windows are
half-open: its binning drops a spike at ``t_stop``), and returns numpy arrays in the units
stated (s, Hz). Statistics that are undefined for a train (too few spikes, a silent unit)
are NaN.

Each statistic is Elephant's own function on those trains: ``mean_firing_rate`` (0 Hz for
a silent train, which Elephant refuses), ``isi`` with ``lv`` (the CV of the intervals in
numpy, equal to ``cv``, which costs about 1 ms per call), ``fanofactor`` (per unit across
trials), :class:`~elephant.conversion.BinnedSpikeTrain` counts, ``correlation_coefficient``,
``time_histogram`` (PSTH, of the pooled trains) and ``instantaneous_rate`` (Gaussian kernel,
border correction, per train; the population rate is their mean). :func:`result_trials`
gives a result's trials as :class:`elephant.trials.TrialsFromLists` for Elephant's
trial-aware functions. This module only validates the inputs, converts arrays to Neo trains and
turns quantities into floats. For a :class:`~spikernn.spiking.result.SimulationResult`
use :func:`result_spiketrains`: its trains lie on ``result.spike_window`` =
``[dt, duration + dt)``, which holds every spike (the engine's last step emits at exactly
``duration``) in windows of length ``duration``.

Examples
--------
>>> import numpy as np
>>> from spikernn.analysis.statistics import firing_rates, isi_cv
>>> regular = np.arange(1, 50) / 50.0          # 49 spikes, 20 ms apart, in 1 s
>>> firing_rates([regular], t_stop=1.0)
array([49.])
>>> bool(isi_cv([regular], t_stop=1.0)[0] < 1e-12)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import elephant.statistics as es
import neo
import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.kernels import GaussianKernel
from elephant.spike_train_correlation import correlation_coefficient
from elephant.trials import TrialsFromLists

from spikernn.spiking.result import SimulationResult

SpikeTrainLike = neo.SpikeTrain | Sequence[float] | np.ndarray


def spike_time_arrays(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                      t_stop: float | None = None
                      ) -> tuple[list[np.ndarray], float, float]:
    """Validate spike trains and return their times as float arrays in seconds.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Spike times; arrays are in seconds and must be sorted.
    t_start, t_stop : float, optional
        Observation window of array inputs, s (``t_stop`` is required unless the first
        train is a Neo train, whose window is then used).

    Returns
    -------
    times : list of numpy.ndarray
        One array per train, s.
    t_start, t_stop : float
        The common window, s.

    Raises
    ------
    ValueError
        If the sequence is empty, an array is not 1-D, finite and sorted, a time lies
        outside the window, Neo trains have different windows, or ``t_stop`` is missing.

    Examples
    --------
    >>> times, t0, t1 = spike_time_arrays([[0.1, 0.2]], t_stop=1.0)
    >>> times[0], t0, t1
    (array([0.1, 0.2]), 0.0, 1.0)
    """
    if isinstance(spiketrains, neo.SpikeTrain) or len(spiketrains) == 0:
        raise ValueError("spiketrains: expected a non-empty sequence of spike trains, "
                         f"got {type(spiketrains).__name__} of length {len(spiketrains)}")
    first = spiketrains[0]
    if isinstance(first, neo.SpikeTrain):
        t_start, t_stop = _seconds(first.t_start), _seconds(first.t_stop)
    if t_stop is None:
        raise ValueError("t_stop: expected the end of the observation window (s) for spike "
                         "trains given as arrays, got None")
    if not t_stop > t_start:
        raise ValueError(f"t_stop: expected a time after t_start={t_start} s, got {t_stop}")
    times = []
    for i, train in enumerate(spiketrains):
        if isinstance(train, neo.SpikeTrain):
            window = (_seconds(train.t_start), _seconds(train.t_stop))
            if window != (t_start, t_stop):
                raise ValueError(f"spiketrains[{i}]: expected the window [{t_start}, {t_stop}] "
                                 f"s of the first train, got {list(window)}")
            # Neo keeps a train's times inside its window: only the order is checked
            times.append(_check_sorted(f"spiketrains[{i}]", _seconds(train)))
        else:
            times.append(_check_times(f"spiketrains[{i}]", train, t_start, t_stop))
    return times, float(t_start), float(t_stop)


def _seconds(quantity: pq.Quantity):
    """A time quantity's value in seconds (a float, or an array for arrays)."""
    if quantity.dimensionality.string != "s":
        quantity = quantity.rescale(pq.s)
    value = np.asarray(quantity.magnitude, dtype=float)
    return float(value) if value.ndim == 0 else value


def _check_sorted(name: str, times: np.ndarray) -> np.ndarray:
    if times.size > 1 and not np.all(times[1:] >= times[:-1]):
        raise ValueError(f"{name}: expected sorted, finite spike times (s)")
    return times


def _check_times(name: str, train: Sequence[float], t_start: float, t_stop: float
                 ) -> np.ndarray:
    times = np.asarray(train, dtype=float)
    if times.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of spike times (s), "
                         f"got shape {times.shape}")
    # sorted with finite ends <=> sorted and finite (a NaN breaks the ordering test)
    if times.size and not (np.all(np.diff(times) >= 0) and np.isfinite(times[[0, -1]]).all()):
        raise ValueError(f"{name}: expected sorted, finite spike times (s)")
    if times.size and (times[0] < t_start or times[-1] > t_stop):
        raise ValueError(f"{name}: expected times within [t_start={t_start}, t_stop={t_stop}] "
                         f"s, got [{times[0]}, {times[-1]}]")
    return times


def _positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive duration (s), got {value!r}")
    return float(value)


def _neo_trains(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                t_stop: float | None = None) -> tuple[list[neo.SpikeTrain], float, float]:
    """Validated trains as Neo SpikeTrains (Neo inputs are passed on as they are)."""
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    trains = [train if isinstance(train, neo.SpikeTrain) else
              neo.SpikeTrain(t, units="s", t_start=t_start, t_stop=t_stop)
              for train, t in zip(spiketrains, times, strict=True)]
    return trains, t_start, t_stop


def result_spiketrains(result: SimulationResult) -> list[list[neo.SpikeTrain]]:
    """The spike trains of a simulation: ``[trial][unit]``, on ``result.spike_window``.

    Each train has ``sampling_rate = 1 / dt`` and is named ``unit <i>``.
    """
    t_start, t_stop = result.spike_window
    rate = (1.0 / result.dt) * pq.Hz
    return [[neo.SpikeTrain(t, units="s", t_start=t_start, t_stop=t_stop, sampling_rate=rate,
                            name=f"unit {unit}")
             for unit, t in enumerate(result.spike_trains(b))]
            for b in range(result.batch_size)]


def result_trials(result: SimulationResult) -> TrialsFromLists:
    """The trials of a simulation as :class:`elephant.trials.TrialsFromLists` (trial x unit)."""
    return TrialsFromLists(result_spiketrains(result), description="spikernn trials")


def firing_rates(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                 t_stop: float | None = None) -> np.ndarray:
    """Mean firing rate of each train over the observation window.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`spike_time_arrays`.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray, shape (n_trains,)
        Spike count divided by the window's duration, Hz.

    Examples
    --------
    >>> firing_rates([[0.1, 0.2], []], t_stop=0.5)
    array([4., 0.])
    """
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    # Elephant refuses an empty train; a silent unit fires at 0 Hz
    return np.array([float(es.mean_firing_rate(t, t_start=t_start, t_stop=t_stop))
                     if t.size else 0.0 for t in times])


def isi_cv(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
           t_stop: float | None = None, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each train.

    ``CV = std(ISI) / mean(ISI)`` (population standard deviation, as
    ``elephant.statistics.cv``): 0 for a regular train, about 1 for a Poisson train.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`spike_time_arrays`.
    t_start, t_stop : float, optional
        Window of array inputs, s.
    min_spikes : int
        Trains with fewer spikes get NaN (at least 3: two intervals).

    Returns
    -------
    numpy.ndarray, shape (n_trains,)
        Dimensionless.

    Examples
    --------
    >>> isi_cv([[0.125, 0.25, 0.375, 0.5], [0.1]], t_stop=1.0)
    array([ 0., nan])
    """
    # equals elephant.statistics.cv (SciPy's variation, tested), whose per-call cost (~1 ms)
    # would dominate the analysis of 20,000 trains
    return _isi_statistic(lambda isi: isi.std() / isi.mean(), spiketrains, t_start, t_stop,
                          min_spikes)


def local_variation(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                    t_stop: float | None = None, min_spikes: int = 3) -> np.ndarray:
    """Local variation LV of the inter-spike intervals of each train (Shinomoto et al. 2003).

    ``LV = 3 / (n - 1) * sum_i ((I_i - I_{i+1}) / (I_i + I_{i+1}))**2`` over the ``n``
    intervals (``elephant.statistics.lv``): 0 for a regular train, about 1 for a Poisson
    train, insensitive to slow rate changes.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`spike_time_arrays`.
    t_start, t_stop : float, optional
        Window of array inputs, s.
    min_spikes : int
        Trains with fewer spikes get NaN (at least 3: two intervals).

    Returns
    -------
    numpy.ndarray, shape (n_trains,)
        Dimensionless.

    Examples
    --------
    >>> local_variation([[0.125, 0.25, 0.375, 0.5]], t_stop=1.0)
    array([0.])
    """
    return _isi_statistic(es.lv, spiketrains, t_start, t_stop, min_spikes)


def _isi_statistic(statistic, spiketrains, t_start, t_stop, min_spikes) -> np.ndarray:
    if int(min_spikes) < 3:
        raise ValueError(f"min_spikes: expected an integer >= 3 (two intervals), "
                         f"got {min_spikes!r}")
    times, _, _ = spike_time_arrays(spiketrains, t_start, t_stop)
    return np.array([float(statistic(es.isi(t))) if t.size >= min_spikes else np.nan
                     for t in times])


def fano_factor(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                t_stop: float | None = None) -> float:
    """Fano factor of the spike counts of one unit across trials.

    ``F = var(counts) / mean(counts)`` (population variance, ``elephant.statistics.
    fanofactor``): 0 when every trial has the same count, 1 for Poisson counts.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        One train per trial, all of the same unit and window.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    float
        Dimensionless; NaN when no trial has a spike.

    Examples
    --------
    >>> fano_factor([[0.1, 0.2], [0.3, 0.4]], t_stop=1.0)
    0.0
    """
    times, _, _ = spike_time_arrays(spiketrains, t_start, t_stop)
    with warnings.catch_warnings():  # no spike at all: documented NaN
        warnings.simplefilter("ignore", UserWarning)
        return float(es.fanofactor(times))


def fano_factors(trials: Sequence[Sequence[SpikeTrainLike]], t_start: float = 0.0,
                 t_stop: float | None = None) -> np.ndarray:
    """Fano factor of every unit across trials (``elephant.statistics.fanofactor`` of each
    unit's trains; the same as ``fanofactor`` of an :class:`elephant.trials.TrialsFromLists`,
    which is slower: it checks each train's window with quantities).

    Parameters
    ----------
    trials : sequence of sequences of neo.SpikeTrain or array-like
        ``trials[b][i]``: the train of unit ``i`` in trial ``b``, all of one window.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray, shape (n_units,)
        Dimensionless; NaN for a unit without spikes.

    Examples
    --------
    >>> fano_factors([[[0.1], [0.2, 0.3]], [[0.4], [0.5]]], t_stop=1.0)
    array([0.        , 0.33333333])
    """
    per_trial = [spike_time_arrays(trial, t_start, t_stop)[0] for trial in trials]
    if len({len(t) for t in per_trial}) > 1:
        raise ValueError(f"trials: expected the same units in every trial, got "
                         f"{sorted({len(t) for t in per_trial})} trains per trial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return np.array([float(es.fanofactor([trial[unit] for trial in per_trial]))
                         for unit in range(len(per_trial[0]))])


def binned_counts(spiketrains: Sequence[SpikeTrainLike], bin_size: float,
                  t_start: float = 0.0, t_stop: float | None = None) -> np.ndarray:
    """Spike counts of each train in consecutive bins ``[t_start + k * bin_size, ...)``
    (:class:`elephant.conversion.BinnedSpikeTrain`).

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`spike_time_arrays`.
    bin_size : float
        Bin width, s; the window holds ``floor(duration / bin_size)`` whole bins, half-open
        (Elephant drops spikes at or after their end).
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray of int64, shape (n_trains, n_bins)

    Examples
    --------
    >>> binned_counts([[0.001, 0.002, 0.015]], bin_size=0.01, t_stop=0.02)
    array([[2, 1]])
    """
    return _binned(spiketrains, bin_size, t_start, t_stop).to_array().astype(np.int64)


def _binned(spiketrains: Sequence[SpikeTrainLike], bin_size: float, t_start: float,
            t_stop: float | None) -> BinnedSpikeTrain:
    trains, t_start, t_stop = _neo_trains(spiketrains, t_start, t_stop)
    bin_size = _positive("bin_size", bin_size)
    if bin_size > t_stop - t_start + 1e-12:
        raise ValueError(f"bin_size: expected at most the window ({t_stop - t_start} s), "
                         f"got {bin_size}")
    with warnings.catch_warnings():  # spikes in the window's last partial bin: documented
        warnings.simplefilter("ignore", UserWarning)
        return BinnedSpikeTrain(trains, bin_size=bin_size * pq.s, t_start=t_start * pq.s,
                                t_stop=t_stop * pq.s, tolerance=1e-9)


def correlation_matrix(spiketrains: Sequence[SpikeTrainLike], bin_size: float,
                       t_start: float = 0.0, t_stop: float | None = None) -> np.ndarray:
    """Pearson correlation coefficients between the binned spike counts of every pair.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains of one window (for example all units of one trial).
    bin_size : float
        Width of the count bins, s (see :func:`binned_counts`).
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray, shape (n_trains, n_trains)
        Symmetric, 1 on the diagonal of active trains; NaN in the rows and columns of
        trains with constant counts (silent units).

    Examples
    --------
    >>> correlation_matrix([[0.1, 0.5], [0.1, 0.5]], bin_size=0.01, t_stop=1.0)
    array([[1., 1.],
           [1., 1.]])
    """
    binned = _binned(spiketrains, bin_size, t_start, t_stop)
    with warnings.catch_warnings():  # constant rows: documented NaN
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(correlation_coefficient(binned), dtype=float)


def instantaneous_rates(spiketrains: Sequence[SpikeTrainLike], sampling_period: float,
                        kernel_sigma: float, t_start: float = 0.0, t_stop: float | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Kernel rate estimate of every train (``elephant.statistics.instantaneous_rate``,
    Gaussian kernel, ``border_correction=True``).

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains of one window.
    sampling_period : float
        Time step of the estimate, s.
    kernel_sigma : float
        Standard deviation of the Gaussian kernel, s.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    times : numpy.ndarray, shape (n_samples,)
        Sample times, s.
    rates : numpy.ndarray, shape (n_samples, n_trains)
        Hz.
    """
    trains, t_start, t_stop = _neo_trains(spiketrains, t_start, t_stop)
    kernel = GaussianKernel(sigma=_positive("kernel_sigma", kernel_sigma) * pq.s)
    with warnings.catch_warnings():  # elephant warns about the kernel's border mass
        warnings.simplefilter("ignore", UserWarning)
        rate = es.instantaneous_rate(
            trains, sampling_period=_positive("sampling_period", sampling_period) * pq.s,
            kernel=kernel, border_correction=True)
    return rate.times.rescale(pq.s).magnitude, rate.rescale(pq.Hz).magnitude


def population_rate(spiketrains: Sequence[SpikeTrainLike], sampling_period: float,
                    kernel_sigma: float, t_start: float = 0.0, t_stop: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the trains of their kernel rate estimates (:func:`instantaneous_rates`).

    Elephant's own pooled estimate (``pool_spike_trains=True``) fails with
    ``border_correction=True`` in Elephant 1.2, and its correction normalises the pooled
    train, not each train; the mean of the per-train estimates is what Elephant gives per
    train, edges included.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains of one window (units of a population, possibly of several trials).
    sampling_period : float
        Time step of the estimate, s.
    kernel_sigma : float
        Standard deviation of the Gaussian kernel, s.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    times : numpy.ndarray, shape (n_samples,)
        Sample times, s.
    rate : numpy.ndarray, shape (n_samples,)
        Mean rate per train, Hz.

    Examples
    --------
    >>> times, rate = population_rate([[0.5], []], 0.005, 0.02, t_stop=1.0)
    >>> round(float(rate.sum() * 0.005), 2)   # one spike over two trains
    0.5
    """
    times, rates = instantaneous_rates(spiketrains, sampling_period, kernel_sigma, t_start,
                                       t_stop)
    return times, rates.mean(axis=1)


def psth(spiketrains: Sequence[SpikeTrainLike], bin_size: float, t_start: float = 0.0,
         t_stop: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Peri-stimulus time histogram: the mean rate per train in consecutive bins.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains aligned to one time zero (for example a population over the trials of one
        type).
    bin_size : float
        Bin width, s (see :func:`binned_counts`).
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    bin_starts : numpy.ndarray, shape (n_bins,)
        Left edge of each bin, s.
    rate : numpy.ndarray, shape (n_bins,)
        Spikes per train per second in each bin, Hz.

    Examples
    --------
    >>> starts, rate = psth([[0.005, 0.015], [0.005]], bin_size=0.01, t_stop=0.02)
    >>> rate
    array([100.,  50.])
    """
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    bin_size = _positive("bin_size", bin_size)
    if bin_size > t_stop - t_start + 1e-12:
        raise ValueError(f"bin_size: expected at most the window ({t_stop - t_start} s), "
                         f"got {bin_size}")
    # the counts of all trains are the counts of their pooled train (one train to bin)
    pooled = neo.SpikeTrain(np.sort(np.concatenate(times)), units="s", t_start=t_start,
                            t_stop=t_stop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        hist = es.time_histogram([pooled], bin_size * pq.s, output="counts")
    return (hist.times.rescale(pq.s).magnitude,
            hist.magnitude.ravel() / (len(times) * bin_size))
