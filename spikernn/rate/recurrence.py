"""The rate RNN's time loop with a hand-written backward pass (back-propagation through time).

The Euler recurrence of :class:`~spikernn.rate.model.FR_RNN_dale`, for t = 1..T-1::

    x[t] = decay * x[t-1] + r[t-1] @ w_scaled + drive[t-1],    r[t] = phi(x[t])

with ``decay = 1 - dt/tau`` (N,), ``w_scaled = W_rate^T * dt/tau`` (N, N) and ``drive`` the
scaled input plus noise (T-1, B, N). Autograd would record three nodes per step and keep a
copy of every step's tensors; here the forward pass writes into two preallocated (T, B, N)
buffers, and the backward pass runs the adjoint recurrence by hand::

    g[T-1] = dL/dx[T-1] + dL/dr[T-1] * phi'(x[T-1])
    g[t]   = dL/dx[t] + (dL/dr[t] + g[t+1] @ w_scaled^T) * phi'(x[t]) + decay * g[t+1]

so the weight and decay gradients are one matrix product and one reduction over all steps
(``sum_t r[t-1]^T g[t]`` and ``sum_t g[t] * x[t-1]``) instead of T small accumulations. The
result is the same gradient as autograd's up to the order of float additions
(``tests/test_rate_recurrence.py`` checks it in float64).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: phi(x, out=buffer), writing the rates into ``buffer``.
Activation = Callable[..., torch.Tensor]
#: phi'(x) given x and r = phi(x).
Derivative = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class _Recurrence(torch.autograd.Function):
    """Autograd wrapper of :func:`run_recurrence` (inputs: drive, x0, decay, w_scaled)."""

    @staticmethod
    def forward(ctx, drive, x0, decay, w_scaled, phi, dphi):  # noqa: D102
        steps, batch, n = drive.shape
        xs = torch.empty(steps + 1, batch, n, dtype=x0.dtype, device=x0.device)
        rs = torch.empty_like(xs)
        x, r = xs.unbind(0), rs.unbind(0)          # per-step views, made once
        x[0].copy_(x0)
        phi(x0, out=r[0])
        for t, d in enumerate(drive.unbind(0)):
            torch.addcmul(d, decay, x[t], out=x[t + 1])
            x[t + 1].addmm_(r[t], w_scaled)
            phi(x[t + 1], out=r[t + 1])
        ctx.save_for_backward(xs, rs, decay, w_scaled)
        ctx.dphi = dphi
        ctx.set_materialize_grads(False)
        return xs, rs

    @staticmethod
    def backward(ctx, grad_xs, grad_rs):  # noqa: D102
        xs, rs, decay, w_scaled = ctx.saved_tensors
        T, _, n = xs.shape
        dphi = ctx.dphi(xs, rs)
        # g[t] = base[t] + (g[t+1] @ w_scaled^T) * phi'(x[t]) + decay * g[t+1]
        g = torch.zeros_like(xs) if grad_rs is None else grad_rs * dphi
        if grad_xs is not None:
            g += grad_xs                             # g[t] = base[t], then g in place
        w_t = w_scaled.t()
        back = torch.empty_like(xs[0])
        g_t, dphi_t = g.unbind(0), dphi.unbind(0)
        for t in range(T - 2, -1, -1):
            torch.mm(g_t[t + 1], w_t, out=back)
            g_t[t].addcmul_(back, dphi_t[t]).addcmul_(decay, g_t[t + 1])
        need = ctx.needs_input_grad
        g_drive = g[1:] if need[0] else None
        g_x0 = g[0] if need[1] else None
        g_decay = (g[1:] * xs[:-1]).sum(dim=(0, 1)) if need[2] else None
        g_w = (rs[:-1].reshape(-1, n).t() @ g[1:].reshape(-1, n)) if need[3] else None
        return g_drive, g_x0, g_decay, g_w, None, None


def run_recurrence(drive: torch.Tensor, x0: torch.Tensor, decay: torch.Tensor,
                   w_scaled: torch.Tensor, phi: Activation, dphi: Derivative
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the rate recurrence over all steps; differentiable in every tensor argument.

    Parameters
    ----------
    drive : tensor (T-1, B, N)
        External drive of steps 1..T-1 (``dt/tau * W_in u[t-1] + noise[t]``).
    x0 : tensor (B, N)
        Initial state x[0].
    decay : tensor (N,)
        ``1 - dt/tau`` per unit.
    w_scaled : tensor (N, N)
        ``W_rate^T * dt/tau``: ``r @ w_scaled`` is the scaled recurrent input.
    phi, dphi : callables
        The rate function ``phi(x, out=buffer)`` and its derivative ``dphi(x, phi(x))``.

    Returns
    -------
    xs, rs : tensors (T, B, N)
        States and rates, time-major.
    """
    return _Recurrence.apply(drive, x0, decay, w_scaled, phi, dphi)
