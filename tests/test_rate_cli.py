"""``spikernn train``: files, summary, resume and exit codes."""

from __future__ import annotations

import pytest
import torch

from spikernn.artifact import load_model
from spikernn.cli import main

SMALL = ["--N", "30", "--seed", "3", "--batch-size", "8", "--eval-every", "16",
         "--eval-trials", "10", "--quiet"]


def test_train_writes_model_files_and_exits_1_when_not_converged(tmp_path, capsys):
    code = main(["train", "--task", "go-nogo", "--out", str(tmp_path), "--max-trials", "32",
                 *SMALL])
    assert code == 1
    out = capsys.readouterr().out
    assert "did NOT meet the criteria after 32 trials" in out
    for suffix in (".mat", ".pth", ".ckpt.pth"):
        assert (tmp_path / f"go_nogo_N30_seed3{suffix}").is_file()
    art = load_model(tmp_path / "go_nogo_N30_seed3.mat")
    assert art.task == "go_nogo" and art.N == 30 and art.seed == 3
    assert art.training["command"].startswith("spikernn train --task go_nogo --seed 3 --N 30")
    assert " --threads 1 " in art.training["command"] and art.training["torch_threads"] == 1
    assert " --protocol default " in art.training["command"]
    assert art.training["protocol"] == "default"
    assert art.training["trials"] == 32
    from_pth = load_model(tmp_path / "go_nogo_N30_seed3.pth")
    assert (from_pth.w == art.w).all() and from_pth.training == art.training


def test_train_options_reach_the_model_and_exit_0_on_criteria(tmp_path, capsys):
    code = main(["train", "--task", "xor", "--out", str(tmp_path), "--max-trials", "64",
                 "--loss-threshold", "1e6", "--acc-threshold", "0", "--activation", "softplus",
                 "--decay-taus", "5", "--som-N", "1", "--P-inh", "0.3", "--gain", "1.0",
                 "--w-dist", "gamma", "--loss-fn", "l1", "--lr", "0.005", *SMALL])
    assert code == 0
    assert "met the criteria after 16 trials" in capsys.readouterr().out
    art = load_model(tmp_path / "xor_N30_seed3.mat")
    assert art.activation == "softplus" and art.taus == (5.0,) and art.som_N == 1
    assert art.P_inh == 0.3 and art.gain == 1.0 and art.w_dist == "gamma"
    settings = art.training["settings"]
    assert settings["loss_fn"] == "l1" and settings["lr"] == 0.005
    assert settings["batch_size"] == 8


def test_resume_continues_the_checkpoint(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--max-trials", "16", *SMALL]) == 1
    assert main(["train", "--out", str(tmp_path), "--max-trials", "48", "--resume",
                 *SMALL]) == 1
    art = load_model(tmp_path / "go_nogo_N30_seed3.mat")
    assert art.training["trials"] == 48 and art.training["history"]["trials"] == [16, 32, 48]


def test_no_apply_dale(tmp_path):
    main(["train", "--out", str(tmp_path), "--max-trials", "8", "--no-apply-dale", *SMALL])
    art = load_model(tmp_path / "go_nogo_N30_seed3.mat")
    assert not art.apply_dale and not art.inh.any()


@pytest.mark.parametrize("args, reason", [
    (["--N", "1"], "N"),
    (["--decay-taus", "1", "2", "3"], "--decay-taus"),
    (["--decay-taus", "20", "4"], "taus"),
    (["--task", "stroop"], "task_name"),
    (["--batch-size", "0"], "--batch-size"),
    (["--P-inh", "2"], "P_inh"),
    (["--task-settings", "{bad json"], "--task-settings"),
    (["--task-settings", '{"stim_on": 500}'], "'T'"),
    (["--device", "cuda:7"], "--device"),
    (["--device", "tpu-ish"], "--device"),
    (["--resume", "--seed", "11"], "--resume"),
    (["--protocol", "tf"], "--protocol"),
])
def test_bad_arguments_exit_2_with_one_line_reason(tmp_path, capsys, args, reason):
    if args == ["--device", "cuda:7"] and torch.cuda.device_count() > 7:
        pytest.skip("a CUDA device 7 exists here")
    code = main(["train", "--out", str(tmp_path), "--max-trials", "8", "--quiet", *args])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and reason in err[0]
    assert not list(tmp_path.glob("*.mat"))


def test_argparse_errors_exit_2(capsys):
    assert main(["train", "--batch-size", "many"]) == 2
