"""The one synaptic filter (spikernn.spiking.synapse): constants and transfer function."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from spikernn.spiking import LIFParams
from spikernn.spiking.synapse import synaptic_filter


def _explicit(x: np.ndarray, f, unit: int, dt: float) -> np.ndarray:
    """The update rule of the module docstring, step by step."""
    s = h = 0.0
    out = []
    for xk in x:
        if f.double:
            s, h = s * f.decay[unit] + h, h * f.rise_decay + xk * f.gain[unit]
        else:
            s = s * f.decay[unit] + xk * f.gain[unit]
        out.append(s)
    return np.array(out)


@pytest.mark.parametrize("synapse", ["double", "single"])
def test_transfer_function_is_the_update_rule(synapse):
    params = LIFParams(synapse=synapse)
    f = synaptic_filter(np.array([0.02, 0.1]), params)
    x = (np.random.default_rng(0).random(400) < 0.05).astype(float)
    for unit in (0, 1):
        b, a = f.transfer_function(unit)
        assert np.allclose(lfilter(b, a, x), _explicit(x, f, unit, params.dt))


def test_constants_follow_si_table_s1():
    params = LIFParams()
    f = synaptic_filter(np.array([0.02]), params)
    assert f.double and f.decay[0] == pytest.approx(np.exp(-params.dt / 0.02))
    assert f.rise_decay == pytest.approx(np.exp(-params.dt / params.tau_r))
    assert f.gain[0] == pytest.approx(params.dt / (params.tau_r * 0.02))
    with pytest.raises(ValueError, match="tau_d"):
        synaptic_filter(np.array([0.02, 0.0]), params)
