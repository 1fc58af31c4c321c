"""Context-dependent integration (Mante et al. 2013): integrate the cued one of two noisy inputs."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from ._timing import validate_threshold, validate_timing
from .base import AbstractTask, SeedLike, as_generator

_TYPES = {"ctx1_pos": (0, 1), "ctx1_neg": (0, -1), "ctx2_pos": (1, 1), "ctx2_neg": (1, -1)}
#: The seed project's trial types: the cued context (modality 1 = color, 2 = motion).
_CONTEXTS = {"color": 0, "motion": 1}


class ManteTask(AbstractTask):
    """Context-dependent sensory integration task (Kim, Li & Sejnowski 2019).

    Four inputs: rows 0-1 are two sensory modalities, white noise N(0, ``noise_std``^2)
    plus an offset of +/-``offset`` during ``[stim_on, stim_on + stim_dur)``, zero elsewhere;
    rows 2-3 are the context cue (row 2 = 1 for modality 1, row 3 = 1 for modality 2) for
    the whole trial. The label is the sign (+1 or -1) of the cued modality's offset; the
    target is the label after the stimulus window (the response window) and 0 before.
    Correct: the output passes ``+threshold`` (0.7) for label +1 or ``-threshold`` for -1 in
    the response window. Trial types: ``'ctx1_pos', 'ctx1_neg', 'ctx2_pos', 'ctx2_neg'``
    (the cued modality and the label; the other modality's sign is random). The seed
    project's ``'color'`` and ``'motion'`` force the context (modality 1 or 2) with a random
    label.

    Settings (rate steps of 5 ms): ``T`` 500, ``stim_on`` 50, ``stim_dur`` 200, ``DeltaT`` 1,
    ``offset`` 0.5, ``noise_std`` 1.0, ``threshold`` 0.7.
    """

    strict_settings = True

    name = "mante"
    n_inputs = 4
    trial_types = tuple(_TYPES)
    seed_trial_types = tuple(_CONTEXTS)

    @classmethod
    def get_default_settings(cls) -> dict[str, Any]:
        return {"T": 500, "stim_on": 50, "stim_dur": 200, "DeltaT": 1,
                "offset": 0.5, "noise_std": 1.0, "threshold": 0.7}

    def validate_settings(self) -> None:
        s = self.settings
        validate_timing(self, s.get("stim_on", 0) + s.get("stim_dur", 0), "stim_on + stim_dur")
        self._require("offset", lambda v: isinstance(v, Real) and v > 0, "a positive number")
        self._require("noise_std", lambda v: isinstance(v, Real) and v >= 0,
                      "a non-negative number")
        validate_threshold(self, "threshold")

    def generate_stimulus(self, trial_type: str | None = None, seed: SeedLike | bool = False):
        """Return ``(stimulus (4, T), label)``; label +1 or -1."""
        rng = self.rng if seed is False else as_generator(seed)
        self.check_trial_type(trial_type)
        return self._draw_trial(trial_type, rng)[:2]

    def _draw_trial(self, trial_type, rng):
        if trial_type in _CONTEXTS:
            trial_type = self.trial_types[2 * _CONTEXTS[trial_type] + int(rng.integers(2))]
        elif trial_type is None:
            trial_type = self.trial_types[int(rng.integers(4))]
        context, label = _TYPES[trial_type]
        signs = rng.choice([-1.0, 1.0], size=2)
        signs[context] = label
        s = self.settings
        on, off = s["stim_on"], s["stim_on"] + s["stim_dur"]
        stimulus = np.zeros((4, self.T), dtype=np.float32)
        noise = rng.standard_normal((2, off - on)) * s["noise_std"]
        stimulus[:2, on:off] = noise + signs[:, None] * s["offset"]
        stimulus[2 + context, :] = 1.0
        return stimulus, label, trial_type

    def generate_target(self, label, seed: SeedLike | bool = False) -> np.ndarray:
        """Return the target, shape (T,): the label (+1/-1) after the stimulus window."""
        if label not in (1, -1):
            raise ValueError(f"label: expected +1 or -1, got {label!r}")
        target = np.zeros(self.T, dtype=np.float32)
        target[self.response_window()[0]:] = float(label)
        return target

    def is_correct(self, output, label, samples_per_step: float = 1.0) -> bool:
        start, stop = self.window_samples(samples_per_step)
        window = np.asarray(output)[start:stop]
        if label == 1:
            return float(np.max(window)) > self.settings["threshold"]
        return float(np.min(window)) < -self.settings["threshold"]
