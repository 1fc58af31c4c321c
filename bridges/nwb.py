"""Export a spiking simulation to an NWB file, written with pynwb directly.

pynwb keeps more than Neo's NWBIO writer would (it drops SpikeTrain annotations, so the
cell type and decay constant of each unit would be lost). Layout of the file:

- Trials lie end to end on the file's time axis: trial ``b`` spans
  ``[b * duration, (b + 1) * duration]`` s, ``duration = n_steps * dt``. A spike at time
  ``t`` of trial ``b`` is stored at ``b * duration + t`` (a spike at the very end of a
  trial shares its time with the start of the next; ``trial_index`` tells them apart).
- ``units``: one row per (trial, unit) with ``spike_times`` (s, session time),
  ``obs_intervals`` (the trial's interval) and the columns ``unit_index``, ``trial_index``,
  ``cell_type`` ('E' or 'I') and, when the model is given, ``tau_d_ms`` (decay constant, ms).
- ``trials``: ``start_time``, ``stop_time``, ``scaling_factor`` and, when known,
  ``trial_type`` and ``label`` (numbers, or text when any label is not a number).
- ``stimulus/stimulus``: the task input, shape (batch * T, n_inputs), one sample per rate
  step (5 ms), trials concatenated.
- ``acquisition/readout``: the spiking readout ``W_out r_spk / s``, trials concatenated,
  and ``acquisition/voltages``, ``currents``, ``rates`` (shape (batch * samples, N)) when
  they were recorded. Acquisition (not a processing module) is used because it holds what
  the simulation produced, and it is what Neo's NWBIO reads.
- File metadata: ``notes`` holds the JSON text of
  :func:`spikernn.bridges.neo.settings_json` (seed, LIF parameters, scaling factors,
  spikernn version); ``was_generated_by`` names spikernn and its version; ``protocol`` the
  task; ``experiment_description`` cites the method's paper. (``keywords`` and
  ``related_publications`` are left empty: pynwb reads them back as datasets, on which
  Neo's NWBIO reader fails.)

What Neo's :class:`neo.io.NWBIO` (neo 0.14) reads back from such a file (tested): one Block
and one Segment, both named 'default', holding one unnamed SpikeTrain per row of ``units``
with the spike times unchanged (session time) and ``t_start``/``t_stop`` from
``obs_intervals``, and every timeseries of ``acquisition`` and ``stimulus`` as an
AnalogSignal (names and units kept; it logs "Can't handle unit 'dimensionles'" for the
dimensionless stimulus and readout and reads them as dimensionless). The file fields
(``notes``, ``protocol``, ``identifier``, ...) become Block annotations. It reads neither the
trials table nor the unit columns (cell type, unit and trial index, decay constant): use
pynwb (``nwb.units.to_dataframe()``, ``nwb.trials.to_dataframe()``) for those.
"""

from __future__ import annotations

import datetime
import numbers
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pynwb import NWBHDF5IO, NWBFile, TimeSeries

from spikernn._io import atomic_path
from spikernn._version import __version__
from spikernn.artifact import ModelArtifact
from spikernn.spiking.result import SimulationResult

from .neo import PAPER_DOI, RECORDING_UNITS, TrialInfo, cell_types, settings_json, trial_info


def result_to_nwb(result: SimulationResult, model: ModelArtifact | None = None,
                  task_name: str | None = None, labels: Sequence | None = None,
                  trial_types: Sequence[str] | None = None, stimulus: np.ndarray | None = None,
                  session_start_time: datetime.datetime | None = None,
                  identifier: str | None = None) -> NWBFile:
    """Build an in-memory :class:`pynwb.NWBFile` holding a simulation.

    Parameters
    ----------
    result : SimulationResult
        The simulation to export.
    model : ModelArtifact, optional
        Adds the ``tau_d_ms`` column (per-unit decay constant, ms) and the rate step of the
        stimulus.
    task_name, labels, trial_types, stimulus : optional
        Trial information; defaults to ``result.trials`` (see
        :func:`spikernn.bridges.neo.trial_info`).
    session_start_time : datetime.datetime, optional
        Time zone aware start of the "session"; now (UTC) when omitted.
    identifier : str, optional
        Unique file identifier; a random UUID when omitted.

    Returns
    -------
    pynwb.NWBFile
        See the module docstring for the layout.

    Raises
    ------
    ValueError
        If the metadata does not match the result, the model's size differs, or
        ``session_start_time`` has no time zone.
    """
    if session_start_time is None:
        session_start_time = datetime.datetime.now(datetime.timezone.utc)
    if session_start_time.tzinfo is None:
        raise ValueError(f"session_start_time: expected a time zone aware datetime, "
                         f"got {session_start_time!r}")
    info = trial_info(result, model, task_name, labels, trial_types, stimulus)
    nwb = NWBFile(
        session_description=f"spikernn spiking RNN simulation, {result.batch_size} trials"
                            + (f" of task {info.task}" if info.task else ""),
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=session_start_time,
        notes=settings_json(result, model),
        experiment_description=f"Rate RNN converted one to one into a spiking RNN (Kim, Li & "
                               f"Sejnowski 2019, {PAPER_DOI})",
        protocol=info.task,
        was_generated_by=[["spikernn", __version__]])
    starts = np.arange(result.batch_size) * result.duration
    _add_trials(nwb, result, info, starts)
    _add_units(nwb, result, model, starts)
    _add_timeseries(nwb, result, info)
    return nwb


def _add_trials(nwb: NWBFile, result: SimulationResult, info: TrialInfo,
                starts: np.ndarray) -> None:
    nwb.add_trial_column("scaling_factor", "scaling factor s of the rate-to-spike conversion")
    columns: dict[str, Sequence] = {"scaling_factor": [float(s) for s in result.scaling_factors]}
    if info.trial_types is not None:
        nwb.add_trial_column("trial_type", "trial type of the task")
        columns["trial_type"] = info.trial_types
    if info.labels is not None:
        numeric = all(isinstance(x, numbers.Real) for x in info.labels)
        nwb.add_trial_column("label", "the task's label of the trial")
        columns["label"] = ([float(x) for x in info.labels] if numeric
                            else [str(x) for x in info.labels])
    for b, start in enumerate(starts):
        nwb.add_trial(start_time=float(start), stop_time=float(start + result.duration),
                      **{name: values[b] for name, values in columns.items()})


def _add_units(nwb: NWBFile, result: SimulationResult, model: ModelArtifact | None,
               starts: np.ndarray) -> None:
    nwb.add_unit_column("unit_index", "index of the unit in the network (0-based)")
    nwb.add_unit_column("trial_index", "index of the trial (0-based; row of the trials table)")
    nwb.add_unit_column("cell_type", "'E' excitatory or 'I' inhibitory (Dale's principle)")
    tau_d = None
    if model is not None:
        nwb.add_unit_column("tau_d_ms", "synaptic decay constant of the unit, ms")
        tau_d = model.tau_d_ms
    types = cell_types(result)
    for trial, start in enumerate(starts):
        interval = [[float(start), float(start + result.duration)]]
        for unit, times in enumerate(result.spike_trains(trial)):
            extra = {} if tau_d is None else {"tau_d_ms": float(tau_d[unit])}
            nwb.add_unit(spike_times=start + times, obs_intervals=interval, unit_index=unit,
                         trial_index=trial, cell_type=str(types[unit]), **extra)


def _add_timeseries(nwb: NWBFile, result: SimulationResult, info: TrialInfo) -> None:
    if info.stimulus is not None:
        data = np.concatenate(list(info.stimulus.transpose(0, 2, 1)))
        nwb.add_stimulus(TimeSeries(
            name="stimulus", data=data, unit="dimensionless", rate=1e3 / result.stimulus_dt_ms,
            starting_time=0.0, description="task input (time, n_inputs); each sample held "
                                           "for one rate step; trials concatenated"))
    period = result.downsample * result.dt
    nwb.add_acquisition(TimeSeries(
        name="readout", data=result.output.reshape(-1), unit="dimensionless", rate=1.0 / period,
        starting_time=period, description="spiking readout W_out r_spk / s; trials "
                                          "concatenated"))
    record_period = result.record_every * result.dt
    for name, units in RECORDING_UNITS.items():
        trace = getattr(result, name)
        if trace is not None:
            nwb.add_acquisition(TimeSeries(
                name=name, data=trace.reshape(-1, result.n_units), unit=units,
                rate=1.0 / record_period, starting_time=record_period,
                description=f"recorded {name} (time, unit); trials concatenated"))


def write_nwb(result: SimulationResult, path: str | os.PathLike,
              model: ModelArtifact | None = None, **kwargs) -> Path:
    """Write a simulation to an NWB file, atomically.

    Parameters
    ----------
    result : SimulationResult
        The simulation to export.
    path : path-like
        Destination (conventionally ``*.nwb``); replaced only once the write succeeded.
    model : ModelArtifact, optional
        See :func:`result_to_nwb`.
    **kwargs
        Passed to :func:`result_to_nwb` (trial metadata, ``session_start_time``,
        ``identifier``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> write_nwb(result, "trials.nwb", model)                      # doctest: +SKIP
    >>> from pynwb import NWBHDF5IO
    >>> with NWBHDF5IO("trials.nwb", "r") as io:                    # doctest: +SKIP
    ...     units = io.read().units.to_dataframe()
    """
    nwb = result_to_nwb(result, model, **kwargs)
    with atomic_path(path, suffix=".nwb") as tmp, NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwb)
    return Path(path)
