"""Spike-train statistics, computed with Elephant.

Every function takes plain inputs: a sequence of spike trains, each either a
:class:`neo.SpikeTrain` or a 1-D array of spike times in seconds (then ``t_stop``, and
``t_start`` if not 0, must be given), and returns numpy arrays in the units stated (s, Hz).
Statistics that are undefined for a train (too few spikes, a silent unit) are NaN.

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

SpikeTrainLike = neo.SpikeTrain | Sequence[float] | np.ndarray


def as_spike_trains(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                    t_stop: float | None = None) -> list[neo.SpikeTrain]:
    """Validate spike trains and return them as :class:`neo.SpikeTrain` objects.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Spike times; arrays are in seconds and must be sorted.
    t_start, t_stop : float, optional
        Observation window of array inputs, s (``t_stop`` is required for them). Neo
        trains keep their own window.

    Returns
    -------
    list of neo.SpikeTrain
        In seconds.

    Raises
    ------
    ValueError
        If the sequence is empty, an array is not 1-D, finite and sorted, a time lies
        outside ``[t_start, t_stop]``, or ``t_stop`` is missing for arrays.

    Examples
    --------
    >>> as_spike_trains([[0.1, 0.2]], t_stop=1.0)[0].t_stop
    array(1.) * s
    """
    if isinstance(spiketrains, neo.SpikeTrain) or len(spiketrains) == 0:
        raise ValueError("spiketrains: expected a non-empty sequence of spike trains, "
                         f"got {type(spiketrains).__name__} of length {len(spiketrains)}")
    trains = []
    for i, train in enumerate(spiketrains):
        if isinstance(train, neo.SpikeTrain):
            trains.append(train if train.units == pq.s else train.rescale(pq.s))
            continue
        if t_stop is None:
            raise ValueError("t_stop: expected the end of the observation window (s) for "
                             "spike trains given as arrays, got None")
        times = _check_times(f"spiketrains[{i}]", train, t_start, t_stop)
        trains.append(neo.SpikeTrain(times, units="s", t_start=t_start, t_stop=t_stop))
    return trains


def _check_times(name: str, train: Sequence[float], t_start: float, t_stop: float
                 ) -> np.ndarray:
    times = np.asarray(train, dtype=float)
    if times.ndim != 1 or not np.all(np.isfinite(times)):
        raise ValueError(f"{name}: expected a 1-D array of finite spike times (s), "
                         f"got shape {times.shape}")
    if np.any(np.diff(times) < 0):
        raise ValueError(f"{name}: expected sorted spike times")
    if times.size and (times[0] < t_start or times[-1] > t_stop):
        raise ValueError(f"{name}: expected times within [t_start={t_start}, t_stop={t_stop}] "
                         f"s, got [{times[0]}, {times[-1]}]")
    return times


def _positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive duration (s), got {value!r}")
    return float(value)


def firing_rates(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                 t_stop: float | None = None) -> np.ndarray:
    """Mean firing rate of each train over its observation window.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`as_spike_trains`.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray, shape (n_trains,)
        Spikes per second, Hz.

    Examples
    --------
    >>> firing_rates([[0.1, 0.2], []], t_stop=0.5)
    array([4., 0.])
    """
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    return np.array([float(es.mean_firing_rate(st).rescale(pq.Hz).magnitude)
                     for st in trains])


def isi_cv(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
           t_stop: float | None = None, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each train.

    ``CV = std(ISI) / mean(ISI)`` (population standard deviation): 0 for a regular train,
    about 1 for a Poisson train.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`as_spike_trains`.
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
    return _per_train_isi_statistic(es.cv, spiketrains, t_start, t_stop, min_spikes)


def local_variation(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                    t_stop: float | None = None, min_spikes: int = 3) -> np.ndarray:
    """Local variation LV of the inter-spike intervals of each train (Shinomoto et al. 2003).

    ``LV = 3 / (n - 1) * sum_i ((I_i - I_{i+1}) / (I_i + I_{i+1}))**2`` over the ``n``
    intervals: 0 for a regular train, about 1 for a Poisson train, insensitive to slow rate
    changes.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`as_spike_trains`.
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
    return _per_train_isi_statistic(es.lv, spiketrains, t_start, t_stop, min_spikes)


def _per_train_isi_statistic(statistic, spiketrains, t_start, t_stop, min_spikes
                             ) -> np.ndarray:
    if int(min_spikes) < 3:
        raise ValueError(f"min_spikes: expected an integer >= 3 (two intervals), "
                         f"got {min_spikes!r}")
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    return np.array([float(statistic(es.isi(st.magnitude))) if len(st) >= min_spikes
                     else np.nan for st in trains])


def fano_factor(spiketrains: Sequence[SpikeTrainLike], t_start: float = 0.0,
                t_stop: float | None = None) -> float:
    """Fano factor of the spike counts of one unit across trials.

    ``F = var(counts) / mean(counts)`` (population variance): 0 when every trial has the
    same count, 1 for Poisson counts.

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
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    if sum(len(st) for st in trains) == 0:
        return float("nan")
    return float(es.fanofactor(trains))


def correlation_matrix(spiketrains: Sequence[SpikeTrainLike], bin_size: float,
                       t_start: float = 0.0, t_stop: float | None = None) -> np.ndarray:
    """Pearson correlation coefficients between the binned spike counts of every pair.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains of the same window (for example all units of one trial).
    bin_size : float
        Width of the count bins, s.
    t_start, t_stop : float, optional
        Window of array inputs, s.

    Returns
    -------
    numpy.ndarray, shape (n_trains, n_trains)
        Symmetric, 1 on the diagonal of active trains; NaN in the rows and columns of
        silent trains (their variance is 0).

    Examples
    --------
    >>> correlation_matrix([[0.1, 0.5], [0.1, 0.5]], bin_size=0.01, t_stop=1.0)
    array([[1., 1.],
           [1., 1.]])
    """
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    binned = BinnedSpikeTrain(trains, bin_size=_positive("bin_size", bin_size) * pq.s)
    with warnings.catch_warnings():  # silent trains: documented NaN rows
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(correlation_coefficient(binned), dtype=float)


def population_rate(spiketrains: Sequence[SpikeTrainLike], sampling_period: float,
                    kernel_sigma: float, t_start: float = 0.0, t_stop: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous firing rate per train, averaged over the trains (kernel estimate).

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains of the same window (units of a population, possibly of several trials).
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
    >>> times, rate = population_rate([[0.5]], 0.005, 0.02, t_stop=1.0)
    >>> round(float(rate.sum() * 0.005), 2)   # one spike
    1.0
    """
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    kernel = GaussianKernel(sigma=_positive("kernel_sigma", kernel_sigma) * pq.s)
    with warnings.catch_warnings():  # elephant warns about the kernel's border mass
        warnings.simplefilter("ignore", UserWarning)
        rates = es.instantaneous_rate(
            trains, sampling_period=_positive("sampling_period", sampling_period) * pq.s,
            kernel=kernel)
    return (rates.times.rescale(pq.s).magnitude,
            rates.rescale(pq.Hz).magnitude.mean(axis=1))


def psth(spiketrains: Sequence[SpikeTrainLike], bin_size: float, t_start: float = 0.0,
         t_stop: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Peri-stimulus time histogram: the mean rate per train in consecutive bins.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        Trains aligned to the same time zero (for example one unit population over the
        trials of one type).
    bin_size : float
        Bin width, s.
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
    trains = as_spike_trains(spiketrains, t_start, t_stop)
    hist = es.time_histogram(trains, bin_size=_positive("bin_size", bin_size) * pq.s,
                             output="rate")
    return hist.times.rescale(pq.s).magnitude, hist.rescale(pq.Hz).magnitude.ravel()
