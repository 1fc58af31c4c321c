"""Parameters of the spiking network (Kim, Li & Sejnowski 2019, SI Table S1).

Inside the engine every value is a plain float in seconds (times) or millivolts (voltages,
and currents, which enter the membrane equation with unit resistance).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

NEURONS = ("lif", "qif")
SYNAPSES = ("double", "single")
V_INITS = ("paper", "below_threshold", "reset")

#: Table S1 values that differ between the LIF and QIF neuron: (bias mV, threshold mV).
_NEURON_DEFAULTS = {"lif": (-40.0, -40.0), "qif": (0.0, 30.0)}


@dataclass(frozen=True)
class LIFParams:
    """Neuron, synapse and integration parameters; defaults are SI Table S1.

    Attributes
    ----------
    neuron : {'lif', 'qif'}
        Leaky (``tau_m dv/dt = -v + I``) or quadratic (``tau_m dv/dt = v**2 + I``)
        integrate-and-fire.
    tau_m : float
        Membrane time constant, s (10 ms).
    t_ref : float
        Absolute refractory period, s (2 ms); no integration during it (noise still acts).
    tau_r : float
        Synaptic rise time, s (2 ms), for the double-exponential synapse.
    synapse : {'double', 'single'}
        Double-exponential (rise ``tau_r``, decay per unit) or single-exponential synapse.
    bias : float, optional
        Constant bias current, mV (unit resistance): -40 for LIF, 0 for QIF when omitted.
    v_th : float, optional
        Spike threshold (peak), mV: -40 for LIF, 30 for QIF when omitted.
    v_reset : float
        Reset voltage, mV (-65).
    v_peak : float
        Value written into recorded voltage traces at a spike, mV (30; display only).
    dt : float
        Integration step, s (0.05 ms).
    noise_std : float
        Standard deviation of the Gaussian noise added to v every step, mV (0.1; the paper's
        N(0, 0.01)). 0 turns noise off.
    v_init : {'paper', 'below_threshold', 'reset'}
        Initial voltages: 'paper' uniform in [v_reset, v_init_high] (the paper's default,
        which starts many LIF units above threshold), 'below_threshold' uniform in
        [v_reset, v_th), 'reset' all at v_reset.
    v_init_high : float
        Upper bound of the 'paper' initial-voltage distribution, mV (30).
    """

    neuron: str = "lif"
    tau_m: float = 0.010
    t_ref: float = 0.002
    tau_r: float = 0.002
    synapse: str = "double"
    bias: float | None = None
    v_th: float | None = None
    v_reset: float = -65.0
    v_peak: float = 30.0
    dt: float = 5e-5
    noise_std: float = 0.1
    v_init: str = "paper"
    v_init_high: float = 30.0

    def __post_init__(self) -> None:
        if self.neuron not in NEURONS:
            raise ValueError(f"neuron: expected one of {NEURONS}, got {self.neuron!r}")
        if self.synapse not in SYNAPSES:
            raise ValueError(f"synapse: expected one of {SYNAPSES}, got {self.synapse!r}")
        if self.v_init not in V_INITS:
            raise ValueError(f"v_init: expected one of {V_INITS}, got {self.v_init!r}")
        bias, v_th = _NEURON_DEFAULTS[self.neuron]
        if self.bias is None:
            object.__setattr__(self, "bias", bias)
        if self.v_th is None:
            object.__setattr__(self, "v_th", v_th)
        for name in ("tau_m", "dt"):
            _check(name, getattr(self, name), lambda v: v > 0, "a positive number (s)")
        for name in ("t_ref", "noise_std"):
            _check(name, getattr(self, name), lambda v: v >= 0, "a non-negative number")
        _check("tau_r", self.tau_r,
               (lambda v: v > 0) if self.synapse == "double" else (lambda v: v >= 0),
               "a positive number (s) for the double-exponential synapse")
        for name in ("bias", "v_th", "v_reset", "v_peak", "v_init_high"):
            _check(name, getattr(self, name), lambda v: True, "a finite number (mV)")
        if self.v_reset >= self.v_th:
            raise ValueError(f"v_reset: expected below v_th ({self.v_th} mV), got {self.v_reset}")

    @property
    def refractory_steps(self) -> int:
        """Refractory period in integration steps (``round(t_ref / dt)``)."""
        return int(round(self.t_ref / self.dt))

    def replace(self, **changes: Any) -> LIFParams:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all values (for JSON and file metadata)."""
        return dataclasses.asdict(self)


def _check(name: str, value: Any, ok, expected: str) -> None:
    try:
        good = math.isfinite(float(value)) and ok(float(value))
    except (TypeError, ValueError):
        good = False
    if not good:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
