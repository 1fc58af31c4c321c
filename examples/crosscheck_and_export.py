"""Cross-check the converted Go/NoGo network in Brian2, export its spikes, analyse them.

The shipped Go/NoGo rate model is converted at a scaling factor s; the same trials run in
spikernn's engine and in an equivalent Brian2 network (noise off: spike for spike), then a
batch of trials goes to an NWB file and through the Elephant-based analysis. Writes
``crosscheck.png``, ``trials.nwb``, ``analysis.json`` and figures into ``--out``. A few
minutes on 2 CPU cores.

    python examples/crosscheck_and_export.py --out go_nogo_bridges --scaling-factor 25
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from spikernn import SpikingNetwork, TaskFactory
from spikernn.analysis import analyze, plot_analysis
from spikernn.bridges.crosscheck import cross_validate
from spikernn.bridges.nwb import write_nwb
from spikernn.pretrained import load_pretrained
from spikernn.rate import run_rate_model
from spikernn.tasks import TrialInfo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("go_nogo_bridges"))
    parser.add_argument("--scaling-factor", type=float, default=25.0)
    parser.add_argument("--n-trials", type=int, default=10)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model = load_pretrained("go_nogo")

    # 1. Engine vs Brian2 on the same trials, noise off and identical initial voltages.
    report = cross_validate(model, args.scaling_factor, "go_nogo", n_trials=args.n_trials,
                            seed=0, noise=False, figure=args.out / "crosscheck.png")
    print("passed:", report["passed"], "| accuracy:", report["accuracy"],
          "| spikes:", report["spike_counts"], "| rates:", report["rates"])

    # 2. Simulate a batch of trials, keep the filtered rates once per 5 ms rate step.
    task = TaskFactory.create_task("go_nogo")
    batch = task.sample_batch(args.n_trials, rng=1)
    net = SpikingNetwork(model, args.scaling_factor)
    result = net.simulate(batch.stimulus, seed=2, record=("rates",), record_every=100)
    result = dataclasses.replace(result, trials=TrialInfo.from_batch(batch, "go_nogo"))

    # 3. NWB export (Units with cell type and decay constant, trials, stimulus, readout).
    print("wrote", write_nwb(result, args.out / "trials.nwb", model))

    # 4. Elephant statistics and the rate-vs-spiking comparison on the same stimuli.
    rate = run_rate_model(model, batch.stimulus, seed=3)
    summary = analyze(result, model, rate, task)
    (args.out / "analysis.json").write_text(json.dumps(summary, indent=1))
    print("figures:", [p.name for p in plot_analysis(result, summary, args.out, rate, model)])


if __name__ == "__main__":
    main()
