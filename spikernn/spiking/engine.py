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

Implementation notes: ``s_I`` and ``r`` share their decay factors and are stacked as one
``(batch, 2N)`` tensor ``[s_I | r / s_b]`` (likewise ``[h_I | h_r / s_b] * dt``); storing
``r / s_b`` makes every spike's whole contribution scale by ``1 / s_b``, so the recurrent and
self inputs are one sparse update: the rows of the units that spiked are gathered from a
precomputed ``(N, 2N)`` kick table, scaled by ``1 / s_b`` and added into their trial rows
(no dense matmul). The step updates the state tensors in place (the loop owns them) for
speed. Refractoriness is a 0/1 gate on the membrane update, cleared at a spike and set again
``R + 1`` steps later for the units that have not spiked since. On the CPU the threshold test
and the sparse fills go through numpy views of the same memory (less overhead per call than
torch), and chunks of trials run in parallel forked processes (threads would serialise on
the GIL: a step is many short calls), each with one torch thread, writing the readout and
traces straight into shared memory.

Random draws (all from CPU ``torch.Generator`` objects, so the numbers do not depend on the
device), for ``seed``: ``seq = numpy.random.SeedSequence(seed)``; three child seeds
``seq.spawn(3)`` (``int(child.generate_state(1, numpy.uint64)[0])``) seed three generators,
used for (0) the initial voltages: ``torch.rand((B, N), dtype=float64)`` mapped onto the
chosen interval, (1) the noise (:class:`~spikernn.spiking.noise.PoolNoise`; with
``noise='gaussian'`` trial b's generator is seeded like the children here, from
``SeedSequence(child_1).spawn(B)[b]``),
(2) the perturbation coins. Each draw covers all trials row-major, so trial ``b`` sees the
same numbers in any batch of at least ``b + 1`` trials and under any ``max_batch``.
:func:`noise_values` returns the noise a seed gives.
"""

from __future__ import annotations

import collections
import concurrent.futures
import math
import mmap
import multiprocessing as mp
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..clock import time_base
from .noise import NOISE_KINDS, ArrayNoise, GaussianNoise, NoiseSource, PoolNoise
from .params import LIFParams
from .perturbation import Perturbation
from .result import RECORDABLE, SimulationResult

#: Use numpy views for the threshold test and the sparse fills of CPU tensors (faster);
#: False runs the torch code used on GPUs (the results are identical).
NUMPY_ON_CPU = True
#: Default memory budget for the state of one chunk of trials, bytes.
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: Spike events per block of the in-run event log.
_LOG_BLOCK = 2**20
#: Integration steps of spike events merged at a time (bounds the merge's temporaries).
_MERGE_STEPS = 2000
#: Values of the engine dtype held per trial and unit (state, work space, indices).
_STATE_VALUES = 16


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
    scratch : (2, B, N) work space: membrane update, noise buffer.
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
                 scratch=torch.empty((2, n_trials, n_units), **like), flat=flat,
                 hits=(np.zeros(8 * n_words, bool), np.zeros(n_words, bool)) if host else None)


# --------------------------------------------------------------------------------------
# the step, composed of a neuron part and a synapse part
# --------------------------------------------------------------------------------------

def make_constants(net: NetworkTensors, params: LIFParams) -> StepConstants:
    """Derive the per-step constants of ``net`` under ``params``."""
    dt, td = params.dt, net.tau_d
    double = params.synapse == "double"
    # what one spike adds: to h*dt (double) or directly to s (single), per postsynaptic unit
    gain = dt / (params.tau_r * td) if double else 1.0 / td
    kick = torch.cat([(net.w_rec * gain[:, None]).T, torch.diag(gain)], dim=1)
    return StepConstants(
        leak=dt / params.tau_m, qif=params.neuron == "qif", v_th=float(params.v_th),
        v_reset=params.v_reset, refractory_steps=params.refractory_steps, double=double,
        decay=torch.exp(-dt / td).repeat(2),
        rise_decay=math.exp(-dt / params.tau_r) if double else 0.0, kick=kick.contiguous())


def integrate_membrane(state: State, drive: torch.Tensor, c: StepConstants) -> None:
    """Steps 1-2: units that are not refractory take one Euler step of the LIF or QIF
    equation. ``drive`` is ``bias + W_in u[:, j]``, shape (B, N)."""
    n = drive.shape[1]
    dv = torch.add(state.syn[:, :n], drive, out=state.scratch[0])
    if c.qif:
        dv.addcmul_(state.v, state.v)
    else:
        dv.sub_(state.v)
    state.v.addcmul_(dv, state.gate, value=c.leak)


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
        torch.addcmul(state.rise, state.syn, c.decay, out=state.syn)
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
            drive = (drive_in[:, :, k // hold] @ net.w_in.T).add_(params.bias)
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
             workers: int | None = None, spikes: bool = True) -> SimulationResult:
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
        Largest number of trials simulated at once; by default chosen so a chunk's noise
        block and state stay within ``DEFAULT_MEMORY_BUDGET``. Results do not depend on it.
    exc : numpy.ndarray of bool, shape (N,), optional
        Excitatory identity, stored in the result (all True when omitted).
    progress : bool
        Show a tqdm progress bar.
    workers : int, optional
        Chunks simulated in parallel (forked) processes on the CPU, each with one torch
        thread; defaults to ``torch.get_num_threads()`` on the CPU, 1 on a GPU.
    spikes : bool
        Keep the spike events (default); False leaves them empty and saves their memory
        (8 bytes per spike while running, 24 in the result), e.g. for a search.

    Returns
    -------
    SimulationResult
    """
    params = LIFParams() if params is None else params
    n_trials, _, n_samples = stimuli.shape
    n_units = net.w_rec.shape[0]
    dev, dtype = net.w_rec.device, net.w_rec.dtype
    hold = time_base(dt_ms, params.dt).steps_per_rate_step
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
    if workers is None:
        workers = torch.get_num_threads() if dev.type == "cpu" else 1
    chunk = min(max_batch or n_trials, -(-n_trials // max(1, workers)),
                max(1, DEFAULT_MEMORY_BUDGET // (_STATE_VALUES * n_units * dtype.itemsize)))
    bar = _progress_bar(n_steps * -(-n_trials // chunk)) if progress else None

    host_dtype = np.dtype(str(dtype).replace("torch.", ""))
    output = _shared_empty((n_trials, n_steps // downsample), host_dtype)
    traces = {name: _shared_empty((n_trials, n_steps // record_every, n_units), host_dtype)
              for name in record}

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

    try:
        events = _map_chunks(run, range(0, n_trials, chunk), workers, dev, bar)
    finally:
        if bar is not None:
            bar.close()
    trial, unit, stp = _merge_events(events, n_units, n_steps)
    return SimulationResult(
        output=output, spike_trial=trial, spike_unit=unit,
        spike_step=stp, dt=params.dt, n_steps=n_steps, downsample=downsample,
        scaling_factors=scaling_factors.detach().cpu().double().numpy(),
        exc=np.ones(n_units, bool) if exc is None else np.asarray(exc, bool), params=params,
        record_every=record_every, v0=v0.numpy(), seed=seed, stimulus_dt_ms=dt_ms,
        **traces)


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


def _shared_empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array in anonymous shared memory: forked worker processes write
    into it in place (nothing is copied back)."""
    count = math.prod(shape)
    buffer = mmap.mmap(-1, max(1, count * dtype.itemsize))
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def _map_chunks(run, starts: range, workers: int, dev: torch.device, bar) -> list:
    """``[run(first, progress) for first in starts]``; on the CPU with one torch thread, the
    chunks spread over ``workers`` forked processes (threads would serialise on the GIL:
    a step is many short calls), ``bar`` advanced from a shared step counter."""
    if dev.type != "cpu":
        return [run(first, bar) for first in starts]
    saved = torch.get_num_threads()
    torch.set_num_threads(1)  # the ops of one step are too small to split over threads
    try:
        if workers < 2 or len(starts) < 2 or "fork" not in mp.get_all_start_methods() \
                or mp.current_process().daemon:  # daemonic processes cannot have children
            return [run(first, bar) for first in starts]
        ctx = mp.get_context("fork")
        done = ctx.Value("q", 0)
        pool = concurrent.futures.ProcessPoolExecutor(
            min(workers, len(starts)), mp_context=ctx, initializer=_install_job,
            initargs=(run, done))
        try:
            futures = [pool.submit(_run_installed_job, first) for first in starts]
            pending = futures
            while pending:
                pending = concurrent.futures.wait(pending, timeout=0.25).not_done
                if bar is not None:
                    bar.update(done.value - bar.n)
            return [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)
    finally:
        torch.set_num_threads(saved)


class _SharedCounter:
    """A progress sink (``update(n)``) adding to a shared integer."""

    def __init__(self, value) -> None:
        self.value = value

    def update(self, n: int) -> None:
        with self.value.get_lock():
            self.value.value += n


_JOB: tuple = ()  # (run, counter) of a forked worker process


def _install_job(run, done) -> None:
    """Initialiser of a forked worker: the chunk function and progress counter (inherited,
    not pickled)."""
    global _JOB
    torch.set_num_threads(1)
    _JOB = (run, _SharedCounter(done))


def _run_installed_job(first: int) -> tuple:
    run, counter = _JOB
    return run(first, counter)


def noise_values(seed: int, n_trials: int, n_units: int, n_steps: int,
                 params: LIFParams | None = None, noise: str = "pool",
                 dtype: torch.dtype = torch.float64) -> np.ndarray:
    """The noise ``noise_std * z`` (mV) that :func:`simulate` adds for ``seed``.

    Returns
    -------
    numpy.ndarray, shape (n_trials, n_steps, n_units)
        Memory: ``n_trials * n_steps * n_units`` values (for cross-checks on short runs).
    """
    params = LIFParams() if params is None else params
    source = _noise_source(noise, params, _child_seeds(seed, 3)[1], n_trials, n_units,
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
           "noise_values", "release", "simulate", "step", "update_synapses"]
