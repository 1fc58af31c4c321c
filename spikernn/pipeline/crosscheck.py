"""Cross-validate the engine against Brian2 on the same trials, to files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._io import write_json
from .._validate import check_n_trials
from ..artifact import ModelArtifact

#: Files :func:`crosscheck` writes into its output folder.
REPORT_FILE, FIGURE_FILE = "crosscheck.json", "crosscheck.png"


def crosscheck(model: ModelArtifact | str | os.PathLike, out_dir: str | os.PathLike,
               task: str | None = None, n_trials: int = 20, seed: int = 0,
               scaling_factor: float | None = None, noise: bool = False, downsample: int = 10,
               codegen: str = "numpy", target: str = "runtime") -> dict[str, Any]:
    """Run the same trials in the engine and in Brian2; write the report and its figure.

    Parameters are those of :func:`spikernn.bridges.crosscheck.cross_validate`; ``out_dir``
    receives ``crosscheck.json`` and ``crosscheck.png``.

    Returns
    -------
    dict
        The report of :func:`~spikernn.bridges.crosscheck.cross_validate`.
    """
    from spikernn.bridges.crosscheck import cross_validate

    n_trials = check_n_trials(n_trials)
    out = Path(out_dir)
    report = cross_validate(model, scaling_factor=scaling_factor, task=task, n_trials=n_trials,
                            seed=seed, noise=noise, downsample=downsample, codegen=codegen,
                            target=target, figure=out / FIGURE_FILE)
    write_json(out / REPORT_FILE, report)
    return report
