"""The fused CUDA kernel against the fused CPU kernel, run through numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, set before numba loads, hence a subprocess). Not run on GPU
hardware here: there, NVVM's multiply-add contraction can round differently in the last bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SCRIPT = r"""
import json, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from test_spiking_engine import make_model, pulse
from spikernn.spiking import _fused_cuda
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.params import LIFParams
from spikernn.spiking.perturbation import Perturbation

_fused_cuda.THREADS = 4  # the simulator runs a Python thread per CUDA thread
report = {}
for case in json.loads(sys.argv[2]):
    synapse, neuron, dtype, noise = case
    net = SpikingNetwork(make_model(n=12), 4.0, LIFParams(synapse=synapse, neuron=neuron),
                         dtype=getattr(torch, dtype))
    kw = dict(seed=5, record=("voltages", "currents", "rates"), noise=noise,
              perturbation=Perturbation("exc", 20, 80, (2, 3, 3)), trial_ids=[4, 9])
    gpu = net.simulate(pulse(2, length=1), backend="fused-cuda", **kw)
    cpu = net.simulate(pulse(2, length=1), backend="fused", **kw)
    names = ("output", "spike_trial", "spike_unit", "spike_step", "voltages", "currents",
             "rates")
    report[" ".join(case)] = {"n_spikes": gpu.n_spikes, "equal": [
        n for n in names if np.array_equal(getattr(gpu, n), getattr(cpu, n))]}
print(json.dumps(report))
"""


def _run(cases: list[tuple[str, str, str, str]]) -> dict:
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE), json.dumps(cases)],
                         env=env, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(report: dict) -> None:
    for case, got in report.items():
        assert got["n_spikes"] > 5, case
        assert len(got["equal"]) == 7, (case, got)  # bit for bit, every array


def test_cuda_kernel_equals_cpu_kernel_in_the_simulator():
    _check(_run([("double", "lif", "float64", "pool")]))


@pytest.mark.slow
def test_cuda_kernel_equals_cpu_kernel_in_the_simulator_everywhere():
    _check(_run([(s, n, d, z) for s in ("double", "single") for n in ("lif", "qif")
                 for d in ("float32", "float64") for z in ("pool", "gaussian")]))
