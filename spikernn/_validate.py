"""One validator per concept: seeds, trial counts, scaling factors, devices, memory.

Every public entry point (library functions and the command line) checks these values with
the functions here, so a bad value gives the same message wherever it enters:
``"<field>: expected <what>, got <value>"`` as a :class:`ValueError`. The ``name`` argument
is the field as the caller knows it (``"seed"``, ``"--seed"``, ``"n_trials"`` ...).

This module is at the bottom of the package: it imports nothing from spikernn, and torch
only inside :func:`check_device`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

#: Largest seed accepted (numpy's SeedSequence takes any non-negative integer; torch's
#: generators take 64-bit seeds, and JSON/.mat files store 64-bit integers).
MAX_SEED = 2**63 - 1


def _describe(value: Any) -> str:
    """``repr`` of ``value`` with its type when the repr alone would hide it."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(value, bool | str | type(None) | int | float):
        return text
    return f"{text} ({type(value).__name__})"


def check_int(value: Any, name: str, minimum: int | None = None,
              maximum: int | None = None, expected: str | None = None) -> int:
    """An integer in ``[minimum, maximum]`` (bounds optional); bools and floats are refused.

    Parameters
    ----------
    value : Any
        The value to check (Python or numpy integer).
    name : str
        Field name for the message.
    minimum, maximum : int, optional
        Inclusive bounds.
    expected : str, optional
        What the message says is expected (default: from the bounds).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Naming ``name``, the expected range and ``value``.
    """
    lo = "" if minimum is None else f" >= {minimum}"
    hi = "" if maximum is None else f" <= {maximum}"
    expected = expected or f"an integer{lo}{' and' if lo and hi else ''}{hi}"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected {expected}, got {_describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name}: expected {expected}, got {value}")
    return value


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed: an integer in ``[0, 2**63 - 1]``."""
    return check_int(seed, name, 0, MAX_SEED, "an integer in [0, 2**63 - 1]")


def check_n_trials(n_trials: Any, name: str = "n_trials") -> int:
    """A number of trials: a positive integer."""
    return check_int(n_trials, name, 1)


def check_positive(value: Any, name: str) -> float:
    """A finite positive real number (a scaling factor, a memory budget, ...)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a finite positive number, got {_describe(value)}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a finite positive number, got {value!r}")
    return value


#: Scaling factors outside this range are refused: below it, weights ``w / s`` overflow
#: float32 (and the network saturates long before); above it they underflow to zero.
SCALING_FACTOR_RANGE = (1e-6, 1e6)


def check_scaling_factor(value: Any, name: str = "scaling_factor") -> float:
    """One scaling factor s (the paper's 1/lambda): a finite number in [1e-6, 1e6]."""
    value = check_positive(value, name)
    lo, hi = SCALING_FACTOR_RANGE
    if not lo <= value <= hi:
        raise ValueError(f"{name}: expected a number in [{lo:g}, {hi:g}] (weights are divided "
                         f"by it), got {value!r}")
    return value


def check_scaling_factors(values: Any, name: str = "scaling_factors",
                          distinct: bool = False) -> np.ndarray:
    """Scaling factors: a number or a non-empty 1-D sequence, each as :func:`check_scaling_factor`.

    Parameters
    ----------
    values : float or sequence of float
        The factors.
    name : str
        Field name for the message.
    distinct : bool
        Also require distinct values (a search grid).

    Returns
    -------
    numpy.ndarray of float64, shape (K,)
    """
    if isinstance(values, str | bytes):
        raise ValueError(f"{name}: expected positive numbers, got {values!r}")
    try:
        arr = np.atleast_1d(np.asarray(values))
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected positive numbers, got {_describe(values)}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected positive numbers, got {_describe(values)}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    lo, hi = SCALING_FACTOR_RANGE
    bad = arr[~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))]
    if bad.size:
        raise ValueError(f"{name}: expected finite numbers in [{lo:g}, {hi:g}], got "
                         f"{bad.tolist()[:5]}")
    if distinct and np.unique(arr).size != arr.size:
        raise ValueError(f"{name}: expected distinct values, got {arr.tolist()}")
    return arr


def check_device(device: Any, name: str = "device"):
    """A torch device that exists on this machine: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        An unparsable name, or a CUDA (MPS) device on a machine without one, or a CUDA
        index at or beyond the number of GPUs.
    """
    import torch

    if isinstance(device, torch.device):
        dev = device
    else:
        if not isinstance(device, str):
            raise ValueError(f"{name}: expected a torch device such as 'cpu' or 'cuda:0', "
                             f"got {_describe(device)}")
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            raise ValueError(f"{name}: expected a torch device such as 'cpu' or 'cuda:0', "
                             f"got {device!r}") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}: expected 'cpu' (CUDA is not available on this machine), "
                             f"got {str(device)!r}")
        count = torch.cuda.device_count()
        if (dev.index or 0) >= count:
            raise ValueError(f"{name}: expected a CUDA index below {count}, got "
                             f"{str(device)!r}")
        return dev
    if dev.type == "mps" and getattr(torch.backends, "mps", None) is not None \
            and torch.backends.mps.is_available():
        return dev
    raise ValueError(f"{name}: expected 'cpu' or an available CUDA device, got {str(device)!r}")



def available_bytes() -> int | None:
    """Memory the system can still give (``MemAvailable`` plus free swap), or None where
    unknown."""
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    except (OSError, ValueError, IndexError):
        return None
    if "MemAvailable" not in info:
        return None
    return info["MemAvailable"] + info.get("SwapFree", 0)


def check_fits(needed: float, what: str) -> None:
    """Raise MemoryError, before anything is allocated, if ``needed`` bytes exceed what
    the system has.

    Parameters
    ----------
    needed : float
        Bytes about to be allocated.
    what : str
        What they are for, and how to need less (shown in the message).
    """
    have = available_bytes()
    if have is not None and needed > have:
        raise MemoryError(f"{what}: needs {_gib(needed)} of memory, {_gib(have)} available")


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"
