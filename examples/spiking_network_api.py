"""The pieces under ``spikernn run``: a spiking network, a task's trials on it, spikes, figures.

Builds a :class:`SpikingNetwork` from the shipped Go/NoGo model at one scaling factor,
evaluates it on 50 trials (one batch), looks at one Go and one NoGo trial (spike times,
firing rates, readout) and draws a raster. Also shows that a task registered once on
``TaskFactory`` is evaluated as spiking with no extra code.

    python examples/spiking_network_api.py
"""

from __future__ import annotations

import numpy as np

from spikernn.pretrained import load_pretrained
from spikernn.spiking.evaluation import simulate_trials, summarize, task_for_model
from spikernn.spiking.network import SpikingNetwork
from spikernn.spiking.plots import plot_spike_raster, save_figure
from spikernn.tasks import TaskFactory


def main() -> None:
    model = load_pretrained("go_nogo")
    # The factor found by a search (see convert_go_nogo.py), else a value inside the grid.
    scale = model.opt_scaling_factor or 45.0
    net = SpikingNetwork(model, scaling_factor=scale)

    # Accuracy over 50 trials, simulated as one batch, with the paper's criteria.
    task = task_for_model(model)                    # the model's task and settings
    batch, result = simulate_trials(net, task, 50, seed=0)
    perf = summarize(task, batch, result)
    print(f"s = {scale:g}: {100 * perf['overall_accuracy']:.0f}% correct "
          f"(Go {100 * perf['go_accuracy']:.0f}%, NoGo {100 * perf['nogo_accuracy']:.0f}%), "
          f"mean rate {perf['mean_firing_rate_hz']:.1f} Hz")

    # One trial of each type: the SimulationResult holds the readout and sparse spikes.
    batch = task.sample_batch(2, rng=1, trial_types=["go", "nogo"])
    result = net.simulate(batch.stimulus, seed=1)
    start, stop = task.window_samples(result.clock.samples_per_rate_step)
    for b, name in enumerate(batch.trial_types):
        rates = result.firing_rates()[b]
        print(f"{name}: max readout in the response window "
              f"{result.output[b, start:stop].max():.2f}, {int(result.spike_counts()[b].sum())}"
              f" spikes, E {rates[result.exc].mean():.1f} Hz, I {rates[~result.exc].mean():.1f}"
              f" Hz")
    ax = plot_spike_raster(result, trial=0, title="Go trial")
    print("raster:", save_figure(ax.figure, "go_trial_raster.png"))

    # Any registered task can be evaluated as spiking (here XOR, on the XOR model if shipped).
    print("tasks:", ", ".join(TaskFactory.list_available_tasks()))
    print("first spike times of unit 0 in the Go trial (ms):",
          np.round(1e3 * result.spike_trains(0)[0][:5], 2))


if __name__ == "__main__":
    main()
