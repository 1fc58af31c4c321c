"""The seed project's module path ``spiking.lambda_grid_search`` and its command line.

``from spikernn.spiking.lambda_grid_search import lambda_grid_search`` gives the same function
as ``spikernn.spiking.lambda_grid_search`` (defined in :mod:`spikernn.spiking.search`), and::

    python -m spikernn.spiking.lambda_grid_search --model_dir models/go-nogo \\
        --task_name go-nogo --n_trials 100 --scaling_factors 20:75:5

runs the search with the seed's options (``--scaling_factors start:stop[:step]``, stop
included) and prints each factor's accuracy and the best factor.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .search import lambda_grid_search

__all__ = ["lambda_grid_search", "main", "parse_range"]


def parse_range(text: str) -> list[int]:
    """The seed's ``'start:stop:step'`` or ``'start:stop'`` (stop included) as a list."""
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
        raise ValueError(f"scaling_factors: expected 'start:stop[:step]' with integers and a "
                         f"positive step, got {text!r}")
    start, stop, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
    return list(range(start, stop + 1, step))


def build_parser() -> argparse.ArgumentParser:
    """The seed's options; ``--seed`` and ``--device`` are ours."""
    p = argparse.ArgumentParser(
        prog="python -m spikernn.spiking.lambda_grid_search",
        description="Grid search of the rate-to-spike scaling factor (written into the model).")
    p.add_argument("--model_dir", required=True,
                   help="model .mat/.pth file or folder of .mat files (the first is used)")
    p.add_argument("--task_name", required=True, help="task, e.g. go-nogo, xor, mante")
    p.add_argument("--n_trials", type=int, default=100, help="trials per factor (100)")
    p.add_argument("--scaling_factors", default="20:75:5",
                   help="start:stop[:step], stop included (default 20:75:5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the trials and noise (0)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad input)."""
    args = build_parser().parse_args(argv)
    try:
        result = lambda_grid_search(args.model_dir, args.task_name, args.n_trials,
                                    parse_range(args.scaling_factors), seed=args.seed,
                                    device=args.device, progress=False)
    except (ValueError, FileNotFoundError) as exc:
        print(f"lambda_grid_search: error: {exc}", file=sys.stderr)
        return 2
    for factor, accuracy in zip(result.scaling_factors, result.accuracies, strict=True):
        print(f"Performance for {factor:g}: {accuracy:.3f}")
    print(f"Best scaling factor: {result:g} (written to {result.model_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
