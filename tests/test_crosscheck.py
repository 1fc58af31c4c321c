"""Cross-validation engine vs Brian2: report, figure, spike-for-spike horizon and CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from spiking_helpers import tiny_model, tiny_model_file

from spikernn.bridges.crosscheck import cross_validate, spike_for_spike
from spikernn.cli import main
from spikernn.spiking.params import LIFParams
from spikernn.spiking.result import SimulationResult

PNG = b"\x89PNG\r\n\x1a\n"
S = 10.0
#: Go/NoGo trials of 20 rate steps: 100 ms, 2,000 integration steps.
SETTINGS = {"T": 20, "stim_on": 5, "stim_dur": 5}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    return tiny_model_file(folder, N=30, settings=SETTINGS).parent


def test_noise_off_identical_spikes_report_and_figure(model_file, tmp_path):
    report = cross_validate(model_file, scaling_factor=S, n_trials=4, seed=0,
                            figure=tmp_path / "cc.png")
    json.dumps(report)                                   # JSON-serialisable as it is
    sfs = report["spike_for_spike"]
    assert sfs["identical"] and sfs["first_divergence"] is None
    assert sfs["horizon_s"] == pytest.approx(0.1)        # the whole 100 ms trial
    assert sfs["trials_identical"] == 4 and sfs["max_readout_diff_before"] < 1e-9
    assert report["spike_counts"]["engine"] == report["spike_counts"]["brian2"] > 0
    assert report["rates"]["correlation"] == pytest.approx(1.0)
    assert report["rates"]["mean_abs_diff_hz"] == 0.0
    assert report["accuracy"]["engine"] == report["accuracy"]["brian2"]
    assert report["passed"] and all(report["checks"].values())
    assert report["settings"]["noise"] is False and report["settings"]["params"]["noise_std"] == 0
    assert report["settings"]["task"] == "go_nogo" and report["settings"]["n_trials"] == 4
    assert (tmp_path / "cc.png").read_bytes().startswith(PNG)


def test_noise_on_statistical_agreement(model_file):
    report = cross_validate(model_file, scaling_factor=S, n_trials=8, seed=1, noise=True,
                            params=LIFParams())
    assert "spike_for_spike" not in report
    assert report["settings"]["params"]["noise_std"] == 0.1
    base = report["engine_vs_engine"]
    assert base["rates"]["mean_abs_diff_hz"] > 0                  # the noise did act
    assert report["rates"]["correlation"] > 0.9
    assert report["rates"]["diff_ratio"] <= 1.5 and report["readout"]["rms_ratio"] <= 1.5
    assert report["passed"], report["checks"]


def _result(events: list[tuple[int, int, int]], n_steps: int = 100) -> SimulationResult:
    trial, step, unit = (np.array(x, dtype=np.int64) for x in zip(*events, strict=True))
    return SimulationResult(output=np.zeros((2, n_steps)), spike_trial=trial, spike_unit=unit,
                            spike_step=step, dt=1e-3, n_steps=n_steps, downsample=1,
                            scaling_factors=np.ones(2), exc=np.ones(3, bool), params=LIFParams())


def test_spike_for_spike_reports_first_divergence():
    a = _result([(0, 5, 1), (1, 7, 0), (0, 20, 2), (1, 30, 1), (0, 40, 0)])
    b = _result([(0, 5, 1), (1, 7, 0), (0, 20, 2), (1, 30, 2), (0, 41, 0)])
    sfs = spike_for_spike(a, b)
    assert not sfs["identical"]
    assert sfs["first_divergence"] == {"trial": 1, "step": 30, "time_s": pytest.approx(0.031),
                                       "units_a": [1], "units_b": [2]}
    assert sfs["horizon_s"] == pytest.approx(0.030)
    assert sfs["matched_spikes"] == 3 and sfs["trials_identical"] == 0
    # a missing spike at the end parts the trains too
    c = _result([(0, 5, 1), (1, 7, 0), (0, 20, 2), (1, 30, 1)])
    assert spike_for_spike(a, c)["first_divergence"]["step"] == 40
    assert spike_for_spike(a, a)["identical"]


def test_missing_scaling_factor_is_an_error():
    with pytest.raises(ValueError, match="scaling_factor"):
        cross_validate(tiny_model(N=20), n_trials=1)


def test_cli_writes_report_and_figure(model_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["crosscheck", "--model", str(model_file), "--task", "go-nogo",
                 "--n-trials", "2", "--seed", "3", "--scaling-factor", str(S),
                 "--no-noise", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "crosscheck.json").read_text())
    assert report["passed"] and report["spike_for_spike"]["identical"]
    assert (out / "crosscheck.png").read_bytes().startswith(PNG)
    assert '"passed": true' in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--n-trials", "0"], ["--model", "/no/such/model.mat"]])
def test_cli_bad_input_exit_code(model_file, tmp_path, argv, capsys):
    args = {"--model": str(model_file), "--n-trials": "1", "--scaling-factor": str(S)}
    args.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flat = [x for kv in args.items() for x in kv]
    assert main(["crosscheck", *flat, "--out", str(tmp_path)]) == 2
    assert "error" in capsys.readouterr().err
