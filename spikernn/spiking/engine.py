"""The one batched LIF/QIF spiking simulator (Kim, Li & Sejnowski 2019, SI Table S1).

All trials of a batch are independent copies of one network; each trial row ``b`` has its
own scaling factor ``s_b`` (so "factors x trials" is one call). State tensors have shape
``(batch, N)``; units: seconds, mV (currents too: unit resistance), 1/s for filtered rates.

Exact update of integration step ``k`` (0-based; time ``k dt -> (k + 1) dt``), for trial
``b`` and unit ``i``, with ``a = dt / tau_m``:

1. Input. Rate sample ``j = k // hold`` (``hold = round(dt_ms * 1e-3 / dt)``, 100 at 0.05 ms)
   is held for steps ``[j hold, (j + 1) hold)``:
   ``I = s_I + bias + (W_in u[:, j])_i``. (The seed port held sample ``round(i / 100)`` of
   1-based step ``i``, a half-sample offset; we do not.)
2. Units that are not refractory integrate: LIF ``v += a (-v + I)``; QIF ``v += a (v^2 + I)``.
3. Every unit (refractory ones too) gets noise: ``v += noise_std * z``, ``z ~ N(0, 1)``
   (see :mod:`spikernn.spiking.noise` for how ``z`` is drawn).
4. Perturbation (optional): the chosen units get ``+-0.5`` mV on a random half of the steps
   of ``[on, off)`` (:mod:`spikernn.spiking.perturbation`).
5. Spike: ``v >= v_th``. A unit that spiked in step ``k`` is refractory in steps
   ``k + 1 .. k + R`` (``R = round(t_ref / dt)``, 40) and integrates again from ``k + R + 1``.
   Units start non-refractory (the seed's ``tlast = 0`` start made every unit refractory
   for the first 2 ms).
6. Synapses of postsynaptic unit ``i`` (decay ``td_i``, rise ``tr``), with
   ``JD = (W_rate / s_b) @ spike``. Double-exponential:
   ``s_I <- s_I e^(-dt/td) + h_I dt``; ``h_I <- h_I e^(-dt/tr) + JD / (tr td)``;
   ``r <- r e^(-dt/td) + h_r dt``; ``h_r <- h_r e^(-dt/tr) + spike / (tr td)``.
   Single-exponential: ``s_I <- s_I e^(-dt/td) + JD / td``; ``r <- r e^(-dt/td) + spike / td``.
7. Recorded voltages show ``v_peak`` at a spike; then spiking units reset to ``v_reset``.
8. Readout ``o = (W_out r) / s_b`` (no bias, as in the paper).

Implementation notes: ``s_I`` and ``r`` share their decay factors and are stacked as one
``(batch, 2N)`` tensor (likewise ``h_I, h_r``, stored multiplied by ``dt``); the recurrent
input is built from the sparse spikes (the weight columns of the units that spiked are
gathered, scaled by ``1 / s_b`` and added into their trial rows), not a dense matmul. The step
updates the state tensors in place (the loop owns them) for speed.

Random draws (all from CPU ``torch.Generator`` objects, so the numbers do not depend on the
device), for ``seed``: ``seq = numpy.random.SeedSequence(seed)``; three child seeds
``seq.spawn(3)`` (``int(child.generate_state(1, numpy.uint64)[0])``) seed three generators,
used for (0) the initial voltages: ``torch.rand((B, N), dtype=float64)`` mapped onto the
chosen interval, (1) the noise (:class:`~spikernn.spiking.noise.PoolNoise`; with
``noise='gaussian'`` the trials' generators are seeded from ``spawn(B)`` of that child),
(2) the perturbation coins. Each draw covers all trials row-major, so trial ``b`` sees the same
numbers in any batch of at least ``b + 1`` trials and under any ``max_batch``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from .noise import NOISE_KINDS, ArrayNoise, GaussianNoise, NoiseSource, PoolNoise, n_blocks
from .noise import BLOCK_STEPS as _BLOCK
from .params import LIFParams
from .perturbation import Perturbation
from .result import SimulationResult

RECORDABLE = ("voltages", "currents", "rates")
#: Default memory budget for one chunk's noise block and state, bytes.
DEFAULT_MEMORY_BUDGET = 256 * 2**20


class NetworkTensors(NamedTuple):
    """The network, unscaled, on one device.

    Attributes
    ----------
    w_rec : torch.Tensor, shape (N, N)
        Rate-model recurrent matrix ``W_rate`` (``W[i, j]``: from unit j onto unit i);
        trial ``b`` uses ``W_rate / s_b``.
    w_in : torch.Tensor, shape (N, n_inputs)
        Input weights.
    w_out : torch.Tensor, shape (N,)
        Readout weights of the rate model; trial ``b`` uses ``w_out / s_b``.
    tau_d : torch.Tensor, shape (N,)
        Per-unit synaptic decay constants, s.
    """

    w_rec: torch.Tensor
    w_in: torch.Tensor
    w_out: torch.Tensor
    tau_d: torch.Tensor


class StepConstants(NamedTuple):
    """Everything a step needs besides the state, derived once from params and network."""

    leak: float              # dt / tau_m
    qif: bool
    v_th: float
    v_reset: float
    refractory_steps: int
    double: bool             # double- (True) or single-exponential synapse
    decay: torch.Tensor      # (2N,) exp(-dt / td) for [current | rate]
    rise_decay: float        # exp(-dt / tr)
    kick_rec: torch.Tensor   # (N, N): row j = what a spike of j adds to trial's [current] part
    kick_self: torch.Tensor  # (N,): what a spike of i adds to its own [rate] part


class State(NamedTuple):
    """Simulation state of a batch (tensors updated in place by :func:`step`).

    Attributes
    ----------
    v : (B, N) membrane voltages, mV.
    last_spike : (B, N) int32, step of each unit's last spike (``-R - 1`` before any).
    syn : (B, 2N) ``[s_I | r]``: synaptic currents (mV) and filtered spike trains (1/s).
    rise : (B, 2N) ``[h_I | h_r] * dt`` (double-exponential synapse; empty otherwise).
    """

    v: torch.Tensor
    last_spike: torch.Tensor
    syn: torch.Tensor
    rise: torch.Tensor


# --------------------------------------------------------------------------------------
# the step, composed of a neuron part and a synapse part
# --------------------------------------------------------------------------------------

def make_constants(net: NetworkTensors, params: LIFParams) -> StepConstants:
    """Derive the per-step constants of ``net`` under ``params``."""
    dt, td = params.dt, net.tau_d
    double = params.synapse == "double"
    decay = torch.exp(-dt / td).repeat(2)
    # what one spike adds: to h*dt (double) or directly to s (single), per postsynaptic unit
    gain = dt / (params.tau_r * td) if double else 1.0 / td
    return StepConstants(
        leak=dt / params.tau_m, qif=params.neuron == "qif", v_th=float(params.v_th),
        v_reset=params.v_reset, refractory_steps=params.refractory_steps, double=double,
        decay=decay, rise_decay=math.exp(-dt / params.tau_r) if double else 0.0,
        kick_rec=(net.w_rec * gain[:, None]).T.contiguous(), kick_self=gain)


def integrate_membrane(state: State, k: int, drive: torch.Tensor, c: StepConstants) -> None:
    """Steps 1-2: non-refractory units take one Euler step of the LIF or QIF equation.

    ``drive`` is ``bias + W_in u[:, j]``, shape (B, N).
    """
    n = drive.shape[1]
    dv = torch.add(state.syn[:, :n], drive)
    if c.qif:
        dv.addcmul_(state.v, state.v)
    else:
        dv.sub_(state.v)
    if c.refractory_steps > 0:
        dv.mul_(state.last_spike.lt(k - c.refractory_steps))
    state.v.add_(dv, alpha=c.leak)


def fire(state: State, k: int, c: StepConstants) -> torch.Tensor:
    """Step 5: flat indices (``trial * N + unit``) of the units at or above threshold;
    they become refractory."""
    spikes = torch.ge(state.v, c.v_th).view(-1).nonzero().squeeze(1)
    state.last_spike.view(-1).index_fill_(0, spikes, k)
    return spikes


def update_synapses(state: State, spikes: torch.Tensor, inv_scale: torch.Tensor,
                    c: StepConstants) -> None:
    """Step 6: decay the synaptic currents and filtered rates, then add this step's spikes.

    ``inv_scale`` (B,) holds ``1 / s_b``.
    """
    n = c.kick_self.shape[0]
    if c.double:
        torch.addcmul(state.rise, state.syn, c.decay, out=state.syn)
        state.rise.mul_(c.rise_decay)
        target = state.rise
    else:
        state.syn.mul_(c.decay)
        target = state.syn
    if spikes.numel() == 0:
        return
    trials, units = spikes // n, spikes % n
    target[:, :n].index_add_(0, trials, c.kick_rec[units] * inv_scale[trials, None])
    target.view(-1).index_add_(0, trials * (2 * n) + n + units, c.kick_self[units])


def step(state: State, k: int, drive: torch.Tensor, noise: torch.Tensor | None,
         kick: tuple[torch.Tensor, torch.Tensor] | None, inv_scale: torch.Tensor,
         c: StepConstants) -> torch.Tensor:
    """Advance ``state`` by integration step ``k`` (steps 1-7 of the module docstring).

    Parameters
    ----------
    state : State
        Updated in place.
    k : int
        Step index (0-based).
    drive : torch.Tensor, shape (B, N)
        ``bias + W_in u[:, k // hold]``, mV.
    noise : torch.Tensor, shape (B, N), or None
        ``noise_std * z``, mV.
    kick : (units, mV per trial (B, 1)) or None
        Perturbation of this step.
    inv_scale : torch.Tensor, shape (B,)
        ``1 / s_b``.
    c : StepConstants

    Returns
    -------
    torch.Tensor
        Flat indices ``trial * N + unit`` of the spikes of this step (ascending). Their
        voltages have already been reset.
    """
    integrate_membrane(state, k, drive, c)
    if noise is not None:
        state.v.add_(noise)
    if kick is not None:
        units, mv = kick
        state.v.index_add_(1, units, mv.expand(-1, units.shape[0]))
    spikes = fire(state, k, c)
    update_synapses(state, spikes, inv_scale, c)
    state.v.view(-1).index_fill_(0, spikes, c.v_reset)
    return spikes


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------

def initial_voltages(params: LIFParams, n_trials: int, n_units: int,
                     generator: torch.Generator) -> torch.Tensor:
    """Initial voltages (mV), shape (n_trials, n_units), float64 on the CPU.

    'paper': uniform in ``[v_reset, v_init_high]``; 'below_threshold': uniform in
    ``[v_reset, v_th)``; 'reset': all ``v_reset`` (no draw).
    """
    if params.v_init == "reset":
        return torch.full((n_trials, n_units), params.v_reset, dtype=torch.float64)
    high = params.v_init_high if params.v_init == "paper" else params.v_th
    u = torch.rand((n_trials, n_units), generator=generator, dtype=torch.float64)
    return params.v_reset + u * (high - params.v_reset)


def _child_seeds(seed: int, n: int) -> list[int]:
    return [int(c.generate_state(1, np.uint64)[0]) for c in np.random.SeedSequence(seed).spawn(n)]


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class _Recorder:
    """Readout, sparse spikes and the opt-in traces of one chunk."""

    def __init__(self, n_trials: int, n_units: int, n_steps: int, downsample: int,
                 record: Sequence[str], record_every: int, w_out: torch.Tensor,
                 inv_scale: torch.Tensor) -> None:
        self.downsample, self.record_every = downsample, record_every
        self.w_out, self.inv_scale = w_out, inv_scale
        self.output = torch.empty((n_trials, n_steps // downsample), dtype=w_out.dtype,
                                  device=w_out.device)
        self.traces = {name: np.empty((n_trials, n_steps // record_every, n_units),
                                      dtype=np.dtype(str(w_out.dtype).replace("torch.", "")))
                       for name in record}
        self.spikes: list[torch.Tensor] = []
        self.counts: list[int] = []

    def __call__(self, k: int, state: State, spikes: torch.Tensor, v_peak: float) -> None:
        n = state.v.shape[1]
        self.spikes.append(spikes)
        self.counts.append(spikes.numel())
        if (k + 1) % self.downsample == 0:
            col = self.output[:, (k + 1) // self.downsample - 1]
            torch.mv(state.syn[:, n:], self.w_out, out=col)
            col.mul_(self.inv_scale)
        if self.traces and (k + 1) % self.record_every == 0:
            row = (k + 1) // self.record_every - 1
            if "voltages" in self.traces:
                v = state.v.clone()
                v.view(-1).index_fill_(0, spikes, v_peak)
                self.traces["voltages"][:, row] = v.cpu().numpy()
            if "currents" in self.traces:
                self.traces["currents"][:, row] = state.syn[:, :n].cpu().numpy()
            if "rates" in self.traces:
                self.traces["rates"][:, row] = state.syn[:, n:].cpu().numpy()

    def events(self, n_units: int, first_trial: int) -> tuple[np.ndarray, ...]:
        flat = torch.cat(self.spikes).cpu().numpy() if self.spikes else np.empty(0, np.int64)
        steps = np.repeat(np.arange(len(self.counts), dtype=np.int64), self.counts)
        return flat // n_units + first_trial, flat % n_units, steps


def _run_chunk(net: NetworkTensors, c: StepConstants, params: LIFParams,
               drive_in: torch.Tensor, inv_scale: torch.Tensor, v0: torch.Tensor,
               noise: NoiseSource | None, trials: slice,
               kicks: tuple[Perturbation, torch.Tensor] | None, n_steps: int, hold: int,
               rec: _Recorder, progress) -> None:
    n_trials, n_units = v0.shape
    dev, dtype = v0.device, v0.dtype
    width = 2 * n_units
    state = State(v=v0.clone(),
                  last_spike=torch.full((n_trials, n_units), -c.refractory_steps - 1,
                                        dtype=torch.int32, device=dev),
                  syn=torch.zeros((n_trials, width), dtype=dtype, device=dev),
                  rise=torch.zeros((n_trials, width if c.double else 0), dtype=dtype,
                                   device=dev))
    units = (torch.tensor(kicks[0].units, device=dev) if kicks is not None else None)
    drive = noise_block = None
    for k in range(n_steps):
        if k % hold == 0:
            drive = (drive_in[:, :, k // hold] @ net.w_in.T).add_(params.bias)
            if progress is not None:
                progress.update(min(hold, n_steps - k))
        if noise is not None and k % _BLOCK == 0:
            noise_block = noise.block(trials, k // _BLOCK)
        kick = None
        if kicks is not None and kicks[0].on <= k < kicks[0].on + kicks[1].shape[1]:
            kick = (units, kicks[1][:, k - kicks[0].on, None])
        spikes = step(state, k, drive,
                      noise_block[:, k % _BLOCK] if noise is not None else None,
                      kick, inv_scale, c)
        rec(k, state, spikes, params.v_peak)


def simulate(net: NetworkTensors, stimuli: torch.Tensor, scaling_factors: torch.Tensor,
             params: LIFParams = LIFParams(), *, dt_ms: float = 5.0, seed: int | None = None,
             v0: torch.Tensor | np.ndarray | None = None, noise: str | np.ndarray = "pool",
             perturbation: Perturbation | None = None, downsample: int = 1,
             record: Sequence[str] = (), record_every: int = 1, max_batch: int | None = None,
             exc: np.ndarray | None = None, progress: bool = False) -> SimulationResult:
    """Simulate a batch of independent trials of one network.

    Parameters
    ----------
    net : NetworkTensors
        The network (unscaled weights, decay constants in s), on the simulation device and
        dtype.
    stimuli : torch.Tensor, shape (B, n_inputs, T)
        Rate-time-base inputs; sample ``j`` is held for ``hold = round(dt_ms / 1000 / dt)``
        steps; ``n_steps = T * hold``.
    scaling_factors : torch.Tensor, shape (B,)
        Scaling factor ``s_b`` (> 0) of each trial.
    params : LIFParams
    dt_ms : float
        Duration of one rate sample, ms.
    seed : int, optional
        Seed of all random draws (module docstring); a fresh one is drawn (and returned in
        the result) when omitted.
    v0 : array, shape (B, N), optional
        Initial voltages, mV; drawn from ``params.v_init`` when omitted.
    noise : {'pool', 'gaussian'} or array of shape (B, n_steps, N)
        Noise source (:mod:`spikernn.spiking.noise`); an array gives ``noise_std * z`` (mV)
        directly. Ignored when ``params.noise_std == 0`` and noise is a name.
    perturbation : Perturbation, optional
    downsample : int
        Readout every ``downsample`` steps.
    record : subset of ('voltages', 'currents', 'rates')
        Traces to record, every ``record_every`` steps (memory B x n_steps/record_every x N).
    max_batch : int, optional
        Largest number of trials simulated at once; by default chosen so a chunk's noise
        block and state stay within ``DEFAULT_MEMORY_BUDGET``. Results do not depend on it.
    exc : numpy.ndarray of bool, shape (N,), optional
        Excitatory identity, stored in the result (all True when omitted).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    SimulationResult
    """
    n_trials, _, n_samples = stimuli.shape
    n_units = net.w_rec.shape[0]
    dev, dtype = net.w_rec.device, net.w_rec.dtype
    hold = int(round(dt_ms * 1e-3 / params.dt))
    if hold < 1:
        raise ValueError(f"params.dt: expected at most one rate sample ({dt_ms} ms), "
                         f"got {params.dt} s")
    n_steps = n_samples * hold
    for name, val in (("downsample", downsample), ("record_every", record_every)):
        if not isinstance(val, (int, np.integer)) or not 1 <= val <= n_steps:
            raise ValueError(f"{name}: expected an integer in [1, {n_steps}], got {val!r}")
    bad = [r for r in record if r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: expected a subset of {RECORDABLE}, got {tuple(record)!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    seeds = _child_seeds(seed, 3)

    if v0 is None:
        v0 = initial_voltages(params, n_trials, n_units, _generator(seeds[0]))
    v0 = torch.as_tensor(v0, dtype=torch.float64)
    if v0.shape != (n_trials, n_units) or not torch.isfinite(v0).all():
        raise ValueError(f"v0: expected finite values of shape ({n_trials}, {n_units}), "
                         f"got {tuple(v0.shape)}")
    source = _noise_source(noise, params, seeds[1], n_trials, n_units, n_steps, dtype, dev)
    kicks = None
    if perturbation is not None:
        perturbation.check(n_units)
        kicks = (perturbation, perturbation.draw_kicks(n_trials, n_steps,
                                                       _generator(seeds[2]), dtype).to(dev))

    consts = make_constants(net, params)
    inv_scale = (1.0 / scaling_factors).to(dev, dtype)
    chunk = max_batch or max(1, DEFAULT_MEMORY_BUDGET
                             // ((_BLOCK + 8) * n_units * (dtype.itemsize or 4)))
    bar = _progress_bar(n_steps * -(-n_trials // chunk)) if progress else None
    outputs, events, traces = [], [], {name: [] for name in record}
    try:
        for first in range(0, n_trials, chunk):
            rows = slice(first, min(first + chunk, n_trials))
            rec = _Recorder(rows.stop - first, n_units, n_steps, downsample, record,
                            record_every, net.w_out, inv_scale[rows])
            chunk_kicks = None if kicks is None else (kicks[0], kicks[1][rows])
            _run_chunk(net, consts, params, stimuli[rows], inv_scale[rows],
                       v0[rows].to(dev, dtype), source, rows, chunk_kicks, n_steps, hold,
                       rec, bar)
            outputs.append(rec.output.cpu().numpy())
            events.append(rec.events(n_units, first))
            for name in record:
                traces[name].append(rec.traces[name])
    finally:
        if bar is not None:
            bar.close()
    trial, unit, stp = (np.concatenate(parts) for parts in zip(*events, strict=True))
    order = np.lexsort((unit, trial, stp))
    return SimulationResult(
        output=np.concatenate(outputs), spike_trial=trial[order], spike_unit=unit[order],
        spike_step=stp[order], dt=params.dt, n_steps=n_steps, downsample=downsample,
        scaling_factors=scaling_factors.detach().cpu().double().numpy(),
        exc=np.ones(n_units, bool) if exc is None else np.asarray(exc, bool), params=params,
        record_every=record_every, v0=v0.numpy(), seed=seed,
        **{name: np.concatenate(parts) for name, parts in traces.items()})


def _noise_source(noise: str | np.ndarray, params: LIFParams, seed: int, n_trials: int,
                  n_units: int, n_steps: int, dtype: torch.dtype,
                  dev: torch.device) -> NoiseSource | None:
    if not isinstance(noise, str):
        source = ArrayNoise(noise, dtype, dev)
        if tuple(source.values.shape[::2]) != (n_trials, n_units) or \
                torch.as_tensor(noise).shape[1] != n_steps:
            raise ValueError(f"noise: expected shape ({n_trials}, {n_steps}, {n_units}), got "
                             f"{tuple(torch.as_tensor(noise).shape)}")
        return source
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise: expected one of {NOISE_KINDS} or an array, got {noise!r}")
    if params.noise_std == 0:
        return None
    if noise == "gaussian":
        return GaussianNoise(_child_seeds(seed, n_trials), n_units, params.noise_std, dtype, dev)
    return PoolNoise(n_trials, n_units, n_steps, params.noise_std, _generator(seed), dtype, dev)


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", desc="spiking simulation")


__all__ = ["NetworkTensors", "RECORDABLE", "State", "StepConstants", "fire", "initial_voltages",
           "integrate_membrane", "make_constants", "n_blocks", "simulate", "step",
           "update_synapses"]
