"""The fused CPU step: the engine's update as one compiled loop (numba) per block of steps.

Trials run in parallel threads (``numba.prange``); each trial's state, noise window and
spikes stay in that thread, so a trial's numbers do not depend on the batch, the block
length or the thread count. The arithmetic is the engine's (``spikernn.spiking.engine``)
in the engine's dtype, operation for operation and in the same order; only the readout's
dot product may round differently from the torch path's ``mv``. Compiled functions are
cached on disk (first use of a dtype compiles for ~10 s).

Constants are packed: ``fc`` (engine dtype) = ``[leak, v_th, v_reset, v_peak, bias,
rise_decay]``; ``ic`` (int64) = ``[hold, R, qif, double, downsample, record_every,
noise_kind, kick_on, keep_spikes, noise_block]`` with ``noise_kind`` 0 none, 1 pool
(``pool[offsets[b, k // noise_block] + (k % noise_block) * N + i]``), 2 given values of the
block (``block_noise[b, k - k0, i]``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import _kernel_math

drive_of = njit(cache=True, nogil=True, inline="always")(_kernel_math.drive_of)
readout = njit(cache=True, nogil=True, inline="always")(_kernel_math.readout)


@njit(cache=True, nogil=True)
def _drive(stim, b, j, w_in, bias, out):
    """``out[i] = (sum_m u[m] w_in[i, m]) + bias`` for every unit."""
    for i in range(w_in.shape[0]):
        out[i] = drive_of(stim, b, j, w_in, bias, i)


@njit(parallel=True, cache=True, nogil=True)
def run_block(k0, k1, fc, ic, v, last, syn, rise, inv_s, stim, w_in, kick_w, gain, decay,
              pool, offsets, block_noise, kick_units, kick_mv, w_out, output,
              rec_v, rec_c, rec_r, ev, ev_count):
    """Advance every trial (row of ``v``) by steps ``[k0, k1)``; see the module docstring.

    ``ev[b, :]`` receives ``(k - k0) * N + unit`` of trial b's spikes in step then unit
    order, ``ev_count[b]`` their number (callers size ``ev`` for the refractory bound).
    """
    n_trials, n = v.shape
    leak, v_th, v_reset, v_peak, bias, rise_decay = fc[0], fc[1], fc[2], fc[3], fc[4], fc[5]
    hold, refr, qif, double, ds, rec_every = ic[0], ic[1], ic[2], ic[3], ic[4], ic[5]
    noise_kind, kick_on, keep, nblock = ic[6], ic[7], ic[8], ic[9]
    kick_end = kick_on + kick_mv.shape[1]
    for b in prange(n_trials):
        vb, lb, sb, rb = v[b], last[b], syn[b], rise[b]
        inv = inv_s[b]
        drive = np.empty(n, v.dtype)
        zero = np.zeros(n, v.dtype)
        spk = np.empty(n, np.int64)
        count = 0
        _drive(stim, b, k0 // hold, w_in, bias, drive)
        for k in range(k0, k1):
            if k % hold == 0 and k != k0:
                _drive(stim, b, k // hold, w_in, bias, drive)
            # steps 1-3: integrate the units that are not refractory, then the noise
            ready = k - refr  # a unit integrates if it last spiked before step k - R
            if noise_kind == 1:
                z = pool[offsets[b, k // nblock] + (k % nblock) * n:]
            elif noise_kind == 2:
                z = block_noise[b, k - k0]
            else:
                z = zero
            if qif:
                for i in range(n):
                    x = vb[i]
                    if lb[i] < ready:
                        x = x + leak * ((sb[i] + drive[i]) + x * x)
                    vb[i] = x + z[i]
            else:
                for i in range(n):
                    x = vb[i]
                    if lb[i] < ready:
                        x = x + leak * ((sb[i] + drive[i]) - x)
                    vb[i] = x + z[i]
            # step 4: perturbation
            if kick_on <= k < kick_end:
                mv = kick_mv[b, k - kick_on]
                for u in kick_units:
                    vb[u] = vb[u] + mv
            # step 5: spikes
            ns = 0
            for i in range(n):
                if vb[i] >= v_th:
                    spk[ns] = i
                    ns += 1
            # step 6: synapses, then this step's spikes in unit order
            if double:
                for i in range(2 * n):
                    sb[i] = rb[i] + sb[i] * decay[i]
                    rb[i] = rb[i] * rise_decay
                target = rb
            else:
                for i in range(2 * n):
                    sb[i] = sb[i] * decay[i]
                target = sb
            for s in range(ns):
                j = spk[s]
                row = kick_w[j]
                for i in range(n):
                    target[i] = target[i] + row[i] * inv
                target[n + j] = target[n + j] + gain[j] * inv
                lb[j] = k
                if keep:
                    ev[b, count] = (k - k0) * n + j
                    count += 1
            # step 8: readout; traces; step 7: reset
            if (k + 1) % ds == 0:
                output[b, (k + 1) // ds - 1] = readout(sb, w_out, n)
            if rec_every > 0 and (k + 1) % rec_every == 0:
                row_out = (k + 1) // rec_every - 1
                if rec_v.shape[0]:
                    for i in range(n):
                        rec_v[b, row_out, i] = vb[i]
                    for s in range(ns):
                        rec_v[b, row_out, spk[s]] = v_peak
                if rec_c.shape[0]:
                    for i in range(n):
                        rec_c[b, row_out, i] = sb[i]
                if rec_r.shape[0]:
                    for i in range(n):
                        rec_r[b, row_out, i] = sb[n + i] / inv
            for s in range(ns):
                vb[spk[s]] = v_reset
        ev_count[b] = count


@njit(cache=True, nogil=True)
def sort_events(ev, ev_count, n_units, n_block_steps, first_step, trial0):
    """Spike (trial, unit, step) arrays of one block sorted by step, trial, unit (a stable
    counting sort of the per-trial logs of :func:`run_block`)."""
    total = 0
    per_step = np.zeros(n_block_steps + 1, np.int64)
    for b in range(ev.shape[0]):
        for e in range(ev_count[b]):
            per_step[ev[b, e] // n_units + 1] += 1
        total += ev_count[b]
    for s in range(n_block_steps):
        per_step[s + 1] += per_step[s]
    trial = np.empty(total, np.int64)
    unit = np.empty(total, np.int64)
    step = np.empty(total, np.int64)
    for b in range(ev.shape[0]):
        for e in range(ev_count[b]):
            s, u = divmod(ev[b, e], n_units)
            at = per_step[s]
            per_step[s] += 1
            trial[at] = b + trial0
            unit[at] = u
            step[at] = s + first_step
    return trial, unit, step
