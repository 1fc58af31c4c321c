"""The one way spikernn derives child seeds from a caller-given seed.

Every random stream of the library is named by the caller's seed and a path of keys, e.g.
``child_seed(seed, "v0", trial)``: the integer it returns depends on ``seed`` and the keys
only (never on a batch size, an order of calls or a process), so a trial's draws can be
reproduced alone. Keys are non-negative integers or strings (a string stands for the
integer of its UTF-8 bytes read little-endian). The derivation is
``numpy.random.SeedSequence([seed, *keys]).generate_state(1, numpy.uint64)[0] >> 1``: a
63-bit integer, accepted by ``torch.Generator.manual_seed`` and ``numpy.random.default_rng``.
"""

from __future__ import annotations

import numpy as np

Key = int | str | np.integer


def _entropy(value: Key, name: str) -> int:
    if isinstance(value, str):
        return int.from_bytes(value.encode(), "little")
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def child_seed(seed: Key, *keys: Key) -> int:
    """A 63-bit seed derived from ``seed`` and ``keys`` (see the module docstring).

    Parameters
    ----------
    seed : int
        The caller's seed (non-negative).
    *keys : int or str
        Names of the stream, outermost first (e.g. ``"noise", trial``).

    Returns
    -------
    int
        In ``[0, 2**63)``.

    Raises
    ------
    ValueError
        If ``seed`` or a key is negative or not an integer or string.
    """
    entropy = [_entropy(seed, "seed"), *(_entropy(k, "key") for k in keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))


def child_rng(seed: Key, *keys: Key) -> np.random.Generator:
    """A numpy generator seeded with :func:`child_seed` ``(seed, *keys)``."""
    return np.random.default_rng(child_seed(seed, *keys))


__all__ = ["child_rng", "child_seed"]
