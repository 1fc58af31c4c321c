"""The model artifact: one frozen, validated record of a trained rate RNN.

Everything downstream (the spiking engine, the scaling-factor search, the Brian2 bridge,
exports, the CLI) reads a :class:`ModelArtifact`, never the training code. It reads and
writes the original project's ``.mat`` layout (Kim et al.'s TensorFlow code and its PyTorch
port), so files move both ways, and a ``.pth`` file of tensors and plain values that loads
with ``torch.load(path, weights_only=True)``.

Conventions (as in the original code): ``W[i, j]`` is the weight from unit j onto unit i;
the effective recurrent matrix is ``(relu(w) @ m) * som_m`` with ``m = diag(+1 exc, -1 inh)``
under Dale's principle; time constants are in rate steps of ``dt_ms`` (5 ms).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_path, is_temporary, to_plain
from ._matheader import variable_shapes
from ._validate import check_scaling_factor, check_scaling_factors
from ._version import __version__

ACTIVATIONS = ("sigmoid", "relu", "softplus")


class ModelFileError(ValueError):
    """A model file or record is missing a field, malformed or inconsistent."""


def _field_error(name: str, expected: str, actual: Any) -> ModelFileError:
    return ModelFileError(f"model field '{name}': expected {expected}, got {actual}")


def _shape(a: np.ndarray) -> str:
    return f"shape {tuple(a.shape)}"


def draw_inhibitory(rng: np.random.Generator, N: int, P_inh: float,
                    apply_dale: bool = True) -> np.ndarray:
    """Unit identity: each unit inhibitory with probability ``P_inh`` (none without Dale).

    Returns a bool vector (N,), True for inhibitory units.
    """
    if not apply_dale:
        return np.zeros(int(N), dtype=bool)
    return rng.random(int(N)) < float(P_inh)


def sign_matrix(inh: np.ndarray, apply_dale: bool = True) -> np.ndarray:
    """The sign matrix ``m = diag(+1 excitatory, -1 inhibitory)`` (identity without Dale)."""
    inh = np.asarray(inh, dtype=bool).ravel()
    return np.diag(np.where(inh & bool(apply_dale), -1.0, 1.0))


def som_mask(inh: np.ndarray, som_N: int) -> np.ndarray:
    """Connectivity mask ``som_m``: the first ``som_N`` inhibitory units (the SOM units)
    receive nothing from inhibitory units; every other entry is 1."""
    inh = np.asarray(inh, dtype=bool).ravel()
    mask = np.ones((inh.size, inh.size))
    mask[np.ix_(np.flatnonzero(inh)[: int(som_N)], np.flatnonzero(inh))] = 0.0
    return mask


def effective_weights(w, m, som_m, apply_dale: bool):
    """The effective recurrent matrix ``(relu(w) @ m) * som_m`` (``w`` as is without Dale).

    The one implementation of the formula: the rate model (torch tensors, differentiable)
    and every consumer of a :class:`ModelArtifact` (numpy arrays) call it.

    Parameters
    ----------
    w : numpy.ndarray or torch.Tensor, shape (N, N)
        Recurrent weights (magnitudes under Dale's principle).
    m : same type, shape (N, N)
        Sign matrix ``diag(+1 exc, -1 inh)`` (the identity without Dale).
    som_m : same type, shape (N, N)
        Connectivity mask.
    apply_dale : bool
        Clip ``w`` at 0 first.
    """
    w = w.clip(min=0) if apply_dale else w
    return (w @ m) * som_m


def decay_steps(taus_gaus, taus):
    """Per-unit synaptic decay constants ``sigmoid(taus_gaus) * (max - min) + min``.

    The one implementation of the formula, for numpy arrays and torch tensors alike.

    Parameters
    ----------
    taus_gaus : numpy.ndarray or torch.Tensor, shape (N,)
        Raw (trained) time-constant parameters.
    taus : sequence of float
        ``(tau_min, tau_max)``, or ``(tau,)`` for one fixed constant; rate steps.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (N,)
        Decay constants in rate steps (of ``dt_ms``).
    """
    if len(taus) == 1:
        return taus_gaus * 0 + float(taus[0])
    lo, hi = (float(t) for t in taus)
    raw = -taus_gaus
    sig = 1.0 / (1.0 + (raw.exp() if hasattr(raw, "exp") else np.exp(raw)))
    return sig * (hi - lo) + lo


@dataclass(frozen=True, eq=False)
class ModelArtifact:
    """A trained (or initial) rate RNN, as the conversion to spikes needs it.

    Attributes
    ----------
    w : numpy.ndarray, shape (N, N)
        Recurrent weight magnitudes (non-negative under Dale's principle).
    w0 : numpy.ndarray, shape (N, N)
        Recurrent weights at initialisation (same convention as ``w``).
    m : numpy.ndarray, shape (N, N)
        Sign matrix ``diag(+1 excitatory, -1 inhibitory)``; the identity without Dale.
    som_m : numpy.ndarray, shape (N, N)
        Binary connectivity mask (SOM units receive nothing from inhibitory units).
    w_in : numpy.ndarray, shape (N, n_inputs)
        Input weights.
    w_out : numpy.ndarray, shape (1, N)
        Readout weights.
    b_out : float
        Readout bias.
    inh, exc : numpy.ndarray of bool, shape (N,)
        Inhibitory and excitatory unit identity.
    taus : tuple of float
        ``(tau_min, tau_max)`` of the trained decay constants, or ``(tau,)`` when fixed;
        in rate steps (multiply by ``dt_ms`` for ms).
    taus_gaus : numpy.ndarray, shape (N,)
        Raw trained time-constant parameters (``tau = sigmoid(raw) * (max - min) + min``).
    taus_gaus0 : numpy.ndarray, shape (N,)
        Raw time-constant parameters at initialisation.
    som_N : int
        Number of SOM-type inhibitory units.
    apply_dale : bool
        Whether Dale's principle constrains the signs.
    activation : str
        'sigmoid', 'relu' (clipped at 20) or 'softplus' (clamped at 20).
    dt_ms : float
        Duration of one rate step, ms.
    task : str or None
        Name of the task the model was trained on.
    task_settings : dict
        The task's settings.
    seed : int or None
        Seed of the training run.
    P_inh, P_rec, gain : float
        Construction parameters (fraction inhibitory, connection probability, init gain).
    w_dist : str
        Initial weight distribution ('gaus' or 'gamma').
    training : dict
        Training settings and history (JSON-serialisable).
    opt_scaling_factor : float or None
        Best scaling factor found by the search.
    scaling_factors, all_perfs : numpy.ndarray or None
        The searched scaling factors and the accuracy at each.
    version : str
        spikernn version that wrote the record.
    extra : dict
        Other variables of the ``.mat`` file it was read from (e.g. the seed project's ``x0,
        r0, u, o, target, losses, eval_*, tr, w_in0, x, r``), written back unchanged on save.
    """

    w: np.ndarray
    w0: np.ndarray
    m: np.ndarray
    som_m: np.ndarray
    w_in: np.ndarray
    w_out: np.ndarray
    b_out: float
    inh: np.ndarray
    exc: np.ndarray
    taus: tuple[float, ...]
    taus_gaus: np.ndarray
    taus_gaus0: np.ndarray
    som_N: int = 0  # noqa: N815 (the original file layout's name)
    apply_dale: bool = True
    activation: str = "sigmoid"
    dt_ms: float = 5.0
    task: str | None = None
    task_settings: dict = field(default_factory=dict)
    seed: int | None = None
    P_inh: float = 0.2
    P_rec: float = 0.2
    gain: float = 1.5
    w_dist: str = "gaus"
    training: dict = field(default_factory=dict)
    opt_scaling_factor: float | None = None
    scaling_factors: np.ndarray | None = None
    all_perfs: np.ndarray | None = None
    version: str = __version__
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)
        _freeze(self)

    def __reduce__(self):
        # Rebuilt through __init__, so a copy or an unpickled record is validated and
        # frozen again (pickle would otherwise restore writeable arrays).
        return (type(self), tuple(getattr(self, f.name) for f in dataclasses.fields(self)))

    def __repr__(self) -> str:
        return (f"ModelArtifact(N={self.N}, n_inputs={self.n_inputs}, n_exc={int(self.exc.sum())},"
                f" n_inh={int(self.inh.sum())}, activation={self.activation!r}, taus={self.taus},"
                f" task={self.task!r}, opt_scaling_factor={self.opt_scaling_factor})")

    # -- derived quantities -------------------------------------------------------------
    @property
    def N(self) -> int:
        """Number of units."""
        return int(self.w.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return int(self.w_in.shape[1])

    def effective_matrix(self, w: np.ndarray) -> np.ndarray:
        """:func:`effective_weights` of magnitudes ``w`` with this model's masks."""
        return effective_weights(w, self.m, self.som_m, self.apply_dale)

    @property
    def w_effective(self) -> np.ndarray:
        """Trained effective recurrent matrix, :meth:`effective_matrix` of ``w``."""
        return self.effective_matrix(self.w)

    @property
    def w0_effective(self) -> np.ndarray:
        """Initial effective recurrent matrix, :meth:`effective_matrix` of ``w0``."""
        return self.effective_matrix(self.w0)

    @property
    def tau_steps(self) -> np.ndarray:
        """Per-unit synaptic decay constants in rate steps, shape (N,) (:func:`decay_steps`)."""
        return decay_steps(self.taus_gaus, self.taus)

    @property
    def tau_d_ms(self) -> np.ndarray:
        """Per-unit synaptic decay constants in ms, shape (N,)."""
        return self.tau_steps * self.dt_ms

    def replace(self, **changes: Any) -> ModelArtifact:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- files ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` atomically; the format follows the suffix (.mat or .pth)."""
        suffix = Path(path).suffix.lower()
        if suffix == ".mat":
            return save_mat(self, path)
        if suffix in (".pth", ".pt"):
            return save_pth(self, path)
        raise ValueError(f"path: expected a '.mat' or '.pth' suffix, got {str(path)!r}")


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------

def _validate(a: ModelArtifact) -> None:
    """Check shapes, values and consistency; raise :class:`ModelFileError` naming the field."""
    for name in ("w", "w0", "m", "som_m", "w_in", "w_out", "taus_gaus", "taus_gaus0"):
        arr = getattr(a, name)
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
            raise _field_error(name, "a numeric array", type(arr).__name__)
        if not np.all(np.isfinite(arr)):
            raise _field_error(name, "finite values", f"{int(np.sum(~np.isfinite(arr)))} NaN/Inf")
    if a.w.ndim != 2 or a.w.shape[0] != a.w.shape[1] or a.w.shape[0] < 1:
        raise _field_error("w", "a square (N, N) matrix", _shape(a.w))
    n = a.N
    for name in ("w0", "m", "som_m"):
        if getattr(a, name).shape != (n, n):
            raise _field_error(name, f"shape ({n}, {n})", _shape(getattr(a, name)))
    if a.w_in.ndim != 2 or a.w_in.shape[0] != n or a.w_in.shape[1] < 1:
        raise _field_error("w_in", f"shape ({n}, n_inputs) with n_inputs >= 1", _shape(a.w_in))
    if a.w_out.shape != (1, n):
        raise _field_error("w_out", f"shape (1, {n})", _shape(a.w_out))
    for name in ("inh", "exc"):
        arr = getattr(a, name)
        if not isinstance(arr, np.ndarray) or arr.dtype != bool or arr.shape != (n,):
            raise _field_error(name, f"a boolean array of shape ({n},)",
                               f"{getattr(arr, 'dtype', type(arr))} {getattr(arr, 'shape', '')}")
    if np.any(a.inh == a.exc):
        raise _field_error("exc", "the complement of 'inh'", "units marked both or neither")
    if not isinstance(a.b_out, float) or not np.isfinite(a.b_out):
        raise _field_error("b_out", "a finite float", repr(a.b_out))
    expected_m = np.diag(np.where(a.inh, -1.0, 1.0)) if a.apply_dale else np.eye(n)
    if not np.array_equal(a.m, expected_m):
        raise _field_error("m", "diag(+1 exc, -1 inh)" if a.apply_dale else "the identity",
                           "a different matrix")
    if not np.all((a.som_m == 0) | (a.som_m == 1)):
        raise _field_error("som_m", "a binary (0/1) mask", "other values")
    if len(a.taus) not in (1, 2) or any(not np.isfinite(t) or t <= 0 for t in a.taus):
        raise _field_error("taus", "(tau_min, tau_max) or (tau,) with positive values",
                           repr(a.taus))
    if len(a.taus) == 2 and a.taus[0] > a.taus[1]:
        raise _field_error("taus", "tau_min <= tau_max", repr(a.taus))
    for name in ("taus_gaus", "taus_gaus0"):
        if getattr(a, name).shape != (n,):
            raise _field_error(name, f"shape ({n},)", _shape(getattr(a, name)))
    if a.activation not in ACTIVATIONS:
        raise _field_error("activation", f"one of {ACTIVATIONS}", repr(a.activation))
    if not (0 <= a.som_N <= int(a.inh.sum())):
        raise _field_error("som_N", f"an integer in [0, {int(a.inh.sum())}]", a.som_N)
    if not np.isfinite(a.dt_ms) or a.dt_ms <= 0:
        raise _field_error("dt_ms", "a positive number", a.dt_ms)
    if a.apply_dale and np.any(a.w < 0):
        raise _field_error("w", "non-negative magnitudes under Dale's principle",
                           f"{int(np.sum(a.w < 0))} negative entries")
    for name, check in (("opt_scaling_factor", check_scaling_factor),
                        ("scaling_factors", check_scaling_factors)):
        if getattr(a, name) is not None:
            try:
                check(getattr(a, name), name)
            except ValueError as exc:
                raise ModelFileError(f"model field '{name}': {str(exc).split(': ', 1)[1]}"
                                     ) from None
    if a.all_perfs is not None and not np.all((a.all_perfs >= 0) & (a.all_perfs <= 1)):
        raise _field_error("all_perfs", "accuracies in [0, 1]", a.all_perfs.tolist()[:5])
    if (a.scaling_factors is None) != (a.all_perfs is None) or (
            a.scaling_factors is not None and a.scaling_factors.shape != a.all_perfs.shape):
        raise _field_error("all_perfs", "one accuracy per entry of 'scaling_factors'",
                           f"{None if a.all_perfs is None else a.all_perfs.shape}")


def _refuse(self: Any, *args: Any, **kwargs: Any) -> None:
    raise TypeError("ModelArtifact fields are read-only; use artifact.replace(...) with a "
                    "changed copy (dict(...), list(...)) instead")


class _SharedWhenCopied:
    """Copies of an immutable container are the container itself."""

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self


class FrozenDict(_SharedWhenCopied, dict):
    """A read-only ``dict`` (still a ``dict``, so it compares and serialises as one)."""

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


class FrozenList(_SharedWhenCopied, list):
    """A read-only ``list`` (still a ``list``, so it compares and serialises as one)."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore

    def __reduce__(self):
        return (FrozenList, (list(self),))


def _frozen_value(value: Any) -> Any:
    """A read-only copy of a JSON-like value (dicts, lists, tuples, scalars)."""
    if isinstance(value, Mapping):
        return FrozenDict({k: _frozen_value(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList(_frozen_value(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_frozen_value(v) for v in value)
    if isinstance(value, np.ndarray):
        return _frozen_array(value)
    return value


def _frozen_array(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a read-only array that no other object can write to (copied unless it
    already is one)."""
    if not arr.flags.writeable and arr.flags.owndata:
        return arr
    frozen = np.array(arr, copy=True)
    frozen.flags.writeable = False
    return frozen


def _freeze(a: ModelArtifact) -> None:
    """Make every array of ``a`` read-only and its dicts immutable (after validation)."""
    for f in dataclasses.fields(a):
        value = getattr(a, f.name)
        if isinstance(value, np.ndarray):
            object.__setattr__(a, f.name, _frozen_array(value))
        elif isinstance(value, Mapping):
            object.__setattr__(a, f.name, _frozen_value(value))


# --------------------------------------------------------------------------------------
# .mat (original layout)
# --------------------------------------------------------------------------------------

_JSON_FIELDS = ("task_settings", "training")
#: The ``.mat`` variables :func:`to_mat_dict` writes and :func:`from_mat_dict` reads; any
#: other variable of a file is kept in :attr:`ModelArtifact.extra`.
MAT_FIELDS = frozenset({
    "w", "w0", "m", "som_m", "w_in", "w_out", "b_out", "inh", "exc", "taus", "taus_gaus",
    "taus_gaus0", "N", "som_N", "apply_dale", "activation", "dt_ms", "P_inh", "P_rec", "gain",
    "w_dist", "spikernn_version", "task", "seed", "opt_scaling_factor", "scaling_factors",
    "all_perfs", *(name + "_json" for name in _JSON_FIELDS)})


def to_mat_dict(a: ModelArtifact) -> dict[str, Any]:
    """The ``.mat`` variables of ``a`` in the original project's layout (plus metadata and
    the file's other variables, :attr:`ModelArtifact.extra`)."""
    d: dict[str, Any] = dict(a.extra)
    d |= {
        "w": a.w, "w0": a.w0, "m": a.m, "som_m": a.som_m,
        "w_in": a.w_in, "w_out": a.w_out, "b_out": np.array([[a.b_out]]),
        "inh": a.inh.reshape(1, -1), "exc": a.exc.reshape(1, -1),
        "taus": np.array([a.taus], dtype=float),
        "taus_gaus": a.taus_gaus.reshape(-1, 1), "taus_gaus0": a.taus_gaus0.reshape(-1, 1),
        "N": np.array([[a.N]]), "som_N": np.array([[a.som_N]]),
        "apply_dale": np.array([[a.apply_dale]]), "activation": a.activation,
        "dt_ms": np.array([[a.dt_ms]]), "P_inh": a.P_inh, "P_rec": a.P_rec, "gain": a.gain,
        "w_dist": a.w_dist, "spikernn_version": a.version,
        "task": a.task or "", "seed": np.array([[-1 if a.seed is None else a.seed]]),
    }
    for name in _JSON_FIELDS:
        d[name + "_json"] = json.dumps(getattr(a, name), default=to_plain)
    if a.opt_scaling_factor is not None:
        d["opt_scaling_factor"] = np.array([[a.opt_scaling_factor]])
    if a.scaling_factors is not None:
        d["scaling_factors"] = a.scaling_factors.reshape(1, -1)
        d["all_perfs"] = a.all_perfs.reshape(1, -1)
    return d


def save_mat(a: ModelArtifact, path: str | os.PathLike) -> Path:
    """Write ``a`` to ``path`` in the original ``.mat`` layout, atomically."""
    from scipy.io import savemat

    with atomic_path(path) as tmp:
        savemat(tmp, to_mat_dict(a), do_compression=True)
    return Path(path)


def _get(d: Mapping[str, Any], name: str) -> Any:
    if name not in d:
        raise _field_error(name, "a field of the model file", "nothing (missing)")
    return d[name]


def _found(value: Any) -> str:
    """What a field holds, for messages: the kind of data, not just its Python type."""
    if isinstance(value, np.ndarray):
        kind = {"U": "text", "S": "text", "O": "a cell array or struct (object array)",
                "V": "a struct", "c": "complex numbers", "M": "dates", "m": "durations"
                }.get(value.dtype.kind, "numbers")
        return f"{kind} (dtype {value.dtype}, shape {value.shape})"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    return type(value).__name__


def _array(d: Mapping[str, Any], name: str, **default: Any) -> np.ndarray:
    if name not in d and "default" in default:
        return default["default"]
    value = _get(d, name)
    arr = value if isinstance(value, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            raise _field_error(name, "a real numeric array", _found(value)) from None
    if arr.dtype.kind not in "fiub":
        raise _field_error(name, "a real numeric array", _found(arr))
    return arr.astype(float)


def _scalar(d: Mapping[str, Any], name: str, default: Any = None, cast=float) -> Any:
    if name not in d:
        if default is None:
            raise _field_error(name, "a field of the model file", "nothing (missing)")
        return default
    arr = np.asarray(d[name])
    if arr.dtype.kind not in "fiub":
        raise _field_error(name, "a real number", _found(arr))
    if arr.size != 1:
        raise _field_error(name, "a scalar", f"{arr.size} values")
    value = arr.ravel()[0]
    if cast is int and not float(value).is_integer():
        raise _field_error(name, "an integer", repr(float(value)))
    if cast is float and not np.isfinite(value):
        raise _field_error(name, "a finite number", repr(float(value)))
    return cast(value)


def _string(d: Mapping[str, Any], name: str, default: str | None) -> str | None:
    if name not in d:
        return default
    value = d[name]
    if isinstance(value, np.ndarray):
        value = "".join(str(x) for x in value.ravel()) if value.size else ""
    return str(value).strip()


def _bool_vector(d: Mapping[str, Any], name: str, n: int) -> np.ndarray:
    arr = _array(d, name).ravel()
    if arr.shape != (n,):
        raise _field_error(name, f"{n} entries", f"{arr.size}")
    return arr != 0


def _json(d: Mapping[str, Any], name: str) -> dict:
    text = _string(d, name + "_json", None)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _field_error(name + "_json", "a JSON object", f"invalid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _field_error(name + "_json", "a JSON object ({...})",
                           f"a JSON {type(value).__name__} {text[:40]!r}")
    return value


def _input_weights(d: Mapping[str, Any], n: int) -> np.ndarray:
    """``w_in`` as (N, n_inputs); a flat vector of N entries is one input channel."""
    w_in = np.atleast_2d(_array(d, "w_in"))
    if w_in.ndim == 2 and w_in.shape[0] == n:
        return w_in
    if w_in.size == n:
        return w_in.reshape(n, 1)
    raise _field_error("w_in", f"shape ({n}, n_inputs)", _shape(w_in))


def from_mat_dict(d: Mapping[str, Any], source: str = "record") -> ModelArtifact:
    """Build a :class:`ModelArtifact` from ``.mat`` variables of any supported writer.

    Accepts files written by spikernn, by the original TensorFlow code and by the PyTorch
    port. Files of the latter two store the raw trained ``w``, which may be negative; the rate
    model used ``relu(w)``, so for a Dale model negative entries are set to 0 here, with a
    warning.
    """
    w = _array(d, "w")
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise _field_error("w", "a square (N, N) matrix", _shape(w))
    n = _scalar(d, "N", default=w.shape[0], cast=int)
    if n != w.shape[0]:
        raise _field_error("N", f"the size of 'w' ({w.shape[0]})", n)
    m = _array(d, "m")
    inh = _bool_vector(d, "inh", n)
    exc = _bool_vector(d, "exc", n)
    apply_dale = bool(_scalar(d, "apply_dale", default=bool(np.any(m < 0)), cast=bool))
    w0 = _array(d, "w0")
    if apply_dale and (np.any(w < 0) or np.any(w0 < 0)):
        warnings.warn(
            f"{source}: 'w' holds {int(np.sum(w < 0))} negative entries (raw trained weights, as"
            " the original code saves them); the rate model used relu(w), so they are set to 0.",
            UserWarning, stacklevel=3)
        w, w0 = np.maximum(w, 0.0), np.maximum(w0, 0.0)
    taus = tuple(float(t) for t in _array(d, "taus").ravel())
    taus_gaus = _array(d, "taus_gaus", default=np.zeros(n) if len(taus) == 1 else None)
    if taus_gaus is None:
        raise _field_error("taus_gaus", "a field of the model file", "nothing (missing)")
    taus_gaus = np.asarray(taus_gaus, dtype=float).ravel()
    taus_gaus0 = np.asarray(_array(d, "taus_gaus0", default=taus_gaus), dtype=float).ravel()
    scaling_factors = _array(d, "scaling_factors", default=None)
    all_perfs = _array(d, "all_perfs", default=None)
    seed = _scalar(d, "seed", default=-1, cast=int)
    return ModelArtifact(
        w=w, w0=w0, m=m, som_m=_array(d, "som_m"),
        w_in=_input_weights(d, n),
        w_out=_array(d, "w_out").reshape(1, -1),
        b_out=_scalar(d, "b_out", default=0.0),
        inh=inh, exc=exc, taus=taus,
        taus_gaus=taus_gaus, taus_gaus0=taus_gaus0,
        som_N=_scalar(d, "som_N", default=0, cast=int),
        apply_dale=apply_dale,
        activation=_string(d, "activation", "sigmoid"),
        dt_ms=_scalar(d, "dt_ms", default=5.0),
        task=_string(d, "task", None) or None,
        task_settings=_json(d, "task_settings"),
        seed=None if seed < 0 else seed,
        P_inh=_scalar(d, "P_inh", default=0.2), P_rec=_scalar(d, "P_rec", default=0.2),
        gain=_scalar(d, "gain", default=1.5), w_dist=_string(d, "w_dist", "gaus"),
        training=_json(d, "training"),
        opt_scaling_factor=_scalar(d, "opt_scaling_factor", default=float("nan"))
        if "opt_scaling_factor" in d else None,
        scaling_factors=None if scaling_factors is None else scaling_factors.ravel(),
        all_perfs=None if all_perfs is None else all_perfs.ravel(),
        version=_string(d, "spikernn_version", "unknown"),
        extra={k: v for k, v in d.items() if k not in MAT_FIELDS and not k.startswith("__")},
    )


#: Fields that must be (N, N) matrices, N the size of ``w``.
_SQUARE_FIELDS = ("w", "w0", "m", "som_m")
#: No variable of a model file may hold more values than this or N * N, whichever is more.
_MAX_VALUES = 2**20


def _check_header_shapes(path: Path) -> None:
    """Refuse wrong shapes from the variables' headers, before any data is read (so a
    compressed oversized field is never inflated)."""
    shapes = variable_shapes(path)
    if not shapes or "w" not in shapes:
        return  # not v5, or no 'w': loadmat and from_mat_dict name the problem
    w = shapes["w"]
    if len(w) != 2 or w[0] != w[1]:
        raise _field_error("w", "a square (N, N) matrix", f"shape {w} (from the file header)")
    n = w[0]
    for name in _SQUARE_FIELDS:
        if name in shapes and shapes[name] != (n, n):
            raise _field_error(name, f"shape ({n}, {n})", f"shape {shapes[name]} (from the "
                               "file header)")
    limit = max(n * n, _MAX_VALUES)
    for name, shape in shapes.items():
        if math.prod(shape) > limit:
            raise _field_error(name, f"at most {limit} values (N = {n})",
                               f"shape {shape} (from the file header)")


def load_mat(path: str | os.PathLike) -> ModelArtifact:
    """Read a ``.mat`` model file (spikernn, original TensorFlow code or PyTorch port)."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    _check_header_shapes(path)
    try:
        d = loadmat(path, squeeze_me=False, chars_as_strings=True)
    except Exception as exc:  # scipy raises many types on truncated/corrupt files
        raise ModelFileError(f"{path}: not a readable .mat file ({type(exc).__name__}: {exc})"
                             ) from exc
    return from_mat_dict(d, source=str(path))


# --------------------------------------------------------------------------------------
# .pth (tensors and plain values; torch.load(weights_only=True))
# --------------------------------------------------------------------------------------

def save_pth(a: ModelArtifact, path: str | os.PathLike) -> Path:
    """Write ``a`` to ``path`` as a dict of tensors and strings, atomically.

    The file loads with ``torch.load(path, weights_only=True)``; arrays keep float64.
    """
    import torch

    record: dict[str, Any] = {}
    for name, value in to_mat_dict(a).items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
            record[name] = torch.tensor(np.ascontiguousarray(value))
        elif isinstance(value, str | int | float | bool):
            record[name] = value
        # other objects (cell arrays, structs of a foreign .mat file) cannot go into a
        # weights_only file; they stay in the .mat file only
    with atomic_path(path) as tmp:
        torch.save(record, tmp)
    return Path(path)


def load_pth(path: str | os.PathLike) -> ModelArtifact:
    """Read a ``.pth`` model file written by :func:`save_pth` (``weights_only=True``)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        record = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:
        raise ModelFileError(f"{path}: not a readable .pth file ({type(exc).__name__}: {exc})"
                             ) from exc
    if not isinstance(record, dict):
        raise ModelFileError(f"{path}: expected a dict of tensors, got {type(record).__name__}")
    d = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in record.items()}
    return from_mat_dict(d, source=str(path))


# --------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------

def find_model_file(model: str | os.PathLike) -> Path:
    """Resolve a model file from a file path or a folder holding ``.mat`` files (the first in
    name order, with a warning when there are several; hidden files, such as the temporaries
    of an interrupted write, are not counted)."""
    path = Path(model)
    if path.is_dir():
        candidates = sorted(p for p in path.glob("*.mat") if not is_temporary(p))
        if not candidates:
            raise FileNotFoundError(f"model_dir: expected a .mat file in {path}, found none")
        if len(candidates) > 1:
            warnings.warn(f"model_dir: {path} holds {len(candidates)} .mat files "
                          f"{[c.name for c in candidates]}; using the first, {candidates[0].name}"
                          " (as the seed project did; pass a file to choose)",
                          UserWarning, stacklevel=3)
        return candidates[0]
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return path


def load_model(model: ModelArtifact | str | os.PathLike | Mapping[str, Any]) -> ModelArtifact:
    """Return ``model`` if it is an artifact, else load it from a ``.mat``/``.pth`` file or a
    folder of ``.mat`` files (:func:`find_model_file`); a mapping is read as the variables of
    a ``.mat`` file (what ``scipy.io.loadmat`` returns)."""
    if isinstance(model, ModelArtifact):
        return model
    if isinstance(model, Mapping):
        return from_mat_dict(model)
    path = find_model_file(model)
    if path.suffix.lower() in (".pth", ".pt"):
        return load_pth(path)
    return load_mat(path)


def scaling_factor_of(model: ModelArtifact, scaling_factor: float | None = None) -> float:
    """``scaling_factor``, else the model's ``opt_scaling_factor``; ``ValueError`` if neither."""
    if scaling_factor is None:
        scaling_factor = model.opt_scaling_factor
        if scaling_factor is None:
            raise ValueError("scaling_factor: expected a number (the model holds no search "
                             "result; run lambda_grid_search first), got None")
    return check_scaling_factor(scaling_factor)
