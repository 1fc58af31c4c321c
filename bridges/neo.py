"""Export a spiking simulation to Neo (and through Neo to NIX files).

A :class:`~spikernn.spiking.result.SimulationResult` becomes one :class:`neo.Block`:

- one :class:`neo.Segment` per trial, annotated with ``trial``, ``task``, ``trial_type``,
  ``label``, ``scaling_factor`` and ``seed``;
- one :class:`neo.SpikeTrain` per unit and trial, in seconds, from ``t_start = 0`` to
  ``t_stop = n_steps * dt``, annotated with ``unit`` (index), ``cell_type`` ('E' or 'I') and,
  when the model is given, ``tau_d_ms`` (synaptic decay constant, ms);
- :class:`neo.AnalogSignal` objects per segment: ``readout`` (dimensionless), ``stimulus``
  (one channel per input, on the rate time base of ``dt_ms`` = 5 ms) and any recorded
  ``voltages`` (mV), ``currents`` (mV, unit resistance) and ``rates`` (Hz, the filtered
  spike trains), with the unit index and cell type of each channel as array annotations;
- two :class:`neo.Group` objects, ``excitatory`` and ``inhibitory``, holding the spike
  trains of each population across all trials.

Trial information not passed explicitly is read from ``result.trials`` (the
:class:`~spikernn.tasks.TrialInfo` the pipeline attaches: task, labels, trial types and the
stimulus on the rate time base of ``result.stimulus_dt_ms``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq

from spikernn._io import atomic_path
from spikernn._version import __version__
from spikernn.artifact import ModelArtifact
from spikernn.spiking.result import RECORDING_UNITS, SimulationResult, check_trials
from spikernn.tasks import TrialInfo

#: Citation of the method, written into exported files.
PAPER_DOI = "doi:10.1073/pnas.1905926116"


def trial_info(result: SimulationResult, model: ModelArtifact | None = None,
               task_name: str | None = None, labels: Sequence | None = None,
               trial_types: Sequence[str] | None = None, stimulus: np.ndarray | None = None
               ) -> TrialInfo:
    """The trial record to export with ``result``: ``result.trials``, fields overridden.

    Parameters
    ----------
    result : SimulationResult
        The simulation; its ``trials`` (a :class:`~spikernn.tasks.TrialInfo`) are the default.
    model : ModelArtifact, optional
        Gives the task name as a last resort; its size must match the result's.
    task_name, labels, trial_types, stimulus : optional
        Override the task name, the labels, the trial types and the stimulus (shape
        (batch, n_inputs, T), or (n_inputs, T) for every trial, on the rate time base of
        ``result.stimulus_dt_ms``).

    Returns
    -------
    TrialInfo

    Raises
    ------
    ValueError
        If labels, trial types or the stimulus do not have one entry per trial, the
        stimulus does not span the simulated time, or the model's size differs.
    """
    if model is not None and result.n_units != model.N:
        raise ValueError(f"model: expected N = {result.n_units} units (the result's), "
                         f"got N = {model.N}")
    base = result.trials if result.trials is not None else TrialInfo()
    batch = result.batch_size
    task_name = task_name if task_name is not None else base.task
    if task_name is None and model is not None:
        task_name = model.task
    if stimulus is not None:
        stimulus = np.asarray(stimulus)
        if stimulus.ndim == 2:
            stimulus = np.broadcast_to(stimulus, (batch, *stimulus.shape))
        if stimulus.ndim != 3 or stimulus.shape[0] != batch:
            raise ValueError(f"stimulus: expected shape ({batch}, n_inputs, T) or "
                             f"(n_inputs, T), got {stimulus.shape}")
    info = TrialInfo(
        task=task_name or None,
        labels=_per_trial("labels", labels, batch) if labels is not None else base.labels,
        trial_types=(_per_trial("trial_types", trial_types, batch) if trial_types is not None
                     else base.trial_types),
        stimulus=stimulus if stimulus is not None else base.stimulus)
    return check_trials(info, result)


def _per_trial(name: str, values: Sequence, batch: int) -> Sequence:
    if isinstance(values, str) or len(values) != batch:
        got = repr(values) if isinstance(values, str) else f"{len(values)} entries"
        raise ValueError(f"{name}: expected one entry per trial ({batch}), got {got}")
    return values


def cell_types(result: SimulationResult) -> np.ndarray:
    """'E' or 'I' for every unit of ``result``, shape (N,)."""
    return np.where(result.exc, "E", "I")


def settings_json(result: SimulationResult, model: ModelArtifact | None = None) -> str:
    """JSON text of what produced ``result``: spikernn version, seed, LIF parameters, dt (s),
    scaling factors and, when given, the model's construction values."""
    settings: dict[str, Any] = {
        "spikernn_version": __version__, "seed": result.seed, "dt_s": result.dt,
        "n_steps": result.n_steps, "downsample": result.downsample,
        "record_every": result.record_every, "lif_params": result.params.to_dict(),
        "scaling_factors": np.asarray(result.scaling_factors, dtype=float).tolist(),
    }
    if model is not None:
        settings["model"] = {"N": model.N, "n_inputs": model.n_inputs,
                             "activation": model.activation, "taus_steps": list(model.taus),
                             "dt_ms": model.dt_ms, "task": model.task, "seed": model.seed,
                             "version": model.version}
    return json.dumps(settings, sort_keys=True)


def result_to_block(result: SimulationResult, model: ModelArtifact | None = None,
                    task_name: str | None = None, labels: Sequence | None = None,
                    trial_types: Sequence[str] | None = None,
                    stimulus: np.ndarray | None = None) -> neo.Block:
    """Convert a simulation into a :class:`neo.Block` (one Segment per trial).

    Parameters
    ----------
    result : SimulationResult
        The simulation to export.
    model : ModelArtifact, optional
        The converted model: adds each unit's decay constant (``tau_d_ms``) and the rate
        step of the stimulus.
    task_name, labels, trial_types, stimulus : optional
        Trial information; defaults to ``result.trials`` (see :func:`trial_info`).

    Returns
    -------
    neo.Block
        Annotated with ``spikernn_version``, ``seed``, ``dt_s`` and ``settings`` (JSON text
        of :func:`settings_json`); see the module docstring for its content.

    Raises
    ------
    ValueError
        If the metadata does not match the result, or the model's size differs.

    Examples
    --------
    >>> block = result_to_block(result, model)                    # doctest: +SKIP
    >>> block.segments[0].spiketrains[3].annotations["cell_type"]  # doctest: +SKIP
    'E'
    """
    info = trial_info(result, model, task_name, labels, trial_types, stimulus)
    block = neo.Block(name="spikernn simulation", spikernn_version=__version__,
                      dt_s=result.dt, settings=settings_json(result, model),
                      related_publication=PAPER_DOI, **_without_none(seed=result.seed,
                                                                     task=info.task))
    types = cell_types(result)
    tau_d = None if model is None else model.tau_d_ms
    block.segments.extend([_segment(result, info, trial, types, tau_d)
                           for trial in range(result.batch_size)])
    for cell_type, name in (("E", "excitatory"), ("I", "inhibitory")):
        group = neo.Group(name=name, cell_type=cell_type)
        # extend() checks each train against the list as it was (linear), add() against
        # the growing list (quadratic in the number of trains)
        group.spiketrains.extend([train for segment in block.segments
                                  for train in segment.spiketrains
                                  if train.annotations["cell_type"] == cell_type])
        block.groups.append(group)
    return block


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _segment(result: SimulationResult, info: TrialInfo, trial: int, types: np.ndarray,
             tau_d: np.ndarray | None) -> neo.Segment:
    segment = neo.Segment(name=f"trial {trial}", trial=trial,
                          scaling_factor=float(result.scaling_factors[trial]),
                          **_without_none(seed=result.seed), **info.trial(trial))
    segment.spiketrains.extend([neo.SpikeTrain(
        times, units="s", t_start=0.0, t_stop=result.duration, name=f"unit {unit}",
        unit=unit, cell_type=str(types[unit]),
        **({} if tau_d is None else {"tau_d_ms": float(tau_d[unit])}))
        for unit, times in enumerate(result.spike_trains(trial))])
    period = result.downsample * result.dt
    segment.analogsignals.append(neo.AnalogSignal(
        result.output[trial][:, None], units=pq.dimensionless, sampling_period=period * pq.s,
        t_start=period * pq.s, name="readout", description="spiking readout W_out r_spk / s"))
    if info.stimulus is not None:
        segment.analogsignals.append(neo.AnalogSignal(
            info.stimulus[trial].T, units=pq.dimensionless,
            sampling_period=result.stimulus_dt_ms * 1e-3 * pq.s, t_start=0.0 * pq.s,
            name="stimulus",
            description="task input, each sample held for one rate step"))
    channels = {"unit": np.arange(result.n_units), "cell_type": types}
    record_period = result.record_every * result.dt
    for name, units in RECORDING_UNITS.items():
        trace = getattr(result, name)
        if trace is not None:
            segment.analogsignals.append(neo.AnalogSignal(
                trace[trial], units=units, sampling_period=record_period * pq.s,
                t_start=record_period * pq.s, name=name, array_annotations=channels))
    return segment


def write_nix(block: neo.Block, path: str | os.PathLike) -> Path:
    """Write ``block`` to a NIX file (:class:`neo.io.NixIO`, mode 'ow'), atomically.

    Parameters
    ----------
    block : neo.Block
        For example from :func:`result_to_block`.
    path : path-like
        Destination (conventionally ``*.nix``); replaced only once the write succeeded.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from neo.io import NixIO

    with atomic_path(path, suffix=".nix") as tmp, NixIO(str(tmp), mode="ow") as io:
        io.write_block(block)
    return Path(path)


def read_nix(path: str | os.PathLike) -> neo.Block:
    """Read the (first) block of a NIX file written by :func:`write_nix`.

    Parameters
    ----------
    path : path-like
        A ``.nix`` file.

    Returns
    -------
    neo.Block
        Fully loaded (not lazy); the file is closed on return.
    """
    from neo.io import NixIO

    if not Path(path).is_file():
        raise FileNotFoundError(f"NIX file not found: {path}")
    with NixIO(str(path), mode="ro") as io:
        return io.read_block()
