"""The rate RNN against the paper's definitions (Kim, Li & Sejnowski 2019)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikernn.rate import (
    CONNECTION_TYPES,
    FR_RNN_dale,
    RNNConfig,
    connection_type_mask,
    create_default_config,
    eval_rnn,
    lesion,
    lesion_by_type,
    loss_op,
    run_rate_model,
    set_gpu,
)


def _net(**overrides) -> FR_RNN_dale:
    return FR_RNN_dale.from_config(create_default_config(**{"N": 200, "seed": 0, **overrides}))


def test_seed_constructor_signature_and_defaults():
    rng = np.random.default_rng(0)
    w_in, w_out = rng.standard_normal((100, 1)), rng.standard_normal((1, 100)) / 100
    net = FR_RNN_dale(100, 0.2, 0.2, w_in, 0, "gaus", 1.5, True, w_out, torch.device("cpu"),
                      seed=4)
    assert net.N == 100 and net.config.taus == (4.0, 20.0)
    np.testing.assert_allclose(net.w_in.numpy(), w_in, rtol=1e-6)
    np.testing.assert_allclose(net.w_out.detach().numpy(), w_out, rtol=1e-6)
    assert float(net.b_out.detach()) == 0.0


def test_units_connectivity_and_gaus_init_follow_the_paper():
    net = _net(N=1000, seed=1)
    inh = net.inh.numpy()
    assert 0.17 < inh.mean() < 0.23
    assert np.array_equal(net.exc.numpy(), ~inh)
    w0 = net.w0.numpy()
    assert (w0 >= 0).all()                           # magnitudes under Dale
    nonzero = w0[w0 > 0]
    assert 0.19 < nonzero.size / w0.size < 0.21      # P_rec
    # |N(0,1)| / sqrt(N P_rec) * gain has mean sqrt(2/pi) * 1.5 / sqrt(200)
    assert nonzero.mean() == pytest.approx(np.sqrt(2 / np.pi) * 1.5 / np.sqrt(200), rel=0.03)
    np.testing.assert_array_equal(net.m.numpy(), np.diag(np.where(inh, -1.0, 1.0)))
    assert net.w_in.shape == (1000, 1) and abs(net.w_in.std() - 1) < 0.1
    assert abs(net.w_out.detach().std() - 0.01) < 0.002
    taus = net.taus_gaus.detach().numpy()
    assert abs(taus.mean()) < 0.1 and abs(taus.std() - 1) < 0.1


def test_gamma_init_and_no_dale():
    gamma = _net(N=400, w_dist="gamma", seed=2).w0.numpy()
    assert gamma[gamma > 0].mean() == pytest.approx(2 * 0.003, rel=0.05)
    free = _net(N=300, apply_dale=False, seed=2)
    assert not free.inh.any() and (free.w0 < 0).any()
    np.testing.assert_array_equal(free.m.numpy(), np.eye(300))
    np.testing.assert_array_equal(free.effective_weights().detach().numpy(), free.w0.numpy())


def test_effective_matrix_obeys_dale_even_with_negative_raw_weights():
    net = _net()
    with torch.no_grad():
        net.w.sub_(0.05)
    W = net.effective_weights().detach().numpy()
    assert (W[:, net.exc.numpy()] >= 0).all() and (W[:, net.inh.numpy()] <= 0).all()
    expected = np.maximum(net.w.detach().numpy(), 0) @ net.m.numpy()
    np.testing.assert_allclose(W, expected, atol=1e-7)


def test_som_units_receive_nothing_from_inhibitory_units():
    net = _net(som_N=10, seed=3)
    inh = np.flatnonzero(net.inh.numpy())
    som, other = inh[:10], inh[10:]
    W = net.effective_weights().detach().numpy()
    assert not W[np.ix_(som, inh)].any()
    assert W[np.ix_(som, np.flatnonzero(net.exc.numpy()))].any()
    assert W[np.ix_(other, inh)].any()
    assert net.som_m.numpy().sum() == 200 * 200 - 10 * len(inh)


@pytest.mark.parametrize("activation, check", [
    ("sigmoid", lambda x, r: np.allclose(r, 1 / (1 + np.exp(-x)), atol=1e-6)),
    ("relu", lambda x, r: np.allclose(r, np.clip(x, 0, 20))),
    ("clipped_relu", lambda x, r: np.allclose(r, np.clip(x, 0, 20))),
    ("softplus", lambda x, r: np.allclose(r, np.minimum(np.logaddexp(0, x), 20), atol=1e-5)),
])
def test_activations(activation, check):
    net = _net(N=50, activation=activation, gain=30.0)
    u = np.zeros((2, 1, 40), np.float32)
    u[:, 0, 5:15] = 30.0
    _, rates, x = net(u, generator=torch.Generator().manual_seed(0))
    x, r = x.detach().numpy(), rates.detach().numpy()
    assert check(x, r)
    if activation != "sigmoid":
        assert r.max() <= 20.0 and (x > 20).any()


def test_forward_is_the_papers_euler_step():
    net = _net(N=60, som_N=3, seed=5)
    with torch.no_grad():
        net.b_out.fill_(0.3)
    u = np.random.default_rng(0).standard_normal((3, 1, 30)).astype(np.float32)
    out, rates, x = (t.detach().numpy().astype(float) for t in net(u, noise_std=0.0))
    W = net.effective_weights().detach().numpy().astype(float)
    tau = net.time_constants().detach().numpy().astype(float)
    w_in = net.w_in.numpy().astype(float)
    ref = [x[:, 0]]
    for t in range(1, 30):
        r_prev = 1 / (1 + np.exp(-ref[-1]))
        ref.append((1 - 1 / tau) * ref[-1] + (1 / tau) * (r_prev @ W.T + u[:, :, t - 1] @ w_in.T))
    ref = np.stack(ref, axis=1)
    np.testing.assert_allclose(x, ref, atol=1e-5)
    np.testing.assert_allclose(rates, 1 / (1 + np.exp(-ref)), atol=1e-5)
    w_out = net.w_out.detach().numpy().astype(float)[0]
    np.testing.assert_allclose(out, rates @ w_out + 0.3, atol=1e-5)


def test_noise_initial_state_and_generator():
    net = _net(N=100)
    u = np.zeros((200, 1, 2), np.float32)
    _, _, x = net(u, generator=torch.Generator().manual_seed(1))
    x = x.detach().numpy().astype(float)
    assert x[:, 0].std() == pytest.approx(0.01, rel=0.05)             # x0 ~ N(0, 1e-4)
    tau = net.time_constants().detach().numpy()
    W = net.effective_weights().detach().numpy()
    r0 = 1 / (1 + np.exp(-x[:, 0]))
    noise = x[:, 1] - ((1 - 1 / tau) * x[:, 0] + (r0 @ W.T) / tau)
    assert noise.std() == pytest.approx(0.1, rel=0.05)                # noise ~ N(0, 0.01)
    same = net(u, generator=torch.Generator().manual_seed(1))[2].detach().numpy()
    np.testing.assert_array_equal(same, x.astype(np.float32))


def test_time_constants_are_trainable_parameters_in_range():
    net = _net()
    names = {n for n, p in net.named_parameters() if p.requires_grad}
    assert names == {"w", "taus_gaus", "w_out", "b_out"}
    tau = net.time_constants().detach().numpy()
    assert (tau >= 4).all() and (tau <= 20).all()
    fixed = _net(taus=(10,))
    assert not fixed.taus_gaus.requires_grad
    np.testing.assert_array_equal(fixed.time_constants().detach().numpy(), 10.0)
    out, _, _ = net(np.zeros((1, 50), np.float32))
    out.sum().backward()
    assert net.taus_gaus.grad is not None and net.taus_gaus.grad.abs().sum() > 0


def test_same_seed_same_network_different_seed_different():
    a, b, c = _net(seed=7), _net(seed=7), _net(seed=8)
    for name, t in a.state_dict().items():
        assert torch.equal(t, b.state_dict()[name]), name
    assert not torch.equal(a.w0, c.w0)


def test_artifact_round_trip_preserves_dynamics(tmp_path):
    net = _net(N=80, som_N=2)
    art = net.to_artifact(task="go_nogo")
    assert art.N == 80 and art.som_N == 2 and art.task == "go_nogo" and art.seed == 0
    back = FR_RNN_dale.from_artifact(art)
    u = np.ones((2, 1, 25), np.float32)
    o1 = net(u, generator=torch.Generator().manual_seed(3))[0]
    o2 = back(u, generator=torch.Generator().manual_seed(3))[0]
    torch.testing.assert_close(o1, o2)
    path = art.save(tmp_path / "m.mat")
    r1 = run_rate_model(path, u, seed=3)
    np.testing.assert_allclose(r1.output, o1.detach().numpy(), atol=1e-6)


def test_run_rate_model_contract():
    art = _net(N=40).to_artifact()
    res = run_rate_model(art, np.zeros((3, 1, 20)), seed=0)
    assert res.output.shape == (3, 20) and res.rates.shape == res.x.shape == (3, 20, 40)
    assert res.output.dtype == res.rates.dtype == res.x.dtype == np.float32
    np.testing.assert_array_equal(res.output, run_rate_model(art, np.zeros((3, 1, 20)),
                                                             seed=0).output)
    assert run_rate_model(art, np.zeros((1, 20)), seed=0).output.shape == (1, 20)
    with pytest.raises(ValueError, match="noise_std"):
        run_rate_model(art, np.zeros((1, 20)), noise_std=-1)
    with pytest.raises(ValueError, match="stimulus"):
        run_rate_model(art, np.zeros((1, 2, 20)))


@pytest.mark.parametrize("overrides, field", [
    ({"N": 1}, "N"), ({"P_inh": 1.5}, "P_inh"), ({"P_rec": 0}, "P_rec"),
    ({"w_dist": "uniform"}, "w_dist"), ({"gain": -1}, "gain"),
    ({"activation": "tanh"}, "activation"), ({"taus": (20, 4)}, "taus"),
    ({"taus": (1, 2, 3)}, "taus"), ({"noise_std": -0.1}, "noise_std"), ({"seed": -3}, "seed"),
    ({"som_N": 500}, "som_N"), ({"bogus": 1}, "bogus"),
])
def test_bad_settings_name_the_setting(overrides, field):
    with pytest.raises(ValueError, match=field):
        FR_RNN_dale.from_config(create_default_config(**overrides))


def test_bad_constructor_arrays():
    with pytest.raises(ValueError, match="w_in"):
        FR_RNN_dale(10, 0.2, 0.2, np.ones((9, 1)), 0, "gaus", 1.5, True, np.ones((1, 10)))
    with pytest.raises(ValueError, match="w_out"):
        FR_RNN_dale(10, 0.2, 0.2, np.ones((10, 1)), 0, "gaus", 1.5, True, np.ones((1, 9)))


def test_set_gpu_falls_back_to_cpu_and_validates():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert set_gpu("0", 0.5).type == expected
    assert set_gpu("99", 0.5).type == "cpu"
    with pytest.raises(ValueError, match="frac"):
        set_gpu("0", 0)
    with pytest.raises(ValueError, match="gpu"):
        set_gpu("first", 0.5)


def test_loss_op_l2_l1_and_seed_forms():
    o = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    z = np.array([[3.0, 4.0, 0.0], [1.0, 1.0, 1.0]])
    torch.testing.assert_close(loss_op(o, z), torch.tensor([5.0, 0.0]))
    torch.testing.assert_close(loss_op(o, z, "L1"), torch.tensor([7.0, 0.0]))
    seed_style = loss_op([torch.tensor([[0.0]])] * 3, z[0], {"loss_fn": "l2"})
    assert float(seed_style) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="loss_fn"):
        loss_op(o, z, "huber")


def test_eval_rnn_seed_interface():
    net = _net(N=30)
    o, r, x = eval_rnn(net, {"T": 50, "DeltaT": 1}, np.zeros((1, 50)), seed=0)
    assert len(o) == len(r) == len(x) == 50 and r[0].shape == (30, 1)
    assert o == eval_rnn(net, None, np.zeros((1, 50)), seed=0)[0]


def test_lesions_are_seeded_fractions_of_existing_connections():
    art = _net(N=150).to_artifact()
    n_existing = int((art.w_effective != 0).sum())
    cut = lesion(art, 0.3, seed=0)
    assert int((cut.w_effective != 0).sum()) == n_existing - int(0.3 * n_existing)
    np.testing.assert_array_equal(cut.w, lesion(art, 0.3, seed=0).w)
    assert not np.array_equal(cut.w, lesion(art, 0.3, seed=1).w)
    assert int((art.w_effective != 0).sum()) == n_existing            # input untouched
    halved = lesion(art, 1.0, scale=0.5, seed=0)
    np.testing.assert_allclose(halved.w, art.w * 0.5)
    assert cut.training["lesions"][-1]["fraction"] == 0.3


def test_lesion_by_type_and_single_type():
    art = _net(N=150).to_artifact()
    existing = art.w_effective != 0
    by_type = lesion_by_type(art, 0.5, seed=2)
    for kind in CONNECTION_TYPES:
        mask = connection_type_mask(art, kind) & existing
        left = int((by_type.w_effective[mask] != 0).sum())
        assert left == mask.sum() - int(0.5 * mask.sum()), kind
    only_ie = lesion(art, 1.0, connection_types="I->E", seed=0)
    ie = connection_type_mask(art, "I->E")
    assert not only_ie.w_effective[ie].any()
    np.testing.assert_array_equal(only_ie.w[~ie], art.w[~ie])
    # E->I means from excitatory (column) onto inhibitory (row) units
    ei = connection_type_mask(art, "E->I")
    assert ei[np.ix_(art.inh, art.exc)].all() and not ei[np.ix_(art.exc, art.inh)].any()
    net = lesion(FR_RNN_dale.from_artifact(art), 0.2, seed=0)
    assert isinstance(net, FR_RNN_dale)
    with pytest.raises(ValueError, match="fraction"):
        lesion(art, 1.5)
    with pytest.raises(ValueError, match="connection_type"):
        lesion(art, 0.1, connection_types="E->X")


def test_config_dataclass():
    cfg = create_default_config(N=250, n_inputs=4, taus=[5, 10])
    assert isinstance(cfg, RNNConfig) and cfg.taus == (5.0, 10.0)
    assert cfg.to_dict()["taus"] == [5.0, 10.0]
    assert repr(FR_RNN_dale.from_config(cfg)).startswith("FR_RNN_dale(N=250")


def test_seed_methods_load_net_display_and_in_place_lesions(tmp_path, capsys):
    source = _net(N=60, som_N=2, seed=9)
    path = source.to_artifact().save(tmp_path / "m.mat")
    net = _net(N=30, seed=1).load_net(path)
    assert net.N == 60 and net.config.som_N == 2
    torch.testing.assert_close(net.effective_weights(), source.effective_weights())
    net.display()
    assert "excitatory" in capsys.readouterr().out
    n_before = int((net.effective_weights() != 0).sum())
    net.lesion_w(0.5, seed=0)
    assert int((net.effective_weights() != 0).sum()) == n_before - int(0.5 * n_before)
    net.lesion_w_by_type(1.0, seed=0)
    assert not net.effective_weights().any()
