"""Speed and memory of the spiking engine on the scaling-factor search workload, and its scale.

Workloads (``--workload``): ``go_nogo``, the shipped Go/NoGo model (N = 200), 12 scaling
factors (20..75 step 5) x 100 trials = 1,200 trials of 20,000 integration steps (1 s at
0.05 ms) through one engine call, as the search makes it (common random numbers: the 100
trial ids repeat for every factor); ``mante``, the shipped Mante model (N = 250), the same
grid with 2.5 s trials (50,000 steps). Baselines, timed in the same run on one trial each and
extrapolated: the faithful one-trial reference loop of ``tests/test_spiking_engine.py``
(numpy float64) and, with ``--seed-port DIR``, the seed project's one-trial
``LIF_network_fnc`` (``DIR/spiking/LIF_network_fnc.py`` of a checkout of the seed port, e.g.
extracted with ``git archive`` into /tmp; nothing of it is copied here). Prints wall and CPU
time, peak resident memory, and the ratios.

    python benchmarks/bench_engine.py --workload go_nogo --seed-port /tmp/spikeRNN
    python benchmarks/bench_engine.py --workload mante --seed-port /tmp/spikeRNN
    python benchmarks/bench_engine.py --search          # also time lambda_grid_search itself
    python benchmarks/bench_engine.py --scale           # cost as N and the trial count grow

Other processes sharing the machine slow every timing; the ratios measured in one run are
the robust figures.
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
from spikernn.pretrained import pretrained_path
from spikernn.spiking.memory import cpu_count, trial_memory
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.search import lambda_grid_search
from spikernn.tasks import TaskFactory

ROOT = Path(__file__).resolve().parents[1]
GRID = list(np.arange(20.0, 76.0, 5.0))


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    return sum(u.ru_utime + u.ru_stime for u in map(
        resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _timed(func, *args, **kwargs):
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - wall0, _cpu_s() - cpu0


def workload(args) -> int:
    task_name = {"go_nogo": "go_nogo", "mante": "mante"}[args.workload]
    path = args.model or pretrained_path(task_name)
    model = load_model(path)
    task = TaskFactory.create_task(model.task or task_name, model.task_settings)
    stim = task.sample_batch(args.trials, rng=args.seed).stimulus.astype(np.float32)
    factors = np.asarray(args.factors, dtype=float)
    rows = np.repeat(factors, args.trials)
    stimuli = np.tile(stim, (factors.size, 1, 1))
    ids = np.tile(np.arange(args.trials), factors.size)
    n_steps = stim.shape[2] * 100
    net = SpikingNetwork(model, float(factors[0]), device=args.device)
    print(f"workload {args.workload}: {factors.size} factors x {args.trials} trials = "
          f"{rows.size} trials x {n_steps} steps, N = {model.N}, device {args.device}, "
          f"backend {args.backend or 'auto'}, cores {cpu_count()}, workers "
          f"{args.workers or 'all'}")
    net.simulate(stimuli[:2, :, :2], rows[:2], seed=0, backend=args.backend)  # compile
    rss0 = _peak_rss_mb()
    walls, cpus = [], []
    for _ in range(args.repeats):
        res, wall, cpu = _timed(net.simulate, stimuli, rows, seed=args.seed, trial_ids=ids,
                                workers=args.workers, backend=args.backend)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        walls.append(wall)
        cpus.append(cpu)
    wall, cpu = float(np.median(walls)), float(np.median(cpus))
    unit_steps = rows.size * n_steps * model.N
    print(f"engine: wall {wall:.2f} s (runs {', '.join(f'{w:.2f}' for w in walls)}), CPU "
          f"{cpu:.2f} s, {wall / unit_steps * 1e9:.2f} ns wall per unit-step, peak RSS "
          f"{_peak_rss_mb():.0f} MB (+{_peak_rss_mb() - rss0:.0f} MB), {res.n_spikes} spikes, "
          f"mean rate {res.firing_rates().mean():.1f} Hz")
    if args.search:
        _, swall, scpu = _timed(lambda_grid_search, model, None, args.trials, factors,
                                seed=args.seed, save=False, resume=False, progress=False,
                                device=args.device)
        print(f"lambda_grid_search: wall {swall:.2f} s, CPU {scpu:.2f} s")

    reference = _load(ROOT / "tests" / "test_spiking_engine.py", "_spiking_reference").reference
    ref_net = SpikingNetwork(model, float(factors[0]), dtype=torch.float64)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    for b in range(args.reference_trials):
        v0 = rng.uniform(-65.0, 30.0, model.N)
        z = ref_net.params.noise_std * rng.standard_normal((n_steps, model.N))
        reference(ref_net, stimuli[b].astype(np.float64), float(rows[b]), v0, z)
    per_ref = (time.perf_counter() - t0) / args.reference_trials
    print(f"reference loop: {per_ref:.2f} s per trial -> {per_ref * rows.size / 60:.1f} min "
          f"one trial at a time; engine ratio {per_ref * rows.size / wall:.0f}x (wall)")
    if args.seed_port:
        port = _load(Path(args.seed_port) / "spiking" / "LIF_network_fnc.py", "_seed_port_lif")
        t0 = time.perf_counter()
        for b in range(args.port_trials):
            port.LIF_network_fnc(str(path), float(rows[b]), stimuli[b].astype(np.float64),
                                 {"mode": "none"}, 1, False)
        per_port = (time.perf_counter() - t0) / args.port_trials
        print(f"seed port LIF_network_fnc: {per_port:.2f} s per trial -> "
              f"{per_port * rows.size / 60:.1f} min; engine ratio "
              f"{per_port * rows.size / wall:.0f}x (wall)")
    return 0


def scale(args) -> int:
    """Cost per unit-step as N grows (100 trials) and as trials grow (N = 200), 0.1 s
    trials; memory the full 1 s trials would hold by the engine's memory model."""
    print(f"scale: 0.1 s trials (2,000 steps), backend {args.backend or 'auto'}, cores "
          f"{cpu_count()}; 'held' = readout + spikes of 1 s trials (20,000 steps, spikes at "
          "the 50 Hz bound) by spikernn.spiking.memory")
    base = load_model(pretrained_path("go_nogo"))
    rng = np.random.default_rng(0)
    cases = [(n, 100) for n in (200, 500, 1000, 2000)] + [(200, b) for b in (1000, 10000)]
    for n, n_trials in cases:
        model = base if n == 200 else _random_like(base, n, rng)
        net = SpikingNetwork(model, 50.0 * np.sqrt(n / 200))
        stim = TaskFactory.create_task("go_nogo").sample_batch(n_trials, rng=0).stimulus[:, :, :20]
        net.simulate(stim[:1, :, :1], seed=0, backend=args.backend)
        res, wall, cpu = _timed(net.simulate, stim, seed=0, backend=args.backend,
                                workers=args.workers)
        held = trial_memory(n, 20_000).held * n_trials
        print(f"N {n:5d} trials {n_trials:6d}: wall {wall:6.2f} s, CPU {cpu:6.2f} s, "
              f"{wall / (n_trials * 2000 * n) * 1e9:5.2f} ns wall per unit-step, rate "
              f"{res.firing_rates().mean():5.1f} Hz, peak RSS {_peak_rss_mb():6.0f} MB; "
              f"1 s trials would hold {held / 2**30:6.2f} GiB")
    return 0


def _random_like(model, n: int, rng: np.random.Generator):
    """The shipped model's statistics on n units (weights resampled, scaled by sqrt(200/n))."""
    idx = rng.integers(0, model.N, n)
    w = model.w[np.ix_(idx, idx)] * np.sqrt(200 / n)
    return model.replace(w=w, w0=w.copy(), m=np.diag(np.diag(model.m)[idx]),
                         som_m=model.som_m[np.ix_(idx, idx)], w_in=model.w_in[idx],
                         w_out=model.w_out[:, idx], inh=model.inh[idx], exc=model.exc[idx],
                         taus_gaus=model.taus_gaus[idx], taus_gaus0=model.taus_gaus0[idx])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("go_nogo", "mante"), default="go_nogo")
    parser.add_argument("--model", help="model file (default: the shipped one of the task)")
    parser.add_argument("--trials", type=int, default=100, help="trials per factor")
    parser.add_argument("--factors", type=float, nargs="+", default=GRID)
    parser.add_argument("--seed-port", help="folder of a seed-port checkout (spiking/...)")
    parser.add_argument("--reference-trials", type=int, default=1)
    parser.add_argument("--port-trials", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="engine runs (median)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default=None, help="auto (default), fused or torch")
    parser.add_argument("--workers", type=int, default=None, help="cores (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--search", action="store_true", help="also time lambda_grid_search")
    parser.add_argument("--scale", action="store_true", help="the scale benchmark instead")
    args = parser.parse_args(argv)
    return scale(args) if args.scale else workload(args)


if __name__ == "__main__":
    sys.exit(main())
