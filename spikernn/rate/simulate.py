"""Run a trained rate model on given stimuli: the reference for rate-vs-spike comparisons."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import check_seed
from ..artifact import ModelArtifact, load_model
from .model import FR_RNN_dale, torch_threads


@dataclass(frozen=True)
class RateResult:
    """Trajectories of a rate RNN on a batch of trials (rate steps of ``dt_ms`` = 5 ms).

    Attributes
    ----------
    output : numpy.ndarray, (B, T) float32
        Readout ``W_out r[t] + b_out``.
    rates : numpy.ndarray, (B, T, N) float32
        Firing rates ``r[t] = phi(x[t])`` (dimensionless).
    x : numpy.ndarray, (B, T, N) float32
        Synaptic currents.
    """

    output: np.ndarray
    rates: np.ndarray
    x: np.ndarray

    def __len__(self) -> int:
        return self.output.shape[0]


@torch.no_grad()
def run_rate_model(model: ModelArtifact | FR_RNN_dale | str | os.PathLike, stimulus,
                   seed: int | None = None, noise_std: float = 0.1,
                   device: str | torch.device = "cpu", *, num_threads: int | None = 1
                   ) -> RateResult:
    """Simulate a rate model with its trained per-unit time constants.

    Parameters
    ----------
    model : ModelArtifact, FR_RNN_dale or path-like
        The model, or a ``.mat``/``.pth`` file (or a folder with one ``.mat`` file). A
        network on another device than ``device`` is copied there, never moved.
    stimulus : array-like, shape (B, n_inputs, T) or (n_inputs, T)
        Inputs per rate step.
    seed : int, optional
        Seed of the initial states and the noise (torch's global generator when omitted).
    noise_std : float
        Standard deviation of the state noise per step (0.1 as in training; 0 for a
        deterministic run apart from x[0]).
    device : str or torch.device
        Where to simulate.
    num_threads : int or None
        Torch CPU threads for the run (1 is fastest for these small matrices; None keeps
        torch's setting).

    Returns
    -------
    RateResult
        Arrays of shape (B, T) and (B, T, N), float32, on the CPU.

    Examples
    --------
    >>> from spikernn.pretrained import load_pretrained
    >>> from spikernn.tasks import TaskFactory
    >>> batch = TaskFactory.create_task("go_nogo").sample_batch(4, rng=0)
    >>> res = run_rate_model(load_pretrained("go_nogo"), batch.stimulus, seed=0)
    >>> res.output.shape
    (4, 200)
    """
    if not np.isfinite(noise_std) or noise_std < 0:
        raise ValueError(f"noise_std: expected a non-negative number, got {noise_std!r}")
    if isinstance(model, FR_RNN_dale) and model.device == torch.device(device):
        net = model
    else:
        if isinstance(model, FR_RNN_dale):
            model = model.to_artifact()
        net = FR_RNN_dale.from_artifact(load_model(model), device=device)
    generator = None
    if seed is not None:
        generator = torch.Generator(device=net.device).manual_seed(check_seed(seed))
    with torch_threads(num_threads, net.device):
        output, rates, x = net(stimulus, generator=generator, noise_std=noise_std)
    return RateResult(output=_np(output), rates=_np(rates), x=_np(x))


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32, copy=False)
