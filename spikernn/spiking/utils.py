"""The seed project's ``spiking.utils`` helpers, as thin wrappers of ours (one place).

Every helper keeps the seed's name, arguments and return value; the work is done by the
model artifact (:mod:`spikernn.artifact`), the neuron parameters (:class:`LIFParams`) and
the task registry.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch

from .._validate import check_scaling_factor
from ..artifact import draw_inhibitory, load_model, sign_matrix, som_mask
from ..tasks import TaskFactory, as_generator
from .params import LIFParams

__all__ = ["check_gpu_availability", "create_connectivity_masks", "format_spike_data",
           "generate_lif_params", "load_rate_model", "set_random_seed", "validate_scaling_factor",
           "validate_stimulus"]


def load_rate_model(model_path: str | os.PathLike) -> dict[str, Any]:
    """The variables of a ``.mat`` model file, as ``scipy.io.loadmat`` returns them.

    The file is validated first (:func:`spikernn.load_model`), so a truncated or inconsistent
    file fails with an error naming the field.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a ``.mat`` file, or a malformed one (:class:`spikernn.ModelFileError`).
    """
    from scipy.io import loadmat

    if not str(model_path).lower().endswith(".mat"):
        raise ValueError(f"model_path: expected a .mat file, got {str(model_path)!r}")
    load_model(model_path)
    return loadmat(model_path)


def create_connectivity_masks(N: int, P_inh: float = 0.2, som_N: int = 0,
                              apply_dale: bool = True, seed: int | None = None
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw a unit identity and its masks, as the rate model builds them.

    Parameters
    ----------
    N : int
        Number of units.
    P_inh : float
        Probability that a unit is inhibitory.
    som_N : int
        Number of SOM units (the first ``som_N`` inhibitory units).
    apply_dale : bool
        Dale's principle (no inhibitory units without it).
    seed : int, optional
        Seed of the draw (numpy's global generator when omitted).

    Returns
    -------
    inh, exc : numpy.ndarray of bool, shape (N,)
    m : numpy.ndarray, shape (N, N)
        Sign matrix ``diag(+1 exc, -1 inh)`` (the seed's utility returned a row-signed
        matrix that no model used; this is the one the rate model and the conversion use).
    som_m : numpy.ndarray, shape (N, N)
        SOM connectivity mask.
    """
    inh = draw_inhibitory(as_generator(seed), N, P_inh, apply_dale)
    return inh, ~inh, sign_matrix(inh, apply_dale), som_mask(inh, som_N)


def generate_lif_params(dt: float = 5e-5, downsample: int = 1) -> dict[str, float]:
    """The LIF parameters (SI Table S1, :class:`LIFParams`) under the seed's names, s and mV.

    ``dt`` is the sampling interval of recordings (``dt * downsample``), ``vpeak`` the spike
    threshold.
    """
    p = LIFParams()
    return {"dt": float(dt) * int(downsample), "tref": p.t_ref, "tm": p.tau_m,
            "vreset": p.v_reset, "vpeak": p.v_th, "tr": p.tau_r}


def validate_stimulus(u: np.ndarray, task_type: str = "go-nogo") -> bool:
    """Check that ``u`` is a (n_inputs, T) array for the task; ``True`` or ``ValueError``."""
    if not isinstance(u, np.ndarray) or u.ndim != 2:
        raise ValueError(f"u: expected a 2-D numpy array (n_inputs, T), got "
                         f"{type(u).__name__} of shape {np.shape(u)}")
    n_inputs = TaskFactory.get_task_class(task_type).n_inputs
    if u.shape[0] != n_inputs:
        raise ValueError(f"u: expected {n_inputs} input row(s) for task {task_type!r}, got "
                         f"{u.shape[0]}")
    return True


def check_gpu_availability() -> tuple[bool, str]:
    """``(True, device name)`` when CUDA is available, else ``(False, 'CPU')``."""
    if torch.cuda.is_available():
        return True, torch.cuda.get_device_name(0)
    return False, "CPU"


def set_random_seed(seed: int) -> None:
    """Seed numpy's and torch's global generators (and CUDA's), as the seed did.

    spikernn's own functions take explicit seeds; unseeded initialisations and trials draw
    from numpy's global generator, so this makes them reproducible too.
    """
    np.random.seed(seed)
    torch.manual_seed(seed)


def format_spike_data(spikes: np.ndarray, dt: float) -> dict[str, np.ndarray]:
    """Spike times, units, rates and count from a binary (N, n_steps) spike matrix.

    Parameters
    ----------
    spikes : numpy.ndarray, shape (N, n_steps)
        Non-zero where a unit spiked (``LIF_network_fnc``'s ``spk``).
    dt : float
        Time per column, s.

    Returns
    -------
    dict
        ``spike_times`` (s) and ``spike_neurons`` (unit index), in unit order;
        ``firing_rates`` (Hz, per unit); ``total_spikes``.
    """
    spikes = np.asarray(spikes)
    units, steps = np.nonzero(spikes > 0)
    return {"spike_times": steps * float(dt), "spike_neurons": units,
            "firing_rates": (spikes > 0).sum(axis=1) / (spikes.shape[1] * float(dt)),
            "total_spikes": int((spikes > 0).sum())}


def validate_scaling_factor(scaling_factor: float,
                            valid_range: tuple[float, float] = (1.0, 1000.0)) -> bool:
    """``True`` for a positive number (a warning outside ``valid_range``), else ``ValueError``."""
    check_scaling_factor(scaling_factor)
    low, high = valid_range
    if not low <= float(scaling_factor) <= high:
        warnings.warn(f"scaling_factor {float(scaling_factor):g} is outside the usual range "
                      f"{valid_range}", UserWarning, stacklevel=2)
    return True
