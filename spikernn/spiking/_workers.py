"""Worker processes of the torch path on the CPU (the fused path uses threads instead).

A step of the torch path is many short tensor calls, so threads would serialise on the GIL;
chunks of trials run in forked processes writing into anonymous shared memory. Every worker
dies with its parent: it asks the kernel for ``SIGKILL`` when the parent ends
(``prctl(PR_SET_PDEATHSIG)``, Linux) and exits at once if the parent is already gone, so a
search killed by any signal (``SIGTERM`` from ``timeout``, ``SIGKILL``) leaves no process.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ctypes.util
import math
import mmap
import multiprocessing as mp
import os
import signal

import numpy as np
import torch

_PR_SET_PDEATHSIG = 1


def shared_empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array in anonymous shared memory: forked worker processes write
    into it in place (nothing is copied back)."""
    count = math.prod(shape)
    buffer = mmap.mmap(-1, max(1, count * dtype.itemsize))
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def map_chunks(run, starts: range, workers: int, dev: torch.device, bar) -> list:
    """``[run(first, progress) for first in starts]``; on the CPU with one torch thread, the
    chunks spread over ``workers`` forked processes (threads would serialise on the GIL:
    a step is many short calls), ``bar`` advanced from a shared step counter."""
    if dev.type != "cpu":
        return [run(first, bar) for first in starts]
    saved = torch.get_num_threads()
    torch.set_num_threads(1)  # the ops of one step are too small to split over threads
    try:
        if workers < 2 or len(starts) < 2 or "fork" not in mp.get_all_start_methods() \
                or mp.current_process().daemon:  # daemonic processes cannot have children
            return [run(first, bar) for first in starts]
        ctx = mp.get_context("fork")
        done = ctx.Value("q", 0)
        pool = concurrent.futures.ProcessPoolExecutor(
            min(workers, len(starts)), mp_context=ctx, initializer=_install_job,
            initargs=(run, done, os.getpid()))
        try:
            futures = [pool.submit(_run_installed_job, first) for first in starts]
            pending = futures
            while pending:
                pending = concurrent.futures.wait(pending, timeout=0.25).not_done
                if bar is not None:
                    bar.update(done.value - bar.n)
            return [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)
    finally:
        torch.set_num_threads(saved)


class _SharedCounter:
    """A progress sink (``update(n)``) adding to a shared integer."""

    def __init__(self, value) -> None:
        self.value = value

    def update(self, n: int) -> None:
        with self.value.get_lock():
            self.value.value += n


_JOB: tuple = ()  # (run, counter) of a forked worker process


def _install_job(run, done, parent: int) -> None:
    """Initialiser of a forked worker: the chunk function and progress counter (inherited,
    not pickled)."""
    global _JOB
    _die_with_parent(parent)
    torch.set_num_threads(1)
    _JOB = (run, _SharedCounter(done))


def _run_installed_job(first: int) -> tuple:
    run, counter = _JOB
    return run(first, counter)



def _die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGKILL when its parent ends; exit now if the
    parent ``parent`` is already gone (it died before the request took effect)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own watchdog remains
        pass
    if os.getppid() != parent:
        os._exit(1)


__all__ = ["map_chunks", "shared_empty"]
