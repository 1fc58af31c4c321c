"""Seed users' code, with only the import root renamed, works and means what it meant.

One test per call of issue 7, against real models: the shipped Go/NoGo network (N = 200) and
small networks trained here in the seed project's own training loop.
"""

from __future__ import annotations

import inspect
import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

import spikernn
from spikernn.pretrained import pretrained_path

GO_NOGO = pretrained_path("go_nogo")
#: The seed project's extra .mat variables of a trained model (rate/main.py).
SEED_EXTRAS = ("x0", "r0", "u", "o", "target", "losses", "eval_perf_mean", "eval_os", "tr",
               "w_in0", "x", "r")


@pytest.fixture
def model_dir(tmp_path):
    """A folder holding (a copy of) the shipped Go/NoGo model, as the seed's models/go-nogo."""
    folder = tmp_path / "models" / "go-nogo"
    folder.mkdir(parents=True)
    shutil.copy(GO_NOGO, folder / "model.mat")
    return folder


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """The seed's search call on the shipped model: 2 factors x 6 trials."""
    from spikernn.spiking import lambda_grid_search

    folder = tmp_path_factory.mktemp("models") / "go-nogo"
    folder.mkdir()
    shutil.copy(GO_NOGO, folder / "model.mat")
    result = lambda_grid_search(model_dir=str(folder), task_name="go-nogo", n_trials=6,
                                scaling_factors=list(np.arange(25, 76, 50)))
    return folder, result


def _seed_net(N: int = 30, n_inputs: int = 1):
    from spikernn.rate import FR_RNN_dale

    w_in = np.random.randn(N, n_inputs).astype(np.float32)
    w_out = np.random.randn(1, N).astype(np.float32) / 100
    return FR_RNN_dale(N, 0.2, 0.2, w_in, 0, "gaus", 1.5, True, w_out, torch.device("cpu"))


# -- module paths -------------------------------------------------------------------------

def test_module_paths_of_the_seed():
    from spikernn.rate.model import eval_rnn, loss_op
    from spikernn.rate.tasks import GoNogoTask, ManteTask, TaskFactory, XORTask
    from spikernn.spiking.lambda_grid_search import lambda_grid_search as lgs
    from spikernn.spiking.LIF_network_fnc import LIF_network_fnc as lif
    from spikernn.spiking.utils import (
        check_gpu_availability,
        create_connectivity_masks,
        format_spike_data,
        generate_lif_params,
        load_rate_model,
        set_random_seed,
        validate_scaling_factor,
        validate_stimulus,
    )

    assert (GoNogoTask, XORTask, ManteTask, TaskFactory) == (
        spikernn.tasks.GoNogoTask, spikernn.tasks.XORTask, spikernn.tasks.ManteTask,
        spikernn.tasks.TaskFactory)
    assert loss_op is spikernn.rate.training.loss_op and eval_rnn is spikernn.rate.eval_rnn
    # the submodules are imported, yet the package names are still the functions
    assert inspect.isfunction(spikernn.spiking.LIF_network_fnc)
    assert lif is spikernn.spiking.LIF_network_fnc is spikernn.spiking.network.LIF_network_fnc
    assert inspect.isfunction(spikernn.spiking.lambda_grid_search)
    assert lgs is spikernn.spiking.lambda_grid_search is spikernn.spiking.search.lambda_grid_search
    from spikernn.rate import restricted_float, str2bool
    from spikernn.rate.utils import set_gpu
    from spikernn.spiking import load_rate_model as top_level_load_rate_model

    assert set_gpu is spikernn.rate.set_gpu and top_level_load_rate_model is load_rate_model
    assert str2bool("True") is True and str2bool("no") is False and restricted_float("0.4") == 0.4
    with pytest.raises(ValueError):
        restricted_float("1.5")
    assert all(callable(f) for f in (check_gpu_availability, create_connectivity_masks,
                                     format_spike_data, generate_lif_params, load_rate_model,
                                     set_random_seed, validate_scaling_factor,
                                     validate_stimulus))


# -- lambda_grid_search -------------------------------------------------------------------

def test_lambda_grid_search_with_the_seeds_keywords_writes_the_best_factor(searched):
    folder, result = searched
    written = scipy.io.loadmat(folder / "model.mat")
    np.testing.assert_array_equal(written["scaling_factors"].ravel(), [25, 75])
    perfs = written["all_perfs"].ravel()
    assert perfs.shape == (2,) and np.all((perfs >= 0) & (perfs <= 1))
    assert float(written["opt_scaling_factor"].item()) == result == [25, 75][int(np.argmax(perfs))]
    assert perfs[0] == 1.0  # the shipped model converts at s = 25


def test_search_result_behaves_as_the_number_it_replaces(searched):
    _, r = searched
    s = float(r)
    assert f"{r:.1f}" == f"{s:.1f}" and str(r) == str(s)
    assert r * 2 == 2 * r == 2 * s and r + 1 == s + 1 and r / 5 == s / 5 and r - 5 == s - 5
    assert r == s and r != s + 1 and r < s + 1 and r >= s and (r == 25) == (s == 25)
    assert hash(r) == hash(s) and {s: "x"}[r] == "x"
    assert not np.isnan(r) and np.asarray(r).shape == () and np.asarray(r) == s
    assert np.array([1.0, 2.0]) * r == pytest.approx([s, 2 * s])
    assert round(r) == round(s) and int(r) == int(s) and math.floor(r) == math.floor(s)
    assert repr(r).startswith("SearchResult(")


def test_python_m_lambda_grid_search_with_the_seeds_flags(model_dir):
    out = subprocess.run(
        [sys.executable, "-m", "spikernn.spiking.lambda_grid_search", "--model_dir",
         str(model_dir), "--task_name", "go-nogo", "--n_trials", "1",
         "--scaling_factors", "25:30:5"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Performance for 25: " in out.stdout and "Performance for 30: " in out.stdout
    assert "Best scaling factor: " in out.stdout
    assert "found in sys.modules" not in out.stderr  # runpy's warning is not shown
    written = scipy.io.loadmat(model_dir / "model.mat")
    np.testing.assert_array_equal(written["scaling_factors"].ravel(), [25, 30])


# -- evaluate_task ------------------------------------------------------------------------

def test_evaluate_task_in_the_seeds_positional_order(model_dir):
    from spikernn.spiking.eval_tasks import evaluate_task

    metrics = evaluate_task("go_nogo", str(model_dir), 30.0, {"T": 200}, False, n_trials=2,
                            compare_rate=False)
    assert metrics["scaling_factor"] == 30.0 and metrics["n_trials"] == 2
    assert metrics["figures"] == []
    again = evaluate_task(task_name="go_nogo", model_dir=str(model_dir),
                          optimal_scaling_factor=30.0, save_plots=False, n_trials=2,
                          compare_rate=False)
    assert again["correct"] == metrics["correct"]
    with pytest.raises(ValueError, match="optimal_scaling_factor"):
        evaluate_task("go_nogo", str(model_dir), 30.0, scaling_factor=25.0, n_trials=1)


# -- LIF_network_fnc ----------------------------------------------------------------------

def test_LIF_network_fnc_takes_model_or_path_and_a_loadmat_dict():
    from spikernn.spiking import LIF_network_fnc

    u = np.zeros((1, 200))
    u[0, 50:75] = 1.0
    by_path = LIF_network_fnc(model_or_path=str(GO_NOGO), scaling_factor=25.0, u=u,
                              stims={"mode": "none"}, downsample=10, use_initial_weights=False,
                              seed=4)
    by_dict = LIF_network_fnc(scipy.io.loadmat(GO_NOGO), 25.0, u, {"mode": "none"}, 10, False,
                              seed=4)
    for a, b in zip(by_path[:6], by_dict[:6], strict=True):
        np.testing.assert_array_equal(a, b)
    W, REC, spk, rs, all_fr, out, params = by_dict
    assert spk.shape == (200, 2000) and out.shape == (2000,) and spk.sum() > 0
    assert np.max(out[1000:]) > 0.7  # a Go trial, converted at s = 25


# -- the rate model -----------------------------------------------------------------------

def test_load_net_with_model_dir_replaces_the_network():
    net = _seed_net(N=200)
    net.load_net(model_dir=str(GO_NOGO))
    art = spikernn.load_model(GO_NOGO)
    np.testing.assert_allclose(net.effective_weights().detach().numpy(), art.w_effective,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(net.time_constants().detach().numpy(), art.tau_steps,
                               rtol=1e-6)
    assert int(art.inh.sum()) == net.NI and int(art.exc.sum()) == net.NE


def test_RNNConfig_positional_fields_in_the_seeds_order():
    from spikernn.rate import RNNConfig

    c = RNNConfig(100, 0.3, 0.1, 2, 1.2, False, "gamma", "cpu")
    assert (c.N, c.P_inh, c.P_rec, c.som_N, c.gain, c.apply_dale, c.w_dist, c.device) == (
        100, 0.3, 0.1, 2, 1.2, False, "gamma", "cpu")


def test_the_seeds_training_loop_forward_and_loss_train_the_network():
    from spikernn.rate import TaskFactory
    from spikernn.rate.model import loss_op

    torch.manual_seed(0)
    np.random.seed(0)
    net = _seed_net()
    settings = {"T": 200, "stim_on": 50, "stim_dur": 25, "DeltaT": 1, "taus": [4, 20]}
    training_params = {"activation": "sigmoid", "loss_fn": "l2", "learning_rate": 0.01}
    task = TaskFactory.create_task("go_nogo", settings)
    optimizer = torch.optim.Adam(net.parameters(), lr=training_params["learning_rate"])
    u, target, label = task.simulate_trial()
    torch.manual_seed(5)
    stim, x, r, o, w, w_in, m, som_m, w_out, b_out, taus_gaus = net.forward(
        torch.tensor(u, dtype=torch.float32), settings["taus"], training_params, settings)
    assert len(x) == len(r) == 200 and len(o) == 199
    assert x[0].shape == r[0].shape == (30, 1) and o[0].shape == (1, 1)
    assert w is net.w and m is net.mask and som_m is net.som_mask and taus_gaus is net.taus_gaus
    # the same trial through our batched call: identical outputs of steps 1..T-1
    torch.manual_seed(5)
    ours, _, _ = net(u)
    np.testing.assert_allclose(torch.cat(o).detach().numpy().ravel(),
                               ours[0, 1:].detach().numpy(), rtol=1e-5, atol=1e-6)
    loss = loss_op(o, target, training_params)
    assert loss.shape == () and loss.item() == pytest.approx(
        float(np.sqrt(np.sum((ours[0, 1:].detach().numpy() - target[1:]) ** 2))), rel=1e-4)
    before = net.w.detach().clone()
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, net.w.detach())
    assert net.taus_gaus.grad is not None  # the time constants train (ours, not the seed's)


def test_seed_network_attributes_and_methods():
    np.random.seed(3)
    net = _seed_net(N=200)
    assert net.mask is net.m and net.som_mask is net.som_m
    assert net.NI + net.NE == 200 and net.NI == int(net.inh.sum()) > 0
    np.random.seed(7)
    inh, exc, NI, NE, som_inh = net.assign_exc_inh()
    assert inh.shape == exc.shape == (200, 1) and inh.sum() == NI and NE == 200 - NI
    assert np.all(inh ^ exc) and som_inh == 0
    np.random.seed(7)
    assert np.array_equal(net.assign_exc_inh()[0], inh)  # np.random.seed reproduces it
    w, mask, som_mask = net.initialize_W()
    assert w.shape == (200, 200) and np.all(w >= 0)
    assert np.mean(w > 0) == pytest.approx(0.2, abs=0.02)  # P_rec
    np.testing.assert_array_equal(mask, net.m.numpy())
    np.testing.assert_array_equal(np.diag(mask) < 0, net.inh.numpy())
    assert np.all(som_mask == 1)


# -- tasks --------------------------------------------------------------------------------

def test_simulate_trial_with_trial_type_and_seed():
    task = spikernn.rate.TaskFactory.create_task("go_nogo", {"T": 200, "stim_on": 50,
                                                             "stim_dur": 25, "DeltaT": 1})
    u, target, label = task.simulate_trial(trial_type="go", seed=3)
    assert label == 1 and u[0, 50:75].min() == 1.0 and target[-1] == 1.0
    u, target, label = task.simulate_trial(trial_type="nogo")
    assert label == 0 and not u.any() and not target.any()
    fixed = [task.simulate_trial(seed=True)[2] for _ in range(5)]
    assert len(set(fixed)) == 1  # seed=True: the same trial every call


def test_xor_trial_types_of_the_seed():
    task = spikernn.rate.TaskFactory.create_task("xor")
    s = task.settings
    second = s["stim_on"] + s["stim_dur"] + s["delay"]
    for pattern, (a, b) in {"++": (1, 1), "+-": (1, -1), "-+": (-1, 1), "--": (-1, -1)}.items():
        u, target, label = task.simulate_trial(trial_type=pattern)
        assert u[0, s["stim_on"]] == a and u[1, second] == b
        assert label == ("same" if a == b else "diff")
        assert np.sign(target).max() == (1 if a == b else 0)
    batch = task.sample_batch(4, rng=0, trial_types=["++", "+-", "-+", "--"])
    assert batch.trial_types == ("same", "diff", "diff", "same")


def test_mante_contexts_of_the_seed():
    task = spikernn.rate.TaskFactory.create_task("mante")
    for context, cue_row in (("color", 2), ("motion", 3)):
        for seed in range(6):
            u, target, label = task.simulate_trial(trial_type=context, seed=seed)
            assert u[cue_row].min() == 1.0 and not u[5 - cue_row].any()
            relevant = u[cue_row - 2, 50:250].mean()
            assert label == (1 if relevant > 0 else -1)  # the cued modality decides
    types = task.sample_batch(20, rng=1, trial_types="motion").trial_types
    assert set(types) == {"ctx2_pos", "ctx2_neg"}


def test_np_random_seed_makes_initialisation_and_trials_reproducible():
    from spikernn.rate import FR_RNN_dale, RNNConfig, TaskFactory

    def draw():
        net = FR_RNN_dale.from_config(RNNConfig(N=40))
        task = TaskFactory.create_task("mante")
        return net.w.detach().numpy().copy(), net.w_in.numpy().copy(), task.simulate_trial()[0]

    np.random.seed(11)
    a = draw()
    np.random.seed(11)
    b = draw()
    c = draw()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[2], c[2])


# -- model folders and files --------------------------------------------------------------

def test_a_folder_with_several_mat_files_uses_the_first_with_a_warning(model_dir):
    from spikernn.spiking import SpikingNetwork

    art = spikernn.load_model(GO_NOGO)
    art.replace(opt_scaling_factor=40.0).save(model_dir / "a_first.mat")
    with pytest.warns(UserWarning, match="using the first, a_first.mat"):
        net = SpikingNetwork(model_dir)
    assert net.scaling_factor == 40.0


def test_rewriting_a_seed_mat_after_a_search_keeps_its_extra_fields(tmp_path):
    from spikernn.spiking import lambda_grid_search

    art = spikernn.load_model(GO_NOGO)
    rng = np.random.default_rng(0)
    variables = {  # what the seed's rate/main.py writes (raw w, (N, 1) flags, no metadata)
        "w": art.w, "w0": art.w0, "m": art.m, "som_m": art.som_m, "w_in": art.w_in,
        "w_out": art.w_out, "b_out": np.array([[art.b_out]]), "N": 200, "som_N": 0,
        "inh": art.inh.reshape(-1, 1), "exc": art.exc.reshape(-1, 1),
        "taus": np.array([4.0, 20.0]), "taus_gaus": art.taus_gaus.reshape(-1, 1),
        "taus_gaus0": art.taus_gaus0.reshape(-1, 1), "activation": "sigmoid",
        "x0": rng.normal(size=(200, 1)), "r0": rng.random((200, 1)), "u": np.zeros((1, 200)),
        "o": rng.normal(size=199), "target": np.ones(199), "losses": rng.random(50),
        "eval_perf_mean": 0.97, "eval_os": rng.normal(size=(3, 199)), "tr": 49,
        "w_in0": art.w_in, "x": rng.normal(size=(200, 1)), "r": rng.random((200, 1))}
    path = tmp_path / "Task_go-nogo_N_200_Taus_4.0_20.0_Act_sigmoid.mat"
    scipy.io.savemat(path, variables)
    before = scipy.io.loadmat(path)
    lambda_grid_search(str(path), "go-nogo", 2, [25], progress=False)
    after = scipy.io.loadmat(path)
    for name in SEED_EXTRAS:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert float(after["opt_scaling_factor"].item()) == 25.0


def test_spiking_utils_helpers():
    from spikernn.spiking import LIF_network_fnc
    from spikernn.spiking.utils import (
        create_connectivity_masks,
        format_spike_data,
        generate_lif_params,
        load_rate_model,
        validate_scaling_factor,
        validate_stimulus,
    )

    data = load_rate_model(str(GO_NOGO))
    assert data["w"].shape == (200, 200)
    u = np.zeros((1, 200))
    _, _, spk, _, all_fr, _, params = LIF_network_fnc(data, 25.0, u, {"mode": "none"}, 10,
                                                      False, seed=1)
    spikes = format_spike_data(spk, params["dt"])
    assert spikes["total_spikes"] == spk.sum() == spikes["spike_times"].size
    assert spikes["firing_rates"] == pytest.approx(spk.sum(axis=1) / 1.0)  # 1 s trial
    lif = generate_lif_params()
    assert (lif["tm"], lif["tref"], lif["vreset"], lif["vpeak"], lif["dt"]) == (
        0.010, 0.002, -65.0, -40.0, 5e-5)
    assert validate_stimulus(u, "go-nogo")
    with pytest.raises(ValueError, match="4 input"):
        validate_stimulus(u, "mante")
    inh, exc, m, som_m = create_connectivity_masks(100, 0.2, som_N=3, seed=0)
    assert np.all(inh ^ exc) and np.array_equal(np.diag(m) < 0, inh)
    assert som_m[np.flatnonzero(inh)[0], np.flatnonzero(inh)].sum() == 0
    assert validate_scaling_factor(25.0)
    with pytest.raises(ValueError, match="scaling_factor"):
        validate_scaling_factor(-1.0)


# -- spikernn train ----------------------------------------------------------------------

def test_spikernn_train_accepts_the_seeds_main_py_flags(tmp_path):
    from spikernn.cli import build_parser, main

    seed_flags = ["train", "--task", "go-nogo", "--N", "20", "--P_inh", "0.25", "--P_rec",
                  "0.3", "--som_N", "0", "--act", "clipped_relu", "--loss_fn", "L1",
                  "--apply_dale", "True", "--decay_taus", "4", "25", "--n_trials", "40",
                  "--output_dir", str(tmp_path), "--gpu", "0", "--mode", "Train"]
    ours = ["train", "--task", "go-nogo", "--N", "20", "--P-inh", "0.25", "--P-rec", "0.3",
            "--som-N", "0", "--activation", "clipped_relu", "--loss-fn", "l1",
            "--apply-dale", "--decay-taus", "4", "25", "--max-trials", "40",
            "--out", str(tmp_path)]
    parser = build_parser()
    a, b = vars(parser.parse_args(seed_flags)), vars(parser.parse_args(ours))
    assert {k: v for k, v in a.items() if k not in ("gpu", "mode")} == \
        {k: v for k, v in b.items() if k not in ("gpu", "mode")}
    assert vars(parser.parse_args([*ours[:-2], "--apply_dale", "false"]))["apply_dale"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = main([*seed_flags, "--seed", "0", "--quiet", "--eval-every", "20",
                       "--eval-trials", "4"])
    assert status in (0, 1)
    model = spikernn.load_model(Path(tmp_path) / "go_nogo_N20_seed0.mat")
    assert model.N == 20 and model.activation == "relu" and model.taus == (4.0, 25.0)
    assert model.training["settings"]["loss_fn"] == "l1"
