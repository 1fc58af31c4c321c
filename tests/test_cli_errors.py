"""Command-line errors: one line naming the field, exit status 2, before any work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from spiking_helpers import tiny_model_file

from spikernn.cli import main

NO_CUDA = not torch.cuda.is_available()


def _one_line_error(capsys, argv, field):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"argument {field}:" in err, err
    return err


@pytest.mark.parametrize("command", [["search", "m.mat"], ["evaluate", "m.mat"], ["run"],
                                     ["export", "--model", "m.mat", "--out", "x.nwb"],
                                     ["analyze", "--model", "m.mat", "--out", "x"]])
@pytest.mark.parametrize("flag, value, shown", [
    ("--seed", "-1", "expected an integer in [0, 2**63 - 1], got -1"),
    ("--seed", "1.5", "got '1.5'"),
    ("--n-trials", "0", "expected an integer >= 1, got 0"),
    ("--device", "foo", "expected a torch device such as 'cpu' or 'cuda:0', got 'foo'"),
])
def test_bad_simulation_arguments_are_one_line(capsys, tmp_path, monkeypatch, command, flag, value,
                                          shown):
    monkeypatch.chdir(tmp_path)
    err = _one_line_error(capsys, [*command, flag, value], flag)
    assert shown in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not NO_CUDA, reason="needs a machine without CUDA")
@pytest.mark.parametrize("command", [["search", "m.mat"], ["evaluate", "m.mat"], ["run"],
                                     ["export", "--model", "m.mat", "--out", "x.nwb"],
                                     ["train"]])
def test_cuda_without_cuda_is_one_line(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    err = _one_line_error(capsys, [*command, "--device", "cuda"], "--device")
    assert "CUDA is not available on this machine" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, field", [
    (["search", "m.mat", "--scaling-factors", "40:20:5"], "--scaling-factors"),
    (["search", "m.mat", "--scaling-factors", "20,-5"], "--scaling-factors"),
    (["search", "m.mat", "--memory-mb", "0"], "--memory-mb"),
    (["evaluate", "m.mat", "--scaling-factor", "1e-300"], "--scaling-factor"),
    (["run", "--analysis-trials", "-1"], "--analysis-trials"),
])
def test_other_bad_numbers_are_one_line(capsys, tmp_path, monkeypatch, argv, field):
    monkeypatch.chdir(tmp_path)
    _one_line_error(capsys, argv, field)


def test_read_only_model_is_a_one_line_error_in_a_real_process(tmp_path):
    path = tiny_model_file(tmp_path)
    os.chmod(path, 0o444)
    proc = subprocess.run([sys.executable, "-m", "spikernn.cli", "search", str(path),
                           "--n-trials", "2", "--scaling-factors", "10"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "spikernn search: error: model: expected a writable file" in proc.stderr
    assert "mode 0o444" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mat"]


@pytest.mark.parametrize("argv", [["--N", "200000"], ["--task-settings", '{"T": 100000000}']])
def test_training_too_large_for_memory_is_refused_before_allocating(tmp_path, capsys, argv):
    """``train --N 200000`` (weights alone need ~2 TB) and a huge T fail at once with the
    estimate, not with a MemoryError after allocating."""
    import time

    start = time.perf_counter()
    assert main(["train", "--out", str(tmp_path / "m"), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "spikernn train: error: out of memory: training (N=" in err
    assert "GiB of memory" in err and "available" in err
    assert time.perf_counter() - start < 10 and not (tmp_path / "m").exists()


@pytest.mark.parametrize("flag, value, shown", [
    ("--threads", "0", "expected an integer >= 1, got 0"),
    ("--batch-size", "0", "expected an integer >= 1, got 0"),
    ("--max-trials/--n_trials", "0", "expected an integer >= 1, got 0"),
    ("--eval-every", "-5", "expected an integer >= 1, got -5"),
    ("--eval-trials", "0", "expected an integer >= 1, got 0"),
    ("--min-trials", "-1", "expected an integer >= 0, got -1"),
])
def test_bad_training_counts_name_the_flag(capsys, tmp_path, flag, value, shown):
    """Training counts are refused by the flag the user typed (not the config field behind
    it), before any training or writing."""
    argv = ["train", "--out", str(tmp_path / "m"), flag.split("/")[0], value]
    err = _one_line_error(capsys, argv, flag)
    assert shown in err and not (tmp_path / "m").exists()
