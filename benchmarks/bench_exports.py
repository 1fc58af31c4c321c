"""Time to write (and read back) a simulation as NWB and as NIX.

Workload: ``--trials`` trials (100) of 1 s (20,000 integration steps of 0.05 ms) of N = 200
units firing about 10 Hz at random (the spike count, not the network, sets the cost), readout
every 100 steps, the Go/NoGo trial record (labels, trial types, a 1-input stimulus), and a
random Go/NoGo-shaped rate model stored in the file. NWB is written with
:func:`spikernn.bridges.nwb.write_nwb` and read with :func:`read_nwb`; NIX is written with
:func:`spikernn.bridges.neo.write_nix` (the h5py writer of :mod:`spikernn.bridges.nix`) on
the same trials and read back with :func:`spikernn.bridges.neo.read_nix` (the h5py reader).
For comparison, Neo's own ``NixIO`` (``writer="neo"``, ``reader="neo"``), whose cost grows
with the number of spike trains (one per unit and trial), is timed once on ``--neo-trials``
trials (2) and reported per spike train. Each figure of the h5py writer and of NWB is the
median of ``--repeats`` runs; other processes on the machine slow every timing.

    python benchmarks/bench_exports.py                      # 100 trials, Neo NixIO on 2
    python benchmarks/bench_exports.py --trials 20 --neo-trials 0 --out bench_exports.json
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
    p.add_argument("--trials", type=int, default=100, help="trials (default 100)")
    p.add_argument("--neo-trials", type=int, default=2,
                   help="trials written with Neo's NixIO for comparison (default 2; 0: skip)")
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
        nix = Path(folder) / "trials.nix"
        nix_s, _ = timed(lambda: write_nix(result_to_block(result, model), nix), args.repeats)
        nix_read_s, _ = timed(lambda: read_nix(nix), 1)
        trains = args.trials * N_UNITS
        figures["nix"] = {"trials": args.trials, "spike_trains": trains, "write_s": nix_s,
                          "read_s": nix_read_s, "write_ms_per_train": 1e3 * nix_s / trains,
                          "read_ms_per_train": 1e3 * nix_read_s / trains,
                          "file_mb": nix.stat().st_size / 2 ** 20}
        if args.neo_trials > 0:
            small = random_result(args.neo_trials)
            slow = Path(folder) / "neo.nix"
            slow_s, _ = timed(lambda: write_nix(result_to_block(small, model), slow,
                                                writer="neo"), 1)
            read_s, _ = timed(lambda: read_nix(slow, reader="neo"), 1)
            small_trains = args.neo_trials * N_UNITS
            figures["neo_nixio"] = {"trials": args.neo_trials, "spike_trains": small_trains,
                                    "write_s": slow_s, "read_s": read_s,
                                    "write_ms_per_train": 1e3 * slow_s / small_trains,
                                    "read_ms_per_train": 1e3 * read_s / small_trains}
    nwb = figures["nwb"]
    print(f"NWB: {nwb['trials']} trials x {N_UNITS} units ({nwb['spikes']} spikes): write "
          f"{nwb['write_s']:.2f} s, read {nwb['read_s']:.2f} s, {nwb['file_mb']:.1f} MiB")
    nix = figures["nix"]
    print(f"NIX (h5py): {nix['trials']} trials: write {nix['write_s']:.2f} s "
          f"({nix['write_ms_per_train']:.2f} ms per spike train), read {nix['read_s']:.1f} s "
          f"({nix['read_ms_per_train']:.2f} ms per spike train), {nix['file_mb']:.1f} MiB")
    if "neo_nixio" in figures:
        slow = figures["neo_nixio"]
        print(f"NIX (Neo NixIO): {slow['trials']} trials: write {slow['write_s']:.1f} s "
              f"({slow['write_ms_per_train']:.0f} ms per spike train, "
              f"{slow['write_ms_per_train'] / nix['write_ms_per_train']:.0f}x the h5py "
              f"writer's); read {slow['read_s']:.1f} s "
              f"({slow['read_ms_per_train']:.1f} ms per spike train, "
              f"{slow['read_ms_per_train'] / nix['read_ms_per_train']:.1f}x the h5py "
              f"reader's)")
    if args.out:
        write_json(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
