"""The fused engine path: the whole step as one compiled kernel per block of steps.

On the CPU the kernel is :func:`spikernn.spiking._fused_cpu.run_block` (numba; trials spread
over threads); on CUDA devices :mod:`spikernn.spiking._fused_cuda` (numba.cuda; one thread
block per trial). Both implement the update of :mod:`spikernn.spiking.engine` in the same
order of operations. Without numba the engine falls back (one warning) to its torch path.

Time is cut into blocks of whole noise blocks: each kernel call advances every trial by one
block and logs its spikes into a buffer sized by the refractory bound (a unit spikes at most
once per ``R + 1`` steps), so no spike is ever dropped; the block length keeps that buffer
(and, for given or exact Gaussian noise, the block's noise values) within
``BLOCK_BUDGET`` bytes.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence

import numpy as np
import torch

from .memory import cpu_count
from .noise import BLOCK_STEPS, PoolNoise

try:
    import numba
except ImportError:  # the engine falls back to its torch path
    numba = None

#: Bytes of the per-block spike log and noise values.
BLOCK_BUDGET = 64 * 2**20
_LOCK = threading.Lock()  # one kernel at a time per process (numba's workqueue layer)
_WARNED: list[bool] = []


def available(device: torch.device) -> bool:
    """Whether the fused path can run on ``device`` (numba present; for CUDA, a GPU numba
    can use or the CUDA simulator)."""
    if numba is None:
        return False
    if device.type == "cpu":
        return True
    if device.type != "cuda":
        return False
    from . import _fused_cuda

    return _fused_cuda.usable()


def warn_fallback(device: torch.device) -> None:
    """Warn once per process that the torch path runs instead of the fused one."""
    if not _WARNED:
        _WARNED.append(True)
        why = "numba is not installed" if numba is None else f"numba cannot run on {device}"
        warnings.warn(f"spikernn engine: {why}; using the slower torch path "
                      "(pip install numba for the fused kernels)", RuntimeWarning,
                      stacklevel=3)


def block_steps(n_trials: int, n_units: int, n_steps: int, refractory_steps: int,
                noise_values: bool, keep_spikes: bool, itemsize: int) -> int:
    """Steps per kernel call: a multiple of ``BLOCK_STEPS`` whose spike log (and noise
    values) fit ``BLOCK_BUDGET``."""
    per_step = n_trials * n_units * ((itemsize if noise_values else 0)
                                     + (4 / (refractory_steps + 1) if keep_spikes else 0))
    steps = int(BLOCK_BUDGET // max(per_step, 1.0)) // BLOCK_STEPS * BLOCK_STEPS
    return int(min(max(steps, BLOCK_STEPS), -(-n_steps // BLOCK_STEPS) * BLOCK_STEPS))


def run(c, params, w_in: np.ndarray, w_out: np.ndarray, stim: np.ndarray, inv_s: np.ndarray,
        v0: np.ndarray, source, kicks, n_steps: int, hold: int, downsample: int,
        record_every: int, traces: dict[str, np.ndarray], output: np.ndarray, keep_spikes: bool,
        workers: int | None, bar, target: str
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate every trial; fill ``output`` and ``traces`` in place.

    Parameters
    ----------
    c : StepConstants
        Of the engine (tensors on the CPU or the device).
    params : LIFParams
    w_in, w_out : numpy.ndarray
        Input weights (N, n_inputs) and readout weights (N,), engine dtype.
    stim : numpy.ndarray, shape (B, n_inputs, T)
    inv_s : numpy.ndarray, shape (B,)
        ``1 / s_b``.
    v0 : numpy.ndarray, shape (B, N)
        Initial voltages in the engine dtype.
    source : NoiseSource or None
    kicks : (Perturbation, torch.Tensor (B, n_win)) or None
    traces : dict of name -> array (B, n_steps // record_every, N)
    output : numpy.ndarray, shape (B, n_steps // downsample)
    workers : int, optional
        CPU threads (default: the cores this process may use).
    target : {'cpu', 'cuda'}
        Which kernel runs (the CUDA one on the current numba device).

    Returns
    -------
    (trial, unit, step) int64 arrays of the spikes, sorted by step, trial, unit.
    """
    from . import _fused_cpu

    dtype = v0.dtype
    n_trials, n = v0.shape
    record_every = record_every if traces else 0
    fc = np.array([c.leak, c.v_th, c.v_reset, params.v_peak, params.bias, c.rise_decay],
                  dtype)
    pool, offsets, kind = _noise_arrays(source, dtype, n_trials)
    ic = np.array([hold, c.refractory_steps, c.qif, c.double, downsample, record_every,
                   kind, kicks[0].on if kicks else 0, keep_spikes, BLOCK_STEPS], np.int64)
    kick_units = np.asarray(kicks[0].units if kicks else (), np.int64)
    kick_mv = (kicks[1].cpu().numpy().astype(dtype) if kicks
               else np.zeros((n_trials, 0), dtype))
    kick = c.kick.cpu().numpy().astype(dtype)
    kick_w, gain = np.ascontiguousarray(kick[:, :n]), np.ascontiguousarray(np.diag(kick[:, n:]))
    decay = c.decay.cpu().numpy().astype(dtype)
    state = dict(v=np.ascontiguousarray(v0), last=np.full((n_trials, n),
                                                          -c.refractory_steps - 1, np.int64),
                 syn=np.zeros((n_trials, 2 * n), dtype), rise=np.zeros((n_trials, 2 * n), dtype))
    empty = np.zeros((0, 0, 0), dtype)
    rec = [traces.get(name, empty) for name in ("voltages", "currents", "rates")]
    steps = block_steps(n_trials, n, n_steps, c.refractory_steps, kind == 2, keep_spikes,
                        dtype.itemsize)
    cap = n * -(-steps // (c.refractory_steps + 1)) if keep_spikes else 0
    ev = np.empty((n_trials, cap), np.int32)
    ev_count = np.zeros(n_trials, np.int64)
    if target == "cuda":
        from . import _fused_cuda

        runner = _fused_cuda.Runner(fc, ic, state, inv_s, stim, w_in, kick_w, gain,
                                    decay, pool, offsets, kick_units, kick_mv, w_out, output,
                                    rec, ev)
    events = []
    with _LOCK, _Threads(workers):
        for k0 in range(0, n_steps, steps):
            k1 = min(k0 + steps, n_steps)
            block = (_noise_block(source, n_trials, k0, k1, dtype) if kind == 2
                     else np.zeros((n_trials, 0, n), dtype))
            if target == "cuda":
                runner.run(k0, k1, block, ev_count)
            else:
                _fused_cpu.run_block(k0, k1, fc, ic, state["v"], state["last"], state["syn"],
                                     state["rise"], inv_s, stim, w_in, kick_w, gain, decay,
                                     pool, offsets, block, kick_units, kick_mv, w_out, output,
                                     *rec, ev, ev_count)
            if keep_spikes:
                events.append(_fused_cpu.sort_events(ev, ev_count, n, k1 - k0, k0, 0))
            if bar is not None:
                bar.update(k1 - k0)
    if target == "cuda":
        runner.finish()
    return _concatenate(events)


def _concatenate(events: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join the blocks' (trial, unit, step) arrays, freeing each block once copied (peak:
    the result plus one block)."""
    total = sum(e[0].size for e in events)
    out = tuple(np.empty(total, np.int64) for _ in range(3))
    at = 0
    while events:
        block = events.pop(0)
        for dest, part in zip(out, block, strict=True):
            dest[at:at + part.size] = part
        at += block[0].size
    return out


def _noise_arrays(source, dtype: np.dtype, n_trials: int
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    if isinstance(source, PoolNoise):
        return (source.pool.cpu().numpy().astype(dtype, copy=False),
                source.offsets.cpu().numpy(), 1)
    return np.zeros(0, dtype), np.zeros((n_trials, 0), np.int64), 0 if source is None else 2


def _noise_block(source, n_trials: int, k0: int, k1: int, dtype: np.dtype) -> np.ndarray:
    """Values of a block-wise source (given arrays, exact Gaussian) for steps [k0, k1)."""
    rows = slice(0, n_trials)
    blocks = [source.block(rows, i).cpu().numpy()
              for i in range(k0 // BLOCK_STEPS, -(-k1 // BLOCK_STEPS))]
    return np.ascontiguousarray(np.concatenate(blocks, axis=1)[:, :k1 - k0], dtype)


class _Threads:
    """Run numba's parallel loops on ``workers`` threads inside the block."""

    def __init__(self, workers: int | None) -> None:
        self.workers = workers

    def __enter__(self) -> None:
        self.saved = numba.get_num_threads()
        limit = numba.config.NUMBA_NUM_THREADS
        numba.set_num_threads(max(1, min(self.workers or cpu_count(), limit)))

    def __exit__(self, *exc) -> None:
        numba.set_num_threads(self.saved)


__all__: Sequence[str] = ["BLOCK_BUDGET", "available", "block_steps", "run", "warn_fallback"]
