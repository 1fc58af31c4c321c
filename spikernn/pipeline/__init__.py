"""The pipeline: the library layer every command (and every study cell) calls.

Plain functions with typed inputs and outputs, built on the core (:mod:`spikernn.tasks`,
:mod:`spikernn.rate`, :mod:`spikernn.spiking`) and calling the bridges and the analysis:

=================================  ====================================================
:func:`train_model`                train (or resume) a rate RNN, write ``.mat``/``.pth``
                                   -> :class:`TrainedModel` (``conversion_check=``
                                   :class:`ConversionCheck`: conversion-aware)
:func:`simulate_trials`            a task's trials through the converted network
                                   -> :class:`SimulatedTrials` (``result.trials``,
                                   ``result.clock``)
:func:`search_scaling_factor`      the scaling-factor grid search (``lambda_grid_search``)
                                   -> :class:`~spikernn.spiking.search.SearchResult`
:func:`evaluate`                   accuracy (spiking and rate on the same stimuli), figures,
                                   ``metrics.json`` -> :class:`Evaluation`
:func:`analyze_model`              Elephant statistics, rate-vs-spiking agreement,
                                   ``analysis.json`` -> :class:`Analysis`
:func:`analyze_file`               the same for the trials of an NWB or NIX file
:func:`export_result`              a result (with its trial record) to NWB or NIX;
                                   :func:`read_result` reads one back
:func:`crosscheck`                 engine vs Brian2 on the same trials, to files
:func:`run_pipeline`               the whole run (:class:`RunConfig` -> :class:`RunResult`)
=================================  ====================================================

The rate model is run here (:func:`rate_readout`), never by :mod:`spikernn.spiking`.
"""

from ..spiking.search import SearchResult
from ..spiking.search import lambda_grid_search as search_scaling_factor
from .analyze import (
    ANALYSIS_FILE,
    Analysis,
    FileAnalysis,
    analyze_file,
    analyze_model,
    format_summary,
)
from .conversion_check import ConversionCheck
from .crosscheck import crosscheck
from .evaluate import (
    METRICS_FILE,
    Evaluation,
    evaluate,
    evaluate_task,
    evaluation_figures,
    format_metrics,
    rate_readout,
)
from .export import FORMATS, export_result, file_format, parse_record, read_result
from .run import RunConfig, RunResult, format_search, run_pipeline, source_model
from .train import TrainedModel, model_stem, train_model
from .trials import SimulatedTrials, scaling_factor_of, simulate_trials, spiking_network

__all__ = [
    "ANALYSIS_FILE",
    "FORMATS",
    "METRICS_FILE",
    "Analysis",
    "ConversionCheck",
    "Evaluation",
    "FileAnalysis",
    "RunConfig",
    "RunResult",
    "SearchResult",
    "SimulatedTrials",
    "TrainedModel",
    "analyze_file",
    "analyze_model",
    "crosscheck",
    "evaluate",
    "evaluate_task",
    "evaluation_figures",
    "export_result",
    "file_format",
    "format_metrics",
    "format_search",
    "format_summary",
    "model_stem",
    "parse_record",
    "rate_readout",
    "read_result",
    "run_pipeline",
    "scaling_factor_of",
    "search_scaling_factor",
    "simulate_trials",
    "source_model",
    "spiking_network",
    "train_model",
]
