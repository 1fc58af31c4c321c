"""Time to write (and read back) a simulation as NWB and as NIX.

Workload: ``--trials`` trials (100) of 1 s (20,000 integration steps of 0.05 ms) of N = 200
units firing about 10 Hz at random (the spike count, not the network, sets the cost), readout
every 100 steps, the Go/NoGo trial record (labels, trial types, a 1-input stimulus), and a
random Go/NoGo-shaped rate model stored in the file. NWB is written with
:func:`spikernn.bridges.nwb.write_nwb` and read with :func:`read_nwb`; NIX is written with
Neo's ``NixIO`` (:func:`spikernn.bridges.neo.write_nix`), whose cost grows with the number of
spike trains (one per unit and trial), so it is timed on ``--nix-trials`` trials (10) and
reported per spike train as well. Each figure is the median of ``--repeats`` runs; other
processes on the machine slow every timing.

    python benchmarks/bench_exports.py                      # 100 NWB trials, 10 NIX trials
    python benchmarks/bench_exports.py --trials 20 --nix-trials 2 --out bench_exports.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from spikernn._io import write_json
from spikernn.bridges.neo import read_nix, result_to_block, write_nix
from spikernn.bridges.nwb import read_nwb, write_nwb
from spikernn.rate.model import FR_RNN_dale, create_default_config
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult
from spikernn.tasks import TrialInfo

N_UNITS, N_STEPS, RATE_HZ = 200, 20_000, 10.0


def random_result(n_trials: int, seed: int = 0) -> SimulationResult:
    """``n_trials`` trials of N_UNITS units spiking about RATE_HZ at random steps."""
    rng = np.random.default_rng(seed)
    n_spikes = int(n_trials * N_UNITS * RATE_HZ * N_STEPS * 5e-5)
    trial = rng.integers(0, n_trials, n_spikes)
    unit = rng.integers(0, N_UNITS, n_spikes)
    step = rng.integers(0, N_STEPS, n_spikes)
    order = np.lexsort((unit, trial, step))
    labels = tuple(int(x) for x in rng.integers(0, 2, n_trials))
    trials = TrialInfo("go_nogo", labels, tuple("go" if x else "nogo" for x in labels),
                       rng.random((n_trials, 1, N_STEPS // 100)).astype(np.float32))
    return SimulationResult(
        output=rng.normal(size=(n_trials, N_STEPS // 100)).astype(np.float32),
        spike_trial=trial[order], spike_unit=unit[order], spike_step=step[order], dt=5e-5,
        n_steps=N_STEPS, downsample=100, scaling_factors=np.full(n_trials, 50.0),
        exc=np.arange(N_UNITS) < 160, params=LIFParams(), seed=seed, trials=trials)


def timed(function, repeats: int) -> tuple[float, Any]:
    """Median wall time (s) of ``repeats`` calls, and the last call's value."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=100, help="NWB trials (default 100)")
    p.add_argument("--nix-trials", type=int, default=10, help="NIX trials (default 10)")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    p.add_argument("--out", default=None, help="also write the figures as JSON")
    args = p.parse_args(argv)
    model = FR_RNN_dale.from_config(create_default_config(N=N_UNITS, seed=0)).to_artifact(
        task="go_nogo")
    figures: dict[str, Any] = {"n_units": N_UNITS, "trial_s": N_STEPS * 5e-5,
                               "rate_hz": RATE_HZ, "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as folder:
        result = random_result(args.trials)
        path = Path(folder) / "trials.nwb"
        write_s, _ = timed(lambda: write_nwb(result, path, model), args.repeats)
        read_s, _ = timed(lambda: read_nwb(path), args.repeats)
        figures["nwb"] = {"trials": args.trials, "spikes": result.n_spikes,
                          "write_s": write_s, "read_s": read_s,
                          "file_mb": path.stat().st_size / 2 ** 20}
        if args.nix_trials > 0:
            small = random_result(args.nix_trials)
            nix = Path(folder) / "trials.nix"
            nix_s, _ = timed(lambda: write_nix(result_to_block(small, model), nix),
                             args.repeats)
            nix_read_s, _ = timed(lambda: read_nix(nix), 1)
            trains = args.nix_trials * N_UNITS
            figures["nix"] = {"trials": args.nix_trials, "spike_trains": trains,
                              "write_s": nix_s, "read_s": nix_read_s,
                              "write_ms_per_train": 1e3 * nix_s / trains,
                              "write_s_for_nwb_trials": nix_s / args.nix_trials * args.trials}
    nwb = figures["nwb"]
    print(f"NWB: {nwb['trials']} trials x {N_UNITS} units ({nwb['spikes']} spikes): write "
          f"{nwb['write_s']:.2f} s, read {nwb['read_s']:.2f} s, {nwb['file_mb']:.1f} MiB")
    if "nix" in figures:
        nix = figures["nix"]
        print(f"NIX (Neo NixIO): {nix['trials']} trials: write {nix['write_s']:.1f} s "
              f"({nix['write_ms_per_train']:.0f} ms per spike train; about "
              f"{nix['write_s_for_nwb_trials']:.0f} s for {nwb['trials']} trials), read "
              f"{nix['read_s']:.1f} s")
    if args.out:
        write_json(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
