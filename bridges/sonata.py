"""Export the spiking network of a model, and the spikes of a simulation, as SONATA files.

SONATA (the Allen Institute / Blue Brain circuit format: HDF5 tables of nodes, edges and
spikes, CSV type tables and JSON configurations) as its specification lays it out; read
back with libsonata in the tests (``pip install ".[sonata]"``; the writer needs only h5py).
Units are SONATA's: ms and mV. Written into one folder:

- ``nodes.h5``: population ``spikernn`` (the N units; node ``i`` is unit ``i``) with
  ``node_type_id`` (0 excitatory, 1 inhibitory), ``node_group_id`` (0),
  ``node_group_index`` and group ``0`` holding the per-unit attributes ``unit`` (index),
  ``readout_weight`` (``w_out / s``) and ``dynamics_params/tau_syn_decay`` (the trained
  synaptic decay constant of the unit, ms: the per-node override of the type's
  ``dynamics_params``); population ``stimulus`` (one virtual node per task input,
  ``node_type_id`` 2, attribute ``input``);
- ``node_types.csv`` (space-separated): ``node_type_id model_type model_template pop_name
  ei dynamics_params``; the neuron types point to ``components/lif.json`` (``tau_m``,
  ``t_ref``, ``v_rest`` = bias, ``v_reset``, ``v_thresh``, ``tau_syn_rise``, synapse kind,
  ``dt``, noise; ms and mV);
- ``edges.h5``: population ``recurrent`` (``spikernn`` -> ``spikernn``: one edge per non-zero
  entry of the effective weight matrix, ``syn_weight = W[i, j] / s`` (mV s: the current of
  the postsynaptic unit is ``syn_weight`` times the presynaptic unit's filtered spike train,
  whose integral is 1 per spike), ``delay = dt`` (a spike acts in the next step)) and
  ``input`` (``stimulus`` -> ``spikernn``, ``syn_weight = W_in[i, k]`` (mV per unit of
  input; not divided by s), ``delay = 0``), each with ``edge_type_id``, ``edge_group_id``,
  ``edge_group_index`` and both ``indices`` (``source_to_target``, ``target_to_source``);
- ``edge_types.csv``: the two edge types (``model_template`` ``spikernn:double_exponential``
  or ``spikernn:single_exponential``, and ``spikernn:current_input``);
- with a simulation: ``spikes.h5`` (population ``spikernn``: ``timestamps`` in ms and
  ``node_ids``, sorted by time; the trials laid end to end, trial ``b`` from
  ``b * duration``), ``trials.csv`` (start, stop, type, label, scaling factor of each
  trial) and ``inputs.h5`` (``/stimulus/data`` (trials, inputs, samples), each sample held
  for ``dt_ms``; ``/v0`` (trials, N) the initial voltages, when the result has them);
- ``circuit_config.json`` (the node and edge files, their populations' types, the node-sets
  file ``node_sets.json``: both populations, ``excitatory`` and ``inhibitory`` by node id) and
  ``simulation_config.json`` (``run`` with ``tstop`` and ``dt`` in ms, ``output`` with the
  spikes file, and a ``spikernn`` entry with what SONATA does not express).

What SONATA cannot express (listed in ``simulation_config.json`` under
``spikernn.not_expressed``): the double-exponential synapse has no standard SONATA model
(its template names spikernn's model; rise and decay are in ``components/lif.json`` and the
node attributes); the synaptic decay is a property of the postsynaptic unit (trained per
unit) where SONATA keeps synaptic parameters on edges, so it is a node attribute here;
virtual nodes only spike, so the analog task input is a file of our own layout
(``inputs.h5``) and the ``input`` edges its weights; the readout (``readout_weight``
attributes and ``W_out r / s``), the per-step voltage noise (``components/lif.json``) and
the per-trial initial voltages (``inputs.h5``) are not simulator inputs SONATA defines;
SONATA has no notion of trials (hence ``trials.csv``).

Examples
--------
>>> from spikernn.bridges.sonata import write_sonata
>>> files = write_sonata(model, "sonata/", result=sim.result)      # doctest: +SKIP
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from spikernn._io import atomic_path, write_json
from spikernn._version import __version__
from spikernn.artifact import ModelArtifact, load_model, scaling_factor_of
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult

#: Node population of the network's units, and of the task inputs (virtual nodes).
NETWORK, STIMULUS = "spikernn", "stimulus"
#: Node type ids: excitatory and inhibitory units, task inputs.
TYPE_E, TYPE_I, TYPE_INPUT = 0, 1, 2
#: Edge type ids of the recurrent and the input connections.
TYPE_RECURRENT, TYPE_INPUT_EDGE = 100, 101
#: What the SONATA files do not express (written into ``simulation_config.json``).
NOT_EXPRESSED = (
    "the double-exponential synapse (no standard SONATA model; template "
    "spikernn:double_exponential, rise in components/lif.json)",
    "the per-unit trained synaptic decay as a synapse parameter (SONATA keeps synapse "
    "parameters on edges; here node attribute dynamics_params/tau_syn_decay of the "
    "postsynaptic unit)",
    "the analog task input (virtual nodes only spike; inputs.h5 holds it, the input edges "
    "its weights)",
    "the readout W_out r / s (node attribute readout_weight)",
    "the per-step voltage noise (components/lif.json)",
    "the initial voltages per trial (inputs.h5 /v0)",
    "trials (spikes laid end to end; trials.csv)",
)
_SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")


@dataclass(frozen=True)
class SonataFiles:
    """The files :func:`write_sonata` wrote (``None``: not written, no simulation)."""

    folder: Path
    circuit_config: Path
    simulation_config: Path
    nodes: Path
    node_types: Path
    edges: Path
    edge_types: Path
    node_sets: Path
    components: Path
    spikes: Path | None
    trials: Path | None
    inputs: Path | None


def _index_ranges(node_ids: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """SONATA's edge index of one direction: ``node_id_to_ranges`` (n_nodes, 2) into
    ``range_to_edge_id`` (ranges, 2), runs of consecutive edge ids with the same node."""
    edges = np.arange(node_ids.size)
    order = np.argsort(node_ids, kind="stable")
    ids, sorted_edges = node_ids[order], edges[order]
    starts = np.flatnonzero(np.r_[True, (np.diff(ids) != 0) | (np.diff(sorted_edges) != 1)])
    stops = np.r_[starts[1:], ids.size]
    ranges = np.stack([sorted_edges[starts], sorted_edges[stops - 1] + 1], axis=1)
    first = np.searchsorted(ids[starts], np.arange(n_nodes), side="left")
    last = np.searchsorted(ids[starts], np.arange(n_nodes), side="right")
    node_ranges = np.stack([first, last], axis=1)            # no edges: an empty range
    return node_ranges.astype(np.uint64), ranges.astype(np.uint64)


def _write_edges(h5: h5py.File, name: str, source: tuple[str, int], target: tuple[str, int],
                 pre: np.ndarray, post: np.ndarray, type_id: int, weight: np.ndarray,
                 delay_ms: float) -> None:
    group = h5.create_group(f"edges/{name}")
    for key, ids, (population, _) in (("source_node_id", pre, source),
                                      ("target_node_id", post, target)):
        data = group.create_dataset(key, data=ids.astype(np.uint64))
        data.attrs["node_population"] = population
    n = pre.size
    group.create_dataset("edge_type_id", data=np.full(n, type_id, dtype=np.int64))
    group.create_dataset("edge_group_id", data=np.zeros(n, dtype=np.int64))
    group.create_dataset("edge_group_index", data=np.arange(n, dtype=np.uint64))
    group.create_dataset("0/syn_weight", data=weight.astype(np.float64))
    group.create_dataset("0/delay", data=np.full(n, delay_ms, dtype=np.float64))
    for direction, ids, (_, size) in (("source_to_target", pre, source),
                                      ("target_to_source", post, target)):
        node_ranges, ranges = _index_ranges(ids, size)
        group.create_dataset(f"indices/{direction}/node_id_to_ranges", data=node_ranges)
        group.create_dataset(f"indices/{direction}/range_to_edge_id", data=ranges)


def _write_table(path: Path, rows: list[list]) -> None:
    """A space-separated SONATA type table (``NULL`` for missing values)."""
    with atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="") as handle:
        csv.writer(handle, delimiter=" ", lineterminator="\n").writerows(
            [["NULL" if v is None else v for v in row] for row in rows])


def _scaling_factor(model: ModelArtifact, result: SimulationResult | None,
                    scaling_factor: float | None) -> float:
    if scaling_factor is None and result is not None:
        factors = np.unique(np.asarray(result.scaling_factors, dtype=float))
        if factors.size != 1:
            raise ValueError(f"scaling_factor: expected one factor for the network, the "
                             f"result has {factors.size} ({factors.tolist()}); pass one")
        scaling_factor = float(factors[0])
    return scaling_factor_of(model, scaling_factor)


def write_sonata(model: ModelArtifact | str | os.PathLike, folder: str | os.PathLike,
                 result: SimulationResult | None = None, scaling_factor: float | None = None,
                 params: LIFParams | None = None) -> SonataFiles:
    """Write the spiking network of ``model`` (and the spikes of ``result``) as SONATA.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model (its spiking conversion is exported).
    folder : path-like
        Output folder (created); the files of the module docstring are replaced.
    result : SimulationResult, optional
        A simulation of this network: adds ``spikes.h5``, ``trials.csv`` and ``inputs.h5``;
        its LIF parameters and scaling factor are the default.
    scaling_factor : float, optional
        ``s``; default: the result's (one for all trials), else the model's
        ``opt_scaling_factor``.
    params : LIFParams, optional
        Neuron and synapse parameters; default: the result's, else SI Table S1.

    Returns
    -------
    SonataFiles

    Raises
    ------
    ValueError
        A QIF neuron, a result of another size, trials of several scaling factors and no
        ``scaling_factor``, or no factor at all.
    """
    model = load_model(model)
    params = params or (result.params if result is not None else LIFParams())
    if params.neuron != "lif":
        raise ValueError(f"params.neuron: expected 'lif' (the SONATA export writes the LIF "
                         f"network), got {params.neuron!r}")
    if result is not None and result.n_units != model.N:
        raise ValueError(f"result: expected N = {model.N} units (the model's), got "
                         f"{result.n_units}")
    s = _scaling_factor(model, result, scaling_factor)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "components").mkdir(exist_ok=True)
    n, n_in = model.N, model.n_inputs
    dt_ms = params.dt * 1e3

    nodes = folder / "nodes.h5"
    with atomic_path(nodes, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        group = h5.create_group(f"nodes/{NETWORK}")
        group.create_dataset("node_type_id", data=np.where(model.exc, TYPE_E, TYPE_I)
                             .astype(np.int64))
        group.create_dataset("node_group_id", data=np.zeros(n, dtype=np.int64))
        group.create_dataset("node_group_index", data=np.arange(n, dtype=np.uint64))
        group.create_dataset("0/unit", data=np.arange(n, dtype=np.int64))
        group.create_dataset("0/readout_weight", data=np.asarray(model.w_out[0]) / s)
        group.create_dataset("0/dynamics_params/tau_syn_decay",
                             data=np.asarray(model.tau_d_ms, dtype=np.float64))
        group = h5.create_group(f"nodes/{STIMULUS}")
        group.create_dataset("node_type_id", data=np.full(n_in, TYPE_INPUT, dtype=np.int64))
        group.create_dataset("node_group_id", data=np.zeros(n_in, dtype=np.int64))
        group.create_dataset("node_group_index", data=np.arange(n_in, dtype=np.uint64))
        group.create_dataset("0/input", data=np.arange(n_in, dtype=np.int64))

    components = folder / "components" / "lif.json"
    write_json(components, {
        "model": "spikernn LIF (Kim, Li & Sejnowski 2019): tau_m dv/dt = -v + I, "
                 "I = W r + W_in u + v_rest; r the filtered spike trains",
        "tau_m": params.tau_m * 1e3, "t_ref": params.t_ref * 1e3, "v_rest": params.bias,
        "v_reset": params.v_reset, "v_thresh": params.v_th, "synapse": params.synapse,
        "tau_syn_rise": params.tau_r * 1e3, "tau_syn_decay": "per node (nodes.h5)",
        "dt": dt_ms, "noise_std_per_step": params.noise_std, "units": "ms, mV"})
    node_types = folder / "node_types.csv"
    _write_table(node_types, [
        ["node_type_id", "model_type", "model_template", "pop_name", "ei", "dynamics_params"],
        [TYPE_E, "point_neuron", "spikernn:lif", "excitatory", "e", "lif.json"],
        [TYPE_I, "point_neuron", "spikernn:lif", "inhibitory", "i", "lif.json"],
        [TYPE_INPUT, "virtual", None, "stimulus", None, None]])

    edges = folder / "edges.h5"
    w = np.asarray(model.w_effective, dtype=np.float64)
    post, pre = np.nonzero(w)
    w_in = np.asarray(model.w_in, dtype=np.float64)
    in_post, in_pre = np.nonzero(w_in)
    with atomic_path(edges, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        _write_edges(h5, "recurrent", (NETWORK, n), (NETWORK, n), pre, post, TYPE_RECURRENT,
                     w[post, pre] / s, dt_ms)
        _write_edges(h5, "input", (STIMULUS, n_in), (NETWORK, n), in_pre, in_post,
                     TYPE_INPUT_EDGE, w_in[in_post, in_pre], 0.0)
    edge_types = folder / "edge_types.csv"
    _write_table(edge_types, [
        ["edge_type_id", "target_query", "source_query", "model_template", "dynamics_params"],
        [TYPE_RECURRENT, f"population=='{NETWORK}'", f"population=='{NETWORK}'",
         f"spikernn:{params.synapse}_exponential", "lif.json"],
        [TYPE_INPUT_EDGE, f"population=='{NETWORK}'", f"population=='{STIMULUS}'",
         "spikernn:current_input", None]])
    node_sets = write_json(folder / "node_sets.json", {
        NETWORK: {"population": NETWORK}, STIMULUS: {"population": STIMULUS},
        "excitatory": {"population": NETWORK, "node_id": np.flatnonzero(model.exc).tolist()},
        "inhibitory": {"population": NETWORK,
                       "node_id": np.flatnonzero(~np.asarray(model.exc)).tolist()}})

    spikes = trials = inputs = None
    tstop_ms = (result.duration if result is not None else 0.0) * 1e3
    if result is not None:
        spikes, trials, inputs = _write_simulation(folder, result)
        tstop_ms *= result.batch_size
    circuit = write_json(folder / "circuit_config.json", {
        "version": 2, "manifest": {"$BASE_DIR": "."},
        "components": {"point_neuron_models_dir": "$BASE_DIR/components"},
        "node_sets_file": "$BASE_DIR/node_sets.json",
        "networks": {
            "nodes": [{"nodes_file": "$BASE_DIR/nodes.h5",
                       "node_types_file": "$BASE_DIR/node_types.csv",
                       "populations": {NETWORK: {"type": "point_neuron"},
                                       STIMULUS: {"type": "virtual"}}}],
            "edges": [{"edges_file": "$BASE_DIR/edges.h5",
                       "edge_types_file": "$BASE_DIR/edge_types.csv",
                       "populations": {"recurrent": {"type": "chemical"},
                                       "input": {}}}]}})
    simulation = {
        "version": 2, "manifest": {"$BASE_DIR": "."}, "network": "circuit_config.json",
        "run": {"tstop": tstop_ms, "dt": dt_ms,
                **({} if result is None or result.seed is None
                   else {"random_seed": int(result.seed)})},
        "output": {"output_dir": "$BASE_DIR", "spikes_file": "spikes.h5",
                   "spikes_sort_order": "by_time"},
        "spikernn": {"version": __version__, "scaling_factor": s, "task": model.task,
                     "stimulus_file": None if inputs is None else inputs.name,
                     "trials_file": None if trials is None else trials.name,
                     "not_expressed": list(NOT_EXPRESSED)}}
    simulation_config = write_json(folder / "simulation_config.json", simulation)
    return SonataFiles(folder=folder, circuit_config=circuit,
                       simulation_config=simulation_config, nodes=nodes,
                       node_types=node_types, edges=edges, edge_types=edge_types,
                       node_sets=node_sets, components=components, spikes=spikes,
                       trials=trials, inputs=inputs)


def _write_simulation(folder: Path, result: SimulationResult) -> tuple[Path, Path, Path | None]:
    """``spikes.h5`` (trials end to end), ``trials.csv`` and ``inputs.h5`` of a result."""
    duration_ms = result.duration * 1e3
    times = ((result.spike_step + 1) * result.dt * 1e3
             + result.spike_trial * duration_ms).astype(np.float64)
    order = np.lexsort((result.spike_unit, times))
    spikes = folder / "spikes.h5"
    with atomic_path(spikes, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        group = h5.create_group(f"spikes/{NETWORK}")
        group.attrs.create("sorting", 2, dtype=_SORTING)
        group.create_dataset("timestamps", data=times[order]).attrs["units"] = "ms"
        group.create_dataset("node_ids", data=result.spike_unit[order].astype(np.uint64))
    info = result.trials
    trials = folder / "trials.csv"
    rows = [["trial", "start_ms", "stop_ms", "trial_type", "label", "scaling_factor"]]
    for b in range(result.batch_size):
        rows.append([b, b * duration_ms, (b + 1) * duration_ms,
                     info.trial_types[b] if info and info.trial_types is not None else None,
                     info.labels[b] if info and info.labels is not None else None,
                     float(result.scaling_factors[b])])
    _write_table(trials, rows)
    inputs = None
    stimulus = None if info is None else info.stimulus
    if stimulus is not None or result.v0 is not None:
        inputs = folder / "inputs.h5"
        with atomic_path(inputs, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
            if stimulus is not None:
                data = h5.create_dataset("stimulus/data", data=np.asarray(stimulus))
                data.attrs["dt_ms"] = result.stimulus_dt_ms
                data.attrs["dims"] = "trial, input, sample (each held dt_ms)"
                data.attrs["node_population"] = STIMULUS
            if result.v0 is not None:
                v0 = h5.create_dataset("v0", data=np.asarray(result.v0, dtype=np.float64))
                v0.attrs["units"] = "mV"
                v0.attrs["node_population"] = NETWORK
    return spikes, trials, inputs

