"""Temporal exclusive OR: two sequential signed pulses, then report whether they agree."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._timing import _is_int, validate_threshold, validate_timing
from .base import AbstractTask, SeedLike, as_generator

_SIGNS = {"same": ((1, 1), (-1, -1)), "diff": ((1, -1), (-1, 1))}
#: The seed project's trial types: the two pulses' signs.
_PATTERNS = {"++": (1, 1), "+-": (1, -1), "-+": (-1, 1), "--": (-1, -1)}


class XORTask(AbstractTask):
    """XOR task (Kim, Li & Sejnowski 2019).

    Input 1 carries a pulse of +1 or -1 at ``[stim_on, stim_on + stim_dur)``; input 2 a
    pulse of +1 or -1 ``delay`` steps after the first ends. Label ``'same'`` (target +1) if
    the signs agree, ``'diff'`` (target -1) otherwise; the target lasts ``resp_dur`` steps
    starting ``delay`` steps after the second pulse (the response window). Correct: the
    maximum output in the window exceeds ``threshold`` (0.7) for 'same', the minimum falls
    below ``-threshold`` for 'diff'. Trial types are the labels; the seed project's
    ``'++', '+-', '-+', '--'`` (the two signs) force both pulses.

    Settings (rate steps of 5 ms): ``T`` 300, ``stim_on`` 50, ``stim_dur`` 50, ``delay`` 10,
    ``resp_dur`` 100, ``DeltaT`` 1, ``threshold`` 0.7.
    """

    strict_settings = True

    name = "xor"
    n_inputs = 2
    trial_types = ("same", "diff")
    seed_trial_types = tuple(_PATTERNS)

    @classmethod
    def get_default_settings(cls) -> dict[str, Any]:
        return {"T": 300, "stim_on": 50, "stim_dur": 50, "delay": 10, "resp_dur": 100,
                "DeltaT": 1, "threshold": 0.7}

    def validate_settings(self) -> None:
        self._require("delay", lambda v: _is_int(v) and v >= 0, "a non-negative integer")
        self._require("resp_dur", lambda v: _is_int(v) and v > 0, "a positive integer")
        validate_timing(self, self.response_window()[1] if self._has_timing() else 0,
                        "end of the response window")
        validate_threshold(self, "threshold")

    def _has_timing(self) -> bool:
        return all(_is_int(self.settings.get(k)) for k in ("stim_on", "stim_dur"))

    def _second_pulse(self) -> tuple[int, int]:
        s = self.settings
        start = s["stim_on"] + s["stim_dur"] + s["delay"]
        return start, start + s["stim_dur"]

    def response_window(self) -> tuple[int, int]:
        start = self._second_pulse()[1] + self.settings["delay"]
        return start, start + self.settings["resp_dur"]

    def generate_stimulus(self, trial_type: str | None = None, seed: SeedLike | bool = False):
        """Return ``(stimulus (2, T), label)``; label 'same' or 'diff'."""
        rng = self.rng if seed is False else as_generator(seed)
        self.check_trial_type(trial_type)
        return self._draw_trial(trial_type, rng)[:2]

    def _draw_trial(self, trial_type, rng):
        if trial_type in _PATTERNS:
            s1, s2 = _PATTERNS[trial_type]
            trial_type = "same" if s1 == s2 else "diff"
        else:
            if trial_type is None:
                trial_type = self.trial_types[int(rng.integers(2))]
            s1, s2 = _SIGNS[trial_type][int(rng.integers(2))]
        s = self.settings
        stimulus = np.zeros((2, self.T), dtype=np.float32)
        stimulus[0, s["stim_on"]: s["stim_on"] + s["stim_dur"]] = s1
        a, b = self._second_pulse()
        stimulus[1, a:b] = s2
        return stimulus, trial_type, trial_type

    def generate_target(self, label, seed: SeedLike | bool = False) -> np.ndarray:
        """Return the target, shape (T,): +1 ('same') or -1 ('diff') in the response window."""
        if label not in ("same", "diff"):
            raise ValueError(f"label: expected 'same' or 'diff', got {label!r}")
        target = np.zeros(self.T, dtype=np.float32)
        start, stop = self.response_window()
        target[start:stop] = 1.0 if label == "same" else -1.0
        return target

    def is_correct(self, output, label, samples_per_step: float = 1.0) -> bool:
        start, stop = self.window_samples(samples_per_step)
        window = np.asarray(output)[start:stop]
        if label == "same":
            return float(np.max(window)) > self.settings["threshold"]
        return float(np.min(window)) < -self.settings["threshold"]
