"""Time per trial of the equivalent Brian2 network next to spikernn's engine, as ratios.

Workload: Go/NoGo trials of 1 s (20,000 integration steps of 0.05 ms), N = 200 (a random
Go/NoGo-shaped rate model unless ``--model`` is given), scaling factor 50, voltage noise on,
readout every step. Each simulator runs the same trials, batched (``--trials`` trials in one
call) and one trial per call (the first ``--single-trials``):

* the engine (:class:`spikernn.spiking.network.SpikingNetwork`, float32, CPU);
* Brian2 runtime mode with numpy code generation;
* Brian2 runtime mode with cython code generation (the one-off compilation of its code
  objects is timed apart on a 5 ms run);
* Brian2 ``cpp_standalone``: one build (code generation and C++ compilation, timed apart) and
  repeated runs of the compiled program (each run also writes and reads its result files).

Ratios are Brian2 seconds per trial divided by the engine's, in the same process. Every
simulator here runs on one CPU core: torch is limited to ``--threads`` (1) intra-op threads;
Brian2 runtime is single-threaded and the standalone build has OpenMP off. Other processes
on the machine slow every timing; the ratios are the robust figures.

    python benchmarks/bench_brian2.py                       # 16 trials, all targets
    python benchmarks/bench_brian2.py --model m.mat --trials 8 --out bench_brian2.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from spikernn._io import write_json
from spikernn.artifact import load_model
from spikernn.bridges.brian2 import Brian2StandaloneSimulator, simulate_brian2
from spikernn.rate.model import FR_RNN_dale, create_default_config
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.params import LIFParams
from spikernn.tasks import GoNogoTask


def _timed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def _per_trial(run: Callable[[np.ndarray], Any], stimuli: np.ndarray,
               batched: bool) -> tuple[float, int]:
    """Seconds per trial of ``run`` over ``stimuli``, batched or one call per trial."""
    if batched:
        result, wall = _timed(lambda: run(stimuli))
        return wall / len(stimuli), result.n_spikes
    walls, spikes = [], 0
    for b in range(len(stimuli)):
        result, wall = _timed(lambda b=b: run(stimuli[b:b + 1]))
        walls.append(wall)
        spikes += result.n_spikes
    return float(np.mean(walls)), spikes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file or folder (default: random N=200 model)")
    parser.add_argument("--trials", type=int, default=16, help="trials of the batched call")
    parser.add_argument("--single-trials", type=int, default=2,
                        help="trials timed one per call")
    parser.add_argument("--scaling-factor", type=float, default=50.0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--targets", nargs="+", default=["numpy", "cython", "cpp_standalone"],
                        choices=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    model = load_model(args.model) if args.model else FR_RNN_dale.from_config(
        create_default_config(N=200, seed=args.seed)).to_artifact(task="go_nogo")
    params = LIFParams()
    s = args.scaling_factor
    stimuli = GoNogoTask().sample_batch(args.trials, rng=args.seed).stimulus.astype(float)
    n_steps = stimuli.shape[2] * 100
    print(f"workload: {args.trials} Go/NoGo trials of {n_steps} steps, N = {model.N}, s = {s}, "
          f"noise on, torch threads {torch.get_num_threads()}")

    net = SpikingNetwork(model, s, params)
    runners: dict[str, Callable[[np.ndarray], Any]] = {
        "engine": lambda x: net.simulate(x, seed=args.seed)}
    figures: dict[str, Any] = {"N": model.N, "trials": args.trials,
                               "single_trials": args.single_trials, "n_steps": n_steps,
                               "torch_threads": torch.get_num_threads()}
    for codegen in ("numpy", "cython"):
        if codegen in args.targets:
            runners[f"brian2_{codegen}"] = (
                lambda x, c=codegen: simulate_brian2(model, s, x, params, seed=args.seed,
                                                     codegen=c))
    if "cython" in args.targets:
        _, compile_s = _timed(lambda: runners["brian2_cython"](stimuli[:1, :, :1]))
        figures["brian2_cython_first_compile_s"] = compile_s
        print(f"brian2 cython: code objects compiled (or loaded from cache) in {compile_s:.1f} s")

    rows = {}
    for name, run in runners.items():
        batched, spikes = _per_trial(run, stimuli, batched=True)
        single, _ = _per_trial(run, stimuli[:args.single_trials], batched=False)
        rows[name] = {"batched_s_per_trial": batched, "single_s_per_trial": single,
                      "spikes": spikes}
    if "cpp_standalone" in args.targets:
        rows["brian2_cpp_standalone"] = _standalone(model, params, s, stimuli, args.seed,
                                                    args.single_trials)
        figures["brian2_standalone_build_s"] = rows["brian2_cpp_standalone"].pop("build_s")

    engine = rows["engine"]
    print(f"{'simulator':24s} {'batched s/trial':>16s} {'1 trial/call s':>15s} "
          f"{'ratio batched':>14s} {'ratio 1/call':>13s}")
    for name, row in rows.items():
        row["ratio_batched"] = row["batched_s_per_trial"] / engine["batched_s_per_trial"]
        row["ratio_single"] = row["single_s_per_trial"] / engine["single_s_per_trial"]
        print(f"{name:24s} {row['batched_s_per_trial']:16.2f} {row['single_s_per_trial']:15.2f} "
              f"{row['ratio_batched']:14.2f} {row['ratio_single']:13.2f}")
    if "brian2_standalone_build_s" in figures:
        print(f"brian2 cpp_standalone build (code generation + compilation), once: "
              f"{figures['brian2_standalone_build_s']:.1f} s")
    figures["simulators"] = rows
    if args.out:
        write_json(args.out, figures)
    return 0


def _standalone(model, params: LIFParams, s: float, stimuli: np.ndarray, seed: int,
                single_trials: int) -> dict[str, float]:
    """Build once per batch size, then time the runs of the compiled program."""
    row: dict[str, float] = {}
    with Brian2StandaloneSimulator(model, params, batch=len(stimuli), T=stimuli.shape[2],
                                   seed=seed) as sim:
        row["build_s"] = sim.build().build_time
        result, wall = _timed(lambda: sim.run(stimuli, s, v0_seed=seed))
        row["batched_s_per_trial"], row["spikes"] = wall / len(stimuli), result.n_spikes
    with Brian2StandaloneSimulator(model, params, batch=1, T=stimuli.shape[2],
                                   seed=seed) as sim:
        sim.build()
        walls = [_timed(lambda b=b: sim.run(stimuli[b:b + 1], s, v0_seed=seed + b))[1]
                 for b in range(single_trials)]
        row["single_s_per_trial"] = float(np.mean(walls))
    return row


if __name__ == "__main__":
    sys.exit(main())
