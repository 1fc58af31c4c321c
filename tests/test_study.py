"""Population studies: spec validation, seeds, summaries, and real runs (serial, a local
process pool, a Dask LocalCluster of 2 worker processes on loopback, a killed worker)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spikernn.spiking.memory import cpu_count, limit_cores
from spikernn.study import (
    SpecError,
    load_spec,
    load_study,
    parse_spec,
    run_study,
    wilson_interval,
)
from spikernn.study import spec as spec_module
from spikernn.study.cell import read_record
from spikernn.study.results import records_table, summarize
from spikernn.study.runner import study_summary_text
from spikernn.study.spec import settings_key
from spikernn.tasks import TaskFactory
from spikernn.tasks.go_nogo import GoNogoTask

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: A tiny study: 2 conditions x 2 replicates of 20-unit networks on 0.4 s trials.
TINY = {
    "study": {"name": "tiny", "seed": 7, "replicates": 2},
    "settings": {
        "task": {"name": "go_nogo", "T": 80, "stim_on": 20, "stim_dur": 20},
        "model": {"N": 20, "taus": [4, 10]},
        "training": {"max_trials": 64, "eval_every": 32, "eval_trials": 8},
        "search": {"n_trials": 4, "scaling_factors": [20.0, 40.0]},
        "evaluation": {"n_trials": 4},
    },
    "grid": {"lif": {"t_ref": [0.002, 0.0]}},
}

#: Columns whose values must not depend on where or how often a cell ran.
RESULT_COLUMNS = ["condition", "replicate", "seed", "key", "status", "rate_accuracy",
                  "best_scaling_factor", "search_best_accuracy", "lif_accuracy",
                  "lif_accuracy_go", "lif_accuracy_nogo", "mean_firing_rate_hz",
                  "mean_firing_rate_exc_hz", "mean_firing_rate_inh_hz", "train_trials",
                  "train_updates", "train_final_loss", "search_accuracies"]


def tiny_spec(**study):
    data = json.loads(json.dumps(TINY))
    data["study"].update(study)
    return parse_spec(data)


@pytest.fixture(scope="module")
def serial_study(tmp_path_factory):
    """The tiny study run one cell after another in this process (the reference)."""
    out = tmp_path_factory.mktemp("serial")
    return run_study(tiny_spec(), out, workers=1, progress=False)


# --------------------------------------------------------------------------------------
# spec
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ({"gird": {}}, "spec: unknown key(s) ['gird']"),
    ({"settings": {"modle": {}}}, "settings: unknown key(s) ['modle']"),
    ({"settings": {"model": {"n": 20}}}, "settings.model: unknown key(s) ['n']"),
    ({"settings": {"model": {"N": 2.5}}}, "settings.model.N: expected an integer, got 2.5 "
                                          "(float)"),
    ({"settings": {"model": {"N": 1}}}, "N: expected an integer >= 2, got 1"),
    ({"settings": {"model": {"taus": "4"}}}, "settings.model.taus: expected a list of "
                                             "numbers, got '4' (str)"),
    ({"settings": {"lif": {"synapse": "triple"}}}, "synapse: expected one of"),
    ({"settings": {"task": {"T": 30}}}, "settings['T']: expected at least 40"),
    ({"settings": {"task": {"Tee": 60}}}, "settings.task: unknown key(s) ['Tee']"),
    ({"settings": {"task": {"name": "juggling"}}}, "task.name: task_name: expected one of"),
    ({"settings": {"search": {"scaling_factors": [20, -1]}}},
     "settings.search.scaling_factors: expected finite numbers in [1e-06, 1e+06], got [-1.0]"),
    ({"settings": {"search": {"scaling_factors": [20, 20]}}},
     "settings.search.scaling_factors: expected distinct values"),
    ({"settings": {"search": {"scaling_factors": {"start": 4, "stop": 26}}}},
     "expected a table with keys ['start', 'step', 'stop']"),
    ({"settings": {"search": {"dtype": "float16"}}}, "search.dtype: expected one of"),
    ({"settings": {"evaluation": {"n_trials": 0}}}, "evaluation.n_trials: expected a positive"),
    ({"grid": {"model": {"N": 20}}}, "grid.model.N: expected a non-empty list of values"),
    ({"grid": {"model": {"N": [20, "x"]}}}, "grid.model.N[1]: expected an integer, got 'x'"),
    ({"grid": {"model": {"N": [20, 20]}}}, "grid.model.N: expected distinct values"),
    ({"study": {"replicates": 0}}, "study.replicates: expected a positive integer"),
    ({"study": {"replicates": [1, 1]}}, "study.replicates: expected distinct"),
    ({"study": {"seed": -1}}, "study.seed: expected an integer in [0, 2**63 - 1], got -1"),
    ({"study": {"seed": 2**63}}, "study.seed: expected an integer in [0, 2**63 - 1]"),
    ({"settings": {"search": {"extend_edges": -1}}},
     "search.extend_edges: expected a non-negative integer, got -1"),
    ({"study": {"threads": 0}}, "study.threads: expected a positive integer, got 0"),
    ({"study": {"paired": "yes"}}, "study.paired: expected true or false, got 'yes' (str)"),
    ({"study": {"workers": 2}}, "study: unknown key(s) ['workers']"),
    ({"conditions": {"name": "x"}}, "conditions: expected a list of tables"),
    ({"conditions": [{"name": "a", "lif": {"t_ref": 0.0}}]},
     "conditions: 'a' sets ['lif.t_ref'], which the grid also varies"),
])
def test_spec_errors_name_the_field(change, message):
    data = json.loads(json.dumps(TINY))
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict) and value:
            for section, inner in value.items():
                if isinstance(inner, dict) and isinstance(data[key].get(section), dict):
                    data[key][section] = {**data[key][section], **inner}
                else:
                    data[key][section] = inner
        else:
            data[key] = value
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert message in str(info.value)


def test_examples_parse():
    smoke = load_spec(EXAMPLES / "study_smoke.toml")
    assert [c.name for c in smoke.conditions] == ["sigmoid", "softplus"]
    paper = load_spec(EXAMPLES / "study_activations.toml")
    cells = paper.cells()
    assert {c.condition for c in cells} == {"activation=sigmoid", "activation=softplus",
                                            "activation=relu"}
    assert len(cells) >= 30
    by = {c.condition: c.settings for c in cells}
    assert by["activation=sigmoid"]["search"]["scaling_factors"] == list(
        np.arange(20.0, 76.0, 5.0))
    assert by["activation=relu"]["search"]["scaling_factors"] == list(np.arange(4.0, 27.0, 2))
    assert all(s["model"]["N"] == 250 and s["model"]["taus"] == [4.0, 10.0]
               for s in by.values())


def test_cell_seeds_follow_identity_not_position():
    spec = tiny_spec()
    reordered = json.loads(json.dumps(TINY))
    reordered["grid"]["lif"]["t_ref"] = [0.0, 0.002]
    reordered["study"]["replicates"] = [1, 0]
    ids = {(c.condition, c.replicate): (c.seed, c.key) for c in spec.cells()}
    assert ids == {(c.condition, c.replicate): (c.seed, c.key)
                   for c in parse_spec(reordered).cells()}
    seeds = {c.replicate: set() for c in spec.cells()}
    for c in spec.cells():
        seeds[c.replicate].add(c.seed)
    assert all(len(s) == 1 for s in seeds.values())  # paired: one seed per replicate
    assert len({c.seed for c in tiny_spec(paired=False).cells()}) == 4
    assert len({c.key for c in spec.cells()}) == 4
    assert [c.seed for c in tiny_spec(seed=8).cells()] != [c.seed for c in spec.cells()]


def test_wilson_interval_solves_the_score_equation():
    for k, n in [(94, 100), (55, 100), (0, 10), (10, 10), (3, 7)]:
        low, high = wilson_interval(k, n)
        p = k / n
        for bound in (low, high):
            if 0 < bound < 1:
                z = abs(p - bound) / math.sqrt(bound * (1 - bound) / n)
                assert z == pytest.approx(1.959964, rel=1e-6)
        assert low <= p <= high
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert [round(v, 3) for v in wilson_interval(94, 100)] == [0.875, 0.972]
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)


def test_summary_statistics():
    records = [{"condition": "a", "status": "ok", "lif_accuracy": acc, "rate_accuracy": 1.0,
                "best_scaling_factor": s, "train_converged": True}
               for acc, s in [(1.0, 20.0), (0.96, 25.0), (0.5, 30.0)]]
    records.append({"condition": "a", "status": "error", "error": "boom"})
    c = summarize(records)["conditions"]["a"]
    assert (c["n_cells"], c["n_ok"], c["n_errors"], c["n_converted"]) == (4, 3, 1, 2)
    assert c["share_converted"] == pytest.approx(2 / 3)
    assert c["share_ci"] == pytest.approx(list(wilson_interval(2, 3)))
    assert c["lif_accuracy_mean"] == pytest.approx(np.mean([1.0, 0.96, 0.5]))
    assert c["lif_accuracy_sd"] == pytest.approx(np.std([1.0, 0.96, 0.5], ddof=1))
    assert c["best_scaling_factor_median"] == 25.0


# --------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------

def result_columns(table: pd.DataFrame) -> pd.DataFrame:
    return table[RESULT_COLUMNS].reset_index(drop=True)


def test_serial_study_writes_table_summary_figures(serial_study):
    out = serial_study.out_dir
    table = pd.read_parquet(out / "table.parquet")
    csv = pd.read_csv(out / "table.csv")
    assert len(table) == len(csv) == 4 and (table["status"] == "ok").all()
    assert list(table["condition"]) == ["t_ref=0.002"] * 2 + ["t_ref=0"] * 2
    assert table["lif.t_ref"].tolist() == [0.002, 0.002, 0.0, 0.0]
    assert table["model.N"].unique().tolist() == [20]
    assert np.allclose(table["lif_accuracy"], csv["lif_accuracy"])
    assert table["best_scaling_factor"].isin([20.0, 40.0]).all()
    assert {"rate_accuracy", "lif_accuracy_go", "lif_accuracy_nogo", "mean_firing_rate_hz",
            "train_trials", "train_updates", "train_s", "search_s", "evaluate_s",
            "spikernn_version"} <= set(table.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["conditions"]) == {"t_ref=0.002", "t_ref=0"}
    assert summary["conditions"]["t_ref=0"]["n_ok"] == 2
    for name in ("accuracy_by_condition", "share_converted", "best_scaling_factor"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 5000
    from spikernn.artifact import load_model

    cell = out / "cells" / "t_ref=0__r1"
    model = load_model(cell / "model.mat")
    assert model.opt_scaling_factor == table["best_scaling_factor"].iloc[3]
    record = read_record(cell)
    assert record["settings"]["lif"]["t_ref"] == 0.0 and record["seed"] == table["seed"][3]
    assert "t_ref=0" in study_summary_text(out)
    assert (table["cores"] == cpu_count()).all()  # one cell at a time: all the cores


def test_cli_summary_and_bad_spec(serial_study, tmp_path, capsys):
    from spikernn.cli import main

    assert main(["study", "--summary", str(serial_study.out_dir)]) == 0
    out = capsys.readouterr().out
    assert "study tiny: 4 of 4 cells have results" in out and "t_ref=0.002" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[settings]\nmodel.N = "many"\n')
    assert main(["study", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "settings.model.N: expected an integer, got 'many' (str)" in err
    assert not (tmp_path / "o").exists()
    assert main(["study"]) == 2


def test_rerun_skips_finished_cells(serial_study, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(serial_study.out_dir, out)
    (out / "cells" / "t_ref=0__r0" / "record.json").unlink()
    lines = []
    again = run_study(tiny_spec(), out, workers=1, progress=False, figures=False,
                      on_record=lines.append)
    assert (again.ran, again.skipped) == (1, 3)
    assert [r["folder"] for r in lines] == ["t_ref=0__r0"]
    pd.testing.assert_frame_equal(result_columns(again.table),
                                  result_columns(serial_study.table))


def test_another_spikernn_version_reruns_cells_and_max_cells_splits_a_run(
        serial_study, tmp_path, monkeypatch):
    out = tmp_path / "upgraded"
    shutil.copytree(serial_study.out_dir, out)
    old_keys = [c.key for c in tiny_spec().cells()]
    monkeypatch.setattr(spec_module, "__version__", "999.0")
    spec = tiny_spec()
    cell = spec.cells()[0]
    assert [c.key for c in spec.cells()] != old_keys  # the version is part of a cell's key
    assert settings_key(cell.settings, cell.seed, "999.0") == cell.key
    first = run_study(spec, out, workers=1, progress=False, figures=False, max_cells=1)
    assert (first.ran, first.skipped, len(first.records)) == (1, 0, 1)  # no old cell mixed in
    assert first.records[0]["key"] == cell.key
    assert len(load_study(out)[1]) == 1
    with pytest.raises(ValueError, match="max_cells: expected an integer >= 1, got 0"):
        run_study(spec, out, workers=1, progress=False, max_cells=0)


def test_limit_cores_caps_the_engine_default():
    n = cpu_count()
    with limit_cores(1):
        assert cpu_count() == 1
        with limit_cores(n + 5):
            assert cpu_count() == n  # never more than the process may run on
        with limit_cores(None):
            assert cpu_count() == n
        assert cpu_count() == 1
    assert cpu_count() == n
    with pytest.raises(ValueError, match="cores: expected"), limit_cores(0):
        pass


class _ExplodingGoNogo(GoNogoTask):
    """Go/NoGo whose trials fail when ``explode`` is set (a cell that raises)."""

    name = "exploding_go_nogo"

    @classmethod
    def get_default_settings(cls):
        return {**super().get_default_settings(), "explode": False}

    def sample_batch(self, *args, **kwargs):
        if self.settings["explode"]:
            raise RuntimeError("boom")
        return super().sample_batch(*args, **kwargs)


def test_a_raising_cell_is_recorded_and_the_study_goes_on(tmp_path):
    TaskFactory.register_task("exploding_go_nogo", _ExplodingGoNogo)
    data = json.loads(json.dumps(TINY))
    data["study"]["replicates"] = 1
    data["settings"]["task"]["name"] = "exploding_go_nogo"
    data["grid"] = {"task": {"explode": [True, False]}}
    result = run_study(parse_spec(data), tmp_path, workers=1, progress=False, figures=False)
    status = {r["condition"]: r["status"] for r in result.records}
    assert status == {"explode=true": "error", "explode=false": "ok"}
    failed = next(r for r in result.records if r["status"] == "error")
    assert failed["error"] == "RuntimeError: boom" and "sample_batch" in failed["traceback"]
    table = pd.read_csv(tmp_path / "table.csv")
    assert table["error"].fillna("").tolist() == ["RuntimeError: boom", ""]
    assert json.loads((tmp_path / "summary.json").read_text())["conditions"][
        "explode=true"]["n_errors"] == 1


def test_local_process_pool_matches_serial(serial_study, tmp_path):
    result = run_study(tiny_spec(replicates=[0]), tmp_path, workers=2, progress=False,
                       figures=False)
    assert result.ran == 2
    assert all(not r["worker"].endswith(f":{os.getpid()}") for r in result.records)
    serial = serial_study.table
    pd.testing.assert_frame_equal(result_columns(result.table),
                                  result_columns(serial[serial["replicate"] == 0]))
    assert (result.table["cores"] == max(1, cpu_count() // 2)).all()  # shared out


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield client


def test_dask_cluster_matches_serial(serial_study, cluster, tmp_path):
    with pytest.warns(RuntimeWarning, match=r"2 Dask worker\(s\) run Dask's statistical "
                      r"profiler.*DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False"):
        result = run_study(tiny_spec(), tmp_path, client=cluster, progress=False,
                           figures=False)
    assert result.ran == 4 and (result.table["cores"] == 1).all()
    pd.testing.assert_frame_equal(result_columns(result.table),
                                  result_columns(serial_study.table))
    by_address = run_study(tiny_spec(), tmp_path, scheduler=cluster.scheduler.address,
                           progress=False, figures=False)
    assert (by_address.ran, by_address.skipped) == (0, 4)


def test_workers_without_the_profiler_are_not_warned_about():
    """The documented way to start workers for spikernn (profiler off) passes the check."""
    import warnings

    import dask
    distributed = pytest.importorskip("distributed")
    from spikernn.study.runner import warn_if_profiling

    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as c, \
            distributed.Client(c) as client, warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_profiling(client)
        assert list(client.run(lambda: dask.config.get(
            "distributed.worker.profile.enabled")).values()) == [False]


@pytest.mark.slow
def test_killed_worker_cell_reruns_elsewhere(serial_study, cluster, tmp_path):
    killed = []

    def kill_a_worker_mid_cell():
        """Kill the worker process of the first cell seen running (started, no record)."""
        pids = set(cluster.run(os.getpid).values())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for log in tmp_path.glob("cells/*/attempts"):
                if (log.parent / "record.json").exists():
                    continue
                pid = int(log.read_text().split()[0].rsplit(":", 1)[1])
                if pid in pids:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(log.parent.name)
                    break
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_mid_cell)
    killer.start()
    try:
        result = run_study(tiny_spec(), tmp_path, client=cluster, progress=False,
                           figures=False)
    finally:
        killer.join()
    assert len(killed) == 1
    assert result.ran == 4 and [r["status"] for r in result.records] == ["ok"] * 4
    starts = {r["folder"]: (tmp_path / "cells" / r["folder"] / "attempts").read_text()
              .splitlines() for r in result.records}
    assert {f: len(s) for f, s in starts.items()} == {
        f: 2 if f == killed[0] else 1 for f in starts}  # the killed cell ran again, once
    assert starts[killed[0]][0].split()[0] != starts[killed[0]][1].split()[0]
    table = pd.read_parquet(tmp_path / "table.parquet")
    assert table["key"].is_unique and len(table) == 4
    pd.testing.assert_frame_equal(result_columns(records_table(result.records)),
                                  result_columns(serial_study.table))


TINY_TOML = """
[study]
name = "tiny"
seed = 7
replicates = 2
[settings]
task = {name = "go_nogo", T = 80, stim_on = 20, stim_dur = 20}
model = {N = 20, taus = [4, 10]}
training = {max_trials = 64, eval_every = 32, eval_trials = 8}
search = {n_trials = 4, scaling_factors = [20.0, 40.0]}
evaluation = {n_trials = 4}
[grid]
lif.t_ref = [0.002, 0.0]
"""


@pytest.mark.slow
def test_ctrl_c_leaves_a_consistent_table_and_a_rerun_finishes(serial_study, tmp_path):
    import subprocess
    import sys

    (tmp_path / "tiny.toml").write_text(TINY_TOML)
    assert load_spec(tmp_path / "tiny.toml").cells()[0].key == serial_study.records[0]["key"]
    script = ("from spikernn.study import run_study\n"
              "if __name__ == '__main__':\n"
              "    run_study('tiny.toml', 'out', workers=2, progress=False)\n")
    (tmp_path / "go.py").write_text(script)
    proc = subprocess.Popen([sys.executable, "go.py"], cwd=tmp_path)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(tmp_path.glob("out/cells/*/record.json")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    finished = [read_record(p.parent) for p in tmp_path.glob("out/cells/*/record.json")]
    table = pd.read_parquet(tmp_path / "out" / "table.parquet")
    assert 1 <= len(table) <= len(finished) < 4
    assert set(table["key"]) <= {r["key"] for r in finished}
    again = run_study(tmp_path / "tiny.toml", tmp_path / "out", workers=1, progress=False,
                      figures=False)
    assert again.skipped == len(finished) and again.ran == 4 - len(finished)
    pd.testing.assert_frame_equal(result_columns(again.table),
                                  result_columns(serial_study.table))
