"""Export the spiking network of a model to PyNN, run on NEST 3 (optional extra ``pynn``).

What works here (PyNN 0.13, NEST 3.10 from the registry): ``pyNN.nest`` drives NEST 3.10
with its standard models; it warns that it cannot build its own NEST extension modules
(no ``nest-config``), which this export does not need. Seen here: importing NEST before
torch crashed a pytest process (segmentation fault); importing spikernn (torch) first, as
this module does, works.

The network, in PyNN's units (ms, mV, nA, nF):

- **neurons**: ``PointNeuron(LIF(...), decay=CurrExpPostSynapticResponse(tau_syn=tau_d),
  rise=CurrExpPostSynapticResponse(tau_syn=tau_r))`` (NEST's
  ``iaf_psc_exp_multisynapse``): ``tau_m``, ``v_rest = 0`` (the model's ``tau_m dv/dt = -v
  + I``), ``v_reset``, ``v_thresh``, ``tau_refrac = t_ref``, and a capacitance of
  ``tau_m`` pF, so that 1 mV of the model's current (unit resistance) is 1 pA:
  ``i_offset = bias`` pA. PyNN 0.13's ``PointNeuron`` takes one receptor time constant for a
  whole population ("to do" for heterogeneous values), so every unit is its own
  one-neuron Population (with its decay constant) and the network is their
  :class:`~pyNN.common.Assembly`.
- **synapses**: the double-exponential synapse (rise ``tau_r``, decay ``tau_d`` of the
  postsynaptic unit) is the difference of two exponential currents: a spike of unit ``j``
  adds ``c = (W[i, j] / s) / (tau_d[i] - tau_r)`` (mV, as pA) to the ``decay`` receptor of
  unit ``i`` and ``-c`` to its ``rise`` receptor, which integrates to the same charge
  ``W[i, j] / s`` as the engine's filter. The single-exponential synapse uses the ``decay``
  receptor alone with ``c = (W[i, j] / s) / tau_d[i]``. Delay: one integration step.
- **input**: ``W_in u`` (pA), one :class:`~pyNN.standardmodels.electrodes.StepCurrentSource`
  per unit, changing every rate step (5 ms).
- **initial voltages** ``v0`` as given.

What differs from spikernn's engine: NEST integrates exactly (the engine uses forward Euler
at ``dt``), so spike times drift apart after a while and only the spike statistics agree
(tested with the noise off); voltage noise is not exported (NEST's ``noise_generator``
is a current, not the engine's per-step voltage kick); the QIF neuron has no PyNN model.

Examples
--------
>>> from spikernn.bridges.pynn import simulate_pynn
>>> result = simulate_pynn(model, 40.0, stimulus, v0=v0)          # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikernn.artifact import ModelArtifact, load_model
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult

#: Capacitance per ms of membrane time constant (nF): 1 mV of the model's current is 1 pA.
_NF_PER_MS = 1e-3
#: nA per mV of the model's current.
_NA_PER_MV = 1e-3


def _pynn_nest():
    try:
        with warnings.catch_warnings():  # "Cannot find nest-config ... extensions"
            warnings.simplefilter("ignore")
            import pyNN.nest as sim
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the PyNN export needs PyNN and NEST: pip install "
                          "'spikernn[pynn]'") from exc
    return sim


@dataclass(frozen=True)
class PyNNNetwork:
    """A model's spiking network built in PyNN (on NEST).

    Attributes
    ----------
    sim : module
        ``pyNN.nest``.
    assembly : pyNN.nest.Assembly
        The N units (unit ``i`` is ``assembly[i]``).
    duration_ms : float
        Length of the stimulus, ms.
    """

    sim: Any
    assembly: Any
    duration_ms: float


def synapse_weights(model: ModelArtifact, scaling_factor: float,
                    params: LIFParams | None = None) -> dict[str, np.ndarray]:
    """Current amplitudes (nA) of each connection on each receptor, shape (N_post, N_pre).

    ``decay``: ``(W / s) / (tau_d - tau_r)`` (double exponential) or ``(W / s) / tau_d``
    (single); ``rise``: minus the decay amplitude (double exponential only).
    """
    params = params or LIFParams()
    w = model.w_effective / float(scaling_factor)                   # mV s
    tau_d = model.tau_d_ms[:, None] * 1e-3                          # s, postsynaptic
    if params.synapse == "single":
        return {"decay": w / tau_d * _NA_PER_MV}
    if np.any(np.isclose(tau_d, params.tau_r)):
        raise ValueError(f"model: expected decay constants other than tau_r = "
                         f"{params.tau_r * 1e3:g} ms for the two-exponential synapse, got "
                         f"{np.unique(tau_d[np.isclose(tau_d, params.tau_r)]) * 1e3} ms")
    amplitude = w / (tau_d - params.tau_r) * _NA_PER_MV
    return {"decay": amplitude, "rise": -amplitude}


def build_pynn_network(model: ModelArtifact | str | os.PathLike, scaling_factor: float,
                       stimulus: np.ndarray, v0: np.ndarray,
                       params: LIFParams | None = None) -> PyNNNetwork:
    """Build the spiking network of ``model`` for one trial in PyNN on NEST.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model.
    scaling_factor : float
        Scaling factor ``s``.
    stimulus : numpy.ndarray, shape (n_inputs, T)
        Input on the rate time base (``model.dt_ms`` per sample).
    v0 : numpy.ndarray, shape (N,)
        Initial voltages, mV.
    params : LIFParams, optional
        Neuron parameters (LIF only); the noise is not exported.

    Returns
    -------
    PyNNNetwork
        Set up (``sim.setup`` called, which resets NEST); run with :func:`run_pynn`.

    Raises
    ------
    ValueError
        A QIF neuron, or inputs of the wrong shape.
    """
    model = load_model(model)
    params = params or LIFParams()
    if params.neuron != "lif":
        raise ValueError(f"params.neuron: expected 'lif' (PyNN has no QIF point neuron), "
                         f"got {params.neuron!r}")
    stimulus = np.asarray(stimulus, dtype=float)
    v0 = np.asarray(v0, dtype=float)
    if stimulus.ndim != 2 or stimulus.shape[0] != model.n_inputs:
        raise ValueError(f"stimulus: expected shape ({model.n_inputs}, T), got {stimulus.shape}")
    if v0.shape != (model.N,):
        raise ValueError(f"v0: expected shape ({model.N},), got {v0.shape}")
    sim = _pynn_nest()
    dt_ms = params.dt * 1e3
    sim.setup(timestep=dt_ms, min_delay=dt_ms, max_delay=10 * dt_ms, verbosity="error")
    weights = synapse_weights(model, scaling_factor, params)
    neuron = dict(cm=params.tau_m * 1e3 * _NF_PER_MS, tau_m=params.tau_m * 1e3, v_rest=0.0,
                  v_reset=params.v_reset, v_thresh=params.v_th,
                  tau_refrac=params.t_ref * 1e3, i_offset=params.bias * _NA_PER_MV)
    populations = []
    for unit, tau_d in enumerate(model.tau_d_ms):
        receptors = {"decay": sim.CurrExpPostSynapticResponse(tau_syn=float(tau_d))}
        if "rise" in weights:
            receptors["rise"] = sim.CurrExpPostSynapticResponse(tau_syn=params.tau_r * 1e3)
        populations.append(sim.Population(
            1, sim.PointNeuron(sim.LIF(**neuron), **receptors),
            initial_values={"v": float(v0[unit])}, label=f"unit {unit}"))
    assembly = sim.Assembly(*populations, label="spikernn network")
    post, pre = np.nonzero(weights["decay"])
    for receptor, amplitude in weights.items():
        connections = [(int(j), int(i), float(amplitude[i, j]), dt_ms)
                       for i, j in zip(post, pre, strict=True)]
        if connections:
            sim.Projection(assembly, assembly, sim.FromListConnector(connections),
                           sim.StaticSynapse(), receptor_type=receptor)
    step_ms = model.dt_ms
    currents = model.w_in @ stimulus * _NA_PER_MV                    # (N, T), nA
    times = dt_ms + np.arange(stimulus.shape[1]) * step_ms           # NEST: times > 0
    for unit, population in enumerate(populations):
        sim.StepCurrentSource(times=times, amplitudes=currents[unit]).inject_into(population)
    assembly.record("spikes")
    return PyNNNetwork(sim, assembly, stimulus.shape[1] * step_ms)


def run_pynn(network: PyNNNetwork) -> list[np.ndarray]:
    """Run a built network for its stimulus; the spike times (s) of every unit."""
    network.sim.run(network.duration_ms)
    segment = network.assembly.get_data("spikes").segments[0]
    return [np.asarray(train.rescale("s").magnitude) for train in segment.spiketrains]


def simulate_pynn(model: ModelArtifact | str | os.PathLike, scaling_factor: float,
                  stimulus: np.ndarray, v0: np.ndarray, params: LIFParams | None = None
                  ) -> SimulationResult:
    """Simulate one trial in PyNN on NEST; spikes as a :class:`SimulationResult`.

    Spike times are put on spikernn's step grid (``round(t / dt)`` steps; spikernn's spike
    of step ``k`` has time ``(k + 1) dt``). The readout is not computed (zeros).

    Parameters
    ----------
    model, scaling_factor, stimulus, v0, params
        As :func:`build_pynn_network`.

    Returns
    -------
    SimulationResult
        One trial; ``metadata['simulator'] = 'pynn.nest'``.
    """
    model = load_model(model)
    params = params or LIFParams()
    network = build_pynn_network(model, scaling_factor, stimulus, v0, params)
    trains = run_pynn(network)
    n_steps = int(round(network.duration_ms * 1e-3 / params.dt))
    steps = [np.clip(np.rint(t / params.dt).astype(np.int64) - 1, 0, n_steps - 1)
             for t in trains]
    unit = np.concatenate([np.full(s.size, i) for i, s in enumerate(steps)]).astype(np.int64)
    step = np.concatenate(steps).astype(np.int64)
    order = np.lexsort((unit, step))
    return SimulationResult(
        output=np.zeros((1, n_steps)), spike_trial=np.zeros(step.size, np.int64),
        spike_unit=unit[order], spike_step=step[order], dt=params.dt, n_steps=n_steps,
        downsample=1, scaling_factors=np.array([float(scaling_factor)]), exc=model.exc,
        params=params, v0=v0[None, :], metadata={"simulator": "pynn.nest"},
        stimulus_dt_ms=model.dt_ms)
