"""Rate-RNN training speed: the batched trainer against a faithful one-trial-at-a-time loop.

Measures, in one process on the same network (Go/NoGo, N = 200, sigmoid, taus 4..20 steps):

1. training throughput in trial-equivalents per second of
   - a reference loop written the way the original code (and its PyTorch port) trains:
     one trial per Adam update, per-step Python lists of (N, 1) column vectors, the effective
     matrix and time constants recomputed at every step, a per-step loss loop;
   - :class:`spikernn.rate.Trainer` with ``batch_size=1`` (same protocol, vectorised step);
   - :class:`spikernn.rate.Trainer` with its default batch size;
2. time from random initialisation to the paper's criteria (mean loss over 100 evaluation
   trials < 7 and accuracy >= 95%, checked every 100 trials) for several seeds, wall and CPU,
   each against the time the reference loop (timed in the same run, on the same task and N)
   needs for the same number of training trials (its evaluations not counted);
3. with ``--mante``, the same for Mante (context-dependent integration), N = 250;
4. with ``--convert K``, Go/NoGo N = 200 from random initialisation to a converted model for
   seeds 0..K-1: training with the default protocol, then the scaling-factor search
   (the paper's grid with the edge extension, 100 trials per factor, both cores), wall time
   of each and whether the best factor reaches 95%.

Run: ``python benchmarks/bench_training.py [--seeds 5] [--mante] [--mante-seeds 3]
[--convert 5] [--only-convert]``. Wall
times depend on what else runs on the machine (the load average is printed); the ratios are
measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from spikernn.rate import FR_RNN_dale, Trainer, TrainingConfig, create_default_config
from spikernn.tasks import TaskFactory


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


def reference_seconds_per_trial(task: str, N: int, n_trials: int, seed: int = 0) -> float:
    """Seconds per training trial of the faithful batch-1 loop on ``task`` with N units."""
    torch.manual_seed(seed)
    task_obj = TaskFactory.create_task(task)
    net = FR_RNN_dale.from_config(create_default_config(N=N, n_inputs=task_obj.n_inputs,
                                                        seed=seed))
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=0.01)
    batch = task_obj.sample_batch(n_trials + 1, rng=seed)
    trials = list(zip(batch.stimulus, batch.target, strict=True))
    reference_update(net, optimizer, *trials[0])                          # warm-up
    start = time.perf_counter()
    for u, z in trials[1:]:
        reference_update(net, optimizer, u, z)
    return (time.perf_counter() - start) / n_trials


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


#: The paper's termination criteria (SI): mean loss over 100 evaluation trials < 7 and
#: accuracy >= 95%, with no minimum number of trials.
PAPER_CRITERIA = {"loss_threshold": 7.0, "acc_threshold": 0.95, "min_trials": 0}


def time_to_criteria(task: str, N: int, seed: int, batch_size: int | None = None
                     ) -> tuple[float, float, int, bool]:
    """Wall and CPU time (s), trials and success of a run from random init to the paper's
    termination criteria (:data:`PAPER_CRITERIA`, whatever the protocol's stop rule) at the
    default protocol's batch size (or ``batch_size``)."""
    config = TrainingConfig(batch_size=batch_size, **PAPER_CRITERIA)
    trainer = Trainer(task, create_default_config(N=N, seed=seed), config)
    start, cpu = time.perf_counter(), time.process_time()
    result = trainer.train(progress=False)
    return (time.perf_counter() - start, time.process_time() - cpu, result.trials,
            result.converged)


def criteria_table(task: str, N: int, seeds: int, target_s: float, ref_s: float,
                   batch_size: int | None = None) -> None:
    """Time to the criteria for ``seeds`` seeds, against the reference loop's time for the
    same number of training trials (``ref_s`` seconds per trial, this run)."""
    label = f"{task} N={N}" + ("" if batch_size is None else f", batch {batch_size}")
    print(f"\nTime to the paper's criteria, {label} (target: median < {target_s:g} s wall)")
    print(f"{'seed':>4s} {'trials':>7s} {'converged':>9s} {'wall (s)':>9s} {'CPU (s)':>8s} "
          f"{'ref. loop (s)':>13s} {'x ref.':>7s}")
    walls, cpus, ratios = [], [], []
    for seed in range(seeds):
        wall, cpu, trials, ok = time_to_criteria(task, N, seed, batch_size)
        ref = trials * ref_s
        walls.append(wall)
        cpus.append(cpu)
        ratios.append(ref / wall)
        print(f"{seed:4d} {trials:7d} {ok!s:>9s} {wall:9.1f} {cpu:8.1f} {ref:13.0f} "
              f"{ref / wall:7.1f}")
    median = statistics.median(walls)
    print(f"{label}: median {median:.1f} s wall ({statistics.median(cpus):.1f} s CPU) over "
          f"{seeds} seed(s), {statistics.median(ratios):.0f}x the reference loop; target "
          f"< {target_s:g} s: {'met' if median < target_s else 'NOT met'}")


def convert_table(seeds: int) -> None:
    """Go/NoGo N=200: default training then the search, per seed (train + search wall)."""
    import tempfile

    from spikernn.spiking import lambda_grid_search

    print(f"\nGo/NoGo N=200 to a converted model: default protocol "
          f"({TrainingConfig().resolve('go_nogo')}), then the search (target: median < 60 s)")
    print(f"{'seed':>4s} {'trials':>7s} {'train (s)':>9s} {'search (s)':>10s} "
          f"{'total (s)':>9s} {'best s':>6s} {'best acc.':>9s}")
    totals, converted = [], 0
    for seed in range(seeds):
        start = time.perf_counter()
        trainer = Trainer("go_nogo", create_default_config(N=200, seed=seed), TrainingConfig())
        result = trainer.train(progress=False)
        train_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            path = result.artifact.save(os.path.join(tmp, "model.mat"))
            torch.set_num_threads(os.cpu_count() or 1)
            search = lambda_grid_search(path, "go_nogo", n_trials=100, progress=False)
            torch.set_num_threads(1)
        total = time.perf_counter() - start
        totals.append(total)
        converted += search.best_accuracy >= 0.95
        print(f"{seed:4d} {result.trials:7d} {train_s:9.1f} {total - train_s:10.1f} "
              f"{total:9.1f} {search.best_scaling_factor:6g} {search.best_accuracy:9.2f}")
    median = statistics.median(totals)
    print(f"Go/NoGo N=200 train + search: median {median:.1f} s wall over {seeds} seed(s), "
          f"{converted}/{seeds} reached 95% in the search; target < 60 s: "
          f"{'met' if median < 60 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="Go/NoGo seeds for time to criteria")
    parser.add_argument("--throughput-trials", type=int, default=64,
                        help="trials timed per throughput measurement")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help="batch sizes for time to criteria (default: the trainer's)")
    parser.add_argument("--mante", action="store_true",
                        help="also time Mante N = 250 runs to the criteria")
    parser.add_argument("--mante-seeds", type=int, default=3, help="seeds for --mante")
    parser.add_argument("--convert", type=int, default=0, metavar="K",
                        help="also time Go/NoGo N = 200 train + search for K seeds")
    parser.add_argument("--only-convert", action="store_true",
                        help="run only the --convert measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    default_b = TrainingConfig().resolve("go_nogo").batch_size
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    if args.only_convert:
        convert_table(args.convert or 5)
        return

    print("\nGo/NoGo N=200 training throughput (1 torch thread)")
    ref_go = reference_seconds_per_trial("go_nogo", 200, max(8, args.throughput_trials // 4))
    rows = [("faithful batch-1 loop (original protocol)", 1 / ref_go),
            ("Trainer batch_size=1", trainer_throughput(1, args.throughput_trials // 2)),
            (f"Trainer batch_size={default_b} (default)",
             trainer_throughput(default_b, 4 * args.throughput_trials))]
    print(f"{'loop':45s} {'trials/s':>10s} {'x reference':>12s}")
    for name, rate in rows:
        print(f"{name:45s} {rate:10.1f} {rate * ref_go:12.1f}")

    for b in args.batch_sizes or [None]:
        criteria_table("go_nogo", 200, args.seeds, 15.0, ref_go, b)
    if args.mante:
        ref_mante = reference_seconds_per_trial("mante", 250, 4)
        print(f"\nfaithful batch-1 loop, Mante N=250: {ref_mante:.2f} s per trial")
        criteria_table("mante", 250, args.mante_seeds, 60.0, ref_mante)
    if args.convert:
        convert_table(args.convert)
    print(f"\nload average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
