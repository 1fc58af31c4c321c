"""Export a spiking simulation to Neo (and through Neo to NIX files).

A :class:`~spikernn.spiking.result.SimulationResult` becomes one :class:`neo.Block`:

- one :class:`neo.Segment` per trial, annotated with ``trial``, ``task``, ``trial_type``,
  ``label``, ``scaling_factor`` and ``seed``;
- one :class:`neo.SpikeTrain` per unit and trial, in seconds of trial time, on the window
  ``[dt, n_steps * dt + dt)`` (:func:`trial_window`: every spike inside, Elephant drops
  none), ``sampling_rate = 1 / dt``, annotated with ``unit`` (index), ``cell_type`` ('E' or
  'I') and, when the model is given, ``tau_d_ms`` (synaptic decay constant, ms);
- :class:`neo.AnalogSignal` objects per segment, all starting at ``t = 0`` with the initial
  state as sample 0 (readout 0, voltages ``v0``, currents and rates 0), so they cover the
  trains' window on the same clock (``elephant.sta`` works): ``readout`` (dimensionless),
  ``stimulus`` (one channel per input, on the rate time base of ``dt_ms`` = 5 ms) and any
  recorded ``voltages`` (mV), ``currents`` (mV, unit resistance) and ``rates`` (Hz, the
  filtered spike trains), with the unit index and cell type of each channel as array
  annotations;
- one :class:`neo.Group` per unit (``"unit <i>"``, annotated with ``unit``, ``cell_type``
  and, when the model is given, the unit's model values: ``w`` (weights onto the unit), ``w0``,
  ``sign``, ``som_m``, ``w_in``, ``w_out``, ``taus_gaus``, ``taus_gaus0``, ``tau_d_ms``,
  ``excitatory``) holding its train of every trial, then two Groups ``excitatory`` and
  ``inhibitory`` holding the trains of each population across all trials. The model's other
  fields are under ``"model"`` in the block's ``settings`` JSON.

Trial information not passed explicitly is read from ``result.trials`` (the
:class:`~spikernn.tasks.TrialInfo` the pipeline attaches: task, labels, trial types and the
stimulus on the rate time base of ``result.stimulus_dt_ms``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo
import numpy as np
import quantities as pq

from spikernn._io import atomic_path, to_plain
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
        "stimulus_dt_ms": result.stimulus_dt_ms,
        "n_steps": result.n_steps, "downsample": result.downsample,
        "record_every": result.record_every, "lif_params": result.params.to_dict(),
        "scaling_factors": np.asarray(result.scaling_factors, dtype=float).tolist(),
    }
    if model is not None:
        settings["model"] = model_parameters(model)
    return json.dumps(settings, sort_keys=True)


#: Fields of :class:`ModelArtifact` that are not per-unit arrays (kept in the settings JSON).
MODEL_SCALAR_FIELDS = ("b_out", "taus", "som_N", "apply_dale", "activation", "dt_ms", "task",
                       "task_settings", "seed", "P_inh", "P_rec", "gain", "w_dist", "training",
                       "opt_scaling_factor", "scaling_factors", "all_perfs", "version")


def model_parameters(model: ModelArtifact) -> dict[str, Any]:
    """JSON-ready values of the model's non-array fields, plus ``N``, ``n_inputs`` and
    ``taus_steps``."""
    values = {name: to_plain(getattr(model, name)) for name in MODEL_SCALAR_FIELDS}
    return {"N": model.N, "n_inputs": model.n_inputs, "taus_steps": list(model.taus), **values}


def model_from_parts(parameters: dict[str, Any], columns: dict[str, np.ndarray]
                     ) -> ModelArtifact:
    """Rebuild a :class:`ModelArtifact` from :func:`model_parameters` and per-unit columns.

    ``columns`` holds ``w``, ``w0``, ``som_m`` (rows), ``sign`` (+1/-1), ``w_in`` (rows),
    ``w_out``, ``taus_gaus``, ``taus_gaus0`` and ``excitatory``, one entry per unit.
    """
    values = {name: parameters[name] for name in MODEL_SCALAR_FIELDS}
    values["taus"] = tuple(float(t) for t in values["taus"])
    for name in ("scaling_factors", "all_perfs"):
        if values[name] is not None:
            values[name] = np.asarray(values[name], dtype=float)
    exc = np.asarray(columns["excitatory"], dtype=bool)
    return ModelArtifact(
        w=np.asarray(columns["w"], dtype=float), w0=np.asarray(columns["w0"], dtype=float),
        m=np.diag(np.asarray(columns["sign"], dtype=float)),
        som_m=np.asarray(columns["som_m"], dtype=float),
        w_in=np.asarray(columns["w_in"], dtype=float).reshape(exc.size, -1),
        w_out=np.asarray(columns["w_out"], dtype=float).reshape(1, -1), inh=~exc, exc=exc,
        taus_gaus=np.asarray(columns["taus_gaus"], dtype=float),
        taus_gaus0=np.asarray(columns["taus_gaus0"], dtype=float), **values)


#: Names of the per-unit model arrays (:func:`model_columns`).
_MODEL_COLUMN_NAMES = frozenset({"w", "w0", "sign", "som_m", "w_in", "w_out", "taus_gaus",
                                 "taus_gaus0", "tau_d_ms", "excitatory"})


def model_columns(model: ModelArtifact) -> dict[str, np.ndarray]:
    """The per-unit arrays :func:`model_from_parts` needs, one entry (row) per unit."""
    return {"w": model.w, "w0": model.w0, "sign": np.diag(model.m), "som_m": model.som_m,
            "w_in": model.w_in, "w_out": model.w_out[0], "taus_gaus": model.taus_gaus,
            "taus_gaus0": model.taus_gaus0, "tau_d_ms": model.tau_d_ms,
            "excitatory": np.asarray(model.exc, dtype=bool)}


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
    columns = None if model is None else model_columns(model)
    for unit in range(result.n_units):
        group = neo.Group(name=f"unit {unit}", unit=unit, cell_type=str(types[unit]),
                          **({} if columns is None else
                             {k: to_plain(v[unit]) if np.ndim(v[unit]) == 0 else np.asarray(v[unit])
                              for k, v in columns.items()}))
        # extend() checks each train against the list as it was (linear), add() against
        # the growing list (quadratic in the number of trains)
        group.spiketrains.extend([segment.spiketrains[unit] for segment in block.segments])
        block.groups.append(group)
    for cell_type, name in (("E", "excitatory"), ("I", "inhibitory")):
        group = neo.Group(name=name, cell_type=cell_type)
        group.spiketrains.extend([train for segment in block.segments
                                  for train in segment.spiketrains
                                  if train.annotations["cell_type"] == cell_type])
        block.groups.append(group)
    return block


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def trial_window(result: SimulationResult) -> tuple[float, float]:
    """Window of each trial's spike trains, s: ``result.spike_window`` = ``(dt, duration +
    dt)``.

    Step ``k`` (``k = 0 .. n_steps - 1``) emits its spikes at ``(k + 1) dt``. Elephant treats
    a window as half-open ``[t_start, t_stop)`` (its binning drops a spike at ``t_stop``), so
    this window holds every spike (the last step's at ``duration``), lasts ``duration``
    (rates are counts / duration) and Elephant's bins of width ``w`` cover the steps
    ``[j w, (j + 1) w)`` exactly.
    """
    return result.spike_window


def _with_initial(trace: np.ndarray, initial: np.ndarray | float) -> np.ndarray:
    """``trace`` (samples, channels) with the state at time 0 prepended."""
    first = np.broadcast_to(np.asarray(initial, dtype=trace.dtype), (1, trace.shape[1]))
    return np.concatenate([first, trace])


def _segment(result: SimulationResult, info: TrialInfo, trial: int, types: np.ndarray,
             tau_d: np.ndarray | None) -> neo.Segment:
    segment = neo.Segment(name=f"trial {trial}", trial=trial,
                          scaling_factor=float(result.scaling_factors[trial]),
                          **_without_none(seed=result.seed), **info.trial(trial))
    (t_start, t_stop), rate = trial_window(result), 1.0 / result.dt * pq.Hz
    segment.spiketrains.extend([neo.SpikeTrain(
        times, units="s", t_start=t_start, t_stop=t_stop, sampling_rate=rate, name=f"unit {unit}",
        unit=unit, cell_type=str(types[unit]),
        **({} if tau_d is None else {"tau_d_ms": float(tau_d[unit])}))
        for unit, times in enumerate(result.spike_trains(trial))])
    period = result.downsample * result.dt
    segment.analogsignals.append(neo.AnalogSignal(
        _with_initial(result.output[trial][:, None], 0.0), units=pq.dimensionless,
        sampling_period=period * pq.s, t_start=0.0 * pq.s, name="readout",
        description="spiking readout W_out r_spk / s; sample 0 is the initial state"))
    if info.stimulus is not None:
        segment.analogsignals.append(neo.AnalogSignal(
            info.stimulus[trial].T, units=pq.dimensionless,
            sampling_period=result.stimulus_dt_ms * 1e-3 * pq.s, t_start=0.0 * pq.s,
            name="stimulus",
            description="task input, each sample held for one rate step"))
    channels = {"unit": np.arange(result.n_units), "cell_type": types}
    record_period = result.record_every * result.dt
    initial = {"voltages": np.nan if result.v0 is None else result.v0[trial],
               "currents": 0.0, "rates": 0.0}
    for name, units in RECORDING_UNITS.items():
        trace = getattr(result, name)
        if trace is not None:
            segment.analogsignals.append(neo.AnalogSignal(
                _with_initial(trace[trial], initial[name]), units=units,
                sampling_period=record_period * pq.s, t_start=0.0 * pq.s, name=name,
                array_annotations=channels,
                description=f"recorded {name}; sample 0 is the initial state"))
    return segment


def write_nix(block: neo.Block, path: str | os.PathLike, writer: str = "h5py") -> Path:
    """Write ``block`` to a NIX file, atomically.

    Parameters
    ----------
    block : neo.Block
        For example from :func:`result_to_block`.
    path : path-like
        Destination (conventionally ``*.nix``); replaced only once the write succeeded.
    writer : {"h5py", "neo"}
        ``"h5py"`` (default): :func:`spikernn.bridges.nix.write_block_nix`, the layout of
        Neo's ``NixIO`` written directly with h5py (about 3 ms per spike train, 9x faster
        than Neo's writer; Neo's ``NixIO`` and nixio read it back); ``"neo"``: Neo's own
        ``NixIO(path, mode="ow")`` (about 30 ms per spike train; needed only for Neo
        objects the h5py writer does not handle, such as events or waveforms).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``writer`` is neither, or the h5py writer meets an object it does not handle.
    """
    if writer == "h5py":
        from spikernn.bridges.nix import write_block_nix

        return write_block_nix(block, path)
    if writer != "neo":
        raise ValueError(f"writer: expected 'h5py' or 'neo', got {writer!r}")
    from neo.io import NixIO

    with atomic_path(path, suffix=".nix") as tmp, NixIO(str(tmp), mode="ow") as io:
        io.write_block(block)
    return Path(path)


def read_nix_block(path: str | os.PathLike, reader: str = "h5py") -> neo.Block:
    """Read the (first) block of a NIX file written by :func:`write_nix`, as Neo objects.

    Parameters
    ----------
    path : path-like
        A ``.nix`` file.
    reader : {"h5py", "neo"}
        ``"h5py"`` (default): :func:`spikernn.bridges.nix.read_block_nix`, the same Block
        read from the HDF5 tree directly (about 4x faster; it refuses objects it does
        not handle, such as events); ``"neo"``: Neo's ``NixIO``.

    Returns
    -------
    neo.Block
        Fully loaded (not lazy); the file is closed on return.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"NIX file not found: {path}")
    if reader == "h5py":
        from spikernn.bridges.nix import read_block_nix

        return read_block_nix(path)
    if reader != "neo":
        raise ValueError(f"reader: expected 'h5py' or 'neo', got {reader!r}")
    from neo.io import NixIO

    with NixIO(str(path), mode="ro") as io:
        return io.read_block()


@dataclass(frozen=True)
class SavedSimulation:
    """A simulation read back from a file (:func:`read_nix`, ``read_nwb``).

    Attributes
    ----------
    result : SimulationResult
        Spikes (trial time), readout, recordings, scaling factors, E/I, LIF parameters,
        seed, stimulus rate step and ``trials`` (task, labels, trial types, stimulus, as the
        file has them).
    model : ModelArtifact or None
        The model, when the file stores one.
    """

    result: SimulationResult
    model: ModelArtifact | None


def read_nix(path: str | os.PathLike, reader: str = "h5py") -> SavedSimulation:
    """Read a NIX file written by :func:`write_nix` back into a simulation (and model).

    Parameters
    ----------
    path : path-like
        A ``.nix`` file.
    reader : {"h5py", "neo"}
        As for :func:`read_nix_block`.

    Returns
    -------
    SavedSimulation

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the block lacks what :func:`result_to_block` writes.
    """
    return block_to_result(read_nix_block(path, reader))


def block_to_result(block: neo.Block) -> SavedSimulation:
    """The simulation (and model) a block of :func:`result_to_block` holds."""
    from spikernn.spiking.params import LIFParams

    try:
        settings = json.loads(block.annotations["settings"])
        dt, n_steps = float(settings["dt_s"]), int(settings["n_steps"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("block: expected the spikernn 'settings' JSON annotation "
                         f"(a block of result_to_block), got {sorted(block.annotations)}"
                         ) from exc
    segments = block.segments
    n_units = len(segments[0].spiketrains)
    spikes = [(b, u, np.rint(np.asarray(train.times.rescale(pq.s).magnitude) / dt)
               .astype(np.int64) - 1)
              for b, segment in enumerate(segments)
              for u, train in enumerate(segment.spiketrains)]
    trial = np.concatenate([np.full(s.size, b) for b, _, s in spikes]).astype(np.int64)
    unit = np.concatenate([np.full(s.size, u) for _, u, s in spikes]).astype(np.int64)
    step = np.concatenate([s for _, _, s in spikes]).astype(np.int64)
    order = np.lexsort((unit, trial, step))
    signals = [{s.name: np.asarray(s.magnitude) for s in seg.analogsignals} for seg in segments]
    exc = np.array([t.annotations["cell_type"] == "E" for t in segments[0].spiketrains])
    meta = [seg.annotations for seg in segments]
    per_trial = {name: [m[key] for m in meta] if all(key in m for m in meta) else None
                 for key, name in (("label", "labels"), ("trial_type", "trial_types"))}
    trials = TrialInfo(task=block.annotations.get("task"), **per_trial, stimulus=np.stack(
        [s["stimulus"].T for s in signals]) if all("stimulus" in s for s in signals) else None)
    traces = {name: np.stack([s[name][1:] for s in signals]) for name in RECORDING_UNITS
              if name in signals[0]}
    v0 = None
    if "voltages" in signals[0] and np.all(np.isfinite(signals[0]["voltages"][0])):
        v0 = np.stack([s["voltages"][0] for s in signals])
    result = SimulationResult(
        output=np.stack([s["readout"][1:, 0] for s in signals]),
        spike_trial=trial[order], spike_unit=unit[order], spike_step=step[order], dt=dt,
        n_steps=n_steps, downsample=int(settings["downsample"]),
        scaling_factors=np.array([float(m["scaling_factor"]) for m in meta]), exc=exc,
        params=LIFParams(**settings["lif_params"]), record_every=int(settings["record_every"]),
        v0=v0, seed=settings.get("seed"), stimulus_dt_ms=float(settings["stimulus_dt_ms"]),
        trials=trials, **traces)
    model = None
    if "model" in settings:
        groups = [g for g in block.groups if g.name and g.name.startswith("unit ")]
        groups.sort(key=lambda g: g.annotations["unit"])
        names = _MODEL_COLUMN_NAMES
        if len(groups) == n_units and all(names <= set(g.annotations) for g in groups):
            model = model_from_parts(settings["model"], {
                name: np.stack([np.asarray(g.annotations[name]) for g in groups])
                for name in names})
    return SavedSimulation(result=result, model=model)
