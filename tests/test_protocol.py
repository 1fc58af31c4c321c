"""The named training protocols (``paper``, ``default``): settings, errors, a tiny run."""

from __future__ import annotations

import pytest

from spikernn.protocol import PROTOCOLS, get_protocol, protocol_of
from spikernn.rate import RNNConfig, Trainer, TrainingConfig
from spikernn.study.spec import SpecError, parse_spec


def test_protocols_resolve_as_documented():
    paper = TrainingConfig(protocol="paper")
    assert paper.batch_size is None  # filled only once the task is known
    go = paper.resolve("go-nogo")
    assert (go.batch_size, go.min_trials, go.loss_threshold, go.acc_threshold) == (
        1, 1500, 7.0, 0.96)
    assert paper.resolve("mante").min_trials == 0 and paper.resolve("xor").batch_size == 1
    default = TrainingConfig()
    assert default.protocol == "default"
    go = default.resolve("go_nogo")
    assert (go.batch_size, go.min_trials, go.loss_threshold, go.acc_threshold) == (
        16, 0, 2.0, 0.95)
    assert default.resolve("mante").loss_threshold == 4.0
    xor = default.resolve("xor")
    assert (xor.batch_size, xor.loss_threshold) == (4, 7.0)
    assert default.resolve("mante").batch_size == 16
    # explicit settings win; the protocol's minimum never exceeds the cap
    mine = TrainingConfig(protocol="paper", batch_size=8, loss_threshold=3.0, max_trials=1000)
    assert mine.resolve("go_nogo").to_dict() == {
        **mine.to_dict(), "min_trials": 1000, "acc_threshold": 0.96}
    assert protocol_of({"protocol": "paper"}).extend_edges == 0
    assert protocol_of(None) is PROTOCOLS["default"] and PROTOCOLS["default"].extend_edges > 0


@pytest.mark.parametrize("name", ["papers", "", 3])
def test_unknown_protocol_is_a_named_error(name):
    with pytest.raises(ValueError, match=r"protocol: expected one of \['default', 'paper'\]"):
        TrainingConfig(protocol=name)
    with pytest.raises(ValueError, match="protocol"):
        get_protocol(name)


def test_protocol_is_a_study_axis():
    spec = parse_spec({"settings": {"model": {"N": 20}},
                       "grid": {"training": {"protocol": ["default", "paper"]}}})
    by_name = {c.condition: c.settings["training"] for c in spec.cells()}
    assert by_name["protocol=paper"]["batch_size"] == 1
    assert by_name["protocol=paper"]["min_trials"] == 1500
    assert by_name["protocol=default"]["loss_threshold"] == 2.0
    extend = {c.condition: c.settings["search"]["extend_edges"] for c in spec.cells()}
    assert extend == {"protocol=default": 4, "protocol=paper": 0}
    with pytest.raises(SpecError, match="protocol: expected one of"):
        parse_spec({"settings": {"training": {"protocol": "tf"}}})


def test_paper_protocol_never_stops_go_nogo_before_1500_trials():
    """Criteria met at every evaluation (thresholds given): the run still stops at the first
    evaluation at or after the paper's 1,500 trials, one trial per update, and records it."""
    config = TrainingConfig(protocol="paper", max_trials=3000, eval_every=500, eval_trials=4,
                            loss_threshold=1e9, acc_threshold=0.0)
    trainer = Trainer("go_nogo", RNNConfig(N=8, seed=0), config,
                      task_settings={"T": 40, "stim_on": 10, "stim_dur": 10})
    result = trainer.train(progress=False)
    assert result.converged and result.trials == 1500 and trainer.updates == 1500
    assert result.history.trials == [500, 1000, 1500]
    assert result.artifact.training["protocol"] == "paper"
    assert result.artifact.training["settings"]["batch_size"] == 1


def test_default_protocol_stops_go_nogo_at_the_stricter_loss():
    trainer = Trainer("go_nogo", RNNConfig(N=8, seed=0), TrainingConfig(max_trials=32),
                      task_settings={"T": 40, "stim_on": 10, "stim_dur": 10})
    assert not trainer.criteria_met(2.5, 1.0)   # passes the paper's loss < 7, not ours
    assert trainer.criteria_met(1.9, 0.95)
    result = trainer.train(progress=False)
    assert result.artifact.training["protocol"] == "default"
    assert result.artifact.training["settings"]["loss_threshold"] == 2.0
