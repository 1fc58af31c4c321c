"""Lesions of recurrent connections: a random fraction, overall or per connection type.

A lesion scales a randomly chosen fraction of the *existing* recurrent connections (non-zero
entries of the effective matrix) by ``scale`` (0 removes them). Connection types follow the
convention ``W[i, j]`` = weight from unit j onto unit i: ``'E->I'`` is from an excitatory
(column) onto an inhibitory (row) unit. Lesions return a new model or artifact; the input is
left untouched, and the lesion is recorded in ``artifact.training['lesions']``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..artifact import ModelArtifact
from ..tasks import as_generator
from ..tasks.base import SeedLike
from .model import FR_RNN_dale

CONNECTION_TYPES = ("E->E", "E->I", "I->E", "I->I")


def connection_type_mask(artifact: ModelArtifact, connection_type: str) -> np.ndarray:
    """Boolean (N, N) mask of the entries ``W[post, pre]`` of one connection type."""
    if connection_type not in CONNECTION_TYPES:
        raise ValueError(f"connection_type: expected one of {CONNECTION_TYPES}, "
                         f"got {connection_type!r}")
    pre, post = connection_type.split("->")
    cols = artifact.exc if pre == "E" else artifact.inh
    rows = artifact.exc if post == "E" else artifact.inh
    return np.outer(rows, cols)


def lesion(model: ModelArtifact | FR_RNN_dale, fraction: float, *, scale: float = 0.0,
           connection_types: str | Sequence[str] | None = None, seed: SeedLike = None
           ) -> ModelArtifact | FR_RNN_dale:
    """Scale a random ``fraction`` of the existing recurrent connections by ``scale``.

    Parameters
    ----------
    model : ModelArtifact or FR_RNN_dale
        The model; a new object of the same type is returned.
    fraction : float
        Fraction in [0, 1] of the existing connections to lesion. With
        ``connection_types``, the fraction is taken within each type separately.
    scale : float
        Factor in [0, 1] applied to the chosen weights (0 cuts them).
    connection_types : str or sequence of str, optional
        Restrict to these types among ``'E->E', 'E->I', 'I->E', 'I->I'``; one pool of all
        connections when omitted.
    seed : int or numpy.random.Generator, optional
        Source of the random choice.

    Returns
    -------
    ModelArtifact or FR_RNN_dale
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction!r}")
    if not 0 <= scale <= 1:
        raise ValueError(f"scale: expected a number in [0, 1], got {scale!r}")
    artifact = model.to_artifact() if isinstance(model, FR_RNN_dale) else model
    rng = as_generator(seed)
    if connection_types is None:
        pools = [np.ones((artifact.N, artifact.N), dtype=bool)]
    else:
        types = [connection_types] if isinstance(connection_types, str) else connection_types
        pools = [connection_type_mask(artifact, t) for t in types]
    existing = artifact.w_effective != 0
    factor = np.ones_like(artifact.w)
    n_lesioned = 0
    for pool in pools:
        candidates = np.flatnonzero(existing & pool)
        chosen = rng.choice(candidates, size=int(fraction * candidates.size), replace=False)
        factor.flat[chosen] = scale
        n_lesioned += chosen.size
    record = {"fraction": float(fraction), "scale": float(scale), "n_lesioned": n_lesioned,
              "connection_types": None if connection_types is None else list(
                  [connection_types] if isinstance(connection_types, str) else connection_types)}
    training = dict(artifact.training)
    training["lesions"] = [*training.get("lesions", []), record]
    lesioned = artifact.replace(w=artifact.w * factor, training=training)
    if isinstance(model, FR_RNN_dale):
        return FR_RNN_dale.from_artifact(lesioned, device=model.device,
                                         noise_std=model.config.noise_std)
    return lesioned


def lesion_by_type(model: ModelArtifact | FR_RNN_dale, fraction: float, *, scale: float = 0.0,
                   seed: SeedLike = None) -> ModelArtifact | FR_RNN_dale:
    """Lesion the same ``fraction`` of each connection type (E->E, E->I, I->E, I->I)."""
    return lesion(model, fraction, scale=scale, connection_types=CONNECTION_TYPES, seed=seed)
