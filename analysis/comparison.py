"""The rate-versus-spiking comparison at the heart of the conversion method.

The one-to-one conversion (Kim, Li & Sejnowski 2019) divides the recurrent and readout
weights by the scaling factor ``s``, so a converted network works when each unit's
synaptically filtered spike train, divided by ``s``, follows the rate model's ``r(t)`` on the
same stimulus: ``r_i(t) ~ r_spk_i(t) / s``. This module puts both on the rate model's time
grid and measures their agreement per unit and at the readout.

Time alignment: the rate model's sample ``r[t]`` (``t = 0 .. T-1``, steps of ``dt_rate``,
5 ms) has integrated the inputs ``u[0 .. t-1]``; the spiking network holds input sample
``k`` during ``[k, k + 1) * dt_rate``. Sample ``t`` is therefore compared with the spiking
state at time ``t * dt_rate``, for ``t = 1 .. T-1`` (the random initial state ``t = 0`` is
left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.signal import lfilter

from spikernn.artifact import ModelArtifact
from spikernn.spiking.result import SimulationResult
from spikernn.spiking.synapse import synaptic_filter


class RateTraces(Protocol):
    """What the comparison reads of a rate-model run (``spikernn.rate.RateResult``)."""

    output: np.ndarray  # (batch, T)
    rates: np.ndarray   # (batch, T, N)


@dataclass(frozen=True)
class AlignedTraces:
    """Rate-model and spiking traces on the rate model's time grid.

    Attributes
    ----------
    times : numpy.ndarray, shape (T - 1,)
        Sample times ``t * dt_rate``, s.
    rate : numpy.ndarray, shape (batch, T - 1, N)
        The rate model's ``r(t)``.
    spiking : numpy.ndarray, shape (batch, T - 1, N)
        Filtered spike trains divided by each trial's scaling factor, ``r_spk / s``.
    rate_output, spiking_output : numpy.ndarray, shape (batch, T - 1)
        Readouts: ``W_out r + b_out`` (rate) and ``W_out r_spk / s`` (spiking, no bias).
    """

    times: np.ndarray
    rate: np.ndarray
    spiking: np.ndarray
    rate_output: np.ndarray
    spiking_output: np.ndarray


def filter_spikes(result: SimulationResult, tau_d_ms: np.ndarray, trial: int,
                  sample_every: int = 1) -> np.ndarray:
    """Synaptically filtered spike trains of one trial (the paper's ``r_spk``).

    Applies, every integration step ``dt``, the filter of Kim et al. (2019, SI) with each
    unit's decay constant: double exponential
    ``s <- s exp(-dt/tau_d) + h dt;  h <- h exp(-dt/tau_r) + spike / (tau_r tau_d)``, or
    single exponential ``s <- s exp(-dt/tau_d) + spike / tau_d`` (as
    ``result.params.synapse`` says). Use it when ``result.rates`` was not recorded; it
    matches the engine's trace up to the order of updates within one step.

    Parameters
    ----------
    result : SimulationResult
        The simulation.
    tau_d_ms : numpy.ndarray, shape (N,)
        Synaptic decay constant of each unit, ms (``ModelArtifact.tau_d_ms``).
    trial : int
        Which trial.
    sample_every : int
        Keep the state after every ``sample_every``-th step (times ``sample_every * dt,
        2 * sample_every * dt, ...``).

    Returns
    -------
    numpy.ndarray, shape (n_steps // sample_every, N)
        Filtered spike trains, 1/s.

    Raises
    ------
    ValueError
        If ``tau_d_ms`` does not hold N positive values or ``sample_every`` < 1.

    Examples
    --------
    >>> r = filter_spikes(result, model.tau_d_ms, trial=0, sample_every=100)  # doctest: +SKIP
    """
    tau_d = np.asarray(tau_d_ms, dtype=float) / 1000.0
    if tau_d.shape != (result.n_units,) or not np.all(tau_d > 0):
        raise ValueError(f"tau_d_ms: expected {result.n_units} positive values (ms), "
                         f"got shape {tau_d.shape}")
    if int(sample_every) < 1:
        raise ValueError(f"sample_every: expected a positive integer, got {sample_every!r}")
    raster = result.dense_spikes(trial).astype(float)
    filtered = np.empty_like(raster)
    synapse = synaptic_filter(tau_d, result.params)
    for tau in np.unique(tau_d):
        units = tau_d == tau
        b, a = synapse.transfer_function(int(np.flatnonzero(units)[0]))
        filtered[:, units] = lfilter(b, a, raster[:, units], axis=0)
    return filtered[sample_every - 1::sample_every]


def align_traces(result: SimulationResult, rate_result: RateTraces,
                 model: ModelArtifact | None = None) -> AlignedTraces:
    """Put a rate-model run and a spiking run of the same stimuli on one time grid.

    Parameters
    ----------
    result : SimulationResult
        The spiking run. Its ``rates`` recording is used when present (sampled every
        ``record_every`` steps, which must divide the rate step); otherwise the spikes are
        filtered with :func:`filter_spikes`, which needs ``model``.
    rate_result : RateResult
        The rate model on the same stimuli: ``output`` (batch, T), ``rates`` (batch, T, N).
    model : ModelArtifact, optional
        Supplies the decay constants when ``result.rates`` is absent.

    Returns
    -------
    AlignedTraces

    Raises
    ------
    ValueError
        If the shapes disagree, ``T`` rate steps do not span the simulated time in whole
        multiples of the spiking samples, or neither rates nor a model are given.
    """
    rates, output = np.asarray(rate_result.rates), np.asarray(rate_result.output)
    batch, n_units = result.batch_size, result.n_units
    if rates.ndim != 3 or rates.shape[0] != batch or rates.shape[2] != n_units:
        raise ValueError(f"rate_result.rates: expected shape ({batch}, T, {n_units}), "
                         f"got {rates.shape}")
    n_rate = rates.shape[1]
    if output.shape != (batch, n_rate):
        raise ValueError(f"rate_result.output: expected shape ({batch}, {n_rate}), "
                         f"got {output.shape}")
    steps_per_sample = _steps_per_rate_sample(result, n_rate)
    if steps_per_sample % result.downsample:
        raise ValueError(f"result.downsample: expected a divisor of the rate step "
                         f"({steps_per_sample} steps), got {result.downsample}")
    stride = steps_per_sample // result.downsample
    scale = np.asarray(result.scaling_factors, dtype=float)[:, None, None]
    spiking = _spiking_rates(result, model, steps_per_sample) / scale
    return AlignedTraces(
        times=np.arange(1, n_rate) * steps_per_sample * result.dt,
        rate=rates[:, 1:], spiking=spiking[:, : n_rate - 1],
        rate_output=output[:, 1:],
        spiking_output=np.asarray(result.output)[:, stride - 1::stride][:, : n_rate - 1])


def _steps_per_rate_sample(result: SimulationResult, n_rate: int) -> int:
    steps = result.clock.steps_per_rate_step
    if n_rate < 2 or n_rate * steps != result.n_steps:
        raise ValueError(f"rate_result: expected T = {result.n_steps // steps} >= 2 rate "
                         f"steps ({steps} integration steps each), got T = {n_rate}")
    return steps


def _spiking_rates(result: SimulationResult, model: ModelArtifact | None,
                   steps_per_sample: int) -> np.ndarray:
    """Filtered spike trains at every rate step, shape (batch, T, N), 1/s."""
    if result.rates is not None:
        if steps_per_sample % result.record_every:
            raise ValueError(f"result.record_every: expected a divisor of the rate step "
                             f"({steps_per_sample} steps), got {result.record_every}")
        stride = steps_per_sample // result.record_every
        return np.asarray(result.rates)[:, stride - 1::stride]
    if model is None:
        raise ValueError("model: expected the model (for its decay constants) when the result "
                         "holds no recorded 'rates', got None")
    return np.stack([filter_spikes(result, model.tau_d_ms, b, steps_per_sample)
                     for b in range(result.batch_size)])


def pearson_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``x`` with the same column of ``y``.

    Parameters
    ----------
    x, y : numpy.ndarray, shape (n_samples, n_columns)

    Returns
    -------
    numpy.ndarray, shape (n_columns,)
        NaN where either column is constant.

    Examples
    --------
    >>> pearson_columns(np.array([[0., 1.], [1., 1.], [2., 1.]]),
    ...                 np.array([[1., 0.], [3., 1.], [5., 2.]]))
    array([ 1., nan])
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"x, y: expected two arrays of one 2-D shape, got {x.shape} and "
                         f"{y.shape}")
    dx, dy = x - x.mean(axis=0), y - y.mean(axis=0)
    denom = np.sqrt((dx ** 2).sum(axis=0) * (dy ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (dx * dy).sum(axis=0) / denom
    return np.where(denom > 0, corr, np.nan)


def compare_rate_and_spiking(result: SimulationResult, rate_result: RateTraces,
                             model: ModelArtifact | None = None,
                             trial_types: Sequence[str] | None = None
                             ) -> dict[str, np.ndarray | float]:
    """Agreement of the rate model and its spiking conversion on the same stimuli.

    Parameters
    ----------
    result : SimulationResult
        The spiking run.
    rate_result : RateResult
        The rate model on the same stimuli (``spikernn.rate.run_rate_model``).
    model : ModelArtifact, optional
        Needed when ``result.rates`` was not recorded (see :func:`align_traces`).
    trial_types : sequence of str, optional
        Trial type of each trial, for ``unit_correlation_trial_mean``; all trials form one
        group when omitted.

    Returns
    -------
    dict
        ``unit_correlation`` (N,): Pearson correlation of ``r_i(t)`` with ``r_spk_i(t) / s``
        over all trials and samples (NaN for a unit constant in either model; both models
        carry their own noise, which lowers it); ``unit_correlation_trial_mean`` (N,): the
        same for the traces averaged over the trials of each type (concatenated over
        types), which averages the noise out;
        ``unit_rmse`` (N,): their root-mean-square difference; ``readout_correlation``
        and ``readout_rmse``: the same for the readouts (the spiking readout has no bias,
        as in the paper, so the RMSE includes ``b_out``); ``readout_correlation_per_trial``
        (batch,).

    Examples
    --------
    >>> stats = compare_rate_and_spiking(result, run_rate_model(model, stim, seed=0),
    ...                                  model)                       # doctest: +SKIP
    >>> stats["unit_correlation"].shape                               # doctest: +SKIP
    (200,)
    """
    traces = align_traces(result, rate_result, model)
    n_units = result.n_units
    rate = traces.rate.reshape(-1, n_units)
    spiking = traces.spiking.reshape(-1, n_units)
    groups = _group_means(traces, trial_types)
    return {
        "unit_correlation": pearson_columns(rate, spiking),
        "unit_correlation_trial_mean": pearson_columns(*groups),
        "unit_rmse": np.sqrt(np.mean((rate - spiking) ** 2, axis=0)),
        "readout_correlation": float(pearson_columns(traces.rate_output.reshape(-1, 1),
                                                     traces.spiking_output.reshape(-1, 1))[0]),
        "readout_rmse": float(np.sqrt(np.mean((traces.rate_output
                                               - traces.spiking_output) ** 2))),
        "readout_correlation_per_trial": pearson_columns(traces.rate_output.T,
                                                         traces.spiking_output.T),
    }


def _group_means(traces: AlignedTraces, trial_types: Sequence[str] | None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Rate and spiking traces averaged within each trial type, shape (types * T', N)."""
    batch, _, n_units = traces.rate.shape
    types = np.asarray(["all"] * batch if trial_types is None else list(trial_types))
    if types.shape != (batch,):
        raise ValueError(f"trial_types: expected {batch} names (one per trial), "
                         f"got {types.size}")
    names = list(dict.fromkeys(types.tolist()))
    rate = np.concatenate([traces.rate[types == n].mean(axis=0) for n in names])
    spiking = np.concatenate([traces.spiking[types == n].mean(axis=0) for n in names])
    return rate.reshape(-1, n_units), spiking.reshape(-1, n_units)
