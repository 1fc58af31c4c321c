"""The search's files: concurrent searches keep each other's results, the sidecar is never
trusted blindly, and read-only, symlinked or read-only-folder models are handled."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from spiking_helpers import tiny_model_file

from spikernn._io import UnwritableError
from spikernn.artifact import load_model
from spikernn.spiking.search import lambda_grid_search

_BARRIER_SEARCH = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from spikernn.spiking.search import lambda_grid_search
    model, me, other, factors = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    first = []

    def wait_for_the_other(factor, accuracy):
        # after the first factor, both processes have read the (empty) sidecar and written
        # once: from here on their writes interleave
        if not first:
            first.append(factor)
            Path(me).touch()
            deadline = time.time() + 120
            while not Path(other).exists() and time.time() < deadline:
                time.sleep(0.05)

    lambda_grid_search(model, "go_nogo", 4, [float(f) for f in factors.split(",")],
                       memory_budget_mb=1e-3, progress=False, callback=wait_for_the_other)
""")


def test_concurrent_searches_keep_each_others_factors(tmp_path):
    """Two processes search disjoint grids of one model file at the same time: the sidecar
    and the model record all four factors."""
    path = tiny_model_file(tmp_path)
    a, b = tmp_path / "a.ready", tmp_path / "b.ready"
    procs = [subprocess.Popen([sys.executable, "-c", _BARRIER_SEARCH, str(path), str(me),
                               str(other), grid], stderr=subprocess.PIPE, text=True)
             for me, other, grid in ((a, b, "10,20"), (b, a, "30,40"))]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    sidecar = json.loads((tmp_path / "model.search.json").read_text())
    assert sorted(sidecar["results"]) == ["10.0", "20.0", "30.0", "40.0"]
    model = load_model(path)
    np.testing.assert_array_equal(model.scaling_factors, [10.0, 20.0, 30.0, 40.0])
    accuracies = {float(k): r["accuracy"] for k, r in sidecar["results"].items()}
    np.testing.assert_array_equal(model.all_perfs, [accuracies[f] for f in model.scaling_factors])
    assert model.opt_scaling_factor in accuracies


def _sidecar_with(path, factor, **changes):
    sidecar = path.with_name("model.search.json")
    data = json.loads(sidecar.read_text())
    record = data["results"][repr(factor)]
    for key, value in changes.items():
        if value is None:
            del record[key]
        else:
            record[key] = value
    sidecar.write_text(json.dumps(data))


@pytest.mark.parametrize("changes", [{"n_correct": None}, {"accuracy": "high"},
                                     {"accuracy": 7.5}, {"accuracy": 0.3},
                                     {"accuracy_by_type": {"go": 2.0}},
                                     {"scaling_factor": 99.0}, {"mean_firing_rate_hz": -1}])
def test_a_bad_sidecar_record_is_ignored_with_a_warning(tmp_path, changes):
    path = tiny_model_file(tmp_path)
    first = lambda_grid_search(path, "go_nogo", 4, [10.0, 40.0], progress=False,
                               memory_budget_mb=1e-3)
    _sidecar_with(path, 40.0, **changes)
    seen = []
    with pytest.warns(UserWarning, match=r"result '40\.0' ignored \(.*\); it is simulated again"):
        again = lambda_grid_search(path, "go_nogo", 4, [10.0, 40.0], progress=False,
                                   memory_budget_mb=1e-3, callback=lambda f, a: seen.append(f))
    assert seen == [40.0]
    np.testing.assert_array_equal(again.accuracies, first.accuracies)


def test_unreadable_sidecar_is_ignored_with_a_warning(tmp_path):
    path = tiny_model_file(tmp_path)
    path.with_name("model.search.json").write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable search results ignored"):
        lambda_grid_search(path, "go_nogo", 4, [10.0], progress=False)
    assert load_model(path).scaling_factors.tolist() == [10.0]


def test_read_only_model_is_refused_before_simulating(tmp_path):
    path = tiny_model_file(tmp_path)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    seen = []
    with pytest.raises(UnwritableError, match=r"^model: expected a writable file, got .* "
                                              r"mode 0o444"):
        lambda_grid_search(path, "go_nogo", 4, [10.0], progress=False,
                           callback=lambda f, a: seen.append(f))
    assert seen == [] and path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mat"]
    result = lambda_grid_search(path, "go_nogo", 4, [10.0], progress=False, save=False)
    assert result.model_path is None and path.read_bytes() == before


def test_read_only_folder_works_with_no_save_no_resume(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = tiny_model_file(folder)
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(UnwritableError, match=r"^results_path: expected a writable folder"):
            lambda_grid_search(path, "go_nogo", 4, [10.0], progress=False, save=False)
        result = lambda_grid_search(path, "go_nogo", 4, [10.0], progress=False, save=False,
                                    resume=False)
        assert result.results_path is None and result.model_path is None
        assert sorted(p.name for p in folder.iterdir()) == ["model.mat"]
    finally:
        os.chmod(folder, 0o755)


def test_symlinked_model_gets_the_result_in_its_target(tmp_path):
    target = tiny_model_file(tmp_path / "store")
    link = tmp_path / "model.mat"
    link.symlink_to(target)
    lambda_grid_search(link, "go_nogo", 4, [10.0], progress=False)
    assert link.is_symlink()
    assert load_model(target).scaling_factors.tolist() == [10.0]


def test_ctrl_c_in_a_search_is_one_line_exit_130_and_leaves_complete_files(tmp_path):
    """SIGINT to a real ``spikernn search`` process after its first factor: one line, exit
    130, the model file untouched and the sidecar a complete record to resume from."""
    import signal
    import time

    path = tiny_model_file(tmp_path)
    before = path.read_bytes()
    sidecar = tmp_path / "model.search.json"
    proc = subprocess.Popen([sys.executable, "-m", "spikernn.cli", "search", str(path),
                             "--n-trials", "4", "--scaling-factors", "10:400:10",
                             "--memory-mb", "0.001"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not sidecar.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "spikernn search: interrupted"
    assert "Traceback" not in err
    assert path.read_bytes() == before
    assert json.loads(sidecar.read_text())["results"]
