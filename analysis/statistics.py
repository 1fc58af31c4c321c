"""Spike-train statistics, computed with Elephant.

Every function takes plain inputs: a sequence of spike trains, each either a
:class:`neo.SpikeTrain` or a 1-D array of sorted spike times in seconds, sharing one
observation window ``[t_start, t_stop]`` (taken from Neo trains, or given as arguments for
arrays), and returns numpy arrays in the units stated (s, Hz). Statistics that are
undefined for a train (too few spikes, a silent unit) are NaN.

Elephant computes the intervals, LV, Fano factor, count correlations and kernel rate
estimates. The population rate pools the trains' spikes into one train first, which gives
the same mean per train at a fraction of the cost. The ISI CV is computed with numpy and
equals ``elephant.statistics.cv`` (SciPy's ``variation``) without its per-call overhead.
Spike counts in bins (:func:`binned_counts`, used by the PSTH and the correlations) count a
spike at the end of the window in the last bin (the engine's last step emits spikes at
exactly ``t_stop``), where Elephant's binning would drop it.

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
        t_start = float(first.t_start.rescale(pq.s).magnitude)
        t_stop = float(first.t_stop.rescale(pq.s).magnitude)
    if t_stop is None:
        raise ValueError("t_stop: expected the end of the observation window (s) for spike "
                         "trains given as arrays, got None")
    if not t_stop > t_start:
        raise ValueError(f"t_stop: expected a time after t_start={t_start} s, got {t_stop}")
    times = []
    for i, train in enumerate(spiketrains):
        if isinstance(train, neo.SpikeTrain):
            window = (float(train.t_start.rescale(pq.s).magnitude),
                      float(train.t_stop.rescale(pq.s).magnitude))
            if window != (t_start, t_stop):
                raise ValueError(f"spiketrains[{i}]: expected the window [{t_start}, {t_stop}] "
                                 f"s of the first train, got {list(window)}")
            train = train.times.rescale(pq.s).magnitude
        times.append(_check_times(f"spiketrains[{i}]", train, t_start, t_stop))
    return times, float(t_start), float(t_stop)


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


def _pooled(times: list[np.ndarray], t_start: float, t_stop: float) -> neo.SpikeTrain:
    """All spikes of ``times`` as one sorted Neo train (for the population rate)."""
    return neo.SpikeTrain(np.sort(np.concatenate(times)), units="s", t_start=t_start,
                          t_stop=t_stop)


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
    return np.array([t.size for t in times], dtype=float) / (t_stop - t_start)


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
    if sum(t.size for t in times) == 0:
        return float("nan")
    return float(es.fanofactor(times))


def binned_counts(spiketrains: Sequence[SpikeTrainLike], bin_size: float,
                  t_start: float = 0.0, t_stop: float | None = None) -> np.ndarray:
    """Spike counts of each train in consecutive bins ``[t_start + k * bin_size, ...)``.

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or array-like
        See :func:`spike_time_arrays`.
    bin_size : float
        Bin width, s; the window holds ``floor(duration / bin_size)`` whole bins (a spike at
        their end counts in the last bin, later spikes are dropped).
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
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    return _bin(times, t_start, t_stop, _positive("bin_size", bin_size))


def _bin(times: list[np.ndarray], t_start: float, t_stop: float, bin_size: float
         ) -> np.ndarray:
    n_bins = int(np.floor((t_stop - t_start) / bin_size + 1e-9))
    if n_bins < 1:
        raise ValueError(f"bin_size: expected at most the window ({t_stop - t_start} s), "
                         f"got {bin_size}")
    rows = np.repeat(np.arange(len(times)), [t.size for t in times])
    spikes = np.concatenate(times)
    index = np.floor((spikes - t_start) / bin_size + 1e-9).astype(np.int64)
    at_end = np.isclose(spikes, t_start + n_bins * bin_size, rtol=0.0, atol=1e-9 * bin_size)
    index[at_end] = n_bins - 1
    keep = index < n_bins
    counts = np.zeros((len(times), n_bins), dtype=np.int64)
    np.add.at(counts, (rows[keep], index[keep]), 1)
    return counts


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
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    bin_size = _positive("bin_size", bin_size)
    binned = BinnedSpikeTrain(_bin(times, t_start, t_stop, bin_size), bin_size=bin_size * pq.s,
                              t_start=t_start * pq.s)
    with warnings.catch_warnings():  # constant rows: documented NaN
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(correlation_coefficient(binned), dtype=float)


def population_rate(spiketrains: Sequence[SpikeTrainLike], sampling_period: float,
                    kernel_sigma: float, t_start: float = 0.0, t_stop: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous firing rate per train, averaged over the trains (Gaussian kernel).

    The kernel's mass lost beyond the window's edges is corrected for (Elephant's
    ``border_correction``).

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
    times, t_start, t_stop = spike_time_arrays(spiketrains, t_start, t_stop)
    kernel = GaussianKernel(sigma=_positive("kernel_sigma", kernel_sigma) * pq.s)
    with warnings.catch_warnings():  # elephant warns about the kernel's border mass
        warnings.simplefilter("ignore", UserWarning)
        rate = es.instantaneous_rate(
            _pooled(times, t_start, t_stop),
            sampling_period=_positive("sampling_period", sampling_period) * pq.s,
            kernel=kernel, border_correction=True)
    return (rate.times.rescale(pq.s).magnitude,
            rate.rescale(pq.Hz).magnitude.ravel() / len(times))


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
    counts = _bin([np.concatenate(times)], t_start, t_stop, bin_size)[0]
    return t_start + np.arange(counts.size) * bin_size, counts / (len(times) * bin_size)
