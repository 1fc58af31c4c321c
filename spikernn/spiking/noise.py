"""Membrane-noise sources for the spiking engine.

The engine adds ``noise_std * z`` (mV) to every membrane voltage at every integration step.
It asks a noise source for the values of a group of trials step by step (steps must be asked
in order), as a tensor of shape ``(n_trials, N)`` already multiplied by ``noise_std``.
Sources work in blocks of ``BLOCK_STEPS`` consecutive integration steps. Every source makes the
values of trial ``b`` depend only on the seed and on ``b`` (never on the batch size or on how
the batch is split into chunks), so a batch reproduces its trials run in smaller batches.

Sources
-------
:class:`PoolNoise` (the default, fast)
    Drawing i.i.d. Gaussians took ~40% of a simulation step. The pool source draws one flat
    pool of ``L`` i.i.d. N(0, noise_std^2) values once per simulation, appends its negation,
    and gives each trial and block a window of ``BLOCK_STEPS * N`` consecutive values starting
    at a uniformly random flat offset; step ``k % BLOCK_STEPS`` of the block reads the next N
    values. Within a window the values are distinct i.i.d. draws. Because the offset is not a
    multiple of N and lands in the pool or in its negation with equal chance, which value a
    unit reads and its sign change from window to window, so no unit carries a fixed bias
    (a pool read column by column would give every unit the same small empirical mean in
    every trial, which shifts its firing rate by a seed-dependent amount). Two windows share
    values only by chance (they overlap with probability ~ 2 * BLOCK_STEPS * N / L) and then
    at random lags and units. The marginal distribution is the pool's empirical Gaussian.
    This is exact enough for a noise whose role is to desynchronise units (0.1 mV per step
    against -65..-40 mV), and costs one row gather per step.
:class:`GaussianNoise` (exact)
    Fresh i.i.d. Gaussians from one ``torch.Generator`` per trial (slow: ~4 ns per value).
:class:`ArrayNoise`
    Given values (tests, cross-simulator checks).

Random draws (numpy generators from :func:`spikernn._seeding.child_seed`, float64, then
rounded to the engine dtype; so trial ``b``'s noise depends on ``(seed, trial_id_b)`` only):
for :class:`PoolNoise`, ``z = child_rng(seed, "noise pool").standard_normal(L)`` with
``L = max(MIN_POOL, 64 * BLOCK_STEPS * N)``, ``pool = cat([noise_std z, -noise_std z])``, and
per trial ``offsets[b] = child_rng(seed, "noise", t_b).integers(0, 2 L - BLOCK_STEPS N + 1,
n_blocks)``; trial ``b``'s noise at step ``k`` for unit ``i`` is
``pool[offsets[b, k // BLOCK_STEPS] + (k % BLOCK_STEPS) * N + i]``. For
:class:`GaussianNoise`, trial ``b`` draws ``noise_std * child_rng(seed, "noise",
t_b).standard_normal((BLOCK_STEPS, N))`` block after block.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from .._seeding import child_rng

#: Integration steps per noise block.
BLOCK_STEPS = 100
#: Smallest pool size (values); the pool also holds at least 64 blocks.
MIN_POOL = 2**22
NOISE_KINDS = ("pool", "gaussian")


class NoiseSource(Protocol):
    """Anything that gives the noise of a group of trials, one step at a time."""

    def at(self, trials: slice, k: int, out: torch.Tensor) -> torch.Tensor:
        """Noise (mV) of ``trials`` at step ``k``, shape (n, N); may be written into ``out``
        (a buffer of that shape) or be a view of the source's own storage."""
        ...


class _BlockSource:
    """A source that produces whole blocks (subclasses define ``block``) and serves steps;
    several groups of trials (chunks) may be served in turn."""

    def block(self, trials: slice, index: int) -> torch.Tensor:
        raise NotImplementedError

    def at(self, trials: slice, k: int, out: torch.Tensor) -> torch.Tensor:
        index, key = k // BLOCK_STEPS, (trials.start, trials.stop)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache or cache[key][0] != index:
            cache[key] = (index, self.block(trials, index))
        return cache[key][1][:, k % BLOCK_STEPS]


def n_blocks(n_steps: int) -> int:
    """Number of noise blocks covering ``n_steps`` integration steps."""
    return -(-n_steps // BLOCK_STEPS)


def _unique_rows(trial_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct trial ids and, per row, the index of its id (draws are made once per id)."""
    return np.unique(np.asarray(trial_ids, dtype=np.int64), return_inverse=True)


class PoolNoise:
    """Windows of a pool of Gaussian values at random offsets (see the module docstring).

    Parameters
    ----------
    trial_ids : numpy.ndarray of int, shape (B,)
        Trial id of each row (rows with the same id get the same noise).
    n_units, n_steps : int
        Shape of the simulation.
    noise_std : float
        Standard deviation, mV.
    seed : int
        Seed of the draws.
    dtype : torch.dtype
    device : torch.device or str

    Attributes
    ----------
    pool : torch.Tensor, shape (2 L,)
        ``[noise_std z, -noise_std z]`` in the engine dtype.
    offsets : torch.Tensor of int64, shape (B, n_blocks)
        Flat offset of each row's window for each block.
    """

    def __init__(self, trial_ids: np.ndarray, n_units: int, n_steps: int, noise_std: float,
                 seed: int, dtype: torch.dtype, device: torch.device | str = "cpu") -> None:
        length = max(MIN_POOL, 64 * BLOCK_STEPS * n_units)
        flat = noise_std * child_rng(seed, "noise pool").standard_normal(length)
        pool = torch.empty(2 * length, dtype=dtype)
        pool[:length] = torch.from_numpy(flat)
        pool[length:] = torch.from_numpy(np.negative(flat, out=flat))
        del flat
        ids, rows = _unique_rows(trial_ids)
        high = pool.numel() - BLOCK_STEPS * n_units + 1
        offsets = np.stack([child_rng(seed, "noise", int(t)).integers(0, high, n_blocks(n_steps))
                            for t in ids]) if ids.size else np.zeros((0, n_blocks(n_steps)))
        self.pool = pool.to(device)
        # every flat offset is a row: row o holds pool[o : o + N]
        self.rows = self.pool.as_strided((pool.numel() - n_units + 1, n_units), (1, 1))
        self.n_units = n_units
        self.offsets = torch.from_numpy(offsets[rows].astype(np.int64)).to(device)

    def at(self, trials: slice, k: int, out: torch.Tensor) -> torch.Tensor:
        rows = self.offsets[trials, k // BLOCK_STEPS] + (k % BLOCK_STEPS) * self.n_units
        return torch.index_select(self.rows, 0, rows, out=out)


class GaussianNoise(_BlockSource):
    """Exact i.i.d. Gaussian noise, one numpy generator per row.

    Row ``b``'s generator is ``child_rng(seed, "noise", trial_ids[b])``; block after block
    it draws ``noise_std * standard_normal((BLOCK_STEPS, N))`` (float64, then the engine
    dtype). Blocks must be requested in order for each row.
    """

    def __init__(self, trial_ids: np.ndarray, n_units: int, noise_std: float, seed: int,
                 dtype: torch.dtype, device: torch.device | str = "cpu") -> None:
        self._generators = [child_rng(seed, "noise", int(t)) for t in trial_ids]
        self._shape = (BLOCK_STEPS, n_units)
        self._std, self._dtype, self._device = noise_std, dtype, device

    def block(self, trials: slice, index: int) -> torch.Tensor:
        draws = np.stack([g.standard_normal(self._shape) for g in self._generators[trials]])
        return torch.from_numpy(draws * self._std).to(self._device, self._dtype)


class ArrayNoise(_BlockSource):
    """Given noise values (mV), shape (n_trials, n_steps, N); used as they are.

    Raises
    ------
    ValueError
        If the array is not 3-D or holds a NaN or infinite value.
    """

    def __init__(self, values: np.ndarray | torch.Tensor, dtype: torch.dtype,
                 device: torch.device | str = "cpu") -> None:
        values = torch.as_tensor(values, dtype=dtype)
        if values.ndim != 3:
            raise ValueError(f"noise: expected shape (n_trials, n_steps, N), got "
                             f"{tuple(values.shape)}")
        finite = torch.isfinite(values)
        if not finite.all():
            bad = int((~finite).sum())
            raise ValueError(f"noise: expected finite values (mV), got {bad} NaN or infinite "
                             f"of {values.numel()}")
        pad = n_blocks(values.shape[1]) * BLOCK_STEPS - values.shape[1]
        self.values = torch.nn.functional.pad(values, (0, 0, 0, pad)).to(device)

    def block(self, trials: slice, index: int) -> torch.Tensor:
        return self.values[trials, index * BLOCK_STEPS:(index + 1) * BLOCK_STEPS]
