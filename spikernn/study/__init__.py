"""Population studies: grids of train -> search -> evaluate cells, run here or on Dask.

The paper's central results are population statistics (e.g. 94 of 100 sigmoid Go/NoGo rate
models convert at >= 95% LIF accuracy). A study spec (TOML, :mod:`spikernn.study.spec`)
names the fixed settings, the grid axes and the replicates; :func:`run_study` runs every
cell (:mod:`spikernn.study.cell`) locally or on a Dask cluster and writes a tidy table, a
per-condition summary and figures (:mod:`spikernn.study.results`,
:mod:`spikernn.study.figures`). From the shell: ``spikernn study SPEC --out DIR``.

Examples
--------
>>> from spikernn.study import load_spec, run_study
>>> result = run_study("examples/study_smoke.toml", "study-smoke")   # doctest: +SKIP
>>> result.summary["conditions"]["activation=sigmoid"]["share_converted"]  # doctest: +SKIP
"""

from .cell import Cell, run_cell
from .results import summarize, wilson_interval
from .runner import StudyResult, load_study, run_study, study_summary_text
from .spec import SpecError, StudySpec, load_spec, parse_spec

__all__ = [
    "Cell", "SpecError", "StudyResult", "StudySpec", "load_spec", "load_study", "parse_spec",
    "run_cell", "run_study", "study_summary_text", "summarize", "wilson_interval",
]
