"""The fused CUDA step (numba.cuda): one thread block per trial, threads over units, one
launch per block of steps (every step of the block inside the kernel).

Per step: each thread integrates its units (membrane, noise); thread 0 applies the
perturbation and lists the spikes in unit order; each thread updates the synapses of its
units, adding the spikes' kicks in that order; thread 0 forms the readout in the summation
order of :func:`spikernn.spiking._kernel_math.readout`. So a trial's arithmetic is the CPU
kernel's, operation for operation. On hardware, NVVM may contract a multiply and an add into
one fused multiply-add (other rounding in the last bit); the CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) runs the kernel on the CPU without that, which is how the tests
check it against the CPU kernel.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from . import _kernel_math

#: Threads per block (per trial).
THREADS = 128

drive_of = cuda.jit(device=True, inline=True)(_kernel_math.drive_of)
readout = cuda.jit(device=True, inline=True)(_kernel_math.readout)


def usable() -> bool:
    """Whether numba can launch CUDA kernels here (a GPU, or the CUDA simulator)."""
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver counts as none
        return False


@cuda.jit
def run_block(k0, k1, fc, ic, v, last, syn, rise, inv_s, stim, w_in, kick_w, gain, decay,
              pool, offsets, block_noise, kick_units, kick_mv, w_out, output, rec_v, rec_c,
              rec_r, ev, ev_count, spk, nspk, drive):
    """The kernel of :func:`spikernn.spiking._fused_cpu.run_block` for trial
    ``blockIdx.x``; ``spk`` (B, N), ``nspk`` (B,) and ``drive`` (B, N) are work space."""
    b = cuda.blockIdx.x
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    n = v.shape[1]
    leak, v_th, v_reset, v_peak, bias, rise_decay = fc[0], fc[1], fc[2], fc[3], fc[4], fc[5]
    hold, refr, qif, double, ds, rec_every = ic[0], ic[1], ic[2], ic[3], ic[4], ic[5]
    noise_kind, kick_on, keep, nblock = ic[6], ic[7], ic[8], ic[9]
    kick_end = kick_on + kick_mv.shape[1]
    inv = inv_s[b]
    count = 0
    for i in range(t, n, nt):
        drive[b, i] = drive_of(stim, b, k0 // hold, w_in, bias, i)
    for k in range(k0, k1):
        if k % hold == 0 and k != k0:
            for i in range(t, n, nt):
                drive[b, i] = drive_of(stim, b, k // hold, w_in, bias, i)
        for i in range(t, n, nt):
            x = v[b, i]
            if k - last[b, i] > refr:
                if qif:
                    x = x + leak * ((syn[b, i] + drive[b, i]) + x * x)
                else:
                    x = x + leak * ((syn[b, i] + drive[b, i]) - x)
            if noise_kind == 1:
                x = x + pool[offsets[b, k // nblock] + (k % nblock) * n + i]
            elif noise_kind == 2:
                x = x + block_noise[b, k - k0, i]
            v[b, i] = x
        cuda.syncthreads()
        if t == 0:
            if kick_on <= k < kick_end:
                mv = kick_mv[b, k - kick_on]
                for u in range(kick_units.shape[0]):
                    v[b, kick_units[u]] = v[b, kick_units[u]] + mv
            ns = 0
            for i in range(n):
                if v[b, i] >= v_th:
                    spk[b, ns] = i
                    ns += 1
                    last[b, i] = k
                    if keep:
                        ev[b, count] = (k - k0) * n + i
                        count += 1
            nspk[b] = ns
        cuda.syncthreads()
        ns = nspk[b]
        for i in range(t, n, nt):
            if double:
                syn[b, i] = rise[b, i] + syn[b, i] * decay[i]
                syn[b, n + i] = rise[b, n + i] + syn[b, n + i] * decay[n + i]
                rise[b, i] = rise[b, i] * rise_decay
                rise[b, n + i] = rise[b, n + i] * rise_decay
                for s in range(ns):
                    rise[b, i] = rise[b, i] + kick_w[spk[b, s], i] * inv
                if v[b, i] >= v_th:
                    rise[b, n + i] = rise[b, n + i] + gain[i] * inv
            else:
                syn[b, i] = syn[b, i] * decay[i]
                syn[b, n + i] = syn[b, n + i] * decay[n + i]
                for s in range(ns):
                    syn[b, i] = syn[b, i] + kick_w[spk[b, s], i] * inv
                if v[b, i] >= v_th:
                    syn[b, n + i] = syn[b, n + i] + gain[i] * inv
        cuda.syncthreads()
        if t == 0 and (k + 1) % ds == 0:
            output[b, (k + 1) // ds - 1] = readout(syn[b], w_out, n)
        if rec_every > 0 and (k + 1) % rec_every == 0:
            row = (k + 1) // rec_every - 1
            for i in range(t, n, nt):
                if rec_v.shape[0]:
                    rec_v[b, row, i] = v_peak if v[b, i] >= v_th else v[b, i]
                if rec_c.shape[0]:
                    rec_c[b, row, i] = syn[b, i]
                if rec_r.shape[0]:
                    rec_r[b, row, i] = syn[b, n + i] / inv
        for i in range(t, n, nt):
            if v[b, i] >= v_th:
                v[b, i] = v_reset
        cuda.syncthreads()
    if t == 0:
        ev_count[b] = count


class Runner:
    """State and constants on the GPU; :meth:`run` advances every trial by a block of steps
    and copies that block's spike log back; :meth:`finish` copies readout and traces."""

    def __init__(self, fc, ic, state, inv_s, stim, w_in, kick_w, gain, decay, pool,
                 offsets, kick_units, kick_mv, w_out, output, rec, ev) -> None:
        n_trials, n = state["v"].shape
        put = cuda.to_device
        self.const = [put(a) for a in (fc, ic)]
        self.state = [put(state[k]) for k in ("v", "last", "syn", "rise")]
        self.inputs = [put(np.ascontiguousarray(a)) for a in
                       (inv_s, stim, w_in, kick_w, gain, decay, pool, offsets)]
        self.kicks = [put(kick_units), put(kick_mv), put(w_out)]
        self.output, self.rec, self.ev = output, rec, ev
        self.d_output = cuda.device_array(output.shape, output.dtype)
        self.d_rec = [cuda.device_array(r.shape, r.dtype) for r in rec]
        self.d_ev = cuda.device_array(ev.shape, ev.dtype)
        self.d_count = cuda.device_array(n_trials, np.int64)
        self.work = [cuda.device_array((n_trials, n), np.int64),
                     cuda.device_array(n_trials, np.int64),
                     cuda.device_array((n_trials, n), state["v"].dtype)]
        self.threads = int(min(THREADS, -(-n // 32) * 32))
        self.n_trials = n_trials

    def run(self, k0: int, k1: int, block_noise: np.ndarray, ev_count: np.ndarray) -> None:
        inv_s, stim, w_in, kick_w, gain, decay, pool, offsets = self.inputs
        run_block[self.n_trials, self.threads](
            k0, k1, *self.const, *self.state, inv_s, stim, w_in, kick_w, gain, decay, pool,
            offsets, cuda.to_device(block_noise), self.kicks[0], self.kicks[1],
            self.kicks[2], self.d_output, *self.d_rec, self.d_ev, self.d_count, *self.work)
        ev_count[:] = self.d_count.copy_to_host()
        if self.ev.size:
            self.ev[:] = self.d_ev.copy_to_host()

    def finish(self) -> None:
        self.output[:] = self.d_output.copy_to_host()
        for host, dev in zip(self.rec, self.d_rec, strict=True):
            if host.size:
                host[:] = dev.copy_to_host()
