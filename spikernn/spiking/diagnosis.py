"""Why a searched model does not convert: read off the search's own measurements.

:func:`diagnose_search` takes what the scaling-factor search already recorded per factor
(accuracy, accuracy per trial type, the median peak of the readout per trial type) and says,
without simulating anything more, which trial types fail, whether the readout is too small
at every factor, whether the best factor sits at the grid's bound, and what to try.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: LIF accuracy at which a model counts as converted (the paper's criterion, 95%).
CONVERSION_CRITERION = 0.95


@dataclass(frozen=True)
class Diagnosis:
    """Why a search's best accuracy is under the criterion (empty ``lines`` when it is not).

    Attributes
    ----------
    converted : bool
        Best accuracy >= ``criterion``.
    criterion : float
        The accuracy a converted model reaches (fraction).
    lines : list of str
        Findings and suggestions, one sentence each, for people.
    numbers : dict
        The same findings for programs: ``best_accuracy``, ``failing_types``
        (``{type: {"accuracy_at_best": a, "max_accuracy": a, "min_accuracy": a}}``),
        ``readout_too_small`` (``{type: max over factors of the median peak |readout|}``),
        ``response_threshold``, ``best_at_bound`` ('lower', 'upper' or None),
        ``stopped_by`` (what ended the extension at that bound) and
        ``suggestions`` (short keys: ``extend_lower``, ``extend_upper``, ``train_longer``,
        ``v_init``).
    """

    converted: bool
    criterion: float
    lines: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"converted": self.converted, "criterion": self.criterion,
                "lines": list(self.lines), "numbers": self.numbers}

    def __str__(self) -> str:
        return "\n".join(self.lines)


def diagnose_search(factors: Sequence[float], accuracies: Sequence[float],
                    accuracy_by_type: Sequence[Mapping[str, float]],
                    peak_readout_by_type: Sequence[Mapping[str, float]], *,
                    responding_types: Sequence[str], response_threshold: float | None,
                    best_index: int, stopped: Mapping[str, str],
                    criterion: float = CONVERSION_CRITERION) -> Diagnosis:
    """Explain a search result from its per-factor measurements.

    Parameters
    ----------
    factors, accuracies : sequence of float, shape (K,)
        Searched factors and the fraction of correct trials at each.
    accuracy_by_type : sequence of mapping, shape (K,)
        Per factor, the accuracy of each trial type.
    peak_readout_by_type : sequence of mapping, shape (K,)
        Per factor, the median over trials of each type of the peak ``|readout|`` in the
        response window (empty mappings when not measured).
    responding_types : sequence of str
        Trial types whose target asks for a response (e.g. 'go'); the others ask for none.
    response_threshold : float or None
        The readout a response must reach (the task's ``go_threshold``/``threshold``), or
        None when the task has no such threshold.
    best_index : int
        Index of the best factor.
    stopped : mapping
        ``{"lower": reason, "upper": reason}``: what kept the search from extending the
        grid further past each edge (e.g. "the extension budget (extend_edges)").
    criterion : float
        Accuracy a converted model reaches.

    Returns
    -------
    Diagnosis
    """
    factors = np.asarray(factors, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    best_acc = float(accuracies[best_index])
    if best_acc >= criterion:
        return Diagnosis(True, criterion, [], {"best_accuracy": best_acc})
    best_factor = float(factors[best_index])
    lines = [f"not converted: best accuracy {100 * best_acc:.1f}% at s = {best_factor:g}, "
             f"under the {100 * criterion:.0f}% criterion"]
    types = list(accuracy_by_type[best_index])
    failing = {}
    for name in types:
        per_factor = np.array([a.get(name, np.nan) for a in accuracy_by_type], dtype=float)
        at_best = float(accuracy_by_type[best_index][name])
        if at_best >= criterion:
            continue
        failing[name] = {"accuracy_at_best": at_best, "max_accuracy": float(np.nanmax(per_factor)),
                         "min_accuracy": float(np.nanmin(per_factor))}
        kind = "a response" if name in responding_types else "no response"
        lines.append(f"{name} trials ({kind} asked) fail: {100 * (1 - at_best):.0f}% wrong at "
                     f"the best factor, at least {100 * (1 - failing[name]['max_accuracy']):.0f}%"
                     f" wrong at every factor")
    too_small = {}
    if response_threshold is not None:
        for name in responding_types:
            peaks = np.array([p.get(name, np.nan) for p in peak_readout_by_type], dtype=float)
            if peaks.size and np.all(np.isfinite(peaks)) and np.all(peaks < response_threshold):
                too_small[name] = float(peaks.max())
                lines.append(f"readout too small: the median peak |readout| of {name} trials is "
                             f"below {response_threshold:g} at every factor (at most "
                             f"{peaks.max():.2f})")
    order = np.argsort(factors)
    at_bound = ("lower" if best_index == order[0] else
                "upper" if best_index == order[-1] else None)
    suggestions = []
    if at_bound is not None:
        reason = stopped.get(at_bound, "unknown")
        line = (f"the best factor is at the grid's {at_bound} bound (not extended further: "
                f"{reason})")
        if "budget" in reason or "one-factor" in reason:
            line += (f": extend the grid further {'down' if at_bound == 'lower' else 'up'} "
                     f"(--scaling-factors, --extend-edges)")
            suggestions.append(f"extend_{at_bound}")
        lines.append(line)
    lines.append("train further: stop at a lower loss (spikernn train --loss-threshold 2) or "
                 "train conversion-aware (--conversion-aware); models trained to a lower loss "
                 "convert more often (docs/convertibility.md)")
    suggestions.append("train_longer")
    if any(name not in responding_types for name in failing):
        lines.append("trials that should stay silent respond: try another initial-voltage "
                     "distribution (LIFParams(v_init='below_threshold') or 'reset')")
        suggestions.append("v_init")
    numbers = {"best_accuracy": best_acc, "best_scaling_factor": best_factor,
               "failing_types": failing, "readout_too_small": too_small,
               "response_threshold": response_threshold, "best_at_bound": at_bound,
               "stopped_by": None if at_bound is None else stopped.get(at_bound),
               "suggestions": suggestions}
    return Diagnosis(False, criterion, lines, numbers)
