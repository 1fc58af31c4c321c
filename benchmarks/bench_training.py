"""Rate-RNN training speed: the batched trainer against a faithful one-trial-at-a-time loop.

Measures, in one process on the same network (Go/NoGo, N = 200, sigmoid, taus 4..20 steps):

1. training throughput in trial-equivalents per second of
   - a reference loop written the way the original code (and its PyTorch port) trains:
     one trial per Adam update, per-step Python lists of (N, 1) column vectors, the effective
     matrix and time constants recomputed at every step, a per-step loss loop;
   - :class:`spikernn.rate.Trainer` with ``batch_size=1`` (same protocol, vectorised step);
   - :class:`spikernn.rate.Trainer` with its default batch size;
2. time from random initialisation to the paper's criteria (mean loss over 100 evaluation
   trials < 7 and accuracy >= 95%, checked every 100 trials) for several seeds.

Run: ``python benchmarks/bench_training.py [--seeds 5] [--mante]``. Wall times depend on
what else runs on the machine; the throughput ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from spikernn.rate import FR_RNN_dale, Trainer, TrainingConfig, create_default_config
from spikernn.tasks import GoNogoTask


def reference_update(net: FR_RNN_dale, optimizer: torch.optim.Optimizer, u: np.ndarray,
                     z: np.ndarray) -> float:
    """One trial, one Adam update, computed step by step as the original code does."""
    u = torch.as_tensor(u)
    z = torch.as_tensor(z)
    taus = net.config.taus
    x = [torch.randn(net.N, 1) / 100]
    r = [torch.sigmoid(x[0])]
    o = []
    for t in range(1, u.shape[1]):
        ww = (torch.relu(net.w) @ net.m) * net.som_m
        tau = torch.sigmoid(net.taus_gaus[:, None]) * (taus[1] - taus[0]) + taus[0]
        x.append((1 - 1 / tau) * x[t - 1]
                 + (1 / tau) * (ww @ r[t - 1] + net.w_in @ u[:, t - 1:t])
                 + torch.randn(net.N, 1) / 10)
        r.append(torch.sigmoid(x[t]))
        o.append(net.w_out @ r[t] + net.b_out)
    loss = torch.zeros(())
    for t in range(len(o)):
        loss = loss + (o[t].squeeze() - z[t + 1]) ** 2
    loss = torch.sqrt(loss)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def reference_throughput(n_trials: int, seed: int = 0) -> float:
    """Trials per second of the faithful batch-1 loop (training updates only)."""
    torch.manual_seed(seed)
    net = FR_RNN_dale.from_config(create_default_config(N=200, seed=seed))
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.01)
    batch = GoNogoTask().sample_batch(n_trials, rng=seed)
    reference_update(net, optimizer, batch.stimulus[0], batch.target[0])   # warm-up
    start = time.perf_counter()
    for u, z in zip(batch.stimulus, batch.target, strict=True):
        reference_update(net, optimizer, u, z)
    return n_trials / (time.perf_counter() - start)


def trainer_throughput(batch_size: int, n_trials: int, seed: int = 0) -> float:
    """Trials per second of :meth:`Trainer.step` (training updates only)."""
    trainer = Trainer("go_nogo", create_default_config(N=200, seed=seed),
                      TrainingConfig(batch_size=batch_size))
    trainer.step()                                                         # warm-up
    n_updates = max(1, n_trials // batch_size)
    start = time.perf_counter()
    for _ in range(n_updates):
        trainer.step()
    return n_updates * batch_size / (time.perf_counter() - start)


def time_to_criteria(task: str, N: int, seed: int, batch_size: int | None = None
                     ) -> tuple[float, int, bool]:
    """Wall time (s), trials and success of a run from random init to the criteria."""
    config = TrainingConfig() if batch_size is None else TrainingConfig(batch_size=batch_size)
    trainer = Trainer(task, create_default_config(N=N, seed=seed), config)
    start = time.perf_counter()
    result = trainer.train(progress=False)
    return time.perf_counter() - start, result.trials, result.converged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds for time to criteria")
    parser.add_argument("--throughput-trials", type=int, default=64,
                        help="trials timed per throughput measurement")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help="batch sizes for time to criteria (default: the trainer's)")
    parser.add_argument("--mante", action="store_true",
                        help="also time one Mante N = 250 run to the criteria")
    args = parser.parse_args()
    torch.set_num_threads(1)
    default_b = TrainingConfig().batch_size

    print("Go/NoGo N=200 training throughput (1 torch thread)")
    ref = reference_throughput(max(8, args.throughput_trials // 4))
    rows = [("faithful batch-1 loop (original protocol)", ref),
            ("Trainer batch_size=1", trainer_throughput(1, args.throughput_trials // 2)),
            (f"Trainer batch_size={default_b} (default)",
             trainer_throughput(default_b, 4 * args.throughput_trials))]
    print(f"{'loop':45s} {'trials/s':>10s} {'x reference':>12s}")
    for name, rate in rows:
        print(f"{name:45s} {rate:10.1f} {rate / ref:12.1f}")

    print("\nTime to the paper's criteria, Go/NoGo N=200")
    print(f"{'batch':>5s} {'seed':>4s} {'trials':>7s} {'converged':>9s} {'time (s)':>9s}")
    for b in args.batch_sizes or [default_b]:
        times = []
        for seed in range(args.seeds):
            wall, trials, ok = time_to_criteria("go_nogo", 200, seed, b)
            times.append(wall)
            print(f"{b:5d} {seed:4d} {trials:7d} {ok!s:>9s} {wall:9.1f}")
        print(f"batch {b}: median {statistics.median(times):.1f} s over {len(times)} seeds")
    if args.mante:
        wall, trials, ok = time_to_criteria("mante", 250, 0)
        print(f"\nMante N=250 seed 0: {trials} trials, converged={ok}, {wall:.1f} s")


if __name__ == "__main__":
    main()
