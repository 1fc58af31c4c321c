"""Convert the shipped Go/NoGo rate model into a functional spiking network.

The steps of Kim, Li & Sejnowski (2019): take a trained rate RNN, search the scaling factor
s (weights / s) on 100 trials per factor, then evaluate the spiking network at the best s on
fresh trials and compare it with the rate model. Writes the model (with the search result),
metrics.json and figures into ``--out``. About a minute on 2 CPU cores.

    python examples/convert_go_nogo.py --out go_nogo_spiking
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spikernn.pretrained import load_pretrained
from spikernn.spiking.eval_tasks import evaluate_task, format_metrics
from spikernn.spiking.search import lambda_grid_search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("go_nogo_spiking"))
    parser.add_argument("--n-trials", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    # 1. The trained rate model (a ModelArtifact), copied into the output folder.
    model = load_pretrained("go_nogo")
    print(model)
    path = model.save(args.out / "go_nogo.mat")

    # 2. Scaling-factor search over the paper's grid (20..75 step 5 for a sigmoid model),
    #    all factors x trials batched through the engine; the result goes into the file.
    search = lambda_grid_search(path, "go_nogo", n_trials=args.n_trials, seed=0,
                                device=args.device)
    for s, acc in zip(search.scaling_factors, search.accuracies, strict=True):
        print(f"s = {s:4g}: {100 * acc:5.1f}%")
    print(f"best s = {search.best_scaling_factor:g}")

    # 3. Evaluation at the best factor on fresh trials (seed 1), rate model on the same
    #    stimuli, figures: rasters per trial type, readouts, accuracy vs s.
    metrics = evaluate_task("go_nogo", path, n_trials=args.n_trials, output_dir=args.out,
                            seed=1, device=args.device)
    print(format_metrics(metrics))


if __name__ == "__main__":
    main()
