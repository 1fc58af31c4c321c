"""The spiking network of a model as an ordinary Brian2 model: equations, threshold, reset,
refractory period, synapses, a TimedArray input.

:func:`build_brian2_model` writes the converted network the way a Brian2 user would: one
:class:`brian2.NeuronGroup` of the N units whose state follows differential equations
(integrated by Brian2, ``method="euler"``), ``threshold``, ``reset`` and ``refractory``
keywords, :class:`brian2.Synapses` whose ``on_pre`` kicks the postsynaptic filter, the task
input as a :class:`brian2.TimedArray`, with Brian2 units throughout (volt, second, hertz;
currents in volt, unit resistance). The objects are plain Brian2 objects in a plain
:class:`brian2.Network`: add monitors, change parameters, run longer, or copy the equations
(:data:`LIF_EQUATIONS`, :func:`neuron_equations`) into your own model.

For unit ``i`` (decay ``tau_d[i]``, rise ``tau_r``, ``W`` the effective rate weights, ``s``
the scaling factor)::

    dv/dt = (-v + I_syn + bias + I_in(t, i)) / tau_m        (unless refractory)
    dI_syn/dt = -I_syn / tau_d + h        dh/dt = -h / tau_r
    dr/dt = -r / tau_d + h_r              dh_r/dt = -h_r / tau_r
    threshold v >= v_th;  reset v = v_reset, h_r += 1 / (tau_r tau_d);  refractory t_ref
    on_pre (j -> i):  h_post += w / (tau_r tau_d_post),  w = W[i, j] / s  (volt second)
    readout o = sum_i w_out[i] r[i],  w_out = W_out / s   (summed variable)

(the single-exponential synapse drops ``h``: ``dI_syn/dt = -I_syn / tau_d``, ``on_pre``
``I_syn_post += w / tau_d_post``; QIF replaces ``-v`` by ``v**2 / mV``). ``I_in`` holds
``W_in u`` (volt) per rate step of the stimulus (5 ms); the input is not divided by ``s``.
With ``noise=True`` the membrane equation gets ``+ sigma * xi`` with ``sigma = noise_std /
sqrt(dt)`` (Euler-Maruyama adds ``noise_std * N(0, 1)`` per step, as the engine does).

How it differs from :func:`spikernn.bridges.brian2.build_brian2_network` (the cross-check
builder, kept for step-for-step equality with spikernn's engine):

- that builder integrates with a hand-written ``run_regularly`` Euler block that mirrors
  the engine's update order and its exact exponential synaptic decay, counts the
  refractory period in steps and runs many trials as copies in one network; this one
  states the dynamics as equations that Brian2 integrates (forward Euler on every
  variable, so the synaptic decay differs from the engine's ``exp(-dt / tau)`` by
  ``O((dt / tau)^2)`` per step), one trial per network;
- Brian2's ``refractory`` releases a unit one step earlier than the engine's step counter
  and also holds the threshold; the noise, inside the ``(unless refractory)`` equation, is
  not added during the refractory period (the engine adds it every step);
- so spike times agree only at first and the two are compared by their spike statistics
  (``tests/test_brian2_equations.py``: shipped Go/NoGo model, noise off).

Examples
--------
>>> from spikernn.bridges.brian2_equations import build_brian2_model
>>> net = build_brian2_model(model, 20.0, stimulus, v0=v0)          # doctest: +SKIP
>>> voltage = brian2.StateMonitor(net.neurons, "v", record=[0, 1])  # doctest: +SKIP
>>> net.network.add(voltage); net.network.run(net.duration)         # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import brian2 as b2
import numpy as np

from spikernn._validate import check_scaling_factor
from spikernn.artifact import ModelArtifact, load_model
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult

from .brian2 import _check_stimuli, _check_v0, _hold_steps, _input_current, initial_voltages


def neuron_equations(params: LIFParams, noise: bool = False) -> str:
    """The units' model equations for ``params`` (LIF or QIF, double or single synapse)."""
    drift = "-v" if params.neuron == "lif" else "v**2 / mV"
    membrane = f"dv/dt = ({drift} + I_syn + bias + I_in(t, i)) / tau_m"
    if noise:
        membrane += " + sigma * xi"
    lines = [f"{membrane} : volt (unless refractory)"]
    if params.synapse == "double":
        lines += ["dI_syn/dt = -I_syn / tau_d + h : volt", "dh/dt = -h / tau_r : volt / second",
                  "dr/dt = -r / tau_d + h_r : hertz", "dh_r/dt = -h_r / tau_r : hertz / second"]
    else:
        lines += ["dI_syn/dt = -I_syn / tau_d : volt", "dr/dt = -r / tau_d : hertz"]
    return "\n".join(lines + ["tau_d : second (constant)"])


#: The LIF unit with the double-exponential synapse (SI Table S1), noise-free.
LIF_EQUATIONS = neuron_equations(LIFParams())


def _own_spike(params: LIFParams) -> str:
    """What a unit's own spike adds to its filtered spike train ``r``."""
    return "h_r += 1 / (tau_r * tau_d)" if params.synapse == "double" else "r += 1 / tau_d"


def _on_pre(params: LIFParams) -> str:
    """What a presynaptic spike adds to the postsynaptic current's filter."""
    if params.synapse == "double":
        return "h_post += w / (tau_r * tau_d_post)"
    return "I_syn_post += w / tau_d_post"


@dataclass(eq=False)
class Brian2Model:
    """One trial of a model's spiking network as plain Brian2 objects.

    Attributes
    ----------
    network : brian2.Network
        All objects below; ``network.run(duration)`` simulates the trial.
    neurons : brian2.NeuronGroup
        The N units (``v``, ``I_syn``, ``r``, ... ; ``tau_d`` per unit).
    synapses : brian2.Synapses or None
        Recurrent connections, ``w = W / s`` (volt second); None without any weight.
    readout : brian2.NeuronGroup
        One neuron whose summed variable ``o`` is the readout ``W_out r / s``.
    readout_synapses : brian2.Synapses
        Units -> readout, ``w_out = W_out / s``.
    stimulus : brian2.TimedArray
        ``W_in u`` (volt) per rate step and unit.
    spikes : brian2.SpikeMonitor
        Spikes of the units.
    output_monitor : brian2.StateMonitor
        The readout every ``downsample`` steps.
    model : ModelArtifact
    params : LIFParams
    scaling_factor : float
    duration : brian2.Quantity
        The stimulus' length (``T`` rate steps).
    downsample : int
    v0 : numpy.ndarray
        Initial voltages, mV.
    """

    network: b2.Network
    neurons: b2.NeuronGroup
    synapses: b2.Synapses | None
    readout: b2.NeuronGroup
    readout_synapses: b2.Synapses
    stimulus: b2.TimedArray
    spikes: b2.SpikeMonitor
    output_monitor: b2.StateMonitor
    model: ModelArtifact
    params: LIFParams
    scaling_factor: float
    duration: b2.Quantity
    downsample: int
    v0: np.ndarray

    def result(self) -> SimulationResult:
        """The first ``duration`` of the run as a one-trial :class:`SimulationResult`
        (a spike at Brian2 time ``k dt`` is step ``k``, at spikernn's ``(k + 1) dt``)."""
        dt = self.params.dt
        n_steps = int(round(float(self.duration) / dt))
        step = np.rint(np.asarray(self.spikes.t_) / dt).astype(np.int64)
        unit = np.asarray(self.spikes.i, dtype=np.int64)
        keep = step < n_steps
        order = np.lexsort((unit[keep], step[keep]))
        output = np.asarray(self.output_monitor.o)[0, :n_steps // self.downsample]
        return SimulationResult(
            output=output[None], spike_trial=np.zeros(int(keep.sum()), dtype=np.int64),
            spike_unit=unit[keep][order], spike_step=step[keep][order], dt=dt,
            n_steps=n_steps, downsample=self.downsample,
            scaling_factors=np.array([self.scaling_factor]), exc=self.model.exc.copy(),
            params=self.params, v0=self.v0[None], stimulus_dt_ms=self.model.dt_ms,
            metadata={"simulator": f"brian2 {b2.__version__} (equations)"})


def build_brian2_model(model: ModelArtifact | str | os.PathLike, scaling_factor: float,
                       stimulus: np.ndarray, params: LIFParams | None = None,
                       v0: np.ndarray | None = None, seed: int | None = None,
                       noise: bool = False, downsample: int = 10) -> Brian2Model:
    """Build one trial of the spiking network of ``model`` as ordinary Brian2 objects.

    Parameters
    ----------
    model : ModelArtifact or path
        The trained rate model.
    scaling_factor : float
        ``s``: recurrent weights ``W / s``, readout ``W_out / s``.
    stimulus : numpy.ndarray, shape (n_inputs, T)
        The trial's rate input, one column per rate step of ``model.dt_ms``.
    params : LIFParams, optional
        Neuron, synapse and integration parameters (SI Table S1 when omitted); ``params.dt``
        is the Brian2 time step.
    v0 : numpy.ndarray, shape (N,), optional
        Initial voltages, mV; drawn from ``params.v_init`` with ``seed`` when omitted.
    seed : int, optional
        Seed of the initial voltages drawn here (seed Brian2's noise with
        :func:`brian2.seed`).
    noise : bool
        Add the voltage noise ``params.noise_std`` per step as ``sigma * xi``.
    downsample : int
        Steps between readout samples.

    Returns
    -------
    Brian2Model

    Raises
    ------
    ValueError
        A non-positive scaling factor, a stimulus of another number of inputs, or a ``v0``
        of another shape.
    """
    model = load_model(model)
    params = params or LIFParams()
    s = check_scaling_factor(scaling_factor)
    stimulus = _check_stimuli(stimulus, model.n_inputs)
    if stimulus.shape[0] != 1:
        raise ValueError(f"stimulus: expected one trial, shape ({model.n_inputs}, T), got "
                         f"{stimulus.shape[0]} trials")
    n = model.N
    v0 = (initial_voltages(params, 1, n, seed) if v0 is None else _check_v0(v0, 1, n))[0]
    dt = params.dt * b2.second
    hold = _hold_steps(model, params)
    input_current = b2.TimedArray(_input_current(model, stimulus) * b2.volt, dt=hold * dt,
                                  name="I_in")
    namespace = {"I_in": input_current, "bias": params.bias * b2.mV,
                 "tau_m": params.tau_m * b2.second, "tau_r": params.tau_r * b2.second,
                 "v_th": params.v_th * b2.mV, "v_reset": params.v_reset * b2.mV,
                 "sigma": params.noise_std * b2.mV / np.sqrt(dt)}
    neurons = b2.NeuronGroup(
        n, neuron_equations(params, noise and params.noise_std > 0), threshold="v >= v_th",
        reset=f"v = v_reset\n{_own_spike(params)}", refractory=params.t_ref * b2.second,
        method="euler", dt=dt, namespace=namespace, name="units")
    neurons.tau_d = model.tau_d_ms * b2.ms
    neurons.v = v0 * b2.mV
    post, pre = np.nonzero(model.w_effective)
    synapses = None
    if post.size:
        synapses = b2.Synapses(neurons, neurons, "w : volt * second (constant)",
                               on_pre=_on_pre(params), dt=dt, namespace=namespace,
                               name="recurrent")
        synapses.connect(i=pre, j=post)
        synapses.w = model.w_effective[post, pre] / s * b2.mV * b2.second
    readout = b2.NeuronGroup(1, "o : 1", dt=dt, name="readout")
    readout_synapses = b2.Synapses(neurons, readout, "w_out : 1 (constant)\n"
                                   "o_post = w_out * r_pre * second : 1 (summed)", dt=dt,
                                   name="readout_weights")
    readout_synapses.connect(i=np.arange(n), j=0)
    readout_synapses.w_out = model.w_out[0] / s
    spikes = b2.SpikeMonitor(neurons, name="spikes")
    output_monitor = b2.StateMonitor(readout, "o", record=0, dt=downsample * dt, when="end",
                                     name="output")
    objects = [neurons, readout, readout_synapses, spikes, output_monitor]
    if synapses is not None:
        objects.append(synapses)
    return Brian2Model(
        network=b2.Network(*objects), neurons=neurons, synapses=synapses, readout=readout,
        readout_synapses=readout_synapses, stimulus=input_current, spikes=spikes,
        output_monitor=output_monitor, model=model, params=params, scaling_factor=s,
        duration=stimulus.shape[2] * hold * dt, downsample=int(downsample), v0=v0)
