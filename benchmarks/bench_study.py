"""Study runner benchmarks: overhead per cell, and a 2-worker Dask cluster against serial.

1. **Overhead per cell**: a study of tiny cells run one after another in this process;
   overhead = (study wall time - time inside the cells' train/search/evaluate stages) /
   cells. It counts spec expansion, settings hashing, the cell folders, records, the table
   rewritten after every cell, the summary and the figures. Target: < 2 s per cell.
2. **Scaling**: the same ``--cells``-cell study (cells of a few seconds, mostly training as
   in the activation study) serially in this process (``workers=1``: one cell at a time,
   all cores for the engine) and on a fresh ``distributed.LocalCluster`` of 2
   single-thread worker processes on loopback (one core per cell; cluster start and each
   worker's first imports included, the ratio without the start printed too; workers
   started as docs/study.md recommends, see :func:`dask_worker_settings`), in
   ``--pairs`` alternating pairs; medians and the median per-pair ratio. Target: cluster
   time <= 0.6 x serial time.

Usage::

    python benchmarks/bench_study.py                 # both, 20 cells, 3 pairs
    python benchmarks/bench_study.py --cells 8 --skip-scaling
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

import dask
import numpy as np

from spikernn.study import parse_spec, run_study

#: Training trials per cell of the scaling study (single-trial updates, as the paper's
#: protocol: training dominates a cell as in the activation study).
MAX_TRIALS = 1920
#: Units per network of the scaling study.
N_UNITS = 50
#: The scaling cells' task (Go/NoGo on 0.5 s trials), model and training settings, the
#: training cut to ``max_trials`` single-trial updates (:func:`training_settings`).
TASK = {"name": "go_nogo", "T": 100, "stim_on": 20, "stim_dur": 20}
MODEL = {"N": N_UNITS, "taus": [4, 10]}


def training_settings(max_trials: int) -> dict:
    """Exactly ``max_trials`` single-trial updates, evaluated every 160 trials on 8."""
    return {"batch_size": 1, "max_trials": max_trials, "min_trials": max_trials,
            "eval_every": 160, "eval_trials": 8}


def spec(n_cells: int, n_trials: int, max_trials: int, name: str):
    """A Go/NoGo study of ``n_cells`` cells (2 conditions) of ``N_UNITS``-unit networks on
    0.5 s trials, trained for exactly ``max_trials`` single-trial updates; ``n_trials``
    trials per factor and in the evaluation."""
    return parse_spec({
        "study": {"name": name, "seed": 1, "replicates": max(1, n_cells // 2)},
        "settings": {
            "task": TASK, "model": MODEL, "training": training_settings(max_trials),
            "search": {"n_trials": n_trials, "scaling_factors": [20.0, 40.0]},
            "evaluation": {"n_trials": n_trials},
        },
        "grid": {"lif": {"t_ref": [0.002, 0.0]}},
    })


def stage_time(records) -> float:
    return sum(r["train_s"] + r["search_s"] + r["evaluate_s"] for r in records)


def overhead(n_cells: int) -> dict:
    study = spec(n_cells, n_trials=1, max_trials=16, name="overhead")
    with tempfile.TemporaryDirectory() as tmp:
        run_study(spec(2, 1, 16, "warm-up"), Path(tmp) / "warm", workers=1, progress=False)
        start = time.perf_counter()
        result = run_study(study, Path(tmp) / "study", workers=1, progress=False)
        wall = time.perf_counter() - start
    inside = stage_time(result.records)
    n = len(result.records)
    return {"cells": n, "wall_s": wall, "stages_s": inside,
            "overhead_per_cell_s": (wall - inside) / n}


@contextlib.contextmanager
def dask_worker_settings(keep_trim: bool, keep_profile: bool):
    """The cluster's workers start as ``docs/study.md`` recommends for spikernn cells, unless
    told to keep Dask's defaults:

    - without Dask's statistical profiler (``distributed.worker.profile.enabled``, unless
      ``keep_profile``): each worker's event loop would sample the running task's Python
      stack every 10 ms, CPU work in the cell's process that also takes the GIL from it;
    - without ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``,
      unless ``keep_trim``), like the serial process: setting it at all turns off glibc's
      dynamic mmap threshold. A LocalCluster's nanny also writes it into this process's
      environment: removed here first either way, so one pair's run cannot leak into the
      next.
    """
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    settings = {"distributed.worker.profile.enabled": keep_profile}
    if not keep_trim:
        settings["distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"] = None
    with dask.config.set(settings):
        yield
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)


def scaling_pair(study, tmp: Path, i: int, cluster_first: bool, keep_trim: bool,
                 keep_profile: bool) -> dict:
    """One serial run (``workers=1``, this process: all cores for the engine) and one run on
    a fresh 2-worker ``LocalCluster`` (start and workers' first imports included)."""
    import distributed

    def serial():
        start = time.perf_counter()
        result = run_study(study, tmp / f"serial{i}", workers=1, progress=False,
                           figures=False)
        return result, time.perf_counter() - start

    def cluster():
        start = time.perf_counter()
        with dask_worker_settings(keep_trim, keep_profile), \
                distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None) as c, \
                distributed.Client(c) as client:
            up = time.perf_counter() - start
            result = run_study(study, tmp / f"dask{i}", client=client, progress=False,
                               figures=False)
        return result, time.perf_counter() - start, up

    if cluster_first:
        par, t_dask, t_up = cluster()
        ser, t_serial = serial()
    else:
        ser, t_serial = serial()
        par, t_dask, t_up = cluster()
    same = ([r["lif_accuracy"] for r in ser.records]
            == [r["lif_accuracy"] for r in par.records])
    med = {name: {k: float(np.median([r[k] for r in res.records]))
                  for k in ("total_s", "cpu_s", "train_s", "search_s", "cores")}
           for name, res in (("serial", ser), ("cluster", par))}
    return {"serial_s": t_serial, "cluster_s": t_dask, "cluster_start_s": t_up,
            "ratio": t_dask / t_serial, "ratio_without_start": (t_dask - t_up) / t_serial,
            "same_numbers": same, "median_cell": med, "cluster_first": cluster_first}


def scaling(n_cells: int, n_trials: int, pairs: int, keep_trim: bool,
            keep_profile: bool) -> dict:
    """``pairs`` alternating (serial, cluster) pairs of the same study; medians and the
    median of the per-pair ratios."""
    study = spec(n_cells, n_trials=n_trials, max_trials=MAX_TRIALS, name="scaling")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(pairs):
            runs.append(scaling_pair(study, Path(tmp), i, cluster_first=bool(i % 2),
                                     keep_trim=keep_trim, keep_profile=keep_profile))
            r = runs[-1]
            print(f"pair {i + 1}: serial {r['serial_s']:.1f} s, cluster {r['cluster_s']:.1f} s "
                  f"(start {r['cluster_start_s']:.1f} s): {r['ratio']:.2f}x", flush=True)
    def median(key):
        return float(np.median([r[key] for r in runs]))

    return {"cells": n_cells, "pairs": pairs, "serial_s": median("serial_s"),
            "cluster_s": median("cluster_s"), "cluster_start_s": median("cluster_start_s"),
            "ratio": median("ratio"), "ratio_without_start": median("ratio_without_start"),
            "same_numbers": all(r["same_numbers"] for r in runs), "runs": runs}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=20, help="cells of the scaling study (20)")
    p.add_argument("--trials", type=int, default=32,
                   help="trials per factor and evaluation in the scaling study's cells (32)")
    p.add_argument("--pairs", type=int, default=3,
                   help="alternating serial/cluster pairs of the scaling study (3)")
    p.add_argument("--dask-malloc-trim", action="store_true",
                   help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 in the cluster's workers")
    p.add_argument("--dask-profile", action="store_true",
                   help="keep Dask's statistical profiler on in the cluster's workers")
    p.add_argument("--overhead-cells", type=int, default=10,
                   help="cells of the overhead study (10)")
    p.add_argument("--skip-overhead", action="store_true")
    p.add_argument("--skip-scaling", action="store_true")
    args = p.parse_args()
    out = {}
    if not args.skip_overhead:
        out["overhead"] = overhead(args.overhead_cells)
        o = out["overhead"]
        print(f"overhead: {o['cells']} cells in {o['wall_s']:.1f} s, {o['stages_s']:.1f} s in "
              f"the stages: {o['overhead_per_cell_s']:.2f} s per cell (target < 2 s)")
    if not args.skip_scaling:
        out["scaling"] = scaling(args.cells, args.trials, args.pairs, args.dask_malloc_trim,
                                 args.dask_profile)
        s = out["scaling"]
        print(f"scaling: {s['cells']} cells, medians of {s['pairs']} pairs: serial "
              f"{s['serial_s']:.1f} s, 2-worker LocalCluster {s['cluster_s']:.1f} s (start "
              f"{s['cluster_start_s']:.1f} s); pair ratio {s['ratio']:.2f}x, "
              f"{s['ratio_without_start']:.2f}x without the start (target <= 0.6x); same "
              f"numbers: {s['same_numbers']}")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
