"""The one batched LIF/QIF spiking simulator (Kim, Li & Sejnowski 2019, SI Table S1).

All trials of a batch are independent copies of one network; each trial row ``b`` has its
own scaling factor ``s_b`` (so "factors x trials" is one call). State tensors have shape
``(batch, N)``; units: seconds, mV (currents too: unit resistance), 1/s for filtered rates.

Exact update of integration step ``k`` (0-based; time ``k dt -> (k + 1) dt``), for trial
``b`` and unit ``i``, with ``a = dt / tau_m``:

1. Input. Rate sample ``j = k // hold`` (``hold`` = :func:`spikernn.clock.time_base`'s
   ``steps_per_rate_step``, 100 at 0.05 ms)
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

Two paths compute this update (same draws, same order of operations, same spikes):

* **fused** (default where numba is installed): one compiled kernel per block of steps over
  all trials (:mod:`spikernn.spiking.fused`; CPU threads over trials, or one CUDA thread
  block per trial). Every trial is computed alone, so its numbers do not depend on the batch,
  its split or the thread count (bit for bit, float32 and float64).
* **torch** (the fallback, and ``backend='torch'``): the functions of this module on
  ``(batch, N)`` tensors. ``s_I`` and ``r`` share their decay factors and are stacked as one
  ``(batch, 2N)`` tensor ``[s_I | r / s_b]`` (likewise ``[h_I | h_r / s_b] * dt``); storing
  ``r / s_b`` makes every spike's whole contribution scale by ``1 / s_b``, so the recurrent
  and self inputs are one sparse update: the rows of the units that spiked are gathered
  from a precomputed ``(N, 2N)`` kick table, scaled by ``1 / s_b`` and added into their
  trial rows in unit order (no dense matmul). Refractoriness is a 0/1 gate on the membrane
  update. On the CPU the threshold test and the sparse fills go through numpy views, and
  chunks of trials run in forked processes (:mod:`spikernn.spiking._workers`) writing into
  shared memory. Its readout is a batched ``mv``, whose rounding can depend on the chunk
  size (float32: ~1e-7 relative); spikes do not.

Random draws (common random numbers): every draw of row ``b`` comes from a numpy generator
``child_rng(seed, stream, t_b)`` (:mod:`spikernn._seeding`) with ``t_b = trial_ids[b]``
(default ``b``), so it depends on the seed and the trial id only: not on the batch, its
order, the scaling factor, the device or the path. Streams: ``"v0"`` the initial voltages
(``random(N)`` mapped onto the chosen interval), ``"noise"`` the noise windows or exact
Gaussians (:mod:`spikernn.spiking.noise`; the pool itself is ``child_rng(seed, "noise
pool")``, shared by all trials), ``"perturbation"`` the coins. A search passes the same
``trial_ids`` for every factor, so all factors see the same trials and draws.
:func:`noise_values` returns the noise a seed gives.
"""

from __future__ import annotations

import collections
import math
import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from .._seeding import child_rng
from ..clock import time_base
from . import fused
from ._workers import map_chunks, shared_empty
from .memory import check_fits, cpu_count, trial_memory, trials_within
from .noise import NOISE_KINDS, ArrayNoise, GaussianNoise, NoiseSource, PoolNoise
from .params import LIFParams
from .perturbation import Perturbation
from .result import RECORDABLE, SimulationResult
from .synapse import synaptic_filter

#: Use numpy views for the threshold test and the sparse fills of CPU tensors (faster);
#: False runs the torch code used on GPUs (the results are identical).
NUMPY_ON_CPU = True
#: Default memory budget for the state of one chunk of trials, bytes.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Spike events per block of the in-run event log.
_LOG_BLOCK = 2**20
#: Integration steps of spike events merged at a time (bounds the merge's temporaries).
_MERGE_STEPS = 2000
#: Engine paths (:func:`simulate`'s ``backend``).
BACKENDS = ("auto", "fused", "fused-cuda", "torch")


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
    decay: torch.Tensor      # (2N,) exp(-dt / td) for [currents | rates]
    rise_decay: float        # exp(-dt / tr)
    kick: torch.Tensor       # (N, 2N) row j, times 1 / s_b: what a spike of unit j adds to
                             # its trial's rise (double) or syn (single) row


class FlatViews(NamedTuple):
    """Flat views (same memory) of the state entries that spikes index: numpy arrays on the
    CPU (less overhead per call than torch), tensors elsewhere."""

    v: np.ndarray | torch.Tensor
    gate: np.ndarray | torch.Tensor
    last_spike: np.ndarray | torch.Tensor


class State(NamedTuple):
    """Simulation state of a batch (tensors updated in place by :func:`step`).

    Attributes
    ----------
    v : (B, N) membrane voltages, mV.
    gate : (B, N) 1 where a unit integrates, 0 while it is refractory.
    last_spike : (B, N) int32, step of each unit's last spike (``-R - 1`` before any).
    syn : (B, 2N) ``[s_I | r / s_b]``: synaptic currents (mV) and filtered spike trains
        (1/s) divided by the trial's scaling factor (so every spike's contribution to a trial
        row scales by ``1 / s_b``; the readout is ``W_out . syn[:, N:]``).
    rise : (B, 2N) ``[h_I | h_r / s_b] * dt`` (double-exponential synapse; empty otherwise).
    scratch : (3, B, N) work space: membrane update, noise buffer, QIF square.
    flat : FlatViews of ``v``, ``gate`` and ``last_spike``.
    hits : (bool (8 W,), bool (W,)) with ``W = ceil(B N / 8)``: work space of the numpy
        threshold test (``v >= v_th``, then whether any of 8 consecutive entries is a hit);
        None on the torch path.
    """

    v: torch.Tensor
    gate: torch.Tensor
    last_spike: torch.Tensor
    syn: torch.Tensor
    rise: torch.Tensor
    scratch: torch.Tensor
    flat: FlatViews
    hits: tuple[np.ndarray, np.ndarray] | None


class Spikes(NamedTuple):
    """The spikes of one step: flat indices ``trial * N + unit`` (ascending), trials, units
    (int64 numpy arrays on the numpy path, tensors on the torch path)."""

    flat: np.ndarray | torch.Tensor
    trial: np.ndarray | torch.Tensor
    unit: np.ndarray | torch.Tensor


def initial_state(v0: torch.Tensor, c: StepConstants) -> State:
    """State at time 0: voltages ``v0`` (B, N), nothing refractory, synapses at rest."""
    n_trials, n_units = v0.shape
    width = (n_trials, 2 * n_units)
    like = dict(dtype=v0.dtype, device=v0.device)
    v, gate = v0.clone(), torch.ones_like(v0)
    last_spike = torch.full(v0.shape, -c.refractory_steps - 1, dtype=torch.int32,
                            device=v0.device)
    host = _numpy_path(v0)
    flat = FlatViews(*(t.numpy().reshape(-1) if host else t.view(-1)
                       for t in (v, gate, last_spike)))
    n_words = -(-v0.numel() // 8)
    return State(v=v, gate=gate, last_spike=last_spike, syn=torch.zeros(width, **like),
                 rise=torch.zeros(width if c.double else (0,), **like),
                 scratch=torch.empty((3, n_trials, n_units), **like), flat=flat,
                 hits=(np.zeros(8 * n_words, bool), np.zeros(n_words, bool)) if host else None)


# --------------------------------------------------------------------------------------
# the step, composed of a neuron part and a synapse part
# --------------------------------------------------------------------------------------

def make_constants(net: NetworkTensors, params: LIFParams) -> StepConstants:
    """Derive the per-step constants of ``net`` under ``params``."""
    td = net.tau_d
    syn = synaptic_filter(td.detach().cpu().double().numpy(), params)

    def as_engine(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=td.dtype, device=td.device)

    # what one spike adds: to h*dt (double) or directly to s (single), per postsynaptic unit
    gain = as_engine(syn.gain)
    kick = torch.cat([(net.w_rec * gain[:, None]).T, torch.diag(gain)], dim=1)
    return StepConstants(
        leak=params.dt / params.tau_m, qif=params.neuron == "qif", v_th=float(params.v_th),
        v_reset=params.v_reset, refractory_steps=params.refractory_steps, double=syn.double,
        decay=as_engine(syn.decay).repeat(2), rise_decay=syn.rise_decay, kick=kick.contiguous())


def integrate_membrane(state: State, drive: torch.Tensor, c: StepConstants) -> None:
    """Steps 1-2: units that are not refractory take one Euler step of the LIF or QIF
    equation. ``drive`` is ``bias + W_in u[:, j]``, shape (B, N)."""
    n = drive.shape[1]
    dv = torch.add(state.syn[:, :n], drive, out=state.scratch[0])
    if c.qif:
        dv.add_(torch.mul(state.v, state.v, out=state.scratch[2]))
    else:
        dv.sub_(state.v)
    # separate multiplies and adds (torch's addcmul fuses them: other rounding than the
    # fused kernels and the reference)
    state.v.add_(dv.mul_(c.leak).mul_(state.gate))


def release(state: State, k: int, earlier: np.ndarray | torch.Tensor, c: StepConstants) -> None:
    """Units that spiked in step ``k - R - 1`` (flat indices ``earlier``) and not since
    integrate again from step ``k``."""
    if len(earlier):
        flat = state.flat
        flat.gate[earlier[flat.last_spike[earlier] == k - c.refractory_steps - 1]] = 1.0


def fire(state: State, k: int, c: StepConstants) -> Spikes:
    """Step 5: the units at or above threshold; they become refractory."""
    spikes = above(state, c.v_th)
    state.flat.last_spike[spikes.flat] = k
    if c.refractory_steps:
        state.flat.gate[spikes.flat] = 0.0
    return spikes


def above(state: State, threshold: float) -> Spikes:
    """The entries of ``state.v`` (B, N) at or above ``threshold``.

    On the numpy path the hits are found eight entries at a time (they are sparse), several
    times faster than ``torch.nonzero``.
    """
    n = state.v.shape[1]
    if state.hits is None:
        flat = torch.ge(state.v, threshold).view(-1).nonzero().squeeze(1)
        return Spikes(flat, flat // n, flat % n)
    hits, words = state.hits
    np.greater_equal(state.flat.v, threshold, out=hits[:state.flat.v.size])
    np.not_equal(hits.view(np.uint64), 0, out=words)
    word = np.flatnonzero(words)
    rows, cols = np.nonzero(hits.reshape(-1, 8)[word])
    flat = word[rows] * 8 + cols
    return Spikes(flat, *np.divmod(flat, n))


def update_synapses(state: State, spikes: Spikes, inv_scale: torch.Tensor,
                    c: StepConstants) -> None:
    """Step 6: decay the synaptic currents and filtered rates, then add this step's spikes
    (``inv_scale`` (B,) holds ``1 / s_b``)."""
    if c.double:
        state.syn.mul_(c.decay).add_(state.rise)
        state.rise.mul_(c.rise_decay)
        target = state.rise
    else:
        state.syn.mul_(c.decay)
        target = state.syn
    if len(spikes.flat):
        trial = torch.as_tensor(spikes.trial)
        jumps = c.kick.index_select(0, torch.as_tensor(spikes.unit))
        jumps.mul_(inv_scale.index_select(0, trial)[:, None])
        target.index_add_(0, trial, jumps)


def step(state: State, k: int, drive: torch.Tensor, noise: torch.Tensor | None,
         kick: tuple[torch.Tensor, torch.Tensor] | None, inv_scale: torch.Tensor,
         released: np.ndarray | torch.Tensor, c: StepConstants) -> Spikes:
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
    released : numpy.ndarray or torch.Tensor
        Flat indices of the spikes of step ``k - R - 1`` (their refractory period ends).
    c : StepConstants

    Returns
    -------
    Spikes
        The spikes of this step; their voltages have already been reset.
    """
    release(state, k, released, c)
    integrate_membrane(state, drive, c)
    if noise is not None:
        state.v.add_(noise)
    if kick is not None:
        units, mv = kick
        state.v.index_add_(1, units, mv.expand(-1, units.shape[0]))
    spikes = fire(state, k, c)
    update_synapses(state, spikes, inv_scale, c)
    state.flat.v[spikes.flat] = c.v_reset
    return spikes


def _numpy_path(t: torch.Tensor) -> bool:
    return NUMPY_ON_CPU and t.is_cpu


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------

def initial_voltages(params: LIFParams, trial_ids: np.ndarray, n_units: int,
                     seed: int) -> np.ndarray:
    """Initial voltages (mV), shape (len(trial_ids), n_units), float64.

    'paper': uniform in ``[v_reset, v_init_high]``; 'below_threshold': uniform in
    ``[v_reset, v_th)``; 'reset': all ``v_reset`` (no draw). Row ``b`` draws
    ``child_rng(seed, "v0", trial_ids[b]).random(n_units)``.
    """
    trial_ids = np.asarray(trial_ids, dtype=np.int64)
    if params.v_init == "reset":
        return np.full((trial_ids.size, n_units), params.v_reset)
    high = params.v_init_high if params.v_init == "paper" else params.v_th
    ids, rows = np.unique(trial_ids, return_inverse=True)
    u = np.stack([child_rng(seed, "v0", int(t)).random(n_units) for t in ids]) if ids.size \
        else np.zeros((0, n_units))
    return params.v_reset + u[rows] * (high - params.v_reset)


class _Recorder:
    """Readout, sparse spikes and the opt-in traces of one chunk.

    The readout and the traces are written into the chunk's rows of the whole batch's arrays
    ``output`` (n_trials, n_steps // downsample) and ``traces`` (shared memory, so forked
    worker processes fill them in place); call :meth:`finish` at the end.
    """

    def __init__(self, output: np.ndarray, traces: dict[str, np.ndarray], n_steps: int,
                 downsample: int, record_every: int, w_out: torch.Tensor,
                 inv_scale: torch.Tensor, spikes: bool) -> None:
        self.downsample, self.record_every, self.w_out = downsample, record_every, w_out
        self.inv_scale = inv_scale
        self.keep_spikes = spikes
        self.host_output = output
        self.output = torch.from_numpy(output) if w_out.is_cpu else \
            torch.empty(output.shape, dtype=w_out.dtype, device=w_out.device)
        self.traces = traces
        self.blocks: list[np.ndarray] = []  # flat spike indices, int32, filled in order
        self.filled = 0  # entries used in the last block
        self.counts = np.zeros(n_steps if spikes else 0, dtype=np.int64)

    def __call__(self, k: int, state: State, spikes: np.ndarray | torch.Tensor,
                 v_peak: float) -> None:
        n = state.v.shape[1]
        if self.keep_spikes and len(spikes):
            self._log(k, spikes if isinstance(spikes, np.ndarray) else spikes.cpu().numpy())
        if (k + 1) % self.downsample == 0:
            torch.mv(state.syn[:, n:], self.w_out,
                     out=self.output[:, (k + 1) // self.downsample - 1])
        if self.traces and (k + 1) % self.record_every == 0:
            row = (k + 1) // self.record_every - 1
            if "voltages" in self.traces:
                v = state.v.clone()
                v.view(-1)[torch.as_tensor(spikes, device=v.device)] = v_peak
                self.traces["voltages"][:, row] = v.cpu().numpy()
            if "currents" in self.traces:
                self.traces["currents"][:, row] = state.syn[:, :n].cpu().numpy()
            if "rates" in self.traces:
                rates = state.syn[:, n:] / self.inv_scale[:, None]
                self.traces["rates"][:, row] = rates.cpu().numpy()

    def _log(self, k: int, flat: np.ndarray) -> None:
        """Append the spikes of step ``k`` to fixed-size blocks (few, large allocations)."""
        self.counts[k] = flat.size
        while flat.size:
            if not self.blocks or self.filled == self.blocks[-1].size:
                self.blocks.append(np.empty(max(_LOG_BLOCK, flat.size), dtype=np.int32))
                self.filled = 0
            take = min(flat.size, self.blocks[-1].size - self.filled)
            self.blocks[-1][self.filled:self.filled + take] = flat[:take]
            self.filled, flat = self.filled + take, flat[take:]

    def finish(self) -> None:
        """Copy a readout computed on another device into ``output``."""
        if not self.w_out.is_cpu:
            self.host_output[:] = self.output.cpu().numpy()

    def events(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices (int32, within the chunk) and spike counts per step."""
        if not self.blocks:
            return np.empty(0, np.int32), self.counts
        self.blocks[-1] = self.blocks[-1][:self.filled]
        flat = np.concatenate(self.blocks)
        self.blocks = []
        return flat, self.counts


def _merge_events(chunks: Sequence[tuple[int, np.ndarray, np.ndarray]], n_units: int,
                  n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spike (trial, unit, step) arrays sorted by step, trial, unit, from per-chunk events
    ``(first_trial, flat, counts per step)`` (chunks in trial order), without a global sort."""
    counts = np.zeros((len(chunks), n_steps), dtype=np.int64)
    for c, (_, _, cnt) in enumerate(chunks):
        counts[c, :cnt.size] = cnt
    total = int(counts.sum())
    step_start = np.concatenate([[0], np.cumsum(counts.sum(axis=0))[:-1]])
    before = np.cumsum(counts, axis=0) - counts  # this step's events of earlier chunks
    trial, unit, step = (np.empty(total, dtype=np.int64) for _ in range(3))
    for c, (first, flat, _) in enumerate(chunks):
        own_end = np.cumsum(counts[c])
        shift = step_start + before[c] - (own_end - counts[c])
        for s0 in range(0, n_steps, _MERGE_STEPS):  # in slices: bounded temporaries
            s1 = min(s0 + _MERGE_STEPS, n_steps)
            e0, e1 = (int(own_end[s0 - 1]) if s0 else 0), int(own_end[s1 - 1])
            dest = np.repeat(shift[s0:s1], counts[c, s0:s1])
            dest += np.arange(e0, e1, dtype=np.int64)
            chunk_trial, unit[dest] = np.divmod(flat[e0:e1], n_units)
            trial[dest] = chunk_trial + first
            step[dest] = np.repeat(np.arange(s0, s1, dtype=np.int32), counts[c, s0:s1])
    return trial, unit, step


def input_drive(u: torch.Tensor, w_in: torch.Tensor, bias: float) -> torch.Tensor:
    """``(sum_m u[:, m] w_in[:, m]) + bias``, shape (B, N): the inputs summed in order, as
    the fused kernels do (same rounding on every path)."""
    drive = u[:, 0, None] * w_in[:, 0]
    for m in range(1, u.shape[1]):
        drive.add_(u[:, m, None] * w_in[:, m])
    return drive.add_(bias)


def _run_chunk(net: NetworkTensors, c: StepConstants, params: LIFParams,
               drive_in: torch.Tensor, inv_scale: torch.Tensor, v0: torch.Tensor,
               noise: NoiseSource | None, trials: slice,
               kicks: tuple[Perturbation, torch.Tensor] | None, n_steps: int, hold: int,
               rec: _Recorder, progress) -> None:
    state = initial_state(v0, c)
    units = torch.tensor(kicks[0].units, device=v0.device) if kicks is not None else None
    none = np.empty(0, np.int64) if state.hits is not None else \
        torch.empty(0, dtype=torch.int64, device=v0.device)
    history = collections.deque([none] * (c.refractory_steps + 1), c.refractory_steps + 1)
    drive = None
    for k in range(n_steps):
        if k % hold == 0:
            drive = input_drive(drive_in[:, :, k // hold], net.w_in, params.bias)
            if progress is not None:
                progress.update(min(hold, n_steps - k))
        kick = None
        if kicks is not None and kicks[0].on <= k < kicks[0].on + kicks[1].shape[1]:
            kick = (units, kicks[1][:, k - kicks[0].on, None])
        spikes = step(state, k, drive,
                      noise.at(trials, k, state.scratch[1]) if noise is not None else None,
                      kick, inv_scale, history[0], c).flat
        history.append(spikes)
        rec(k, state, spikes, params.v_peak)


def simulate(net: NetworkTensors, stimuli: torch.Tensor, scaling_factors: torch.Tensor,
             params: LIFParams | None = None, *, dt_ms: float = 5.0, seed: int | None = None,
             v0: torch.Tensor | np.ndarray | None = None, noise: str | np.ndarray = "pool",
             perturbation: Perturbation | None = None, downsample: int = 1,
             record: Sequence[str] = (), record_every: int = 1, max_batch: int | None = None,
             exc: np.ndarray | None = None, progress: bool = False,
             workers: int | None = None, spikes: bool = True,
             trial_ids: Sequence[int] | np.ndarray | None = None,
             backend: str | None = None) -> SimulationResult:
    """Simulate a batch of independent trials of one network.

    Parameters
    ----------
    net : NetworkTensors
        The network (unscaled weights, decay constants in s), on the simulation device and
        dtype.
    stimuli : torch.Tensor, shape (B, n_inputs, T)
        Rate-time-base inputs; sample ``j`` is held for ``hold`` steps, the
        ``steps_per_rate_step`` of :func:`spikernn.clock.time_base` (``dt`` must divide
        ``dt_ms``); ``n_steps = T * hold``.
    scaling_factors : torch.Tensor, shape (B,)
        Scaling factor ``s_b`` (> 0) of each trial.
    params : LIFParams, optional
        SI Table S1 by default.
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
        Largest number of trials simulated at once on the torch path; by default chosen so
        a chunk's state stays within ``DEFAULT_MEMORY_BUDGET``. Results do not depend on it.
    exc : numpy.ndarray of bool, shape (N,), optional
        Excitatory identity, stored in the result (all True when omitted).
    progress : bool
        Show a tqdm progress bar.
    workers : int, optional
        CPU cores to use: threads of the fused path, forked processes of the torch path
        (each with one torch thread); default: the cores this process may run on (1 on a
        GPU for the torch path). Results do not depend on it.
    spikes : bool
        Keep the spike events (default); False leaves them empty and saves their memory
        (8 bytes per spike while running, 24 in the result).
    trial_ids : sequence of int, shape (B,), optional
        Trial id of each row (default ``0 .. B-1``): the initial voltages, noise and
        perturbation coins of a row depend on ``(seed, trial id)`` only, so rows with one id
        (e.g. one trial under several scaling factors) see the same draws.
    backend : {'auto', 'fused', 'fused-cuda', 'torch'}, optional
        'fused': the compiled kernels (:mod:`spikernn.spiking.fused`) for the network's
        device; 'fused-cuda': the CUDA kernel whatever the network's device (arrays are
        copied to the GPU; with ``NUMBA_ENABLE_CUDASIM=1`` numba's CPU simulator runs it);
        'torch': the step of this module; 'auto' (default, or the environment variable
        ``SPIKERNN_ENGINE``): fused where numba can run, else torch with one warning.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ValueError
        Bad shapes or values (the message names the field).
    MemoryError
        When the readout, traces and spikes would not fit the memory available (raised
        before anything large is allocated; it says how much is needed).
    """
    params = LIFParams() if params is None else params
    n_trials, _, n_samples = stimuli.shape
    n_units = net.w_rec.shape[0]
    dev, dtype = net.w_rec.device, net.w_rec.dtype
    hold = time_base(dt_ms, params.dt).steps_per_rate_step
    n_steps = n_samples * hold
    for name, val in (("downsample", downsample), ("record_every", record_every)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) \
                or not 1 <= val <= n_steps:
            raise ValueError(f"{name}: expected an integer in [1, {n_steps}], got {val!r}")
    bad = [r for r in record if r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: expected a subset of {RECORDABLE}, got {tuple(record)!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    ids = _trial_ids(trial_ids, n_trials)
    chosen = resolve_backend(backend, dev)
    _check_scaled_weights(net, scaling_factors)

    if workers is None:
        workers = cpu_count() if dev.type == "cpu" or chosen != "torch" else 1
    memory = trial_memory(n_units, n_steps, downsample=downsample, n_traces=len(record),
                          record_every=record_every, itemsize=dtype.itemsize, spikes=spikes,
                          dt=params.dt)
    chunk = min(max_batch or n_trials, -(-n_trials // max(1, workers)),
                trials_within(DEFAULT_MEMORY_BUDGET, memory, "working"))
    if chosen.startswith("fused"):
        chunk = n_trials
    check_fits(n_trials * memory.held + chunk * memory.working,
               f"simulate: {n_trials} trials x {n_steps} steps x {n_units} units "
               f"(readout{', ' + ', '.join(record) if record else ''}"
               f"{', spikes' if spikes else ''}; record fewer traces, a larger record_every "
               f"or downsample, or fewer trials per call)")
    if v0 is None:
        v0 = initial_voltages(params, ids, n_units, seed)
    v0 = torch.as_tensor(v0, dtype=torch.float64)
    if v0.shape != (n_trials, n_units) or not torch.isfinite(v0).all():
        raise ValueError(f"v0: expected finite values of shape ({n_trials}, {n_units}), "
                         f"got {tuple(v0.shape)}")
    source = _noise_source(noise, params, seed, ids, n_units, n_steps, dtype, dev)
    kicks = None
    if perturbation is not None:
        perturbation.check(n_units)
        kicks = (perturbation, perturbation.draw_kicks(ids, n_steps, seed, dtype).to(dev))

    consts = make_constants(net, params)
    inv_scale = (1.0 / scaling_factors).to(dev, dtype)
    host_dtype = np.dtype(str(dtype).replace("torch.", ""))
    empty = np.empty if chosen.startswith("fused") else shared_empty
    output = empty((n_trials, n_steps // downsample), host_dtype)
    traces = {name: empty((n_trials, n_steps // record_every, n_units), host_dtype)
              for name in record}
    bar = _progress_bar(n_steps * -(-n_trials // chunk)) if progress else None
    try:
        if chosen.startswith("fused"):
            target = "cuda" if chosen == "fused-cuda" or dev.type == "cuda" else "cpu"
            trial, unit, stp = fused.run(
                consts, params, _host(net.w_in, host_dtype), _host(net.w_out, host_dtype),
                _host(_stimulus(stimuli), host_dtype), _host(inv_scale, host_dtype),
                v0.numpy().astype(host_dtype), source, kicks, n_steps, hold, downsample,
                record_every, traces, output, spikes, workers, bar, target)
        else:
            trial, unit, stp = _run_torch(net, consts, params, stimuli, inv_scale, v0,
                                          source, kicks, n_steps, hold, downsample,
                                          record_every, output, traces, spikes, chunk,
                                          workers, bar)
    finally:
        if bar is not None:
            bar.close()
    _check_finite(output, scaling_factors)
    return SimulationResult(
        output=output, spike_trial=trial, spike_unit=unit,
        spike_step=stp, dt=params.dt, n_steps=n_steps, downsample=downsample,
        scaling_factors=scaling_factors.detach().cpu().double().numpy(),
        exc=np.ones(n_units, bool) if exc is None else np.asarray(exc, bool), params=params,
        record_every=record_every, v0=v0.numpy(), seed=seed, stimulus_dt_ms=dt_ms,
        **traces)


def _run_torch(net: NetworkTensors, consts: StepConstants, params: LIFParams,
               stimuli: torch.Tensor, inv_scale: torch.Tensor, v0: torch.Tensor, source,
               kicks, n_steps: int, hold: int, downsample: int, record_every: int,
               output: np.ndarray, traces: dict[str, np.ndarray], spikes: bool, chunk: int,
               workers: int, bar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The torch path: chunks of ``chunk`` trials, in forked processes on the CPU."""
    n_trials, n_units = v0.shape
    dev, dtype = net.w_rec.device, net.w_rec.dtype

    def run(first: int, progress) -> tuple[int, np.ndarray, np.ndarray]:
        rows = slice(first, min(first + chunk, n_trials))
        rec = _Recorder(output[rows], {name: t[rows] for name, t in traces.items()}, n_steps,
                        downsample, record_every, net.w_out, inv_scale[rows], spikes)
        _run_chunk(net, consts, params, stimuli[rows], inv_scale[rows],
                   v0[rows].to(dev, dtype), source, rows,
                   None if kicks is None else (kicks[0], kicks[1][rows]), n_steps, hold,
                   rec, progress)
        rec.finish()
        return (first, *rec.events())

    events = map_chunks(run, range(0, n_trials, chunk), workers, dev, bar)
    return _merge_events(events, n_units, n_steps)


def _stimulus(stimuli: torch.Tensor) -> torch.Tensor:
    return stimuli.contiguous()


def _host(t: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy(), dtype=dtype)


def _trial_ids(trial_ids, n_trials: int) -> np.ndarray:
    if trial_ids is None:
        return np.arange(n_trials, dtype=np.int64)
    ids = np.asarray(trial_ids)
    if ids.shape != (n_trials,) or ids.dtype.kind not in "iu" or (ids.size and ids.min() < 0):
        raise ValueError(f"trial_ids: expected {n_trials} non-negative integers, got "
                         f"{ids.dtype} of shape {ids.shape}")
    return ids.astype(np.int64)


def resolve_backend(backend: str | None, dev: torch.device) -> str:
    """'fused', 'fused-cuda' or 'torch' for the ``backend`` argument (see
    :func:`simulate`)."""
    name = backend or os.environ.get("SPIKERNN_ENGINE") or "auto"
    if name not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {name!r}")
    if name == "torch":
        return "torch"
    if name == "fused-cuda":
        if not fused.available(torch.device("cuda")):
            raise ValueError("backend: 'fused-cuda' needs numba.cuda and a GPU (or "
                             "NUMBA_ENABLE_CUDASIM=1), found none")
        return name
    if fused.available(dev):
        return "fused"
    if name == "fused":
        raise ValueError(f"backend: 'fused' needs numba (and for CUDA a GPU numba can use); "
                         f"not available on {dev}")
    fused.warn_fallback(dev)
    return "torch"


def _check_scaled_weights(net: NetworkTensors, scaling_factors: torch.Tensor) -> None:
    """Scaled weights (``W / s``, ``W_out / s``) must be finite numbers."""
    worst = float(torch.cat([net.w_rec.abs().max().reshape(1), net.w_out.abs().max().reshape(1)]
                            ).max()) if net.w_rec.numel() else 0.0
    limit = float(torch.finfo(net.w_rec.dtype).max)
    small = float(scaling_factors.min()) if scaling_factors.numel() else 1.0
    if worst / small > limit or not math.isfinite(1.0 / small):
        raise ValueError(f"scaling_factors: expected factors >= {worst / limit:.3g} (W / s must "
                         f"be finite in {net.w_rec.dtype}), got {small:g}")


def _check_finite(output: np.ndarray, scaling_factors: torch.Tensor) -> None:
    """The readout of a meaningful run is finite; say which trials were not."""
    bad = ~np.isfinite(output).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise FloatingPointError(
            f"output: expected finite values, got NaN or infinity in {rows.size} trial(s) "
            f"(first: row {rows[0]}, scaling factor "
            f"{float(scaling_factors[rows[0]]):g}); the network diverged")


def _noise_source(noise: str | np.ndarray, params: LIFParams, seed: int, ids: np.ndarray,
                  n_units: int, n_steps: int, dtype: torch.dtype,
                  dev: torch.device) -> NoiseSource | None:
    n_trials = ids.size
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
        return GaussianNoise(ids, n_units, params.noise_std, seed, dtype, dev)
    return PoolNoise(ids, n_units, n_steps, params.noise_std, seed, dtype, dev)


def noise_values(seed: int, n_trials: int, n_units: int, n_steps: int,
                 params: LIFParams | None = None, noise: str = "pool",
                 dtype: torch.dtype = torch.float64,
                 trial_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """The noise ``noise_std * z`` (mV) that :func:`simulate` adds for ``seed``.

    Returns
    -------
    numpy.ndarray, shape (n_trials, n_steps, n_units)
        Memory: ``n_trials * n_steps * n_units`` values (for cross-checks on short runs).
    """
    params = LIFParams() if params is None else params
    source = _noise_source(noise, params, seed, _trial_ids(trial_ids, n_trials), n_units,
                           n_steps, dtype, torch.device("cpu"))
    values = np.zeros((n_trials, n_steps, n_units), dtype=np.dtype(str(dtype)[6:]))
    if source is not None:
        rows, buf = slice(0, n_trials), torch.empty((n_trials, n_units), dtype=dtype)
        for k in range(n_steps):
            values[:, k] = source.at(rows, k, buf).numpy()
    return values


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", desc="spiking simulation")


__all__ = ["FlatViews", "NetworkTensors", "RECORDABLE", "Spikes", "State", "StepConstants", "above",
           "fire", "initial_state", "initial_voltages", "integrate_membrane", "make_constants",
           "noise_values", "release", "resolve_backend", "simulate", "step", "update_synapses"]
