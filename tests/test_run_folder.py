"""A run folder holds one run; every output location is checked before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from spiking_helpers import tiny_model_file

from spikernn._io import locked
from spikernn.cli import main
from spikernn.pipeline import RunConfig, run_pipeline
from spikernn.pipeline.run import MANIFEST_FILE


def _run(source, out, *extra):
    return main(["run", "--model", str(source), "--out", str(out), "--n-trials", "2",
                 *extra])


def test_rerun_clears_the_outputs_the_earlier_run_owned(tmp_path, capsys):
    source = tiny_model_file(tmp_path)
    out = tmp_path / "run"
    assert _run(source, out, "--analysis-trials", "1") == 0
    first = json.loads((out / MANIFEST_FILE).read_text())
    assert first["finished"] and "trials.nwb" in first["files"]
    assert any(f.startswith("analysis/") for f in first["files"])
    (out / "notes.txt").write_text("mine")  # not the run's: never touched
    assert _run(source, out, "--analysis-trials", "0") == 0
    second = json.loads((out / MANIFEST_FILE).read_text())
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                     if p.is_file() and not p.name.startswith("."))
    assert on_disk == sorted([*second["files"], MANIFEST_FILE, "notes.txt"])
    assert not (out / "trials.nwb").exists()
    assert not any(f.startswith("analysis/") for f in second["files"])


def test_a_second_run_in_a_busy_folder_is_refused(tmp_path):
    """Another process holds the folder's lock: ``spikernn run`` (a real process) exits 2
    with one line and writes nothing."""
    source = tiny_model_file(tmp_path)
    out = tmp_path / "run"
    out.mkdir()
    with locked(out / MANIFEST_FILE):
        proc = subprocess.run([sys.executable, "-m", "spikernn.cli", "run", "--model",
                               str(source), "--out", str(out), "--n-trials", "2",
                               "--analysis-trials", "0"],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "another process holds the lock" in proc.stderr
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


@pytest.mark.parametrize("changes, message", [
    ({"n_trials": 0}, r"^n_trials: expected an integer >= 1, got 0"),
    ({"seed": -1}, r"^seed: expected an integer in \[0, 2\*\*63 - 1\], got -1"),
    ({"device": "foo"}, r"^device: expected a torch device"),
    ({"analysis_trials": -1}, r"^analysis_trials: expected an integer >= 0, got -1"),
])
def test_run_validates_before_writing(tmp_path, changes, message):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        run_pipeline(RunConfig(model=tiny_model_file(tmp_path), out_dir=out, progress=False,
                               **changes))
    assert not out.exists()


@pytest.mark.parametrize("command", [["run", "--model", "MODEL"], ["evaluate", "MODEL"],
                                     ["analyze", "--model", "MODEL"],
                                     ["export", "--model", "MODEL"]])
def test_out_naming_a_file_or_an_unwritable_folder_is_one_line(tmp_path, capsys, command):
    source = tiny_model_file(tmp_path)
    argv = [str(source) if a == "MODEL" else a for a in command] + ["--n-trials", "1",
                                                                      "--scaling-factor", "20"]
    if command[0] == "run":
        argv = argv[:-2]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        for out in (blocker / "sub" if command[0] == "export" else blocker,
                    ro / ("x.nwb" if command[0] == "export" else "out")):
            assert main([*argv, "--out", str(out)]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err
            assert "expected a" in err and ("folder" in err or "file" in err), err
        assert blocker.read_text() == "x" and list(ro.iterdir()) == []
    finally:
        os.chmod(ro, 0o755)
