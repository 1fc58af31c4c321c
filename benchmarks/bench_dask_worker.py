"""Where a study cell's time goes in a Dask worker: the same single-thread task in plain
processes and in the workers of a 2-worker ``distributed.LocalCluster``.

The task is the training of ``bench_study.py``'s scaling cells (Go/NoGo, N = 50, 0.5 s
trials, single-trial Adam updates, one torch thread), run ``--tasks`` times per arm after one
warm-up task per process:

- ``alone``: one spawned process, one task at a time (the other core idle);
- ``side by side``: two spawned processes, two tasks at a time;
- ``dask``: a fresh 2-worker cluster (one thread each) started as ``docs/study.md``
  recommends (no statistical profiler, no ``MALLOC_TRIM_THRESHOLD_``);
- ``dask + profiler``: the same with Dask's statistical profiler on (its default).

Per task it records the wall time, the CPU time of the thread that ran it
(``time.thread_time``) and of its whole process (``time.process_time``). Medians per arm:
wall, the task thread's CPU, the time the task thread was off the CPU (wall - thread CPU:
waiting for the GIL or for a core) and the CPU the process's other threads used meanwhile
(process - thread CPU: in a worker, its event loop, heartbeats and profiler). The arms run in
one order in odd rounds and in the reverse order in even ones (``--rounds``), so neither a
drift of the machine's speed nor what ran just before favours one arm.

    python benchmarks/bench_dask_worker.py                 # 8 tasks, 4 rounds, ~6 min
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time

from bench_study import MODEL, TASK, dask_worker_settings, training_settings

#: Single-trial training updates per task (half a ``bench_study.py`` scaling cell).
UPDATES = 960


def task(seed: int) -> tuple[float, float, float]:
    """Train one ``bench_study.py`` scaling-cell model for :data:`UPDATES` updates; (wall,
    this thread's CPU, this process's CPU) in s."""
    import torch

    from spikernn.rate import TrainingConfig, create_default_config, train

    torch.set_num_threads(1)
    config = TrainingConfig(**training_settings(UPDATES), num_threads=1)
    task_settings = {k: v for k, v in TASK.items() if k != "name"}
    wall, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
    train(TASK["name"], create_default_config(seed=seed, **MODEL), config,
          task_settings=task_settings, progress=False)
    return (time.perf_counter() - wall, time.thread_time() - thread,
            time.process_time() - process)


def in_processes(seeds: list[int], processes: int) -> list[tuple[float, float, float]]:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(task, [0] * processes, chunksize=1)  # imports, once per process
        return pool.map(task, seeds, chunksize=1)


def in_dask(seeds: list[int], profiler: bool) -> list[tuple[float, float, float]]:
    import distributed

    with dask_worker_settings(keep_trim=False, keep_profile=profiler), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.gather([client.submit(task, 0, pure=False) for _ in range(2)])  # imports
        return client.gather([client.submit(task, s, pure=False) for s in seeds])


def summary(runs: list[tuple[float, float, float]]) -> dict[str, float]:
    def median(values) -> float:
        return float(statistics.median(values))

    return {"wall_s": median(w for w, _, _ in runs),
            "thread_cpu_s": median(t for _, t, _ in runs),
            "off_cpu_s": median(w - t for w, t, _ in runs),
            "other_threads_cpu_s": median(p - t for _, t, p in runs)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=8, help="tasks per arm and round (8)")
    p.add_argument("--rounds", type=int, default=4, help="rounds over the arms (4)")
    args = p.parse_args()
    seeds = list(range(1, args.tasks + 1))
    arms = {"alone": lambda: in_processes(seeds, 1),
            "side by side": lambda: in_processes(seeds, 2),
            "dask": lambda: in_dask(seeds, profiler=False),
            "dask + profiler": lambda: in_dask(seeds, profiler=True)}
    runs: dict[str, list] = {name: [] for name in arms}
    for i in range(args.rounds):
        order = list(arms.items())
        for name, run in order if i % 2 == 0 else order[::-1]:
            runs[name].extend(run())
            s = summary(runs[name][-args.tasks:])
            print(f"round {i + 1} {name:16s} wall {s['wall_s']:.2f} s, task thread CPU "
                  f"{s['thread_cpu_s']:.2f} s, off CPU {s['off_cpu_s']:.3f} s, other threads "
                  f"{s['other_threads_cpu_s']:.3f} s CPU (medians per task)", flush=True)
    out = {name: summary(r) for name, r in runs.items()}
    print("all rounds:")
    for name, s in out.items():
        print(f"  {name:16s} wall {s['wall_s']:.2f} s, task thread CPU {s['thread_cpu_s']:.2f} "
              f"s, off CPU {s['off_cpu_s']:.3f} s, other threads {s['other_threads_cpu_s']:.3f}"
              " s CPU")
    print(json.dumps({"tasks": args.tasks, "rounds": args.rounds, "updates": UPDATES,
                      "arms": out}, indent=2))


if __name__ == "__main__":
    main()
