"""Brian2 bridge: the spiking network of a model, built as an independent Brian2 network.

The Brian2 network reproduces, step for step, the update of spikernn's own engine
(:mod:`spikernn.spiking.engine`), so the two simulators can check each other
(:func:`spikernn.bridges.crosscheck.cross_validate`). Integration step ``k`` (0-based)
advances time ``k dt -> (k + 1) dt``:

1. input current ``I = s_I + bias + W_in u[:, k // hold]`` (``hold`` integration steps per
   rate step of the stimulus; a :class:`brian2.TimedArray` of step ``hold * dt``);
2. units that are not refractory integrate, LIF ``v += dt / tau_m * (-v + I)`` or QIF
   ``v += dt / tau_m * (v**2 / mV + I)``;
3. every unit, refractory or not, gets voltage noise ``v += noise_std * z``, ``z ~ N(0, 1)``;
4. ``v >= v_th`` spikes, resets ``v`` to ``v_reset`` and makes the unit refractory for the
   next ``round(t_ref / dt)`` steps;
5. synapses of each postsynaptic unit ``i`` (decay ``tau_d[i]``, rise ``tau_r``), with ``JD``
   the summed weights ``W[i, j] / s`` of the presynaptic units that spiked in this step:
   double-exponential ``s_I <- s_I e_d + h_I dt``, ``h_I <- h_I e_r + JD / (tau_r tau_d)``;
   single-exponential ``s_I <- s_I e_d + JD / tau_d``; the filtered spike train ``r`` (1/s)
   follows the same filter driven by the unit's own spike;
6. readout ``o = W_out r / s`` (no bias).

The Brian2 schedule of one time step (groups, thresholds, synapses, resets, end) carries this
out as: a ``run_regularly`` operation in the ``groups`` slot does steps 1-3 and the decay
part of step 5 (``e_d = exp(-dt / tau_d)``, ``e_r = exp(-dt / tau_r)``); the threshold does
step 4; the recurrent :class:`brian2.Synapses` add ``JD`` to ``h_I`` (or ``s_I``) on the
presynaptic spike; the reset adds the unit's own spike to ``h_r`` (or ``r``); a summed
variable evaluated in the ``end`` slot forms the readout. Refractoriness is an explicit step
counter, not Brian2's ``refractory=`` keyword (which integrates again one step earlier and
also blocks the threshold). Brian2 time ``t = k dt`` labels step ``k``; spikes come back at
spikernn's convention ``(k + 1) dt``.

Trials (and scaling factors) run as independent copies of the network inside one Brian2
network, unit ``i`` of trial ``b`` being neuron ``b * N + i``. Voltages are in volts inside
Brian2 (mV at the border), currents in volts (unit resistance), weights in volt seconds (the
area of one postsynaptic current).

Targets: Brian2's runtime mode (``target='runtime'``, numpy or cython code generation) builds
and runs the network per call; :class:`Brian2StandaloneSimulator` (``target='cpp_standalone'``)
compiles one C++ program and reruns it for many stimuli, initial voltages and scaling
factors without recompiling.

Examples
--------
>>> from spikernn.bridges.brian2 import simulate_brian2
>>> result = simulate_brian2("model.mat", 50.0, stimuli, seed=0)   # doctest: +SKIP
>>> result.spike_counts().sum()                                     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np
from brian2.devices.device import RuntimeDevice, get_device, reset_device, set_device

from spikernn.artifact import ModelArtifact, load_model
from spikernn.clock import time_base
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import RECORDABLE, SimulationResult
from spikernn.spiking.synapse import synaptic_filter

TARGETS = ("runtime", "cpp_standalone")
CODEGEN_TARGETS = ("numpy", "cython")

#: Brian2 state variable recorded for each entry of ``record``.
_RECORDED_VARIABLE = {"voltages": "v_rec", "currents": "s_I", "rates": "r"}
#: Border units of the recorded variables (mV, mV, 1/s).
_RECORDED_UNIT = {"voltages": b2.mV, "currents": b2.mV, "rates": b2.Hz}


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------

def _hold_steps(model: ModelArtifact, params: LIFParams) -> int:
    """Integration steps per rate step of the stimulus (:func:`spikernn.clock.time_base`)."""
    return time_base(model.dt_ms, params.dt).steps_per_rate_step


def _check_stimuli(stimuli: np.ndarray, n_inputs: int) -> np.ndarray:
    """Return ``stimuli`` as float64 of shape (B, n_inputs, T); (n_inputs, T) becomes B = 1."""
    stimuli = np.asarray(stimuli, dtype=float)
    if stimuli.ndim == 2:
        stimuli = stimuli[None]
    if stimuli.ndim != 3 or stimuli.shape[1] != n_inputs or stimuli.shape[2] < 1:
        raise ValueError(f"stimuli: expected shape (batch, {n_inputs}, T), got {stimuli.shape}")
    if not np.all(np.isfinite(stimuli)):
        raise ValueError("stimuli: expected finite values, got NaN/Inf")
    return stimuli


def _per_trial(value: float | Sequence[float] | np.ndarray, batch: int, name: str) -> np.ndarray:
    """Broadcast a scalar or a (batch,) sequence of positive numbers to shape (batch,)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(batch, float(arr))
    if arr.shape != (batch,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name}: expected a positive number or {batch} positive numbers, "
                         f"got {value!r}")
    return arr


def initial_voltages(params: LIFParams, batch: int, n_units: int,
                     seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Draw initial voltages (mV), shape (batch, N), from ``params.v_init``.

    'paper': uniform in [v_reset, v_init_high]; 'below_threshold': uniform in
    [v_reset, v_th); 'reset': all at v_reset. The engine draws from its own generator, so
    pass the same ``v0`` to both simulators when they must agree spike for spike.
    """
    rng = np.random.default_rng(seed)
    if params.v_init == "reset":
        return np.full((batch, n_units), params.v_reset)
    high = params.v_init_high if params.v_init == "paper" else params.v_th
    return rng.uniform(params.v_reset, high, size=(batch, n_units))


def _check_v0(v0: np.ndarray, batch: int, n_units: int) -> np.ndarray:
    """Return ``v0`` (mV) as float64 of shape (batch, N); a (N,) vector is shared."""
    v0 = np.asarray(v0, dtype=float)
    if v0.shape == (n_units,):
        v0 = np.broadcast_to(v0, (batch, n_units))
    if v0.shape != (batch, n_units) or not np.all(np.isfinite(v0)):
        raise ValueError(f"v0: expected finite values of shape ({batch}, {n_units}) or "
                         f"({n_units},), got {v0.shape}")
    return np.array(v0)


def _input_current(model: ModelArtifact, stimuli: np.ndarray) -> np.ndarray:
    """Input current ``W_in u`` (volt) per rate step and neuron: shape (T, batch * N)."""
    current = np.einsum("ic,bct->tbi", model.w_in, stimuli)
    return current.reshape(stimuli.shape[2], -1) * float(b2.mV)


def _check_noise(noise: np.ndarray, batch: int, n_steps: int, n_units: int) -> np.ndarray:
    """Return given noise values (mV) as float64 of shape (batch, n_steps, N)."""
    noise = np.asarray(noise, dtype=float)
    if noise.shape != (batch, n_steps, n_units) or not np.all(np.isfinite(noise)):
        raise ValueError(f"noise: expected finite values of shape ({batch}, {n_steps}, "
                         f"{n_units}), got {noise.shape}")
    return noise


def _check_record(record: Sequence[str]) -> tuple[str, ...]:
    """Validate the names of the opt-in recordings."""
    record = (record,) if isinstance(record, str) else tuple(record)
    for name in record:
        if name not in RECORDABLE:
            raise ValueError(f"record: expected names from {RECORDABLE}, got {name!r}")
    return record


# --------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------

def neuron_code(params: LIFParams, given_noise: bool = False) -> str:
    """Abstract code of the ``groups`` slot: input, integration, noise, synaptic decay.

    The noise is Brian2's ``noise_std * randn()``, or the TimedArray ``noise_in`` of given
    values (mV) when ``given_noise``.
    """
    drift = "(-v + I)" if params.neuron == "lif" else "(v**2 / mV + I)"
    lines = [
        "I = s_I + bias + I_in(t, i)",
        f"v += int(ref_left <= 0) * dt / tau_m * {drift}",
    ]
    if given_noise:
        lines.append("v += noise_in(t, i)")
    elif params.noise_std > 0:
        lines.append("v += noise_std * randn()")
    lines += ["ref_left -= int(ref_left > 0)", "spiked = False"]
    if params.synapse == "double":
        lines += ["s_I = s_I * e_d + h_I * dt", "h_I = h_I * e_r",
                  "r = r * e_d + h_r * dt", "h_r = h_r * e_r"]
    else:
        lines += ["s_I = s_I * e_d", "r = r * e_d"]
    return "\n".join(lines)


def reset_code(params: LIFParams) -> str:
    """Abstract code run for every unit that spiked: reset, refractoriness, own spike."""
    own = "h_r += 1 / (tau_r * tau_d)" if params.synapse == "double" else "r += 1 / tau_d"
    return f"v = v_reset\nref_left = ref_steps\nspiked = True\n{own}"


def on_pre_code(params: LIFParams) -> str:
    """Abstract code of a presynaptic spike: add ``W / s`` to the postsynaptic filter."""
    if params.synapse == "double":
        return "h_I_post += w / (s_post * tau_r * tau_d_post)"
    return "s_I_post += w / (s_post * tau_d_post)"


NEURON_EQUATIONS = """
v : volt
s_I : volt
h_I : volt / second
r : hertz
h_r : hertz / second
ref_left : integer
spiked : boolean
tau_d : second (constant)
e_d : 1 (constant)
s : 1 (constant)
v_rec = v + int(spiked) * (v_peak - v) : volt
"""

READOUT_EQUATIONS = """
o_sum : hertz
s : 1 (constant)
o = o_sum * second / s : 1
"""


@dataclass(eq=False)
class Brian2Network:
    """A Brian2 network equivalent to spikernn's engine, for ``batch`` trials.

    Attributes
    ----------
    network : brian2.Network
        Everything below; ``network.run(n_steps * dt)`` simulates.
    neurons : brian2.NeuronGroup
        ``batch * N`` units; unit ``i`` of trial ``b`` is neuron ``b * N + i``.
    synapses : brian2.Synapses or None
        Recurrent connections inside each trial's copy, weight ``w`` (volt second); None
        when the network has no recurrent weights.
    readout : brian2.NeuronGroup
        One neuron per trial holding the readout ``o``.
    stimulus : brian2.TimedArray
        Input current ``W_in u`` per neuron (volt), one value per rate step.
    spikes, output_monitor : brian2.SpikeMonitor, brian2.StateMonitor
        Spikes of all units; the readout every ``downsample`` steps.
    state_monitor : brian2.StateMonitor or None
        The opt-in recordings every ``record_every`` steps.
    model, params : ModelArtifact, LIFParams
    batch, n_steps, downsample, record_every : int
    record : tuple of str
    """

    network: b2.Network
    neurons: b2.NeuronGroup
    synapses: b2.Synapses | None
    readout: b2.NeuronGroup
    stimulus: b2.TimedArray
    spikes: b2.SpikeMonitor
    output_monitor: b2.StateMonitor
    state_monitor: b2.StateMonitor | None
    model: ModelArtifact
    params: LIFParams
    batch: int
    n_steps: int
    downsample: int
    record: tuple[str, ...]
    record_every: int

    def __repr__(self) -> str:
        return (f"Brian2Network(N={self.model.N}, batch={self.batch}, n_steps={self.n_steps}, "
                f"neuron={self.params.neuron!r}, synapse={self.params.synapse!r})")

    @property
    def duration(self) -> b2.Quantity:
        """Simulated time of one run."""
        return self.n_steps * self.params.dt * b2.second

    def set_state(self, v0: np.ndarray, scaling_factors: np.ndarray) -> None:
        """Set initial voltages (mV, (batch, N)) and per-trial scaling factors (runtime)."""
        self.neurons.v = v0.ravel() * b2.mV
        self.neurons.s = np.repeat(scaling_factors, self.model.N)
        self.readout.s = scaling_factors

    def result(self, v0: np.ndarray, scaling_factors: np.ndarray, seed: int | None,
               metadata: dict[str, Any] | None = None) -> SimulationResult:
        """Collect the monitors of the last run into a :class:`SimulationResult`."""
        n = self.model.N
        dt = self.params.dt
        step = np.rint(np.asarray(self.spikes.t_) / dt).astype(np.int64)
        neuron = np.asarray(self.spikes.i, dtype=np.int64)
        trial, unit = neuron // n, neuron % n
        order = np.lexsort((unit, trial, step))
        recordings = {}
        if self.state_monitor is not None:
            for name in self.record:
                var = _RECORDED_VARIABLE[name]
                samples = _samples(getattr(self.state_monitor, var + "_"),
                                   self._final_state(var), self.n_steps, self.record_every)
                recordings[name] = (samples.reshape(-1, self.batch, n).transpose(1, 0, 2)
                                    / float(_RECORDED_UNIT[name]))
        final_output = np.asarray(self.readout.o_sum_) / scaling_factors
        output = _samples(self.output_monitor.o_, final_output, self.n_steps,
                          self.downsample).T
        return SimulationResult(
            output=output, spike_trial=trial[order], spike_unit=unit[order],
            spike_step=step[order], dt=dt, n_steps=self.n_steps, downsample=self.downsample,
            scaling_factors=scaling_factors, exc=self.model.exc.copy(), params=self.params,
            record_every=self.record_every, v0=v0, seed=seed, stimulus_dt_ms=self.model.dt_ms,
            metadata={"simulator": f"brian2 {b2.__version__}", **(metadata or {})},
            **recordings)


    def _final_state(self, var: str) -> np.ndarray:
        """Value of a recorded variable after the last step (subexpressions in numpy)."""
        if var == "v_rec":
            return np.where(np.asarray(self.neurons.spiked), self.params.v_peak * 1e-3,
                            np.asarray(self.neurons.v_))
        return np.asarray(getattr(self.neurons, var + "_"))


def _samples(monitored: np.ndarray, final: np.ndarray, n_steps: int, every: int) -> np.ndarray:
    """States after steps ``every - 1, 2 every - 1, ...``: shape (n_steps // every, size).

    A monitor in the ``start`` slot every ``every`` steps sees the state after the previous
    step; its first sample (the initial state) is dropped and, when ``every`` divides
    ``n_steps``, the final state is appended.
    """
    samples = np.asarray(monitored).T[1:]
    if n_steps % every == 0:
        samples = np.concatenate([samples, np.asarray(final)[None]], axis=0)
    return samples


def build_brian2_network(model: ModelArtifact | str | os.PathLike,
                         scaling_factor: float | Sequence[float],
                         stimuli: np.ndarray,
                         params: LIFParams | None = None,
                         v0: np.ndarray | None = None,
                         seed: int | None = None,
                         noise: np.ndarray | None = None,
                         downsample: int = 1,
                         record: Sequence[str] = (),
                         record_every: int = 1) -> Brian2Network:
    """Build a Brian2 network equivalent to spikernn's engine for a batch of trials.

    Call under the Brian2 device that should run it (runtime by default); for compile-once
    standalone runs use :class:`Brian2StandaloneSimulator`.

    Parameters
    ----------
    model : ModelArtifact or path
        The trained rate model (``.mat``/``.pth`` file or folder with one ``.mat``).
    scaling_factor : float or sequence of float
        Scaling factor ``s`` (weights ``W / s``, readout ``W_out r / s``), one or one per
        trial.
    stimuli : numpy.ndarray, shape (batch, n_inputs, T) or (n_inputs, T)
        Rate inputs, one column per rate step of ``model.dt_ms`` (held 100 steps).
    params : LIFParams, optional
        Neuron, synapse and integration parameters (SI Table S1 when omitted).
    v0 : numpy.ndarray, shape (batch, N) or (N,), optional
        Initial voltages, mV; drawn from ``params.v_init`` with ``seed`` when omitted.
    seed : int, optional
        Seed of the initial voltages drawn here (the noise is seeded by the caller through
        :func:`brian2.seed`).
    noise : numpy.ndarray, shape (batch, n_steps, N), optional
        Given noise values ``noise_std * z`` (mV) added to ``v`` every step (as the engine's
        ``noise=`` array); Brian2 draws ``noise_std * randn()`` itself when omitted. Memory
        and time grow with batch x n_steps x N: meant for short cross-checks.
    downsample : int
        Steps between readout samples.
    record : sequence of {'voltages', 'currents', 'rates'}
        Opt-in recordings.
    record_every : int
        Steps between samples of the recordings.

    Returns
    -------
    Brian2Network
    """
    model = load_model(model)
    params = params or LIFParams()
    stimuli = _check_stimuli(stimuli, model.n_inputs)
    batch, n = stimuli.shape[0], model.N
    scaling_factors = _per_trial(scaling_factor, batch, "scaling_factor")
    record = _check_record(record)
    downsample, record_every = _positive_int(downsample, "downsample"), _positive_int(
        record_every, "record_every")
    hold = _hold_steps(model, params)
    n_steps = stimuli.shape[2] * hold
    v0 = initial_voltages(params, batch, n, seed) if v0 is None else _check_v0(v0, batch, n)

    dt = params.dt * b2.second
    synapse = synaptic_filter(model.tau_d_ms * 1e-3, params)
    stimulus = b2.TimedArray(_input_current(model, stimuli) * b2.volt, dt=hold * dt,
                             name="stimulus")
    namespace = {
        "I_in": stimulus, "bias": params.bias * b2.mV, "tau_m": params.tau_m * b2.second,
        "tau_r": params.tau_r * b2.second, "e_r": synapse.rise_decay,
        "noise_std": params.noise_std * b2.mV, "v_reset": params.v_reset * b2.mV,
        "v_th": params.v_th * b2.mV, "v_peak": params.v_peak * b2.mV,
        "ref_steps": params.refractory_steps,
    }
    neurons = b2.NeuronGroup(batch * n, NEURON_EQUATIONS, threshold="v >= v_th",
                             reset=reset_code(params), dt=dt, namespace=namespace,
                             name="units")
    if noise is not None:
        noise = _check_noise(noise, batch, n_steps, n)
        namespace["noise_in"] = b2.TimedArray(
            noise.transpose(1, 0, 2).reshape(n_steps, batch * n) * b2.mV, dt=dt,
            name="noise")
    neurons.run_regularly(neuron_code(params, noise is not None), when="groups",
                          name="units_step")
    neurons.tau_d = np.tile(model.tau_d_ms * 1e-3, batch) * b2.second
    neurons.e_d = np.tile(synapse.decay, batch)

    synapses = _recurrent_synapses(neurons, model.w_effective, batch, params, namespace)

    readout = b2.NeuronGroup(batch, READOUT_EQUATIONS, dt=dt, name="readout")
    readout_syn = b2.Synapses(neurons, readout, "w_out : 1 (constant)\n"
                              "o_sum_post = w_out * r_pre : hertz (summed)",
                              dt=dt, name="readout_weights")
    readout_syn.connect(i=np.arange(batch * n), j=np.repeat(np.arange(batch), n))
    readout_syn.w_out = np.tile(model.w_out.ravel(), batch)
    for updater in readout_syn.summed_updaters.values():
        updater.when = "end"   # after the resets: the readout sees this step's own spikes

    spikes = b2.SpikeMonitor(neurons, name="spike_monitor")
    output_monitor = b2.StateMonitor(readout, "o", record=True, dt=downsample * dt,
                                     when="start", name="output_monitor")
    objects = [neurons, readout, readout_syn, spikes, output_monitor]
    if synapses is not None:
        objects.append(synapses)
    state_monitor = None
    if record:
        state_monitor = b2.StateMonitor(neurons, [_RECORDED_VARIABLE[r] for r in record],
                                        record=True, dt=record_every * dt, when="start",
                                        name="state_monitor")
        objects.append(state_monitor)
    net = Brian2Network(
        network=b2.Network(*objects), neurons=neurons, synapses=synapses, readout=readout,
        stimulus=stimulus, spikes=spikes, output_monitor=output_monitor,
        state_monitor=state_monitor, model=model, params=params, batch=batch,
        n_steps=n_steps, downsample=downsample, record=record, record_every=record_every)
    net.set_state(v0, scaling_factors)
    return net


def _recurrent_synapses(neurons: b2.NeuronGroup, w_rate: np.ndarray, batch: int,
                        params: LIFParams, namespace: dict[str, Any]) -> b2.Synapses | None:
    """Connections ``j -> i`` for every nonzero ``w_rate[i, j]`` inside each trial's copy,
    weight ``w_rate[i, j]`` mV s (divided by ``s`` on the spike); None without any."""
    post, pre = np.nonzero(w_rate)
    if post.size == 0:
        return None
    n = w_rate.shape[0]
    offsets = np.repeat(np.arange(batch) * n, post.size)
    synapses = b2.Synapses(neurons, neurons, "w : volt * second (constant)",
                           on_pre=on_pre_code(params), dt=neurons.clock.dt,
                           namespace=namespace, name="recurrent")
    synapses.connect(i=np.tile(pre, batch) + offsets, j=np.tile(post, batch) + offsets)
    synapses.w = np.tile(w_rate[post, pre], batch) * b2.mV * b2.second
    return synapses


def _positive_int(value: int, name: str) -> int:
    if int(value) != value or int(value) < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------

@contextlib.contextmanager
def _codegen_target(codegen: str) -> Iterator[None]:
    """Use Brian2 code generation target ``codegen`` for the block, then restore it."""
    if codegen not in CODEGEN_TARGETS:
        raise ValueError(f"codegen: expected one of {CODEGEN_TARGETS}, got {codegen!r}")
    saved = b2.prefs.codegen.target
    b2.prefs.codegen.target = codegen
    try:
        yield
    finally:
        b2.prefs.codegen.target = saved


@contextlib.contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Seed Brian2's generators for the block; numpy's global state is restored after."""
    saved = np.random.get_state()
    b2.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def simulate_brian2(model: ModelArtifact | str | os.PathLike,
                    scaling_factor: float | Sequence[float],
                    stimuli: np.ndarray,
                    params: LIFParams | None = None,
                    seed: int | None = None,
                    v0: np.ndarray | None = None,
                    noise: np.ndarray | None = None,
                    target: str = "runtime",
                    codegen: str = "numpy",
                    downsample: int = 1,
                    record: Sequence[str] = (),
                    record_every: int = 1,
                    max_batch: int | None = None,
                    directory: str | os.PathLike | None = None) -> SimulationResult:
    """Simulate trials of a model's spiking network in Brian2.

    Parameters
    ----------
    model : ModelArtifact or path
        The trained rate model.
    scaling_factor : float or sequence of float
        Scaling factor, one or one per trial.
    stimuli : numpy.ndarray, shape (batch, n_inputs, T) or (n_inputs, T)
        Rate inputs (one column per 5 ms rate step).
    params : LIFParams, optional
        Neuron, synapse and integration parameters (SI Table S1 when omitted).
    seed : int, optional
        Seed of the initial voltages (when ``v0`` is omitted) and of the voltage noise.
    v0 : numpy.ndarray, shape (batch, N) or (N,), optional
        Initial voltages, mV.
    noise : numpy.ndarray, shape (batch, n_steps, N), optional
        Given noise values (mV), as the engine's ``noise=`` array (runtime target only);
        Brian2 draws its own when omitted.
    target : {'runtime', 'cpp_standalone'}
        Brian2 runtime mode, or one compiled C++ program (built once per call here; keep a
        :class:`Brian2StandaloneSimulator` to reuse a build across calls).
    codegen : {'numpy', 'cython'}
        Code generation of the runtime target.
    downsample : int
        Steps between readout samples.
    record : sequence of {'voltages', 'currents', 'rates'}
        Opt-in recordings (memory: batch x n_steps / record_every x N).
    record_every : int
        Steps between samples of the recordings.
    max_batch : int, optional
        Trials per Brian2 network (all at once when omitted).
    directory : path, optional
        Build folder of the standalone target (a temporary folder, removed after, when
        omitted).

    Returns
    -------
    SimulationResult
        The same result type as the engine; ``metadata['simulator']`` names Brian2.
    """
    if target not in TARGETS:
        raise ValueError(f"target: expected one of {TARGETS}, got {target!r}")
    model = load_model(model)
    params = params or LIFParams()
    stimuli = _check_stimuli(stimuli, model.n_inputs)
    batch = stimuli.shape[0]
    scaling_factors = _per_trial(scaling_factor, batch, "scaling_factor")
    v0 = (initial_voltages(params, batch, model.N, seed) if v0 is None
          else _check_v0(v0, batch, model.N))
    chunk = batch if max_batch is None else _positive_int(max_batch, "max_batch")
    options = {"downsample": downsample, "record": record, "record_every": record_every}
    if noise is not None:
        if target != "runtime":
            raise ValueError(f"noise: given noise values need target='runtime', got {target!r}")
        noise = _check_noise(noise, batch, stimuli.shape[2] * _hold_steps(model, params), model.N)
    results = []
    if target == "runtime":
        for k, lo in enumerate(range(0, batch, chunk)):
            sl = slice(lo, lo + chunk)
            chunk_seed = None if seed is None else seed + k
            results.append(_run_runtime(
                model, scaling_factors[sl], stimuli[sl], params, v0[sl], chunk_seed, codegen,
                {**options, "noise": None if noise is None else noise[sl]}))
    else:
        with Brian2StandaloneSimulator(model, params, min(chunk, batch), stimuli.shape[2],
                                       seed=seed, directory=directory, **options) as sim:
            for lo in range(0, batch, chunk):
                sl = slice(lo, lo + chunk)
                results.append(sim.run(stimuli[sl], scaling_factors[sl], v0[sl]))
    return concatenate_results(results, seed=seed)


def _run_runtime(model: ModelArtifact, scaling_factors: np.ndarray, stimuli: np.ndarray,
                 params: LIFParams, v0: np.ndarray, seed: int | None, codegen: str,
                 options: dict[str, Any]) -> SimulationResult:
    if not isinstance(get_device(), RuntimeDevice):
        raise RuntimeError(f"target='runtime' needs Brian2's runtime device, but "
                           f"{type(get_device()).__name__} is active (close the standalone "
                           "simulator first)")
    with _codegen_target(codegen), _seeded(seed):
        net = build_brian2_network(model, scaling_factors, stimuli, params, v0=v0, **options)
        net.network.run(net.duration)
        return net.result(v0, scaling_factors, seed, {"target": f"runtime ({codegen})"})


def concatenate_results(results: Sequence[SimulationResult], seed: int | None = None
                        ) -> SimulationResult:
    """Join results of consecutive batches of trials into one (trial indices shifted)."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    offsets = np.cumsum([0] + [r.batch_size for r in results[:-1]])
    trial = np.concatenate([r.spike_trial + o for r, o in zip(results, offsets, strict=True)])
    unit = np.concatenate([r.spike_unit for r in results])
    step = np.concatenate([r.spike_step for r in results])
    order = np.lexsort((unit, trial, step))
    recordings = {name: np.concatenate([getattr(r, name) for r in results])
                  for name in RECORDABLE if getattr(first, name) is not None}
    return SimulationResult(
        output=np.concatenate([r.output for r in results]), spike_trial=trial[order],
        spike_unit=unit[order], spike_step=step[order], dt=first.dt, n_steps=first.n_steps,
        downsample=first.downsample,
        scaling_factors=np.concatenate([r.scaling_factors for r in results]), exc=first.exc,
        params=first.params, record_every=first.record_every,
        v0=np.concatenate([r.v0 for r in results]), seed=seed, metadata=first.metadata,
        stimulus_dt_ms=first.stimulus_dt_ms,
        **recordings)


class Brian2StandaloneSimulator:
    """One compiled Brian2 ``cpp_standalone`` program, rerun for many trials.

    The network is built for ``batch`` trials of ``T`` rate steps; :meth:`build` compiles it
    once, and each :meth:`run` sets the stimulus, the initial voltages and the scaling
    factors through Brian2's ``run_args`` and runs the binary again without recompiling.
    Use it as a context manager: on exit Brian2's previous device is restored and a
    temporary build folder removed.

    Parameters
    ----------
    model : ModelArtifact or path
        The trained rate model.
    params : LIFParams, optional
        Neuron, synapse and integration parameters (SI Table S1 when omitted).
    batch : int
        Trials per run.
    T : int
        Rate steps per trial.
    seed : int, optional
        Seed of the compiled program's generator. The noise realisation is fixed by the
        build: every run of one build draws the same noise sequence.
    downsample, record, record_every
        As in :func:`simulate_brian2`.
    directory : path, optional
        Build folder (a temporary folder, removed on :meth:`close`, when omitted).

    Attributes
    ----------
    build_time : float
        Seconds spent generating and compiling the program (after :meth:`build`).
    """

    def __init__(self, model: ModelArtifact | str | os.PathLike, params: LIFParams | None = None,
                 batch: int = 1, T: int = 200, seed: int | None = None,
                 downsample: int = 1, record: Sequence[str] = (), record_every: int = 1,
                 directory: str | os.PathLike | None = None):
        self.model = load_model(model)
        self.params = params or LIFParams()
        self.batch = _positive_int(batch, "batch")
        self.T = _positive_int(T, "T")
        self.seed = seed
        self.options = {"downsample": downsample, "record": _check_record(record),
                        "record_every": record_every}
        self._tmp = None if directory is not None else tempfile.TemporaryDirectory(
            prefix="spikernn_brian2_")
        self.directory = Path(directory if directory is not None else self._tmp.name)
        self.build_time: float | None = None
        self._net: Brian2Network | None = None
        self._runs = 0

    def __repr__(self) -> str:
        return (f"Brian2StandaloneSimulator(N={self.model.N}, batch={self.batch}, T={self.T}, "
                f"built={self._net is not None}, directory={str(self.directory)!r})")

    def __enter__(self) -> Brian2StandaloneSimulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def build(self) -> Brian2StandaloneSimulator:
        """Generate and compile the C++ program (once)."""
        if self._net is not None:
            return self
        start = time.perf_counter()
        set_device("cpp_standalone", directory=str(self.directory), build_on_run=False)
        try:
            device = get_device()
            device.reinit()
            device.activate(directory=str(self.directory), build_on_run=False)
            if self.seed is not None:
                b2.seed(self.seed)
            zeros = np.zeros((self.batch, self.model.n_inputs, self.T))
            net = build_brian2_network(
                self.model, np.ones(self.batch), zeros, self.params,
                v0=np.full((self.batch, self.model.N), self.params.v_reset), **self.options)
            net.network.run(net.duration)
            device.build(directory=str(self.directory), compile=True, run=False,
                         with_output=False)
        except BaseException:
            self._release_device()
            raise
        self._net = net
        self.build_time = time.perf_counter() - start
        return self

    def run(self, stimuli: np.ndarray, scaling_factor: float | Sequence[float],
            v0: np.ndarray | None = None, v0_seed: int | None = None) -> SimulationResult:
        """Run the compiled program on one batch of trials.

        Parameters
        ----------
        stimuli : numpy.ndarray, shape (batch, n_inputs, T)
            Rate inputs of exactly the built batch size and length.
        scaling_factor : float or sequence of float
            One or one per trial.
        v0 : numpy.ndarray, shape (batch, N), optional
            Initial voltages, mV (drawn from ``params.v_init`` with ``v0_seed`` if omitted).
        v0_seed : int, optional
            Seed of the initial voltages drawn here.
        """
        self.build()
        net = self._net
        stimuli = _check_stimuli(stimuli, self.model.n_inputs)
        if stimuli.shape[0] != self.batch or stimuli.shape[2] != self.T:
            raise ValueError(f"stimuli: expected shape ({self.batch}, {self.model.n_inputs}, "
                             f"{self.T}) (the built size), got {stimuli.shape}")
        scaling_factors = _per_trial(scaling_factor, self.batch, "scaling_factor")
        n = self.model.N
        v0 = (initial_voltages(self.params, self.batch, n, v0_seed) if v0 is None
              else _check_v0(v0, self.batch, n))
        run_args = {net.stimulus: _input_current(self.model, stimuli) * b2.volt,
                    net.neurons.v: v0.ravel() * b2.mV,
                    net.neurons.s: np.repeat(scaling_factors, n),
                    net.readout.s: scaling_factors}
        results = f"results_{self._runs}"
        self._runs += 1
        get_device().run(directory=str(self.directory), results_directory=results,
                         with_output=False, run_args=run_args)
        return net.result(v0, scaling_factors, self.seed, {"target": "cpp_standalone"})

    def close(self) -> None:
        """Restore Brian2's previous device and remove a temporary build folder."""
        if self._net is not None:
            self._release_device()
            self._net = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @staticmethod
    def _release_device() -> None:
        get_device().reinit()
        reset_device()


__all__ = ["Brian2Network", "Brian2StandaloneSimulator", "CODEGEN_TARGETS", "RECORDABLE",
           "TARGETS", "build_brian2_network", "concatenate_results", "initial_voltages",
           "neuron_code", "on_pre_code", "reset_code", "simulate_brian2"]
