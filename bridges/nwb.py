"""Export a spiking simulation to an NWB file as the field writes it, and read it back.

Written with pynwb directly (Neo's NWBIO writer would drop the unit columns). Layout:

- **Session time**: trial ``b`` starts at ``b * (duration + dt)`` s and stops ``duration`` s
  later (``duration = n_steps * dt``); a spike of trial ``b`` at trial time ``t``
  (``0 < t <= duration``) is stored at ``start_b + t``. The one-step gap between trials
  keeps a spike at a trial's very end (the engine's last step emits spikes at exactly
  ``duration``) apart from the next trial's start.
- ``units``: **one row per model neuron** (row ``i`` is unit ``i``): ``spike_times`` of all
  trials in session time, ``obs_intervals`` (``[0, end of the last trial]``), ``unit_index``,
  ``cell_type`` ('E' or 'I'), ``excitatory`` (bool) and, when the model is given,
  ``tau_d_ms`` (synaptic decay constant, ms). ``units.resolution`` is ``dt`` (s).
- ``trials``: ``start_time``, ``stop_time``, ``scaling_factor`` and, when known,
  ``trial_type`` (text) and ``label`` (bool, int or float as the labels are, else text).
- ``stimulus/stimulus``: the task input, shape (trials * T, n_inputs), one sample per rate
  step; ``acquisition/readout`` (the spiking readout ``W_out r_spk / s``) and, when recorded,
  ``acquisition/voltages``, ``currents``, ``rates`` (shape (trials * samples, N)). All with
  session-time ``timestamps``.
- **The model** (when given) in the processing module ``spikernn_model``
  (:data:`MODEL_MODULE`): table ``network``, one row per unit aligned with ``units``, with the
  columns ``w`` (row ``i`` of the recurrent magnitudes: weights onto unit ``i``), ``w0``,
  ``sign`` (``m[i, i]``, +1 E / -1 I), ``som_m`` (row ``i`` of the mask), ``w_in``
  (row ``i``, one value per input), ``w_out`` (readout weight of unit ``i``), ``taus_gaus``,
  ``taus_gaus0``, ``tau_d_ms``, ``excitatory``; every other field of
  :class:`~spikernn.artifact.ModelArtifact` (``b_out``, ``taus``, ``activation``, ``dt_ms``,
  ``task``, ``task_settings``, ...) is under ``"model"`` in the settings JSON of ``notes``. The
  effective recurrent matrix of the spiking network is ``(relu(w) @ diag(sign)) * som_m``
  (Dale) divided by each trial's ``scaling_factor``.
- **Metadata**: ``subject`` (default :func:`default_subject`: a simulated network, species
  NCBI taxon 32630 "synthetic construct", sex 'U', age 'P0D', which passes DANDI's
  checks), ``experimenter``, ``institution``, ``lab``, ``keywords``, ``session_description``
  (all settable); ``notes`` holds the JSON text of
  :func:`spikernn.bridges.neo.settings_json`; ``was_generated_by`` names spikernn and its
  version; ``protocol`` the task; ``related_publications`` the method's paper.

Neo's :class:`neo.io.NWBIO` (neo 0.14) reads such a file as one Segment holding one
SpikeTrain per unit (session time, in unit order) and the timeseries as
IrregularlySampledSignals (their timestamps skip the gaps between trials); it cannot
read a file with ``keywords`` or ``related_publications`` (it rejects the text arrays pynwb
reads back), so :func:`read_nwb_neo` reads it through NWBIO with those two fields read as
plain lists. :func:`read_nwb` gives back a :class:`SimulationResult` (and the model).
"""

from __future__ import annotations

import datetime
import json
import numbers
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spikernn._io import atomic_path
from spikernn._version import __version__
from spikernn.artifact import ModelArtifact
from spikernn.spiking.result import SimulationResult

from .neo import (
    PAPER_DOI,
    RECORDING_UNITS,
    SavedSimulation,
    TrialInfo,
    cell_types,
    model_columns,
    model_from_parts,
    settings_json,
    trial_info,
)

try:
    from pynwb import NWBHDF5IO, NWBFile, ProcessingModule, TimeSeries
    from pynwb.file import Subject
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("spikernn.bridges.nwb needs pynwb: pip install 'spikernn[nwb]'") from exc

#: Name of the processing module holding the model.
MODEL_MODULE = "spikernn_model"
#: NCBI taxonomy term of "synthetic construct", the species of the default subject.
SYNTHETIC_SPECIES = "http://purl.obolibrary.org/obo/NCBITaxon_32630"
#: Keywords written when none are given.
DEFAULT_KEYWORDS = ("spiking neural network", "recurrent neural network", "simulation",
                    "rate-to-spike conversion")
#: Per-unit model columns (name, description) of the ``network`` table.
_NETWORK_COLUMNS = {
    "w": "recurrent weight magnitudes onto this unit (row i of w), one per presynaptic unit",
    "w0": "initial recurrent weight magnitudes onto this unit (row i of w0)",
    "sign": "+1 excitatory, -1 inhibitory (m[i, i])",
    "som_m": "connectivity mask onto this unit (row i of som_m)",
    "w_in": "input weights of this unit (row i of w_in), one per input",
    "w_out": "readout weight of this unit (w_out[0, i])",
    "taus_gaus": "raw trained time-constant parameter",
    "taus_gaus0": "raw time-constant parameter at initialisation",
    "tau_d_ms": "synaptic decay constant, ms",
    "excitatory": "True for excitatory units",
}


def trial_starts(result: SimulationResult) -> np.ndarray:
    """Session time at which each trial starts, s: ``b * (duration + dt)``."""
    return np.arange(result.batch_size) * (result.duration + result.dt)


def default_subject(model: ModelArtifact | None = None, task: str | None = None) -> Subject:
    """The subject of a simulated network, as DANDI accepts it.

    ``subject_id`` names the network (``spikernn-<task>-N<N>``), species is the NCBI taxon
    "synthetic construct" (:data:`SYNTHETIC_SPECIES`), sex 'U' (unknown), age 'P0D'.
    """
    parts = ["spikernn", task or (model.task if model is not None else None),
             None if model is None else f"N{model.N}"]
    return Subject(subject_id="-".join(p for p in parts if p).replace("/", "_"),
                   species=SYNTHETIC_SPECIES, sex="U", age="P0D",
                   description="simulated spiking recurrent network converted from a trained "
                               "rate network (not an animal)")


def result_to_nwb(result: SimulationResult, model: ModelArtifact | None = None,
                  task_name: str | None = None, labels: Sequence | None = None,
                  trial_types: Sequence[str] | None = None, stimulus: np.ndarray | None = None,
                  session_start_time: datetime.datetime | None = None,
                  identifier: str | None = None, *, subject: Subject | Mapping | None = None,
                  experimenter: str | Sequence[str] | None = None,
                  institution: str | None = None, lab: str | None = None,
                  keywords: Sequence[str] | None = None,
                  session_description: str | None = None) -> NWBFile:
    """Build an in-memory :class:`pynwb.NWBFile` holding a simulation (and its model).

    Parameters
    ----------
    result : SimulationResult
        The simulation to export.
    model : ModelArtifact, optional
        Stored in the ``spikernn_model`` module; adds the ``tau_d_ms`` unit column and the
        rate step of the stimulus.
    task_name, labels, trial_types, stimulus : optional
        Trial information; defaults to ``result.trials`` (see
        :func:`spikernn.bridges.neo.trial_info`).
    session_start_time : datetime.datetime, optional
        Time zone aware start of the "session"; now (UTC) when omitted.
    identifier : str, optional
        Unique file identifier; a random UUID when omitted.
    subject : pynwb.file.Subject or mapping, optional
        The subject (a mapping gives :class:`Subject` keyword arguments, merged over the
        default); :func:`default_subject` when omitted.
    experimenter : str or sequence of str, optional
        Names, "Last, First" form.
    institution, lab : str, optional
    keywords : sequence of str, optional
        Default :data:`DEFAULT_KEYWORDS`.
    session_description : str, optional
        Default: "spikernn spiking RNN simulation, <n> trials of task <task>".

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
    if not isinstance(subject, Subject):
        base = default_subject(model, info.task)
        fields = {k: getattr(base, k) for k in ("subject_id", "species", "sex", "age",
                                                "description")}
        subject = Subject(**{**fields, **dict(subject or {})})
    if isinstance(experimenter, str):
        experimenter = [experimenter]
    nwb = NWBFile(
        session_description=session_description or (
            f"spikernn spiking RNN simulation, {result.batch_size} trials"
            + (f" of task {info.task}" if info.task else "")),
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=session_start_time,
        notes=settings_json(result, model),
        experiment_description=f"Rate RNN converted one to one into a spiking RNN of leaky "
                               f"integrate-and-fire units (Kim, Li & Sejnowski 2019, "
                               f"{PAPER_DOI})",
        protocol=info.task, subject=subject,
        experimenter=None if experimenter is None else list(experimenter),
        institution=institution, lab=lab,
        keywords=list(DEFAULT_KEYWORDS if keywords is None else keywords),
        related_publications=[PAPER_DOI],
        was_generated_by=[["spikernn", __version__]])
    starts = trial_starts(result)
    _add_trials(nwb, result, info, starts)
    _add_units(nwb, result, model, starts)
    _add_timeseries(nwb, result, info, starts)
    if model is not None:
        _add_model(nwb, model)
    return nwb


def label_values(labels: Sequence) -> list:
    """Labels as one NWB column type: bool, int or float when all are, else text."""
    if all(isinstance(x, (bool, np.bool_)) for x in labels):
        return [bool(x) for x in labels]
    if all(isinstance(x, numbers.Integral) for x in labels):
        return [int(x) for x in labels]
    if all(isinstance(x, numbers.Real) for x in labels):
        return [float(x) for x in labels]
    return [str(x) for x in labels]


def _add_trials(nwb: NWBFile, result: SimulationResult, info: TrialInfo,
                starts: np.ndarray) -> None:
    nwb.add_trial_column("scaling_factor", "scaling factor s of the rate-to-spike conversion")
    columns: dict[str, Sequence] = {"scaling_factor": [float(s) for s in result.scaling_factors]}
    if info.trial_types is not None:
        nwb.add_trial_column("trial_type", "trial type of the task")
        columns["trial_type"] = info.trial_types
    if info.labels is not None:
        nwb.add_trial_column("label", "the task's label of the trial")
        columns["label"] = label_values(info.labels)
    for b, start in enumerate(starts):
        nwb.add_trial(start_time=float(start), stop_time=float(start + result.duration),
                      **{name: values[b] for name, values in columns.items()})


def _add_units(nwb: NWBFile, result: SimulationResult, model: ModelArtifact | None,
               starts: np.ndarray) -> None:
    nwb.units = nwb.units or _units_table(nwb, result)
    nwb.add_unit_column("unit_index", "index of the unit in the network (0-based)")
    nwb.add_unit_column("cell_type", "'E' excitatory or 'I' inhibitory (Dale's principle)")
    nwb.add_unit_column("excitatory", "True for excitatory units")
    if model is not None:
        nwb.add_unit_column("tau_d_ms", "synaptic decay constant of the unit, ms")
    # session-time spikes of every unit, sorted by unit then time, in one pass
    times = result.spike_times + starts[result.spike_trial]
    order = np.lexsort((times, result.spike_unit))
    times, units = times[order], result.spike_unit[order]
    bounds = np.searchsorted(units, np.arange(result.n_units + 1))
    # one interval over the whole session (Neo's NWBIO reads only single intervals)
    intervals = [[0.0, float(starts[-1] + result.duration)]]
    types = cell_types(result)
    for unit in range(result.n_units):
        extra = {} if model is None else {"tau_d_ms": float(model.tau_d_ms[unit])}
        nwb.add_unit(spike_times=times[bounds[unit]:bounds[unit + 1]], obs_intervals=intervals,
                     id=unit, unit_index=unit, cell_type=str(types[unit]),
                     excitatory=bool(result.exc[unit]), **extra)


def _units_table(nwb: NWBFile, result: SimulationResult):
    from pynwb.misc import Units

    return Units(name="units", description="one row per model neuron; spike times of all "
                 "trials in session time", resolution=result.dt)


def _add_timeseries(nwb: NWBFile, result: SimulationResult, info: TrialInfo,
                    starts: np.ndarray) -> None:
    def stamps(times: np.ndarray) -> np.ndarray:
        return (starts[:, None] + times[None, :]).reshape(-1)

    if info.stimulus is not None:
        data = np.concatenate(list(info.stimulus.transpose(0, 2, 1)))
        times = np.arange(info.stimulus.shape[2]) * result.stimulus_dt_ms * 1e-3
        nwb.add_stimulus(TimeSeries(
            name="stimulus", data=data, unit="n.a.", timestamps=stamps(times),
            description="task input (time, n_inputs), dimensionless; each sample held for "
                        "one rate step; trials concatenated"))
    nwb.add_acquisition(TimeSeries(
        name="readout", data=result.output.reshape(-1), unit="n.a.",
        timestamps=stamps(result.output_times),
        description="spiking readout W_out r_spk / s, dimensionless; trials concatenated"))
    for name, units in RECORDING_UNITS.items():
        trace = getattr(result, name)
        if trace is not None:
            nwb.add_acquisition(TimeSeries(
                name=name, data=trace.reshape(-1, result.n_units), unit=units,
                timestamps=stamps(result.record_times),
                description=f"recorded {name} (time, unit); trials concatenated"))


def _add_model(nwb: NWBFile, model: ModelArtifact) -> None:
    from hdmf.common import DynamicTable

    module = ProcessingModule(name=MODEL_MODULE, description="the converted rate RNN: per-unit "
                              "weights, mask and time constants (other fields in notes)")
    network = DynamicTable(name="network", description="one row per unit (aligned with the "
                           "units table); spiking weights are (relu(w) @ diag(sign)) * som_m / s",
                           id=np.arange(model.N))
    values = model_columns(model)
    for name, description in _NETWORK_COLUMNS.items():
        network.add_column(name, description, data=np.asarray(values[name]))
    module.add(network)
    nwb.add_processing_module(module)


def write_nwb(result: SimulationResult, path: str | os.PathLike,
              model: ModelArtifact | None = None, **kwargs) -> Path:
    """Write a simulation (and its model) to an NWB file, atomically.

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
        ``identifier``, ``subject``, ``experimenter``, ``institution``, ``lab``,
        ``keywords``, ``session_description``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> write_nwb(result, "trials.nwb", model, experimenter="Doe, Jane")  # doctest: +SKIP
    >>> from pynwb import NWBHDF5IO
    >>> with NWBHDF5IO("trials.nwb", "r") as io:                    # doctest: +SKIP
    ...     units = io.read().units.to_dataframe()
    """
    nwb = result_to_nwb(result, model, **kwargs)
    with atomic_path(path, suffix=".nwb") as tmp, NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwb)
    return Path(path)


# --------------------------------------------------------------------------------------
# reading back
# --------------------------------------------------------------------------------------

def read_nwb(path: str | os.PathLike) -> SavedSimulation:
    """Read an NWB file written by :func:`write_nwb` back into a simulation (and model).

    Parameters
    ----------
    path : path-like
        A ``.nwb`` file.

    Returns
    -------
    SavedSimulation

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file lacks what spikernn writes (the settings in ``notes``, the trials table).
    """
    from spikernn.spiking.params import LIFParams

    if not Path(path).is_file():
        raise FileNotFoundError(f"NWB file not found: {path}")
    with NWBHDF5IO(str(path), mode="r") as io:
        nwb = io.read()
        try:
            settings = json.loads(nwb.notes)
            dt, n_steps = float(settings["dt_s"]), int(settings["n_steps"])
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: expected the spikernn settings JSON in 'notes', "
                             f"got {str(nwb.notes)[:80]!r}") from exc
        if nwb.trials is None or nwb.units is None:
            raise ValueError(f"{path}: expected a trials and a units table, got "
                             f"trials={nwb.trials is not None}, units={nwb.units is not None}")
        trials = nwb.trials.to_dataframe()
        units = nwb.units.to_dataframe()
        readout = nwb.acquisition["readout"].data[:]
        traces = {name: nwb.acquisition[name].data[:] for name in RECORDING_UNITS
                  if name in nwb.acquisition}
        stimulus = nwb.stimulus["stimulus"].data[:] if "stimulus" in nwb.stimulus else None
        task = nwb.protocol
        model = _read_model(nwb, settings) if MODEL_MODULE in nwb.processing else None
    batch, n_units = len(trials), len(units)
    starts = trials.start_time.to_numpy()
    duration = n_steps * dt
    trial_of, unit_of, step_of = [], [], []
    for unit, times in enumerate(units.sort_values("unit_index").spike_times):
        times = np.asarray(times, dtype=float)
        b = np.searchsorted(starts, times, side="right") - 1
        trial_of.append(b)
        unit_of.append(np.full(times.size, unit))
        step_of.append(np.rint((times - starts[b]) / dt).astype(np.int64) - 1)
    trial_a, unit_a, step_a = (np.concatenate(x) if x else np.zeros(0, np.int64)
                               for x in (trial_of, unit_of, step_of))
    order = np.lexsort((unit_a, trial_a, step_a))
    exc = units.sort_values("unit_index").excitatory.to_numpy(dtype=bool)
    trials_info = TrialInfo(
        task=task, labels=trials.label.tolist() if "label" in trials else None,
        trial_types=list(trials.trial_type) if "trial_type" in trials else None,
        stimulus=None if stimulus is None else
        np.stack(np.split(np.asarray(stimulus), batch)).transpose(0, 2, 1))
    samples = readout.shape[0] // batch
    result = SimulationResult(
        output=np.asarray(readout).reshape(batch, samples),
        spike_trial=trial_a[order].astype(np.int64), spike_unit=unit_a[order].astype(np.int64),
        spike_step=step_a[order], dt=dt, n_steps=n_steps,
        downsample=int(settings["downsample"]),
        scaling_factors=trials.scaling_factor.to_numpy(dtype=float), exc=exc,
        params=LIFParams(**settings["lif_params"]), record_every=int(settings["record_every"]),
        seed=settings.get("seed"), stimulus_dt_ms=float(settings["stimulus_dt_ms"]),
        trials=trials_info,
        **{name: np.asarray(v).reshape(batch, -1, n_units) for name, v in traces.items()})
    if not np.all((result.spike_step >= 0) & (result.spike_step < n_steps)):
        raise ValueError(f"{path}: expected spikes within the trials' {duration:g} s")
    return SavedSimulation(result=result, model=model)


def _read_model(nwb: NWBFile, settings: dict[str, Any]) -> ModelArtifact:
    network = nwb.processing[MODEL_MODULE]["network"]
    return model_from_parts(settings["model"], {name: network[name].data[:]
                                                for name in _NETWORK_COLUMNS})


def read_nwb_neo(path: str | os.PathLike):
    """Read a file written by :func:`write_nwb` with Neo's :class:`neo.io.NWBIO`.

    NWBIO (neo 0.14) turns the file's fields into Block annotations and rejects the text
    arrays (``StrDataset``) pynwb gives for ``keywords``, ``experimenter`` and
    ``related_publications``; this reader passes them on as lists of str.

    Returns
    -------
    neo.Block
        One Segment holding one SpikeTrain per unit (session time, unit order) and the
        stimulus, readout and recordings as AnalogSignals.
    """
    from neo.io import NWBIO

    class _TextArraysAsLists(NWBIO):
        def _get_segment(self, block_name, segment_name):
            self.global_block_metadata = {
                k: [str(x) for x in v[:]] if hasattr(v, "dtype") and v.ndim == 1 else v
                for k, v in self.global_block_metadata.items()}
            return super()._get_segment(block_name, segment_name)

    if not Path(path).is_file():
        raise FileNotFoundError(f"NWB file not found: {path}")
    return _TextArraysAsLists(str(path), mode="r").read_block()
