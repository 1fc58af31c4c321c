"""Scalar formulas shared by the fused CPU and CUDA kernels (compiled for each target
from this one source): the input drive of a unit and the readout's summation order."""

from __future__ import annotations

import numpy as np


def drive_of(stim, b, j, w_in, bias, i):
    """``(sum_m u_b[m, j] w_in[i, m]) + bias``: trial b's input to unit i in rate sample j,
    the inputs summed in order (as :func:`spikernn.spiking.engine.input_drive`)."""
    d = stim[b, 0, j] * w_in[i, 0]
    for m in range(1, w_in.shape[1]):
        d = d + stim[b, m, j] * w_in[i, m]
    return d + bias


def readout(sb, w_out, n):
    """``sum_i w_out[i] sb[n + i]`` in eight interleaved partial sums (lane ``l`` takes
    ``i = l (mod 8)``), added as ``((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))``: a
    fixed order (the same on every fused path) that is not one long chain of dependent
    additions. The products are in the engine dtype, the sums in float64."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = np.float64(0.0)
    full = n - n % 8
    for i in range(0, full, 8):
        p0 = p0 + w_out[i] * sb[n + i]
        p1 = p1 + w_out[i + 1] * sb[n + i + 1]
        p2 = p2 + w_out[i + 2] * sb[n + i + 2]
        p3 = p3 + w_out[i + 3] * sb[n + i + 3]
        p4 = p4 + w_out[i + 4] * sb[n + i + 4]
        p5 = p5 + w_out[i + 5] * sb[n + i + 5]
        p6 = p6 + w_out[i + 6] * sb[n + i + 6]
        p7 = p7 + w_out[i + 7] * sb[n + i + 7]
    rest = n % 8
    if rest > 0:
        p0 = p0 + w_out[full] * sb[n + full]
    if rest > 1:
        p1 = p1 + w_out[full + 1] * sb[n + full + 1]
    if rest > 2:
        p2 = p2 + w_out[full + 2] * sb[n + full + 2]
    if rest > 3:
        p3 = p3 + w_out[full + 3] * sb[n + full + 3]
    if rest > 4:
        p4 = p4 + w_out[full + 4] * sb[n + full + 4]
    if rest > 5:
        p5 = p5 + w_out[full + 5] * sb[n + full + 5]
    if rest > 6:
        p6 = p6 + w_out[full + 6] * sb[n + full + 6]
    return ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))
