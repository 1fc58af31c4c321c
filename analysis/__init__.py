"""Spike-train analysis of spiking RNN results, with Elephant underneath.

Per-unit and population statistics (:mod:`.statistics`), the rate-versus-spiking comparison
at the heart of the conversion method (:mod:`.comparison`), a one-call JSON-serialisable
summary (:func:`analyze`) and its figures (:func:`plot_analysis`).
"""

from .comparison import (
    AlignedTraces,
    align_traces,
    compare_rate_and_spiking,
    filter_spikes,
    pearson_columns,
)
from .plots import plot_analysis
from .statistics import (
    binned_counts,
    correlation_matrix,
    fano_factor,
    fano_factors,
    firing_rates,
    instantaneous_rates,
    isi_cv,
    local_variation,
    population_rate,
    psth,
    result_spiketrains,
    result_trials,
    spike_time_arrays,
)
from .summary import analyze, describe, to_jsonable

__all__ = [
    "AlignedTraces",
    "align_traces",
    "analyze",
    "binned_counts",
    "compare_rate_and_spiking",
    "correlation_matrix",
    "describe",
    "fano_factor",
    "fano_factors",
    "filter_spikes",
    "firing_rates",
    "instantaneous_rates",
    "isi_cv",
    "local_variation",
    "pearson_columns",
    "plot_analysis",
    "population_rate",
    "psth",
    "result_spiketrains",
    "result_trials",
    "spike_time_arrays",
    "to_jsonable",
]
