"""Speed and memory of the batched spiking engine on the scaling-factor search workload.

Workload (issue 3): 12 scaling factors (20..75 step 5) x 100 Go/NoGo trials = 1,200 trials of
20,000 integration steps (1 s at 0.05 ms), N = 200, through one engine call. Baseline: the
faithful one-trial-at-a-time reference loop of tests/test_spiking_engine.py (numpy, float64,
dense recurrent input, fresh Gaussian noise), timed on a few trials in the same process and
extrapolated per trial. Prints the speed ratio, wall and CPU time (this process and the
engine's worker processes together), and peak memory (resident set size, which includes torch
and numpy buffers) of this process and of the largest worker process.

    python benchmarks/bench_engine.py                 # random Go/NoGo-shaped model, CPU
    python benchmarks/bench_engine.py --model m.mat --device cuda

Other processes sharing the machine slow both timings; the ratio is the robust figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from spikernn.artifact import load_model
from spikernn.rate.model import FR_RNN_dale, create_default_config
from spikernn.spiking.network import SpikingNetwork
from spikernn.tasks import GoNogoTask

ROOT = Path(__file__).resolve().parents[1]


def _reference_loop():
    """The reference loop of the faithfulness tests (one trial, numpy float64)."""
    path = ROOT / "tests" / "test_spiking_engine.py"
    spec = importlib.util.spec_from_file_location("_spiking_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU time (user + system) of this process and its finished children, s."""
    return sum(u.ru_utime + u.ru_stime for u in map(
        resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file or folder (default: random N=200 model)")
    parser.add_argument("--trials", type=int, default=100, help="trials per factor")
    parser.add_argument("--factors", type=float, nargs="+",
                        default=list(np.arange(20.0, 76.0, 5.0)))
    parser.add_argument("--reference-trials", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--downsample", type=int, default=1)
    parser.add_argument("--max-batch", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-spikes", action="store_true",
                        help="do not keep spike events (as a search needs only the readout)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.model:
        model = load_model(args.model)
    else:
        model = FR_RNN_dale.from_config(create_default_config(N=200, seed=args.seed)) \
            .to_artifact(task="go_nogo")
    stim = GoNogoTask().sample_batch(args.trials, rng=args.seed).stimulus
    factors = np.repeat(np.asarray(args.factors, dtype=float), args.trials)
    stimuli = np.tile(stim, (len(args.factors), 1, 1))
    net = SpikingNetwork(model, float(args.factors[0]), device=args.device)
    print(f"workload: {len(args.factors)} factors x {args.trials} trials = {len(factors)} "
          f"trials x {stimuli.shape[2] * 100} steps, N = {model.N}, device {args.device}, "
          f"torch threads {torch.get_num_threads()}")

    rss0 = _peak_rss_mb()
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    res = net.simulate(stimuli, factors, seed=args.seed, downsample=args.downsample,
                       max_batch=args.max_batch, spikes=not args.no_spikes)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    rss = _peak_rss_mb()
    print(f"engine: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MB "
          f"(+{rss - rss0:.0f} MB; largest worker process "
          f"{_peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB), {res.n_spikes} spikes kept, "
          f"mean rate {res.firing_rates().mean():.1f} Hz")

    reference = _reference_loop()
    ref_net = SpikingNetwork(model, float(args.factors[0]), dtype=torch.float64)
    rng = np.random.default_rng(args.seed)
    n_steps = stim.shape[2] * 100
    t0, c0 = time.perf_counter(), time.process_time()
    for b in range(args.reference_trials):
        s = float(factors[b * args.trials % len(factors)])
        v0 = rng.uniform(-65.0, 30.0, model.N)
        z = ref_net.params.noise_std * rng.standard_normal((n_steps, model.N))
        reference(ref_net, stimuli[b].astype(np.float64), s, v0, z)
    per_trial = (time.perf_counter() - t0) / args.reference_trials
    per_trial_cpu = (time.process_time() - c0) / args.reference_trials
    serial = per_trial * len(factors)
    print(f"reference loop: {per_trial:.2f} s wall ({per_trial_cpu:.2f} s CPU) per trial -> "
          f"{serial / 60:.1f} min for the workload one trial at a time")
    print(f"speed ratio: {serial / wall:.0f}x (wall), "
          f"{per_trial_cpu * len(factors) / cpu:.0f}x (CPU time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
