"""Optogenetic-style perturbation of a set of units (Kim, Li & Sejnowski 2019).

During the integration steps ``[on, off)``, every unit in ``units`` gets ``+amplitude`` mV
('exc', depolarising) or ``-amplitude`` mV ('inh', hyperpolarising) on a random half of the
steps: one fair coin per trial and step, shared by all the chosen units of that trial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._seeding import child_rng

MODES = ("exc", "inh")


@dataclass(frozen=True)
class Perturbation:
    """A perturbation of ``units`` during integration steps ``[on, off)``.

    Attributes
    ----------
    mode : {'exc', 'inh'}
        Depolarising (+) or hyperpolarising (-) kicks.
    on, off : int
        First and one-past-last integration step (0-based) of the window.
    units : tuple of int
        Indices of the perturbed units.
    amplitude : float
        Size of one kick, mV (0.5).
    """

    mode: str
    on: int
    off: int
    units: tuple[int, ...]
    amplitude: float = 0.5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"perturbation mode: expected one of {MODES}, got {self.mode!r}")
        if not 0 <= self.on <= self.off:
            raise ValueError(
                f"perturbation window: expected 0 <= on <= off, got [{self.on}, {self.off})")
        object.__setattr__(self, "units", tuple(int(u) for u in self.units))
        if not self.units:
            raise ValueError("perturbation units: expected at least one unit, got none")
        if not np.isfinite(self.amplitude) or self.amplitude < 0:
            raise ValueError(
                f"perturbation amplitude: expected a non-negative number (mV), "
                f"got {self.amplitude!r}")

    @classmethod
    def from_stims(cls, stims: Mapping[str, Any] | None) -> Perturbation | None:
        """Build from the seed project's ``stims`` dict ``{'mode', 'dur': [on, off], 'units'}``.

        Returns None for ``None``, an empty dict or ``mode == 'none'``.
        """
        if not stims or str(stims.get("mode", "none")).lower() == "none":
            return None
        try:
            on, off = (int(x) for x in stims["dur"])
            units: Sequence[int] = np.atleast_1d(np.asarray(stims["units"])).astype(int).tolist()
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                "stims: expected {'mode': 'none'|'exc'|'inh', 'dur': [on, off], "
                f"'units': [...]}}, got {dict(stims)!r}") from exc
        return cls(mode=str(stims["mode"]).lower(), on=on, off=off, units=tuple(units))

    def check(self, n_units: int) -> None:
        """Raise ValueError if a unit index is outside ``[0, n_units)``."""
        bad = [u for u in self.units if not 0 <= u < n_units]
        if bad:
            raise ValueError(
                f"perturbation units: expected indices in [0, {n_units}), got {bad}")

    def draw_kicks(self, trial_ids: np.ndarray, n_steps: int, seed: int,
                   dtype: torch.dtype) -> torch.Tensor:
        """Voltage kick (mV) of each trial at each step of the window, shape (B, n_win).

        Row ``b``'s coins are ``child_rng(seed, "perturbation", trial_ids[b]).random(n_win)
        < 0.5`` (they depend on the seed and the trial id only); the window is clipped to
        ``n_steps``.
        """
        n_win = max(0, min(self.off, n_steps) - self.on)
        ids, rows = np.unique(np.asarray(trial_ids, dtype=np.int64), return_inverse=True)
        coins = np.stack([child_rng(seed, "perturbation", int(t)).random(n_win) < 0.5
                          for t in ids]) if ids.size else np.zeros((0, n_win), bool)
        sign = 1.0 if self.mode == "exc" else -1.0
        return torch.from_numpy(coins[rows] * (sign * self.amplitude)).to(dtype)
