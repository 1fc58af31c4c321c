"""The seed project's rate-model API, as thin aliases of ours (one place).

Seed users' code keeps working with only the import root renamed (``rate`` ->
``spikernn.rate``): :class:`SeedNetworkAPI` gives :class:`~spikernn.rate.FR_RNN_dale` the
seed's attributes (``mask``, ``som_mask``, ``NI``, ``NE``, ``som_inh``), methods
(``assign_exc_inh()``, ``initialize_W()``) and its training-loop call
``net.forward(u, taus, training_params, settings)``; :data:`SEED_TRAIN_FLAGS` and
:func:`str2bool` give ``spikernn train`` the seed's ``rate/main.py`` options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..tasks import as_generator

#: ``spikernn train`` options -> the seed's ``rate/main.py`` names, accepted as aliases.
SEED_TRAIN_FLAGS: dict[str, str] = {
    "--P-inh": "--P_inh", "--P-rec": "--P_rec", "--som-N": "--som_N",
    "--decay-taus": "--decay_taus", "--loss-fn": "--loss_fn", "--activation": "--act",
    "--max-trials": "--n_trials", "--out": "--output_dir",
}


def str2bool(value: str | bool) -> bool:
    """The seed's boolean option values: yes/true/t/y/1 and no/false/f/n/0 (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "t", "y", "1"):
        return True
    if text in ("no", "false", "f", "n", "0"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def restricted_float(value: str | float) -> float:
    """The seed's option type for a fraction: a number in [0, 1], else ``ValueError``."""
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"expected a number in [0, 1], got {value!r}")
    return x


class SeedNetworkAPI:
    """Mixin of :class:`~spikernn.rate.FR_RNN_dale`: the seed's names for its state."""

    @property
    def mask(self) -> torch.Tensor:
        """The sign matrix ``m`` (N, N), the seed's ``net.mask``."""
        return self.m

    @property
    def som_mask(self) -> torch.Tensor:
        """The SOM connectivity mask ``som_m`` (N, N), the seed's ``net.som_mask``."""
        return self.som_m

    @property
    def NI(self) -> int:  # noqa: N802 (the seed's name)
        """Number of inhibitory units."""
        return int(self.inh.sum())

    @property
    def NE(self) -> int:  # noqa: N802 (the seed's name)
        """Number of excitatory units."""
        return int(self.exc.sum())

    @property
    def som_inh(self) -> np.ndarray | int:
        """Indices of the SOM units (the first ``som_N`` inhibitory units), 0 if none."""
        if self.config.som_N == 0:
            return 0
        return np.flatnonzero(self.inh.cpu().numpy())[: self.config.som_N]

    def assign_exc_inh(self) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray | int]:
        """Draw a new E/I assignment as the seed did (numpy's global generator; the network
        is not changed).

        Returns
        -------
        inh, exc : numpy.ndarray of bool, shape (N, 1)
        NI, NE : int
            Numbers of inhibitory and excitatory units.
        som_inh : numpy.ndarray or int
            Indices of the SOM units among them (0 if ``som_N`` is 0).
        """
        inh = self._assign_inh(as_generator(None))
        som = np.flatnonzero(inh)[: self.config.som_N] if self.config.som_N else 0
        return (inh.reshape(-1, 1), ~inh.reshape(-1, 1), int(inh.sum()),
                int((~inh).sum()), som)

    def initialize_W(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: N802
        """Draw new initial recurrent weights for this network's units, as the seed did.

        Returns
        -------
        w : numpy.ndarray, shape (N, N)
            Magnitudes (non-negative under Dale), from numpy's global generator.
        mask : numpy.ndarray, shape (N, N)
            The sign matrix of this network's units.
        som_mask : numpy.ndarray, shape (N, N)
            Its SOM connectivity mask.
        """
        w = self._initial_weights(as_generator(None)).astype(np.float32)
        return (w, self.m.cpu().numpy(), self._som_mask(self.inh.cpu().numpy()))

    def seed_forward(self, stim: torch.Tensor | np.ndarray, taus: Sequence[float],
                     training_params: Mapping[str, Any], settings: Mapping[str, Any]
                     ) -> tuple:
        """The seed's ``forward(stim, taus, training_params, settings)`` on one trial.

        Runs our dynamics (trained ``taus_gaus`` in the range ``taus``, the activation
        ``training_params['activation']``, step ``settings['DeltaT']``) on ``stim`` (n_inputs,
        T), torch's global generator supplying the noise, with gradients, so the seed's
        training loop (``loss_op(o, target, training_params)``, ``backward()``) trains it.

        Returns
        -------
        tuple
            ``(stim, x, r, o, w, w_in, mask, som_mask, w_out, b_out, taus_gaus)`` as in the
            seed: ``x`` and ``r`` lists of T tensors (N, 1) for steps 0..T-1, ``o`` a list of
            T-1 tensors (1, 1) for steps 1..T-1, then the network's parameters and masks.
        """
        u = torch.as_tensor(stim, dtype=torch.float32, device=self.device)
        T = int(settings["T"])
        u = u[:, :T]
        activation = training_params.get("activation", self.config.activation)
        alpha = float(settings.get("DeltaT", 1)) / self.time_constants(taus)
        outputs, rates, states = self.simulate_steps(u.unsqueeze(0), alpha, activation)
        x = [states[0, t].reshape(-1, 1) for t in range(T)]
        r = [rates[0, t].reshape(-1, 1) for t in range(T)]
        o = [outputs[0, t].reshape(1, 1) for t in range(1, T)]
        return (stim, x, r, o, self.w, self.w_in, self.mask, self.som_mask, self.w_out,
                self.b_out, self.taus_gaus)
