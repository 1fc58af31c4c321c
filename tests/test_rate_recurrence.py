"""The fast time loop (preallocated buffers, hand-written backward) against the paper's
equations written step by step with autograd, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikernn.rate import FR_RNN_dale, create_default_config
from spikernn.rate.model import X0_STD, activation_fn
from spikernn.rate.training import loss_op
from spikernn.tasks import GoNogoTask, TaskFactory

N = 30


def _straightforward(net: FR_RNN_dale, u: torch.Tensor, seed: int):
    """x[t] = (1 - 1/tau) x[t-1] + (1/tau) (W r[t-1] + W_in u[t-1]) + noise, one step at a time,
    drawing x[0] and the noise in the same order as the model."""
    g = torch.Generator().manual_seed(seed)
    B, _, T = u.shape
    x = torch.randn(B, net.N, generator=g, dtype=torch.float64) * X0_STD
    noise = torch.randn(T - 1, B, net.N, generator=g, dtype=torch.float64) * net.config.noise_std
    tau, W = net.time_constants(), net.effective_weights()
    phi = activation_fn(net.config.activation)
    xs, rs = [x], [phi(x)]
    for t in range(1, T):
        x = ((1 - 1 / tau) * x + (1 / tau) * (rs[-1] @ W.t() + u[:, :, t - 1] @ net.w_in.t())
             + noise[t - 1])
        xs.append(x)
        rs.append(phi(x))
    rates, states = torch.stack(rs, 1), torch.stack(xs, 1)
    return rates @ net.w_out[0] + net.b_out, rates, states


def _loss_and_grads(net, outputs, rates, states, target):
    # the training loss, plus terms on rates and states so every gradient path is exercised
    loss = (loss_op(outputs, target).mean() + 1e-3 * rates.sum()
            + 1e-4 * states.pow(2).sum())
    params = [p for p in net.parameters() if p.requires_grad]
    return loss.detach(), torch.autograd.grad(loss, params)


@pytest.mark.parametrize("activation, task, taus", [
    ("sigmoid", "go_nogo", (4.0, 20.0)), ("relu", "go_nogo", (4.0, 20.0)),
    ("softplus", "go_nogo", (4.0, 20.0)), ("sigmoid", "mante", (4.0, 20.0)),
    ("sigmoid", "go_nogo", (10.0,)),
])
def test_fast_loop_matches_the_equations_in_float64(activation, task, taus):
    net = FR_RNN_dale.from_config(create_default_config(
        N=N, n_inputs=TaskFactory.create_task(task).n_inputs, seed=3, activation=activation,
        som_N=2, taus=taus)).double()
    batch = TaskFactory.create_task(task).sample_batch(3, rng=1)
    u = torch.as_tensor(batch.stimulus[:, :, :120], dtype=torch.float64)   # 120 steps suffice
    target = torch.as_tensor(batch.target[:, :120], dtype=torch.float64)
    fast = net(u, generator=torch.Generator().manual_seed(5))
    slow = _straightforward(net, u, 5)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    loss_f, grads_f = _loss_and_grads(net, *fast, target)
    loss_s, grads_s = _loss_and_grads(net, *slow, target)
    torch.testing.assert_close(loss_f, loss_s, rtol=1e-13, atol=0)
    for gf, gs in zip(grads_f, grads_s, strict=True):
        assert gs.abs().max() > 0
        torch.testing.assert_close(gf, gs, rtol=1e-10, atol=1e-12 * float(gs.abs().max()))


def test_fast_loop_float32_matches_float64():
    net = FR_RNN_dale.from_config(create_default_config(N=N, seed=0))
    batch = GoNogoTask().sample_batch(4, rng=2)
    out32 = net(batch.stimulus, noise_std=0.0, generator=torch.Generator().manual_seed(1))[0]
    out64 = net.double()(batch.stimulus, noise_std=0.0,
                         generator=torch.Generator().manual_seed(1))[0]
    assert out32.dtype == torch.float32 and out64.dtype == torch.float64
    # x[0] is drawn in each dtype, so compare after x[0] has decayed away (tau <= 20 steps)
    np.testing.assert_allclose(out32[:, 150:].detach().numpy(),
                               out64[:, 150:].detach().numpy(), atol=1e-4)
