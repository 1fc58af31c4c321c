"""Export the spiking network of a model as a NIR graph (optional extra ``nir``).

NIR (the Neuromorphic Intermediate Representation, ``nir`` 1.0) describes a network as
nodes and edges that simulators and neuromorphic hardware read. The graph of
:func:`to_nir` (times in s, voltages in mV, currents in mV at unit resistance):

``input`` (n_inputs) -> ``w_in`` (:class:`nir.Linear`, ``W_in``) -> ``lif``
(:class:`nir.CubaLIF`: ``tau_mem = tau_m``, ``tau_syn = tau_d`` of each unit, ``r = 1``,
``v_leak = bias``, ``v_threshold = v_th``, ``v_reset``) -> ``w_rec`` (:class:`nir.Linear`,
the effective recurrent matrix ``W / s``) -> ``lif``; and ``lif`` -> ``readout_filter``
(:class:`nir.LI`, ``tau = tau_d``, ``r = 1``: the filtered spike train ``r_spk``) ->
``w_out`` (:class:`nir.Linear`, ``W_out / s``) -> ``output``.

What NIR cannot express, and the export warns about (:class:`NIRExportWarning`):

- the **double-exponential synapse** (rise ``tau_r``, then decay ``tau_d``): NIR's current
  synapse is a single exponential, so the export keeps the decay ``tau_d`` and the charge
  of each synaptic event (``W / s``), not the 2 ms rise;
- the **absolute refractory period** ``t_ref`` (2 ms): NIR's LIF has none;
- the engine's **per-step voltage noise**;
- the **direct input current**: the engine adds ``W_in u`` to the membrane current, NIR
  routes every input through the node's synaptic filter (``tau_d``);
- the **rate step of the input** (each stimulus sample held for 5 ms) is the caller's:
  NIR graphs carry no input schedule.

Examples
--------
>>> graph = to_nir(model, 40.0)                       # doctest: +SKIP
>>> write_nir(model, 40.0, "network.nir")             # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from spikernn._io import atomic_path
from spikernn._validate import check_scaling_factor
from spikernn._version import __version__
from spikernn.artifact import ModelArtifact, load_model
from spikernn.spiking.params import LIFParams

#: What the NIR graph cannot express (named in the export's warning).
NOT_EXPRESSED = (
    "the double-exponential synapse (rise tau_r; exported as a single exponential with the "
    "unit's decay tau_d and the same charge)",
    "the absolute refractory period t_ref",
    "the per-step voltage noise",
    "the direct input current (the input enters through the synaptic filter)",
)


class NIRExportWarning(UserWarning):
    """The NIR graph leaves out part of the spiking model (see :data:`NOT_EXPRESSED`)."""


def _nir():
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the NIR export needs nir: pip install 'spikernn[nir]'") from exc
    return nir


def to_nir(model: ModelArtifact | str | os.PathLike, scaling_factor: float,
           params: LIFParams | None = None):
    """The spiking network of ``model`` at ``scaling_factor`` as a :class:`nir.NIRGraph`.

    Parameters
    ----------
    model : ModelArtifact or path
        The rate model.
    scaling_factor : float
        Scaling factor ``s`` (> 0).
    params : LIFParams, optional
        Neuron parameters (LIF only; default SI Table S1).

    Returns
    -------
    nir.NIRGraph
        See the module docstring; ``metadata`` names spikernn's version, the scaling factor
        and what is not expressed.

    Warns
    -----
    NIRExportWarning
        Naming what NIR cannot express (:data:`NOT_EXPRESSED`; the refractory period only
        when ``t_ref > 0``).

    Raises
    ------
    ValueError
        A QIF neuron or a non-positive scaling factor.
    """
    nir = _nir()
    model = load_model(model)
    params = params or LIFParams()
    if params.neuron != "lif":
        raise ValueError(f"params.neuron: expected 'lif' (NIR has no QIF neuron), "
                         f"got {params.neuron!r}")
    scaling_factor = check_scaling_factor(scaling_factor)
    missing = [m for m in NOT_EXPRESSED
               if not (m.startswith("the absolute refractory") and params.t_ref == 0)
               and not (m.startswith("the per-step voltage noise") and params.noise_std == 0)]
    if params.synapse == "single":
        missing = [m for m in missing if not m.startswith("the double-exponential")]
    if missing:
        warnings.warn("NIR cannot express " + "; ".join(missing), NIRExportWarning,
                      stacklevel=2)
    n = model.N
    tau_d = model.tau_d_ms * 1e-3
    s = float(scaling_factor)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([model.n_inputs])}),
        "w_in": nir.Linear(weight=np.asarray(model.w_in, dtype=float)),
        "lif": nir.CubaLIF(tau_syn=tau_d, tau_mem=np.full(n, params.tau_m), r=np.ones(n),
                           v_leak=np.full(n, params.bias), v_threshold=np.full(n, params.v_th),
                           v_reset=np.full(n, params.v_reset), w_in=np.ones(n)),
        "w_rec": nir.Linear(weight=np.asarray(model.w_effective, dtype=float) / s),
        "readout_filter": nir.LI(tau=tau_d, r=np.ones(n), v_leak=np.zeros(n)),
        "w_out": nir.Linear(weight=np.asarray(model.w_out, dtype=float) / s),
        "output": nir.Output(output_type={"output": np.array([model.w_out.shape[0]])}),
    }
    edges = [("input", "w_in"), ("w_in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"),
             ("lif", "readout_filter"), ("readout_filter", "w_out"), ("w_out", "output")]
    metadata = {"generator": f"spikernn {__version__}", "scaling_factor": s,
                "units": "time s, voltage mV, current mV (unit resistance)",
                "input_step_s": model.dt_ms * 1e-3, "not_expressed": "; ".join(missing),
                "task": model.task or ""}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def write_nir(model: ModelArtifact | str | os.PathLike, scaling_factor: float,
              path: str | os.PathLike, params: LIFParams | None = None) -> Path:
    """Write :func:`to_nir` of the model to ``path`` (NIR's HDF5 format), atomically."""
    graph = to_nir(model, scaling_factor, params)
    with atomic_path(path, suffix=".nir") as tmp:
        _nir().write(str(tmp), graph)
    return Path(path)
