"""Model files: exact .mat/.pth round trips, the original layouts, and named errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.io
import torch

from spikernn.artifact import ModelArtifact, ModelFileError, load_model
from spikernn.rate import FR_RNN_dale, create_default_config

N = 20


def _artifact(**changes) -> ModelArtifact:
    net = FR_RNN_dale.from_config(create_default_config(N=N, n_inputs=2, som_N=2, seed=3))
    with torch.no_grad():
        net.w.add_(torch.randn(N, N, generator=torch.Generator().manual_seed(0)) * 0.1)
        net.taus_gaus.add_(0.5)
        net.b_out.fill_(0.25)
    art = net.to_artifact(task="xor", task_settings={"T": 300, "delay": 10},
                          training={"history": {"loss": [9.5, 3.25]}, "converged": True})
    base = {"opt_scaling_factor": 45.0, "scaling_factors": np.arange(20.0, 30.0, 5.0),
            "all_perfs": np.array([0.5, 0.75])}
    return art.replace(**{**base, **changes})


def _assert_same(a: ModelArtifact, b: ModelArtifact) -> None:
    for name in ("w", "w0", "m", "som_m", "w_in", "w_out", "inh", "exc", "taus_gaus",
                 "taus_gaus0", "scaling_factors", "all_perfs"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype or name not in ("inh", "exc"), name
            np.testing.assert_array_equal(x, y, err_msg=name)
    for name in ("b_out", "taus", "som_N", "apply_dale", "activation", "dt_ms", "task",
                 "task_settings", "seed", "P_inh", "P_rec", "gain", "w_dist", "training",
                 "opt_scaling_factor", "version"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("suffix", [".mat", ".pth"])
def test_round_trip_is_exact(tmp_path, suffix):
    art = _artifact()
    path = art.save(tmp_path / f"model{suffix}")
    _assert_same(art, load_model(path))


def test_round_trip_without_optional_fields(tmp_path):
    art = _artifact(opt_scaling_factor=None, scaling_factors=None, all_perfs=None, seed=None)
    for suffix in (".mat", ".pth"):
        _assert_same(art, load_model(art.save(tmp_path / f"m{suffix}")))


def test_pth_loads_with_weights_only(tmp_path):
    path = _artifact().save(tmp_path / "model.pth")
    record = torch.load(path, weights_only=True)
    assert isinstance(record["w"], torch.Tensor) and record["w"].shape == (N, N)


def test_saved_w_is_the_trained_effective_matrix(tmp_path):
    net = FR_RNN_dale.from_config(create_default_config(N=N, seed=1))
    with torch.no_grad():
        net.w.sub_(0.05)                       # make some raw weights negative
    assert (net.w < 0).any()
    loaded = load_model(net.to_artifact().save(tmp_path / "m.mat"))
    assert (loaded.w >= 0).all()
    np.testing.assert_allclose(loaded.w @ loaded.m * loaded.som_m,
                               net.effective_weights().detach().numpy(), atol=1e-7)


def test_save_rejects_unknown_suffix_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        _artifact().save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_load_model_from_folder(tmp_path):
    _artifact().save(tmp_path / "a.mat")
    assert load_model(tmp_path).N == N
    _artifact().replace(b_out=0.5).save(tmp_path / "b.mat")
    with pytest.warns(UserWarning, match="using the first, a.mat"):
        assert load_model(tmp_path).b_out == load_model(tmp_path / "a.mat").b_out
    for f in tmp_path.iterdir():
        f.unlink()
    with pytest.raises(FileNotFoundError, match="found none"):
        load_model(tmp_path)


# -- files written by the original TensorFlow code and by the PyTorch port ------------------

def _original_layout(port: bool, raw_negative: bool = False) -> dict:
    """Variables as Kim et al.'s TensorFlow code (port=False) or the PyTorch port save them:
    raw trained w (with negative entries if raw_negative), (N, 1) unit flags and raw taus,
    taus as [min, max], no apply_dale / task metadata."""
    rng = np.random.default_rng(0)
    inh = rng.random((N, 1)) < 0.2
    inh[0] = True
    w0 = np.abs(rng.standard_normal((N, N))) * (rng.random((N, N)) < 0.2)
    w = w0 - 0.4 * (w0 > 0) if raw_negative else w0   # trained raw weights may go negative
    m = np.eye(N)
    m[inh[:, 0], inh[:, 0]] = -1
    d = {"w": w.astype(np.float32), "w0": w0.astype(np.float32), "m": m.astype(np.float32),
         "som_m": np.ones((N, N), np.float32), "w_in": rng.standard_normal((N, 1)),
         "w_out": rng.standard_normal((1, N)) / 100, "N": N, "som_N": 0,
         "inh": inh, "exc": ~inh, "taus": [4, 20],
         "taus_gaus": rng.standard_normal((N, 1)), "taus_gaus0": rng.standard_normal((N, 1)),
         "activation": "sigmoid", "tr": 2000, "eval_perf_mean": 0.97}
    if port:
        d.update({"b_out": np.array(0.1, np.float32), "x0": np.zeros((N, 1)),
                  "w_in0": d["w_in"], "losses": np.zeros(2000),
                  "eval_labels": np.zeros(100), "u": np.zeros((1, 200))})
    else:
        d.update({"b_out": 0.1, "eval_loss_mean": 3.2})
    return d


@pytest.mark.parametrize("port", [False, True], ids=["tensorflow", "pytorch_port"])
def test_original_layouts_load_with_relu_and_warning(tmp_path, port):
    d = _original_layout(port, raw_negative=True)
    path = tmp_path / "Task_go-nogo_N_20_Taus_4.0_20.0_Act_sigmoid.mat"
    scipy.io.savemat(path, d)
    with pytest.warns(UserWarning, match="negative entries"):
        art = load_model(path)
    assert art.N == N and art.n_inputs == 1 and art.apply_dale
    assert art.taus == (4.0, 20.0) and art.activation == "sigmoid"
    np.testing.assert_array_equal(art.inh, d["inh"].ravel())
    np.testing.assert_allclose(art.w, np.maximum(d["w"], 0))
    np.testing.assert_allclose(art.taus_gaus, d["taus_gaus"].ravel())
    assert art.b_out == pytest.approx(0.1)
    np.testing.assert_allclose(art.tau_d_ms,
                               5 * (1 / (1 + np.exp(-d["taus_gaus"].ravel())) * 16 + 4))
    # and the loaded record runs in the rate model
    net = FR_RNN_dale.from_artifact(art)
    out, _, _ = net(np.zeros((1, 50), np.float32))
    assert out.shape == (1, 50)


def test_nonnegative_original_file_loads_silently(tmp_path):
    d = _original_layout(port=True)
    scipy.io.savemat(tmp_path / "m.mat", d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(tmp_path / "m.mat")


@pytest.mark.parametrize("field", ["w", "w_in", "m", "taus", "taus_gaus", "inh"])
def test_missing_field_is_named(tmp_path, field):
    d = _original_layout(port=True)
    del d[field]
    scipy.io.savemat(tmp_path / "m.mat", d)
    with pytest.raises(ModelFileError, match=f"'{field}'"):
        load_model(tmp_path / "m.mat")


@pytest.mark.parametrize("field, value", [
    ("w_out", np.ones((1, N + 1))),
    ("m", np.eye(N + 1)),
    ("som_m", np.ones((N, N - 1))),
    ("inh", np.zeros((N - 2, 1), bool)),
    ("taus_gaus", np.zeros((N + 3, 1))),
    ("w_in", np.ones((N + 1, 1))),
])
def test_wrong_shapes_are_named(tmp_path, field, value):
    d = _original_layout(port=False)
    d[field] = value
    scipy.io.savemat(tmp_path / "m.mat", d)
    with pytest.raises(ModelFileError, match=f"'{field}'"):
        load_model(tmp_path / "m.mat")


@pytest.mark.parametrize("field", ["w", "w_out", "taus_gaus", "w_in"])
def test_nan_is_named(tmp_path, field):
    d = _original_layout(port=False)
    arr = np.array(d[field], dtype=float)
    arr.flat[0] = np.nan
    d[field] = arr
    scipy.io.savemat(tmp_path / "m.mat", d)
    with pytest.raises(ModelFileError, match=f"'{field}'"):
        load_model(tmp_path / "m.mat")


@pytest.mark.parametrize("suffix", [".mat", ".pth"])
def test_truncated_file_raises_model_file_error(tmp_path, suffix):
    path = _artifact().save(tmp_path / f"model{suffix}")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="model"):
        load_model(path)


def test_inconsistent_records_are_rejected():
    art = _artifact()
    with pytest.raises(ModelFileError, match="'w'"):
        art.replace(w=-np.abs(art.w))
    with pytest.raises(ModelFileError, match="'m'"):
        art.replace(m=np.eye(N))
    with pytest.raises(ModelFileError, match="'activation'"):
        art.replace(activation="tanh")
    with pytest.raises(ModelFileError, match="'all_perfs'"):
        art.replace(all_perfs=np.array([0.5]))


def test_artifact_is_really_frozen():
    """Arrays are read-only after validation; the caller's arrays are not aliased; dicts and
    their lists refuse changes; copies and unpickled records stay frozen."""
    import copy
    import pickle

    from spikernn.pretrained import load_pretrained

    art = load_pretrained("go_nogo")
    with pytest.raises(ValueError, match="read-only"):
        art.w[0, 0] = -1
    for name in ("w0", "m", "som_m", "w_in", "w_out", "inh", "exc", "taus_gaus",
                 "taus_gaus0", "scaling_factors", "all_perfs"):
        assert not getattr(_artifact(), name).flags.writeable, name
    w = np.array(art.w)
    rebuilt = art.replace(w=w)
    w[0, 0] = 123.0  # the caller's array is not the artifact's
    assert rebuilt.w[0, 0] != 123.0
    mine = _artifact()
    with pytest.raises(TypeError, match="read-only"):
        mine.task_settings["T"] = 1
    with pytest.raises(TypeError, match="read-only"):
        mine.training["history"]["loss"].append(1.0)
    assert mine.training["history"]["loss"] == [9.5, 3.25]
    for clone in (pickle.loads(pickle.dumps(art)), copy.deepcopy(art), copy.copy(art)):
        assert not clone.w.flags.writeable
        np.testing.assert_array_equal(clone.w, art.w)
    with pytest.raises(TypeError, match="read-only"):
        pickle.loads(pickle.dumps(mine)).task_settings["T"] = 1


def _spikernn_layout(**changes):
    from spikernn.artifact import to_mat_dict

    d = to_mat_dict(_artifact())
    d.update(changes)
    return d


@pytest.mark.parametrize("changes, message", [
    ({"task_settings_json": "[1, 2]"},
     r"'task_settings_json': expected a JSON object .*got a JSON list '\[1, 2\]'"),
    ({"w_in": np.zeros((N, 0))}, r"'w_in': expected shape \(20, n_inputs\) with n_inputs >= 1"),
    ({"N": np.array([[N + 0.7]])}, r"'N': expected an integer, got 20\.7"),
    ({"opt_scaling_factor": np.array([[np.nan]])},
     r"'opt_scaling_factor': expected a finite number, got nan"),
    ({"opt_scaling_factor": np.array([[-4.0]])},
     r"'opt_scaling_factor': expected a finite positive number, got -4\.0"),
    ({"all_perfs": np.array([[0.5, 7.5]])}, r"'all_perfs': expected accuracies in \[0, 1\]"),
    ({"b_out": "high"}, r"'b_out': expected a real number, got text \(dtype <U4"),
    ({"w_out": np.array([["a"] * N], dtype=object)},
     r"'w_out': expected a real numeric array, got a cell array or struct \(object array\)"),
    ({"taus": "4, 20"}, r"'taus': expected a real numeric array, got text"),
])
def test_loader_gaps_are_named(tmp_path, changes, message):
    scipy.io.savemat(tmp_path / "m.mat", _spikernn_layout(**changes))
    with pytest.raises(ModelFileError, match=message):
        load_model(tmp_path / "m.mat")


def test_complex_weights_are_refused_not_truncated(tmp_path):
    d = _spikernn_layout()
    d["w"] = d["w"] + 1j * np.ones((N, N))
    scipy.io.savemat(tmp_path / "m.mat", d)
    with pytest.raises(ModelFileError, match=r"'w': expected a real numeric array, got complex"):
        load_model(tmp_path / "m.mat")


def test_oversized_compressed_field_is_refused_from_its_header(tmp_path):
    """An 8000 x 8000 field of zeros compresses to ~0.5 MB; it is refused before inflating
    (512 MB) from the variable's header."""
    import time
    import tracemalloc

    d = _spikernn_layout(w0=np.zeros((8000, 8000)))
    scipy.io.savemat(tmp_path / "m.mat", d, do_compression=True)
    del d
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=r"'w0': expected shape \(20, 20\), got shape "
                                                 r"\(8000, 8000\) \(from the file header\)"):
            load_model(tmp_path / "m.mat")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20 and time.perf_counter() - start < 5.0
    big_extra = _spikernn_layout(notes=np.zeros((2000, 1000)))
    scipy.io.savemat(tmp_path / "x.mat", big_extra, do_compression=True)
    with pytest.raises(ModelFileError, match=r"'notes': expected at most 1048576 values"):
        load_model(tmp_path / "x.mat")
