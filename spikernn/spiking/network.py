"""Rate-to-spike conversion: a trained rate model becomes a spiking network (Kim et al. 2019).

One-to-one mapping: same N, E/I identity, masks, input weights and per-unit synaptic decay
constants ``td = tau_d_ms / 1000`` (s); recurrent and readout weights divided by the scaling
factor ``s``: ``W_spk = W_rate / s``, ``W_out_spk = W_out / s``, with
``W_rate = (relu(w) @ m) * som_m`` (``w0`` instead of ``w`` with ``use_initial_weights``).
The readout is ``W_out_spk r_spk`` (no bias, as in the paper). Simulation is done by
:func:`spikernn.spiking.engine.simulate`.

Where we follow the paper rather than the seed project's ``LIF_network_fnc``:
units start non-refractory (the seed made all of them refractory for the first 2 ms); rate
sample ``j`` drives integration steps ``[100 j, 100 (j + 1))`` (the seed rounded, a half-sample
shift) and the whole trial is simulated (``T * 100`` steps; the seed dropped the last sample);
``downsample`` decimates the recordings instead of coarsening the integration step; firing
rates count every spike (the seed skipped the first 10 steps).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .._validate import (
    check_device,
    check_int,
    check_scaling_factor,
    check_scaling_factors,
    check_seed,
)
from ..artifact import ModelArtifact, load_model
from .engine import NetworkTensors, simulate
from .params import LIFParams
from .perturbation import Perturbation
from .result import SimulationResult

ModelLike = ModelArtifact | str | os.PathLike | Mapping[str, Any]


class SpikingNetwork:
    """A spiking (LIF/QIF) network converted one-to-one from a rate model.

    Parameters
    ----------
    model : ModelArtifact, path or folder
        The trained rate model.
    scaling_factor : float, optional
        Scaling factor ``s`` (> 0); defaults to the model's ``opt_scaling_factor``.
    params : LIFParams, optional
        Neuron, synapse and integration parameters (SI Table S1 by default).
    device : str or torch.device
        'cpu' or a CUDA device.
    dtype : torch.dtype
        torch.float32 (default) or torch.float64.
    use_initial_weights : bool
        Convert the initial weights ``w0`` instead of the trained ``w`` (a control).

    Raises
    ------
    ValueError
        If no scaling factor is given and the model has none, or it is not positive.
    """

    def __init__(self, model: ModelLike, scaling_factor: float | None = None,
                 params: LIFParams | None = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32, use_initial_weights: bool = False) -> None:
        self.model = load_model(model)
        if scaling_factor is None:
            scaling_factor = self.model.opt_scaling_factor
            if scaling_factor is None:
                raise ValueError("scaling_factor: expected a positive number (the model has no "
                                 "opt_scaling_factor; run lambda_grid_search), got None")
        self.scaling_factor = check_scaling_factor(scaling_factor)
        params = LIFParams() if params is None else params
        if not isinstance(params, LIFParams):
            raise ValueError(f"params: expected a LIFParams, got {type(params).__name__}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
        self.params, self.device, self.dtype = params, check_device(device), dtype
        self.use_initial_weights = bool(use_initial_weights)
        self.w_rate = self._rate_weights()

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.asarray(a, dtype=np.float64)).to(self.device, dtype)

        self.tensors = NetworkTensors(w_rec=t(self.w_rate), w_in=t(self.model.w_in),
                                      w_out=t(self.model.w_out[0]), tau_d=t(self.tau_d))

    def _rate_weights(self) -> np.ndarray:
        return self.model.w0_effective if self.use_initial_weights else self.model.w_effective

    def __repr__(self) -> str:
        return (f"SpikingNetwork(N={self.N}, scaling_factor={self.scaling_factor}, "
                f"neuron={self.params.neuron!r}, synapse={self.params.synapse!r}, "
                f"device={str(self.device)!r}, dtype={self.dtype}, "
                f"use_initial_weights={self.use_initial_weights})")

    @property
    def N(self) -> int:
        """Number of units."""
        return self.model.N

    @property
    def exc(self) -> np.ndarray:
        """Excitatory identity, bool (N,)."""
        return self.model.exc

    @property
    def tau_d(self) -> np.ndarray:
        """Per-unit synaptic decay constants, s, shape (N,)."""
        return self.model.tau_d_ms / 1000.0

    @property
    def w_spk(self) -> np.ndarray:
        """Spiking recurrent weights ``W_rate / s``, shape (N, N)."""
        return self.w_rate / self.scaling_factor

    @property
    def w_out_spk(self) -> np.ndarray:
        """Spiking readout weights ``W_out / s``, shape (1, N)."""
        return self.model.w_out / self.scaling_factor

    def simulate(self, stimuli: np.ndarray | torch.Tensor,
                 scaling_factors: float | Sequence[float] | np.ndarray | None = None,
                 seed: int | None = None, downsample: int = 1, record: Sequence[str] = (),
                 record_every: int = 1, v0: np.ndarray | None = None,
                 perturbation: Perturbation | Mapping[str, Any] | None = None,
                 max_batch: int | None = None, progress: bool = False,
                 noise: str | np.ndarray = "pool", spikes: bool = True,
                 trial_ids: Sequence[int] | np.ndarray | None = None,
                 workers: int | None = None, backend: str | None = None) -> SimulationResult:
        """Simulate a batch of trials.

        Parameters
        ----------
        stimuli : array, shape (B, n_inputs, T) or (n_inputs, T)
            Inputs on the rate time base (one sample per ``model.dt_ms``, held for
            ``dt_ms / params.dt`` integration steps).
        scaling_factors : float or array of shape (B,), optional
            Scaling factor of every trial (or one per trial); the network's by default.
        seed : int, optional
            Seed of every random draw (initial voltages, noise, perturbation).
        downsample : int
            Readout every ``downsample`` integration steps.
        record : subset of ('voltages', 'currents', 'rates')
            Traces to record (memory: B x n_steps / record_every x N values each).
        record_every : int
            Steps between samples of the recorded traces.
        v0 : array, shape (B, N), optional
            Initial voltages, mV (else drawn as ``params.v_init`` says).
        perturbation : Perturbation or dict, optional
            Optogenetic-style perturbation (a ``Perturbation`` or the seed's ``stims`` dict;
            its window is in integration steps).
        max_batch : int, optional
            Most trials simulated at once (results do not depend on it).
        progress : bool
            Show a progress bar.
        noise : {'pool', 'gaussian'} or array (B, n_steps, N)
            Noise source (:mod:`spikernn.spiking.noise`).
        spikes : bool
            Keep the spike events (False saves memory when only the readout matters).
        trial_ids : sequence of int, optional
            Trial id of each row (default ``0 .. B-1``); a row's random draws depend on the
            seed and its id only (common random numbers).
        workers : int, optional
            CPU cores to use (default: all this process may use).
        backend : {'auto', 'fused', 'torch'}, optional
            Engine path (:func:`spikernn.spiking.engine.simulate`).

        Returns
        -------
        SimulationResult
        """
        stim = self._check_stimuli(stimuli)
        n_trials = stim.shape[0]
        factors = check_scaling_factors(self.scaling_factor if scaling_factors is None
                                        else scaling_factors)
        if factors.size == 1:
            factors = np.full(n_trials, factors[0])
        if factors.shape != (n_trials,):
            raise ValueError(f"scaling_factors: expected one value or {n_trials} (one per "
                             f"trial), got {factors.size}")
        if max_batch is not None:
            max_batch = check_int(max_batch, "max_batch", 1)
        if seed is not None:
            seed = check_seed(seed)
        if isinstance(perturbation, Mapping):
            perturbation = Perturbation.from_stims(perturbation)
        result = simulate(
            self.tensors, stim.to(self.device, self.dtype), torch.as_tensor(factors),
            self.params, dt_ms=self.model.dt_ms, seed=seed, v0=v0, noise=noise,
            perturbation=perturbation, downsample=downsample, record=record,
            record_every=record_every, max_batch=max_batch, exc=self.exc, progress=progress,
            spikes=spikes, trial_ids=trial_ids, workers=workers, backend=backend)
        return result

    def _check_stimuli(self, stimuli: np.ndarray | torch.Tensor) -> torch.Tensor:
        stim = torch.as_tensor(np.asarray(stimuli, dtype=np.float64)
                               if not isinstance(stimuli, torch.Tensor) else stimuli)
        if stim.ndim == 2:
            stim = stim[None]
        n_in = self.model.n_inputs
        if stim.ndim != 3 or stim.shape[1] != n_in or stim.shape[2] < 1 or stim.shape[0] < 1:
            raise ValueError(f"stimuli: expected shape (B, {n_in}, T) or ({n_in}, T), got "
                             f"{tuple(np.shape(stimuli))}")
        if not torch.isfinite(stim).all():
            raise ValueError("stimuli: expected finite values, got NaN or Inf")
        return stim


def LIF_network_fnc(model_or_path: ModelLike, scaling_factor: float, u: np.ndarray,
                    stims: Mapping[str, Any] | None = None, downsample: int = 1,
                    use_initial_weights: bool = False, seed: int | None = None,
                    params: LIFParams | None = None):  # noqa: N802 (the seed project's name)
    """Convert a rate model and simulate one trial, recording everything (seed-compatible).

    Parameters
    ----------
    model_or_path : ModelArtifact, path, folder or dict
        The trained rate model: an artifact, a ``.mat``/``.pth`` file or folder, or the
        variables of a ``.mat`` file as ``scipy.io.loadmat`` returns them (as in the seed).
    scaling_factor : float
        Scaling factor ``s``.
    u : numpy.ndarray, shape (n_inputs, T)
        Input on the rate time base.
    stims : dict, optional
        ``{'mode': 'none'|'exc'|'inh', 'dur': [on, off], 'units': [...]}``, the window in
        integration steps (0.05 ms).
    downsample : int
        Every recording is sampled every ``downsample`` steps.
    use_initial_weights : bool
        Use ``w0`` instead of the trained weights.
    seed : int, optional
        Seed of the random draws.
    params : LIFParams, optional
        Defaults to Table S1 (LIF, double-exponential synapse).

    Returns
    -------
    W : numpy.ndarray (N, N)
        ``W_rate / s``.
    REC : numpy.ndarray (N, nt)
        Membrane voltages, mV (``v_peak`` at spikes), ``nt = T * 100 // downsample``.
    spk : numpy.ndarray (N, nt)
        1.0 where a unit spiked within a sample, else 0.0.
    rs : numpy.ndarray (N, nt)
        Filtered spike trains, 1/s.
    all_fr : numpy.ndarray (N,)
        Mean firing rates over the trial, Hz.
    out : numpy.ndarray (nt,)
        Readout ``W_out r / s``.
    params : dict
        ``dt`` (s, between samples), ``T`` (s), ``nt``, ``w_out``, ``td`` and ``td0`` (s, trained
        and initial decay constants), ``IPSCs`` (N, nt) synaptic currents, ``seed``, ``v0``.
    """
    net = SpikingNetwork(model_or_path, scaling_factor, params,
                         dtype=torch.float64, use_initial_weights=use_initial_weights)
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2:
        raise ValueError(f"u: expected shape (n_inputs, T), got {u.shape}")
    res = net.simulate(u, seed=seed, downsample=downsample,
                       record=("voltages", "currents", "rates"), record_every=downsample,
                       perturbation=stims)
    nt = res.n_steps // downsample
    spk = np.zeros((net.N, nt))
    keep = res.spike_step // downsample < nt
    spk[res.spike_unit[keep], res.spike_step[keep] // downsample] = 1.0
    m = net.model
    td0 = (m.replace(taus_gaus=m.taus_gaus0).tau_d_ms if len(m.taus) == 2 else m.tau_d_ms) / 1e3
    info = {"dt": res.dt * downsample, "T": res.duration, "nt": nt, "w_out": m.w_out,
            "td": net.tau_d, "td0": td0, "IPSCs": res.currents[0].T, "seed": res.seed,
            "v0": res.v0[0]}
    return (net.w_spk, res.voltages[0].T, spk, res.rates[0].T, res.firing_rates()[0],
            res.output[0], info)
