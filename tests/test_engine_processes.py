"""A killed search leaves no process behind (real processes and signals).

The fused path runs trials on threads (no child process at all); the torch path forks
worker processes, which must die with their parent on SIGTERM (what ``timeout`` sends) and
on SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spiking_helpers import tiny_model_file

from spikernn.spiking.memory import cpu_count

#: Go/NoGo trials of 1 s (20,000 steps): a search that runs long enough to be killed.
LONG = {"T": 200, "stim_on": 50, "stim_dur": 25}


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _start_search(tmp_path: Path, backend: str) -> subprocess.Popen:
    model = tiny_model_file(tmp_path, N=20, settings=LONG)
    env = dict(os.environ, SPIKERNN_ENGINE=backend)
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from spikernn.cli import main; sys.exit(main())",
         "search", str(model), "--n-trials", "10",
         "--scaling-factors", "20:45:5", "--no-save", "--no-resume"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_children(proc: subprocess.Popen, timeout: float = 120.0) -> set[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        kids = _children(proc.pid)
        if kids:
            return kids
        time.sleep(0.1)
    return set()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or cpu_count() < 2,
                    reason="needs Linux /proc and two cores (the torch path forks then)")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_search_leaves_no_worker_processes(tmp_path, sig):
    proc = _start_search(tmp_path, "torch")
    try:
        kids = _wait_for_children(proc)
        assert kids, "the torch path should have forked worker processes"
        time.sleep(0.5)
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        end = time.monotonic() + 10
        while time.monotonic() < end and any(map(_alive, kids)):
            time.sleep(0.1)
        assert not [k for k in kids if _alive(k)], "worker processes outlived the search"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_fused_search_runs_without_child_processes(tmp_path):
    proc = _start_search(tmp_path, "fused")
    try:
        seen: set[int] = set()
        end = time.monotonic() + 8
        while time.monotonic() < end and proc.poll() is None:
            seen |= _children(proc.pid)
            time.sleep(0.05)
        assert not seen
        proc.terminate()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
