"""Run a study: every cell as one task, here (all cores) or on a Dask distributed cluster.

:func:`run_study` expands the spec into cells, skips the cells whose folder already holds a
finished record of the same settings, runs the rest and, after every finished cell,
rewrites the table (atomically), so an interrupted study leaves a consistent table and a
rerun picks up where it stopped. Only this process (the client) writes the table, the
summary and the figures; the cells write only into their own folders.

Where the cells run:

- ``client=`` (a :class:`distributed.Client`) or ``scheduler="tcp://host:8786"``: one Dask
  task per cell. A worker that dies has its cell rerun elsewhere by the scheduler (the cell
  resumes from its checkpoint); a cell whose workers keep dying is recorded as an error.
- otherwise ``workers`` local processes (default: all cores), one cell per process at a
  time (spawned, so a script calling this needs the ``if __name__ == "__main__":`` guard);
  ``workers=1`` runs the cells one after another in this process.

Cores per cell (``study.threads``, default chosen here): cells run one at a time use all
the cores (the engine's threads); cells run side by side share them out, so the machine is
not oversubscribed: ``cores // workers`` per cell in a local pool, 1 per cell on a Dask
worker (run workers of one thread each). The limit covers torch's threads, the fused
engine's numba threads and the torch path's forked chunk processes
(:func:`spikernn.spiking.memory.limit_cores`); results do not depend on it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import atomic_path, write_json
from .._validate import check_int
from ..spiking.memory import cpu_count
from .cell import Cell, cell_dir, error_record, is_finished, read_record, run_cell
from .results import format_summary, summarize, write_summary, write_table
from .spec import StudySpec, _slug, load_spec

STUDY_FILE = "study.json"
SPEC_FILE = "spec.toml"
#: Times a local cell is retried after its worker process died.
MAX_WORKER_DEATHS = 3


@dataclass
class StudyResult:
    """Outcome of :func:`run_study`.

    Attributes
    ----------
    out_dir : pathlib.Path
        The study folder.
    records : list of dict
        One record per cell that has one, in the spec's order.
    summary : dict
        Per-condition statistics (:func:`spikernn.study.results.summarize`).
    ran, skipped : int
        Cells run now, and cells already finished by an earlier run.
    elapsed_s : float
        Wall time of this run, s.
    files : list of pathlib.Path
        Table, summary and figure files written.
    n_cells : int
        Cells in the study.
    """

    out_dir: Path
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    ran: int
    skipped: int
    elapsed_s: float
    files: list[Path] = field(default_factory=list)
    n_cells: int = 0

    @property
    def table(self):
        """The tidy table as a pandas DataFrame."""
        from .results import records_table

        return records_table(self.records)


def run_study(spec: StudySpec | str | os.PathLike, out_dir: str | os.PathLike | None = None,
              *, client=None, scheduler: str | None = None, workers: int | None = None,
              progress: bool = True, figures: bool = True, max_cells: int | None = None,
              on_record: Callable[[dict[str, Any]], None] | None = None) -> StudyResult:
    """Run (or resume) a study and write its table, summary and figures.

    Parameters
    ----------
    spec : StudySpec or path to a TOML spec
        The study.
    out_dir : path, optional
        Study folder (default ``./study-<name>``).
    client : distributed.Client, optional
        Run the cells on this Dask cluster.
    scheduler : str, optional
        Address of a Dask scheduler to connect to (instead of ``client``).
    workers : int, optional
        Local worker processes (default: all cores); ignored with a cluster.
    progress : bool
        Show a progress bar over cells and one line per finished cell.
    figures : bool
        Write the figures at the end.
    max_cells : int, optional
        Run at most this many of the unfinished cells (in the spec's order) and stop; a
        rerun continues with the next ones. Splits a long study into shorter runs.
    on_record : callable, optional
        Called with each record as its cell finishes (in completion order).

    Returns
    -------
    StudyResult
    """
    start = time.perf_counter()
    if not isinstance(spec, StudySpec):
        spec = load_spec(spec)
    if client is not None and scheduler is not None:
        raise ValueError("scheduler: expected either client or scheduler, got both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValueError(f"workers: expected a positive integer, got {workers!r}")
    if max_cells is not None:
        max_cells = check_int(max_cells, "max_cells", 1)
    _require_table_writer()
    out = Path(out_dir if out_dir is not None else f"study-{_slug(spec.name)}").resolve()
    cells = spec.cells()
    _write_study_files(out, spec, cells)
    records: dict[str, dict[str, Any]] = {}
    for cell in cells:
        record = read_record(cell_dir(out, cell))
        if is_finished(record, cell):
            records[cell.folder] = record
    pending = [c for c in cells if c.folder not in records][:max_cells]
    skipped = len(records)

    def ordered() -> list[dict[str, Any]]:
        return [records[c.folder] for c in cells if c.folder in records]

    bar = _progress(len(cells), skipped, spec.name, progress)
    own_client = stream = None
    try:
        if scheduler is not None:
            from distributed import Client

            client = own_client = Client(scheduler)
        if client is not None:
            stream = _on_dask(client, pending, out)
        else:
            stream = _locally(pending, out, workers or cpu_count())
        for cell, record in stream:
            records[cell.folder] = record
            write_table(out, ordered())
            if on_record is not None:
                on_record(record)
            if bar is not None:
                bar.update(1)
                bar.write(cell_line(record, len(records), len(cells)))
    finally:
        if stream is not None:
            stream.close()  # stops local workers / cancels Dask tasks after an interrupt
        if bar is not None:
            bar.close()
        done = ordered()
        if done:
            write_table(out, done)
            write_summary(out, summarize(done))
        if own_client is not None:
            own_client.close()
    done = ordered()
    summary = summarize(done)
    files = [out / "table.csv", out / "table.parquet", out / "summary.json"] if done else []
    if figures and any(r.get("status") == "ok" for r in done):
        from .figures import write_figures

        files += write_figures(out, done, summary, spec.name)
    return StudyResult(out_dir=out, records=done, summary=summary, ran=len(pending),
                       skipped=skipped, elapsed_s=time.perf_counter() - start, files=files,
                       n_cells=len(cells))


def cell_line(record: dict[str, Any], n_done: int, n_total: int) -> str:
    """One line about a finished cell: condition, replicate, seed, best factor, accuracies."""
    head = (f"[{n_done}/{n_total}] {record['condition']} r{record['replicate']} "
            f"(seed {record['seed']})")
    if record.get("status") != "ok":
        return f"{head}: ERROR {record.get('error', '?')}"
    return (f"{head}: s = {record['best_scaling_factor']:g}, LIF "
            f"{100 * record['lif_accuracy']:.1f}%, rate {100 * record['rate_accuracy']:.1f}%, "
            f"{record.get('total_s', float('nan')):.1f} s")


def load_study(out_dir: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The study description and the records of its finished (or failed) cells, in order.

    Raises ``FileNotFoundError`` when ``out_dir`` holds no study.
    """
    import json

    out = Path(out_dir)
    path = out / STUDY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no study in {out} (expected {path})")
    study = json.loads(path.read_text())
    records = []
    for cell in study["cells"]:
        record = read_record(out / "cells" / cell["folder"])
        if record is not None and record.get("key") == cell["key"]:
            records.append(record)
    return study, records


def study_summary_text(out_dir: str | os.PathLike) -> str:
    """The summary of the study in ``out_dir`` as text (what ``spikernn study --summary``
    prints), computed from the cell records found there."""
    study, records = load_study(out_dir)
    n = len(study["cells"])
    head = f"study {study['spec']['name']}: {len(records)} of {n} cells have results"
    if not records:
        return head
    return head + "\n" + format_summary(summarize(records))


# --------------------------------------------------------------------------------------
# executors: each yields (cell, record) as cells finish
# --------------------------------------------------------------------------------------

def _locally(pending: Sequence[Cell], out: Path, workers: int
             ) -> Iterator[tuple[Cell, dict[str, Any]]]:
    if workers == 1 or len(pending) <= 1:
        for cell in pending:
            yield cell, run_cell(cell, out)
        return
    deaths = {c.folder: 0 for c in pending}
    todo = list(pending)
    while todo:
        n_processes = min(workers, len(todo))
        cores = max(1, cpu_count() // n_processes)
        pool = concurrent.futures.ProcessPoolExecutor(
            n_processes, mp_context=mp.get_context("spawn"))
        broken: list[Cell] = []
        finished = False
        try:
            futures = {pool.submit(run_cell, with_cores(c, cores), out): c for c in todo}
            for future in concurrent.futures.as_completed(futures):
                cell = futures[future]
                try:
                    record = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    broken.append(cell)
                    continue
                yield cell, record
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted: do not wait for the running cells
                _stop_pool(pool)
        todo = []
        for cell in broken:  # a worker died (killed, out of memory): retry its pool's cells
            deaths[cell.folder] += 1
            if deaths[cell.folder] < MAX_WORKER_DEATHS:
                todo.append(cell)
            else:
                record = error_record(cell, f"WorkerDied: the worker process died "
                                            f"{MAX_WORKER_DEATHS} times running this cell")
                write_json(cell_dir(out, cell) / "record.json", record)
                yield cell, record


def with_cores(cell: Cell, cores: int) -> Cell:
    """``cell`` to run on ``cores`` cores, unless its spec fixed them (``study.threads``)."""
    return cell if cell.threads is not None else dataclasses.replace(cell, threads=cores)


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Shut the pool down without waiting for running cells (after an interrupt)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


def _profiler_enabled() -> bool:
    """On a Dask worker: whether its statistical profiler runs (Dask's default)."""
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


def warn_if_profiling(client) -> None:
    """Warn when workers of ``client`` run Dask's statistical profiler: it samples the
    running cell's Python stack every 10 ms and costs a spikernn cell about 4% of its time
    (``docs/study.md``, "Measured")."""
    profiling = [address for address, on in client.run(_profiler_enabled).items() if on]
    if profiling:
        warnings.warn(
            f"{len(profiling)} Dask worker(s) run Dask's statistical profiler, which costs a "
            "spikernn cell about 4% of its time; start workers with "
            "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False (or, for a LocalCluster, "
            "dask.config.set({'distributed.worker.profile.enabled': False}) before creating "
            "it); see docs/study.md", RuntimeWarning, stacklevel=3)


def _on_dask(client, pending: Sequence[Cell], out: Path
             ) -> Iterator[tuple[Cell, dict[str, Any]]]:
    from distributed import as_completed

    if pending:
        warn_if_profiling(client)
    futures = {}
    for cell in pending:
        future = client.submit(run_cell, with_cores(cell, 1), str(out), pure=False,
                               key=f"spikernn-cell-{cell.folder}-{cell.key}")
        futures[future.key] = (future, cell)
    try:
        for future in as_completed([f for f, _ in futures.values()]):
            cell = futures[future.key][1]
            if future.status == "finished":
                record = future.result()
            else:  # e.g. KilledWorker: its workers kept dying
                exc = future.exception()
                record = error_record(cell, f"{type(exc).__name__}: {exc}")
                write_json(cell_dir(out, cell) / "record.json", record)
            yield cell, record
    finally:
        client.cancel([f for f, _ in futures.values()])


def _progress(total: int, initial: int, name: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="cell", desc=f"study {name}",
                dynamic_ncols=True)


def _require_table_writer() -> None:
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"spikernn.study needs pandas and pyarrow for its tables "
                          f"(pip install 'spikernn[study]'): {exc}") from None


def _write_study_files(out: Path, spec: StudySpec, cells: Sequence[Cell]) -> None:
    """``spec.toml`` (the spec as given) and ``study.json`` (resolved, with the cell list)."""
    out.mkdir(parents=True, exist_ok=True)
    if spec.source:
        with atomic_path(out / SPEC_FILE) as tmp:
            tmp.write_text(spec.source)
    write_json(out / STUDY_FILE, {
        "spec": spec.to_dict(),
        "cells": [{"condition": c.condition, "replicate": c.replicate, "seed": c.seed,
                   "key": c.key, "folder": c.folder} for c in cells]})
