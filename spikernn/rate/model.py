"""The continuous rate RNN with Dale's principle (Kim, Li & Sejnowski 2019).

Dynamics, one Euler step of one rate step (``dt_ms`` = 5 ms) per unit::

    x[t] = (1 - 1/tau) * x[t-1] + (1/tau) * (W_rate r[t-1] + W_in u[t-1]) + noise[t]
    r[t] = phi(x[t]);   o[t] = W_out r[t] + b_out

with ``W_rate = (relu(w) @ m) * som_m`` under Dale's principle (``m = diag(+1 exc, -1 inh)``,
``som_m`` the SOM mask), ``tau = sigmoid(taus_gaus) * (tau_max - tau_min) + tau_min`` per
unit, ``noise ~ N(0, noise_std^2)`` and ``x[0] ~ N(0, 0.01^2)``. ``W[i, j]`` is the weight
from unit j onto unit i.

Difference from the seed's PyTorch port: there, the raw time constants were re-drawn from
N(0, 1) on every forward pass and never reached the optimiser, so the "trained" taus were
noise. Here ``taus_gaus`` is a registered :class:`torch.nn.Parameter`, drawn once at
construction and updated by the optimiser like ``w``, ``w_out`` and ``b_out``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validate import check_seed
from ..artifact import (
    ACTIVATIONS,
    ModelArtifact,
    decay_steps,
    draw_inhibitory,
    effective_weights,
    load_model,
    sign_matrix,
    som_mask,
)
from ..tasks import as_generator
from .compat import SeedNetworkAPI
from .recurrence import run_recurrence

#: Accepted spellings of the activation names (the seed port calls ReLU 'clipped_relu').
_ACTIVATION_ALIASES = {"clipped_relu": "relu"}
#: Upper clamp of the ReLU and softplus rates.
RATE_CLAMP = 20.0
#: Standard deviation of the initial state x[0].
X0_STD = 0.01


def normalize_activation(name: str) -> str:
    """Canonical activation name ('sigmoid', 'relu' or 'softplus'); ``ValueError`` otherwise."""
    key = _ACTIVATION_ALIASES.get(str(name).lower(), str(name).lower())
    if key not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS} (or 'clipped_relu'), "
                         f"got {name!r}")
    return key


def activation_fn(name: str):
    """The rate function phi for ``name``: sigmoid, ReLU clamped to [0, 20], softplus <= 20.

    ``phi(x)`` returns a new tensor; ``phi(x, out=buffer)`` writes into ``buffer``.
    """
    key = normalize_activation(name)
    if key == "sigmoid":
        return torch.sigmoid
    if key == "relu":
        return lambda x, out=None: torch.clamp(x, 0.0, RATE_CLAMP, out=out)
    return _softplus_clamped


def _softplus_clamped(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    r = torch.clamp(nn.functional.softplus(x), max=RATE_CLAMP)
    return r if out is None else out.copy_(r)


def activation_derivative(name: str):
    """phi'(x) for ``name`` as ``dphi(x, r)`` with ``r = phi(x)`` (autograd's convention at
    the clamps: slope 1 on the closed interval, 0 outside)."""
    key = normalize_activation(name)
    if key == "sigmoid":
        return lambda x, r: (1.0 - r).mul_(r)
    if key == "relu":
        return lambda x, r: ((x >= 0.0) & (x <= RATE_CLAMP)).to(x.dtype)
    return lambda x, r: torch.sigmoid(x) * (nn.functional.softplus(x) <= RATE_CLAMP)


def set_gpu(gpu: str | int = "0", frac: float = 1.0) -> torch.device:
    """The device for GPU ``gpu`` (a CUDA index), capped at ``frac`` of its memory.

    Unlike the seed project, no environment variable is changed. Falls back to the CPU when
    CUDA is unavailable or the index does not exist.

    Parameters
    ----------
    gpu : str or int
        CUDA device index, e.g. ``'0'``.
    frac : float
        Fraction of the device's memory this process may use, in (0, 1].

    Returns
    -------
    torch.device
    """
    if not 0 < float(frac) <= 1:
        raise ValueError(f"frac: expected a number in (0, 1], got {frac!r}")
    try:
        index = int(gpu)
    except (TypeError, ValueError):
        raise ValueError(f"gpu: expected a device index such as '0', got {gpu!r}") from None
    if not torch.cuda.is_available() or not 0 <= index < torch.cuda.device_count():
        return torch.device("cpu")
    torch.cuda.set_per_process_memory_fraction(float(frac), device=index)
    return torch.device(f"cuda:{index}")


@dataclass
class RNNConfig:
    """Every setting of a rate RNN; defaults are the paper's.

    The first eight fields are the seed project's, in its order (``RNNConfig(200, 0.2, 0.2)``
    means N, P_inh, P_rec as there); ours follow.

    Attributes
    ----------
    N : int
        Number of units.
    P_inh : float
        Probability that a unit is inhibitory (0.2).
    P_rec : float
        Recurrent connection probability (0.2).
    som_N : int
        Number of SOM-type inhibitory units (no input from inhibitory units).
    gain : float
        Gain of the 'gaus' initialisation (1.5).
    apply_dale : bool
        Constrain signs by Dale's principle.
    w_dist : str
        Initial recurrent weights: 'gaus' (N(0,1)/sqrt(N P_rec) * gain) or 'gamma'
        (Gamma(2, 0.003)).
    device : str
        Torch device, e.g. 'cpu' or 'cuda:0'.
    n_inputs : int
        Number of input channels (the task's ``n_inputs``).
    activation : str
        'sigmoid' (default), 'relu' (clamped to [0, 20]) or 'softplus' (clamped at 20).
    taus : tuple of float
        ``(tau_min, tau_max)`` of the trained per-unit decay constants, or ``(tau,)`` for a
        fixed constant; rate steps (x 5 ms). Default (4, 20) = 20..100 ms.
    noise_std : float
        Standard deviation of the per-step state noise (0.1).
    seed : int or None
        Seed of every random draw at construction (E/I identity, weights, raw taus); None
        draws from numpy's global generator, so ``np.random.seed(x)`` makes it reproducible.
    """

    N: int = 200
    P_inh: float = 0.2
    P_rec: float = 0.2
    som_N: int = 0  # noqa: N815 (the seed project's name)
    gain: float = 1.5
    apply_dale: bool = True
    w_dist: str = "gaus"
    device: str = "cpu"
    n_inputs: int = 1
    activation: str = "sigmoid"
    taus: tuple[float, ...] = field(default=(4.0, 20.0))
    noise_std: float = 0.1
    seed: int | None = None

    def __post_init__(self) -> None:
        self.taus = tuple(float(t) for t in np.atleast_1d(self.taus))
        self.activation = normalize_activation(self.activation)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid setting."""
        _check(self.N, "N", isinstance(self.N, int) and self.N >= 2, "an integer >= 2")
        _check(self.n_inputs, "n_inputs", isinstance(self.n_inputs, int) and self.n_inputs >= 1,
               "a positive integer")
        _check(self.P_inh, "P_inh", 0 <= self.P_inh < 1, "a probability in [0, 1)")
        _check(self.P_rec, "P_rec", 0 < self.P_rec <= 1, "a probability in (0, 1]")
        _check(self.som_N, "som_N", isinstance(self.som_N, int) and self.som_N >= 0,
               "a non-negative integer")
        _check(self.w_dist, "w_dist", str(self.w_dist).lower() in ("gaus", "gamma"),
               "'gaus' or 'gamma'")
        _check(self.gain, "gain", np.isfinite(self.gain) and self.gain > 0, "a positive number")
        _check(self.taus, "taus", len(self.taus) in (1, 2)
               and all(np.isfinite(t) and t >= 1 for t in self.taus)
               and self.taus[0] <= self.taus[-1],
               "(tau_min, tau_max) with 1 <= tau_min <= tau_max, or (tau,), in rate steps")
        _check(self.noise_std, "noise_std", np.isfinite(self.noise_std) and self.noise_std >= 0,
               "a non-negative number")
        if self.seed is not None:
            check_seed(self.seed)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-serialisable dict."""
        d = dataclasses.asdict(self)
        d["taus"] = list(self.taus)
        return d


def _check(value: Any, name: str, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


def create_default_config(**overrides: Any) -> RNNConfig:
    """An :class:`RNNConfig` with the paper's defaults and ``overrides`` applied.

    Examples
    --------
    >>> cfg = create_default_config(N=250, n_inputs=4, seed=1)
    >>> cfg.taus
    (4.0, 20.0)
    """
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(RNNConfig)})
    if unknown:
        raise ValueError(f"create_default_config: unknown setting(s) {unknown}; expected "
                         f"names of RNNConfig fields")
    return RNNConfig(**overrides)


class FR_RNN_dale(SeedNetworkAPI, nn.Module):  # noqa: N801 (the seed project's name)
    """Continuous firing-rate RNN of excitatory and inhibitory units.

    The constructor keeps the seed project's positional signature; the time constants,
    activation, noise and seed are keyword-only. :meth:`from_config` builds a network with
    the paper's random ``w_in`` and ``w_out`` from an :class:`RNNConfig`.

    Parameters
    ----------
    N : int
        Number of units.
    P_inh : float
        Probability that a unit is inhibitory.
    P_rec : float
        Recurrent connection probability.
    w_in : array-like, shape (N, n_inputs)
        Input weights (not trained).
    som_N : int
        Number of SOM inhibitory units (the first ``som_N`` inhibitory units receive no
        input from inhibitory units).
    w_dist : str
        'gaus' or 'gamma' initial recurrent weights.
    gain : float
        Gain of the 'gaus' initialisation.
    apply_dale : bool
        Constrain signs by Dale's principle.
    w_out : array-like, shape (1, N)
        Initial readout weights.
    device : str or torch.device
        Where the tensors live.
    taus : sequence of float
        ``(tau_min, tau_max)`` trained range or ``(tau,)`` fixed; rate steps.
    activation : str
        'sigmoid', 'relu' or 'softplus'.
    noise_std : float
        Default standard deviation of the state noise per step.
    seed : int, optional
        Seed of the E/I assignment, the recurrent weights and the raw taus.

    Attributes
    ----------
    w : torch.nn.Parameter, (N, N)
        Trained recurrent weights (raw; the dynamics use ``relu(w)`` under Dale).
    taus_gaus : torch.nn.Parameter, (N,)
        Trained raw time constants (``requires_grad`` False for a fixed tau).
    w_out : torch.nn.Parameter, (1, N);  b_out : torch.nn.Parameter, ()
        Trained readout.
    w_in, m, som_m, inh, exc, w0, taus_gaus0 : buffers
        Fixed input weights, sign matrix, SOM mask, unit identity and initial values.

    The seed project's names (``mask``, ``som_mask``, ``NI``, ``NE``, ``assign_exc_inh()``,
    ``initialize_W()``, ``load_net(model_dir)``, ``forward(u, taus, training_params,
    settings)``) come from :class:`spikernn.rate.compat.SeedNetworkAPI`.
    """

    def __init__(self, N: int, P_inh: float, P_rec: float, w_in, som_N: int, w_dist: str,
                 gain: float, apply_dale: bool, w_out, device: str | torch.device = "cpu", *,
                 taus: Sequence[float] = (4.0, 20.0), activation: str = "sigmoid",
                 noise_std: float = 0.1, seed: int | None = None):
        super().__init__()
        w_in = np.asarray(w_in, dtype=np.float32)
        w_in = w_in.reshape(-1, 1) if w_in.ndim == 1 else w_in
        self.config = RNNConfig(N=N, n_inputs=int(w_in.shape[1]), P_inh=P_inh, P_rec=P_rec,
                                som_N=som_N, w_dist=w_dist, gain=gain,
                                apply_dale=bool(apply_dale), activation=activation,
                                taus=tuple(taus), noise_std=noise_std, seed=seed,
                                device=str(device))
        _check(w_in.shape, "w_in", w_in.shape[0] == N, f"shape ({N}, n_inputs)")
        w_out = np.asarray(w_out, dtype=np.float32).reshape(1, -1)
        _check(w_out.shape, "w_out", w_out.shape == (1, N), f"shape (1, {N})")
        rng = as_generator(seed)
        inh = self._assign_inh(rng)
        w0 = self._initial_weights(rng)
        _check(som_N, "som_N", som_N <= int(inh.sum()),
               f"at most the number of inhibitory units ({int(inh.sum())})")
        taus_gaus0 = rng.standard_normal(N)
        c = self.config
        initial = ModelArtifact(
            w=w0, w0=w0, m=sign_matrix(inh, c.apply_dale), som_m=self._som_mask(inh),
            w_in=w_in, w_out=w_out, b_out=0.0, inh=inh, exc=~inh, taus=c.taus, taus_gaus=taus_gaus0,
            taus_gaus0=taus_gaus0, som_N=c.som_N, apply_dale=c.apply_dale,
            activation=c.activation, seed=c.seed, P_inh=c.P_inh, P_rec=c.P_rec, gain=c.gain,
            w_dist=c.w_dist)
        self._load(initial, device, noise_std)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: RNNConfig) -> FR_RNN_dale:
        """Build a network from ``config`` with ``w_in ~ N(0, 1)`` and ``w_out ~ N(0, 1)/100``.

        The input and readout weights come from the same seeded stream as the rest
        (a child of ``config.seed``), so one seed fixes the whole network.
        """
        config.validate()
        io_rng = as_generator(None if config.seed is None
                              else np.random.default_rng([int(config.seed), 1]))
        w_in = io_rng.standard_normal((config.N, config.n_inputs))
        w_out = io_rng.standard_normal((1, config.N)) / 100.0
        return cls(config.N, config.P_inh, config.P_rec, w_in, config.som_N, config.w_dist,
                   config.gain, config.apply_dale, w_out, config.device, taus=config.taus,
                   activation=config.activation, noise_std=config.noise_std, seed=config.seed)

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact, device: str | torch.device = "cpu",
                      noise_std: float = 0.1) -> FR_RNN_dale:
        """Rebuild a network (weights, masks, taus, readout) from a :class:`ModelArtifact`."""
        net = cls.__new__(cls)
        nn.Module.__init__(net)
        net._load(artifact, device, noise_std)
        return net

    def _load(self, artifact: ModelArtifact, device: str | torch.device,
              noise_std: float) -> None:
        """Take every setting and tensor from ``artifact`` (the one place that reads it)."""
        a = artifact
        self.config = RNNConfig(N=a.N, n_inputs=a.n_inputs, P_inh=a.P_inh, P_rec=a.P_rec,
                                som_N=a.som_N, w_dist=a.w_dist, gain=a.gain,
                                apply_dale=a.apply_dale, activation=a.activation,
                                taus=tuple(a.taus), noise_std=noise_std, seed=a.seed,
                                device=str(device))

        def t(x, dtype=torch.float32):  # a copy: the artifact's arrays are read-only
            return torch.tensor(np.asarray(x), dtype=dtype, device=device)

        self.w = nn.Parameter(t(a.w))
        self.taus_gaus = nn.Parameter(t(a.taus_gaus), requires_grad=len(a.taus) == 2)
        self.w_out = nn.Parameter(t(a.w_out).reshape(1, -1))
        self.b_out = nn.Parameter(t(float(a.b_out)))
        for name in ("w_in", "m", "som_m", "w0", "taus_gaus0"):
            self.register_buffer(name, t(getattr(a, name)))
        self.register_buffer("inh", t(a.inh, torch.bool))
        self.register_buffer("exc", t(a.exc, torch.bool))

    def _assign_inh(self, rng: np.random.Generator) -> np.ndarray:
        return draw_inhibitory(rng, self.config.N, self.config.P_inh, self.config.apply_dale)

    def _initial_weights(self, rng: np.random.Generator) -> np.ndarray:
        c = self.config
        connected = rng.random((c.N, c.N)) < c.P_rec
        w = np.zeros((c.N, c.N))
        if c.w_dist.lower() == "gamma":
            w[connected] = rng.gamma(2.0, 0.003, int(connected.sum()))
        else:
            w[connected] = rng.standard_normal(int(connected.sum()))
            w = w / np.sqrt(c.N * c.P_rec) * c.gain
        return np.abs(w) if c.apply_dale else w

    def _som_mask(self, inh: np.ndarray) -> np.ndarray:
        return som_mask(inh, self.config.som_N)

    # -- derived quantities -------------------------------------------------------------
    @property
    def N(self) -> int:
        """Number of units."""
        return self.config.N

    @property
    def device(self) -> torch.device:
        """Device of the parameters."""
        return self.w.device

    def effective_weights(self) -> torch.Tensor:
        """``(relu(w) @ m) * som_m`` (``w @ m * som_m`` without Dale), shape (N, N)
        (:func:`spikernn.artifact.effective_weights`, differentiable)."""
        return effective_weights(self.w, self.m, self.som_m, self.config.apply_dale)

    def time_constants(self, taus: Sequence[float] | None = None) -> torch.Tensor:
        """Per-unit decay constants in rate steps, shape (N,)
        (:func:`spikernn.artifact.decay_steps` of ``taus_gaus``; ``taus`` defaults to
        ``config.taus``)."""
        return decay_steps(self.taus_gaus, self.config.taus if taus is None else tuple(taus))

    def __repr__(self) -> str:
        c = self.config
        return (f"FR_RNN_dale(N={c.N}, n_inputs={c.n_inputs}, n_inh={int(self.inh.sum())}, "
                f"som_N={c.som_N}, apply_dale={c.apply_dale}, activation={c.activation!r}, "
                f"taus={c.taus}, device={str(self.device)!r})")

    # -- dynamics -----------------------------------------------------------------------
    def forward(self, stimulus: torch.Tensor | np.ndarray,
                taus: Sequence[float] | None = None,
                training_params: Mapping[str, Any] | None = None,
                settings: Mapping[str, Any] | None = None, *,
                generator: torch.Generator | None = None, noise_std: float | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run a batch of trials.

        The seed project's call ``forward(u, taus, training_params, settings)`` (one trial,
        its 11-tuple of lists and parameters) is :meth:`seed_forward`; it is taken when
        ``taus``, ``training_params`` or ``settings`` is given.

        Parameters
        ----------
        stimulus : tensor or array, shape (B, n_inputs, T) or (n_inputs, T)
            Inputs per rate step.
        generator : torch.Generator, optional
            Source of the initial state and the noise (on the model's device); torch's
            global generator when omitted.
        noise_std : float, optional
            State noise per step; ``config.noise_std`` (0.1) when omitted.

        Returns
        -------
        outputs : tensor (B, T)
            Readout ``o[t] = W_out r[t] + b_out`` for t = 0..T-1 (aligned with the target).
        rates : tensor (B, T, N)
            ``r[t] = phi(x[t])``.
        states : tensor (B, T, N)
            Synaptic currents ``x[t]``.
        """
        if taus is not None or training_params is not None or settings is not None:
            return self.seed_forward(stimulus, self.config.taus if taus is None else taus,
                                     training_params or {}, settings or {"T": stimulus.shape[-1]})
        u = torch.as_tensor(stimulus, dtype=self.w.dtype, device=self.device)
        if u.ndim == 2:
            u = u.unsqueeze(0)
        if u.ndim != 3 or u.shape[1] != self.config.n_inputs:
            raise ValueError(f"stimulus: expected shape (batch, {self.config.n_inputs}, T), "
                             f"got {tuple(u.shape)}")
        return self.simulate_steps(u, 1.0 / self.time_constants(), self.config.activation,
                                   generator=generator, noise_std=noise_std)

    def simulate_steps(self, u: torch.Tensor, alpha: torch.Tensor, activation: str, *,
                       generator: torch.Generator | None = None,
                       noise_std: float | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The Euler steps of the dynamics (module docstring) on a batch (B, n_inputs, T).

        ``alpha`` is ``dt / tau`` per unit (N,); returns ``(outputs, rates, states)`` as
        :meth:`forward`.
        """
        phi = activation_fn(activation)
        std = self.config.noise_std if noise_std is None else float(noise_std)
        B, n_in, T = u.shape
        dtype = self.w.dtype
        w_scaled = self.effective_weights().t() * alpha           # r @ w_scaled = alpha*(W r)
        x0 = torch.randn(B, self.N, generator=generator, device=self.device, dtype=dtype)
        x0 = x0 * X0_STD
        noise = torch.randn(T - 1, B, self.N, generator=generator, device=self.device,
                            dtype=dtype)
        # external drive of step t = 1..T-1: noise + u[t-1] @ (alpha * W_in)^T, in place
        u_steps = u[:, :, :-1].permute(2, 0, 1).reshape(-1, n_in)  # ((T-1) B, n_inputs)
        drive = noise.mul_(std)
        drive.view(-1, self.N).addmm_(u_steps, (self.w_in * alpha[:, None]).t())
        xs, rs = run_recurrence(drive, x0, 1.0 - alpha, w_scaled, phi,
                                activation_derivative(activation))
        outputs = (rs @ self.w_out[0] + self.b_out).t()
        return outputs, rs.transpose(0, 1), xs.transpose(0, 1)

    # -- the seed project's methods ------------------------------------------------------
    def load_net(self, model_dir: str | os.PathLike) -> FR_RNN_dale:
        """Replace this network's weights, masks, unit identity and taus with those of a
        ``.mat``/``.pth`` model file or folder (in place, as in the seed project, whose
        argument name ``model_dir`` this keeps although it is a file); returns ``self``."""
        self._load(load_model(model_dir), self.device, self.config.noise_std)
        return self

    def display(self) -> None:
        """Print the unit counts and the sign structure of the effective matrix."""
        W = self.effective_weights().detach().cpu().numpy()
        n_exc = int(self.exc.sum())
        print(f"N = {self.N}: {n_exc} excitatory, {self.N - n_exc} inhibitory "
              f"({self.config.som_N} SOM)")
        for label, frac in (("zero", np.mean(W == 0)), ("positive", np.mean(W > 0)),
                            ("negative", np.mean(W < 0))):
            print(f"  {label} weights: {100 * frac:.2f} %")

    def lesion_w(self, lesion_percentage: float, lesion_scale: float = 0.0,
                 seed: int | None = None) -> None:
        """Scale a random fraction of the existing recurrent connections by
        ``lesion_scale``, in place (see :func:`spikernn.rate.lesion.lesion`)."""
        self._lesion_in_place(lesion_percentage, lesion_scale, None, seed)

    def lesion_w_by_type(self, lesion_percentage: float, lesion_scale: float = 0.0,
                         seed: int | None = None) -> None:
        """Lesion the same fraction of each connection type (E->E, E->I, I->E, I->I),
        in place (see :func:`spikernn.rate.lesion.lesion_by_type`)."""
        from .lesion import CONNECTION_TYPES

        self._lesion_in_place(lesion_percentage, lesion_scale, CONNECTION_TYPES, seed)

    def _lesion_in_place(self, fraction, scale, types, seed) -> None:
        from .lesion import lesion

        lesioned = lesion(self.to_artifact(), fraction, scale=scale, connection_types=types,
                          seed=seed)
        with torch.no_grad():
            self.w.copy_(torch.tensor(lesioned.w, dtype=self.w.dtype))

    # -- export -------------------------------------------------------------------------
    def to_artifact(self, task: str | None = None, task_settings: dict | None = None,
                    training: dict | None = None, **extra: Any) -> ModelArtifact:
        """The trained network as a :class:`ModelArtifact`.

        ``w`` is stored as ``relu(w)`` under Dale's principle, so ``(w @ m) * som_m`` is the
        effective matrix the dynamics used; ``w0`` is the initial magnitude matrix.
        ``extra`` fills other artifact fields (e.g. ``opt_scaling_factor``).
        """
        def a(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().numpy().astype(np.float64)

        c = self.config
        w = torch.relu(self.w) if c.apply_dale else self.w
        return ModelArtifact(
            w=a(w), w0=a(self.w0), m=a(self.m), som_m=a(self.som_m), w_in=a(self.w_in),
            w_out=a(self.w_out), b_out=float(self.b_out.detach().cpu()),
            inh=self.inh.cpu().numpy().copy(), exc=self.exc.cpu().numpy().copy(),
            taus=tuple(c.taus), taus_gaus=a(self.taus_gaus), taus_gaus0=a(self.taus_gaus0),
            som_N=c.som_N, apply_dale=c.apply_dale, activation=c.activation,
            task=task, task_settings=dict(task_settings or {}), seed=c.seed, P_inh=c.P_inh,
            P_rec=c.P_rec, gain=c.gain, w_dist=c.w_dist, training=dict(training or {}),
            **extra)


@contextlib.contextmanager
def torch_threads(n: int | None, device: torch.device) -> Iterator[None]:
    """Set ``torch.set_num_threads(n)`` for CPU work inside the block, then restore it.

    The rate model's per-step matrices are small (N x N, N ~ 200), so one thread is fastest,
    and extra threads contend badly when other processes share the cores (9x slower measured
    on a loaded 2-core machine). ``n=None`` or a non-CPU ``device`` leaves torch's setting.
    """
    if n is None or device.type != "cpu":
        yield
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def __getattr__(name: str) -> Any:
    """The seed's ``from rate.model import loss_op, eval_rnn`` (defined in :mod:`.training`)."""
    if name in ("loss_op", "eval_rnn"):
        from . import training

        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
