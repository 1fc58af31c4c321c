"""Go/NoGo: respond to a brief input pulse, withhold the response when there is none."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._timing import validate_threshold, validate_timing
from .base import AbstractTask, SeedLike, as_generator


class GoNogoTask(AbstractTask):
    """Go/NoGo task (Kim, Li & Sejnowski 2019).

    Go trials (label 1) carry an input pulse of 1 from ``stim_on`` for ``stim_dur`` steps and
    ask for an output of 1 from the pulse's end to ``T``; NoGo trials (label 0) carry no
    input and ask for 0 throughout. A Go trial is correct when the maximum output in the
    response window exceeds ``go_threshold`` (0.7), a NoGo trial when it stays below
    ``nogo_threshold`` (0.3).

    Settings (rate steps of 5 ms): ``T`` 200, ``stim_on`` 50, ``stim_dur`` 25, ``DeltaT`` 1,
    ``go_threshold`` 0.7, ``nogo_threshold`` 0.3.
    """

    strict_settings = True

    name = "go_nogo"
    n_inputs = 1
    trial_types = ("go", "nogo")

    @classmethod
    def get_default_settings(cls) -> dict[str, Any]:
        return {"T": 200, "stim_on": 50, "stim_dur": 25, "DeltaT": 1,
                "go_threshold": 0.7, "nogo_threshold": 0.3}

    def validate_settings(self) -> None:
        s = self.settings
        validate_timing(self, s.get("stim_on", 0) + s.get("stim_dur", 0), "stim_on + stim_dur")
        validate_threshold(self, "go_threshold")
        validate_threshold(self, "nogo_threshold")

    def trial_type_of(self, label) -> str:
        return "go" if int(label) == 1 else "nogo"

    def generate_stimulus(self, trial_type: str | None = None, seed: SeedLike | bool = False):
        """Return ``(stimulus (1, T), label)``; label 1 for Go, 0 for NoGo."""
        rng = self.rng if seed is False else as_generator(seed)
        self.check_trial_type(trial_type)
        return self._draw_trial(trial_type, rng)[:2]

    def _draw_trial(self, trial_type, rng):
        if trial_type is None:
            trial_type = self.trial_types[int(rng.integers(2))]
        s = self.settings
        stimulus = np.zeros((1, self.T), dtype=np.float32)
        label = 1 if trial_type == "go" else 0
        if label:
            stimulus[0, s["stim_on"]: s["stim_on"] + s["stim_dur"]] = 1.0
        return stimulus, label, trial_type

    def generate_target(self, label, seed: SeedLike | bool = False) -> np.ndarray:
        """Return the target, shape (T,): 1 after the pulse for Go, 0 for NoGo."""
        target = np.zeros(self.T, dtype=np.float32)
        if int(label) == 1:
            target[self.settings["stim_on"] + self.settings["stim_dur"]:] = 1.0
        return target

    def is_correct(self, output, label, samples_per_step: float = 1.0) -> bool:
        start, stop = self.window_samples(samples_per_step)
        peak = float(np.max(np.asarray(output)[start:stop]))
        if int(label) == 1:
            return peak > self.settings["go_threshold"]
        return peak < self.settings["nogo_threshold"]
