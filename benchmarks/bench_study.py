"""Study runner benchmarks: overhead per cell, and a 2-worker Dask cluster against serial.

1. **Overhead per cell**: a study of tiny cells run one after another in this process;
   overhead = (study wall time - time inside the cells' train/search/evaluate stages) /
   cells. It counts spec expansion, settings hashing, the cell folders, records, the table
   rewritten after every cell, the summary and the figures. Target: < 2 s per cell.
2. **Scaling**: the same ``--cells``-cell study (cells of a few seconds) serially in this
   process and on a ``distributed.LocalCluster`` of 2 single-thread worker processes on
   loopback (cluster start, and each worker's first imports, included; the ratio without
   the start is printed too). Target: cluster time <= 0.6 x serial time.

Usage::

    python benchmarks/bench_study.py                 # both, 20 cells
    python benchmarks/bench_study.py --cells 8 --skip-scaling
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from spikernn.study import parse_spec, run_study


def spec(n_cells: int, n_trials: int, max_trials: int, name: str):
    """A Go/NoGo study of ``n_cells`` cells (2 conditions) of 20-unit networks on 0.5 s
    trials; ``n_trials`` trials per factor and in the evaluation."""
    return parse_spec({
        "study": {"name": name, "seed": 1, "replicates": max(1, n_cells // 2)},
        "settings": {
            "task": {"name": "go_nogo", "T": 100, "stim_on": 20, "stim_dur": 20},
            "model": {"N": 20, "taus": [4, 10]},
            "training": {"max_trials": max_trials, "eval_every": 32, "eval_trials": 8},
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


def scaling(n_cells: int, n_trials: int) -> dict:
    import distributed

    study = spec(n_cells, n_trials=n_trials, max_trials=160, name="scaling")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        serial = run_study(study, Path(tmp) / "serial", workers=1, progress=False,
                           figures=False)
        t_serial = time.perf_counter() - start
        start = time.perf_counter()
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            t_up = time.perf_counter() - start
            parallel = run_study(study, Path(tmp) / "dask", client=client, progress=False,
                                 figures=False)
            t_run = time.perf_counter() - start - t_up
        t_dask = time.perf_counter() - start
    same = ([r["lif_accuracy"] for r in serial.records]
            == [r["lif_accuracy"] for r in parallel.records])
    cpu = {name: float(np.median([r["cpu_s"] for r in res.records]))
           for name, res in (("serial", serial), ("cluster", parallel))}
    wall = {name: float(np.median([r["total_s"] for r in res.records]))
            for name, res in (("serial", serial), ("cluster", parallel))}
    return {"cells": len(serial.records), "serial_s": t_serial, "cluster_s": t_dask,
            "median_cell_cpu_s": cpu, "median_cell_wall_s": wall,
            "cluster_start_s": t_up, "cluster_run_s": t_run, "ratio": t_dask / t_serial,
            "ratio_without_start": t_run / t_serial, "same_numbers": same}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=20, help="cells of the scaling study (20)")
    p.add_argument("--trials", type=int, default=32,
                   help="trials per factor and evaluation in the scaling study's cells (32)")
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
        out["scaling"] = scaling(args.cells, args.trials)
        s = out["scaling"]
        print(f"scaling: {s['cells']} cells, serial {s['serial_s']:.1f} s, 2-worker "
              f"LocalCluster {s['cluster_s']:.1f} s (start {s['cluster_start_s']:.1f} s): "
              f"{s['ratio']:.2f}x, {s['ratio_without_start']:.2f}x without the start "
              f"(target <= 0.6x); same numbers: {s['same_numbers']}; median cell CPU "
              f"{s['median_cell_cpu_s']['serial']:.2f} s serial / "
              f"{s['median_cell_cpu_s']['cluster']:.2f} s on the cluster, wall "
              f"{s['median_cell_wall_s']['serial']:.2f} / "
              f"{s['median_cell_wall_s']['cluster']:.2f} s")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
