"""NeuroGym environments as spikernn tasks (optional extra ``neurogym``).

:class:`NeuroGymTask` (registry name ``neurogym``) wraps a NeuroGym ``TrialEnv`` such as
``GoNogo-v0`` or ``PerceptualDecisionMaking-v0``, so the rate trainer, the scaling-factor
search and the spiking evaluation use it like any task:

- **time**: the environment is made with ``dt = 5`` ms, the rate model's step, so one
  observation or ground-truth sample is one rate step (and one stimulus sample of the
  spiking network, held for 100 integration steps of 0.05 ms). Its period durations
  (``timing``) must be fixed, so every trial has the same length ``T``.
- **trials**: each trial is one ``new_trial()`` of the environment, seeded from the batch's
  generator; its observations ``ob`` (T, n_obs) are the stimulus (n_obs, T) and the label
  is the correct action of the decision period (``gt`` there; 0 for a withheld response).
- **target and score**: the single readout is trained towards ``action_values[gt[t]]``
  at every step (default ``[0, 1, -1]``: fixation 0, action 1 up, action 2 down). A trial is
  correct when the mean readout over the decision period is nearer to the value of the
  correct action than to the value of any other action that can be correct (those seen in
  the decision period of 32 probe trials: withhold 0 and go 1 for Go/NoGo, left 1 and
  right 2 for perceptual decision making).

Examples
--------
>>> from spikernn.tasks import TaskFactory
>>> task = TaskFactory.create_task("neurogym", {"env": "GoNogo-v0"})  # doctest: +SKIP
>>> batch = task.sample_batch(8, rng=0)                              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from .base import AbstractTask, SeedLike, as_generator

#: Fixed period durations (ms) of the supported environments (NeuroGym's defaults for
#: GoNogo; PerceptualDecisionMaking with a fixed 500 ms stimulus and no delay).
DEFAULT_TIMING = {
    "GoNogo-v0": {"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500},
    "PerceptualDecisionMaking-v0": {"fixation": 100, "stimulus": 500, "delay": 0,
                                    "decision": 100},
}


def _neurogym():
    try:
        import neurogym
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the neurogym task needs NeuroGym: pip install "
                          "'spikernn[neurogym]'") from exc
    return neurogym


class NeuroGymTask(AbstractTask):
    """A NeuroGym environment as a task (see the module docstring).

    Settings: ``env`` (NeuroGym id, default ``'GoNogo-v0'``), ``timing`` (period durations
    in ms; default :data:`DEFAULT_TIMING` of the environment; every value fixed),
    ``env_kwargs`` (other keyword arguments of the environment), ``action_values`` (readout
    value of each action), ``decision_period`` (name of the scored period, ``'decision'``).
    ``T`` is derived (rate steps of one trial).
    """

    name = "neurogym"

    @classmethod
    def get_default_settings(cls) -> dict[str, Any]:
        return {"env": "GoNogo-v0", "timing": None, "env_kwargs": {},
                "action_values": [0.0, 1.0, -1.0], "decision_period": "decision"}

    def validate_settings(self) -> None:
        s = self.settings
        if not isinstance(s["env"], str) or not s["env"]:
            raise ValueError(f"settings['env']: expected a NeuroGym environment id, "
                             f"got {s['env']!r}")
        if s["timing"] is None:
            s["timing"] = dict(DEFAULT_TIMING.get(s["env"], {}))
        timing = s["timing"]
        if not isinstance(timing, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for v in timing.values()):
            raise ValueError(f"settings['timing']: expected fixed durations (ms) per period, "
                             f"got {timing!r}")
        self._env = _neurogym().make(s["env"], dt=self.dt_ms, timing=timing,
                                     **dict(s["env_kwargs"])).unwrapped
        self._env.seed(0)
        self._env.new_trial()
        period = s["decision_period"]
        if period not in self._env.start_ind:
            raise ValueError(f"settings['decision_period']: expected one of "
                             f"{sorted(self._env.start_ind)}, got {period!r}")
        self._window = (int(self._env.start_ind[period]), int(self._env.end_ind[period]))
        n_actions = int(self._env.action_space.n)
        values = s["action_values"]
        if len(values) < n_actions:
            raise ValueError(f"settings['action_values']: expected a value for each of the "
                             f"{n_actions} actions of {s['env']}, got {len(values)}")
        s["T"] = int(self._env.ob.shape[0])
        self.n_inputs = int(self._env.ob.shape[1])
        # the actions that can be correct: those seen in the decision period of probe trials
        probe = np.random.default_rng(0)
        self._choices = sorted({self._draw_trial(None, probe)[1] for _ in range(32)})

    def response_window(self) -> tuple[int, int]:
        """The decision period, rate steps ``[start, stop)``."""
        return self._window

    def trial_type_of(self, label: Hashable) -> str:
        return f"action {int(label)}"

    def _draw_trial(self, trial_type: str | None, rng: np.random.Generator):
        self.check_trial_type(trial_type)
        env = self._env
        env.seed(int(rng.integers(2 ** 31 - 1)))
        env.new_trial()
        ob, gt = np.asarray(env.ob, dtype=np.float32), np.asarray(env.gt)
        if ob.shape[0] != self.T:
            raise ValueError(f"settings['timing']: expected trials of T = {self.T} steps "
                             f"(fixed durations), got {ob.shape[0]}")
        label = int(gt[self._window[0]])
        return ob.T, label, self.trial_type_of(label)

    def generate_stimulus(self, trial_type: str | None = None, seed: SeedLike | bool = False):
        """Return ``(observations (n_obs, T), label)`` of one new trial."""
        rng = self.rng if seed is False else as_generator(seed)
        return self._draw_trial(trial_type, rng)[:2]

    def generate_target(self, label: Hashable, seed: SeedLike | bool = False) -> np.ndarray:
        """The readout target, shape (T,): 0 outside the decision period, the value of the
        correct action inside it (the environment's ground truth, mapped)."""
        target = np.zeros(self.T, dtype=np.float32)
        start, stop = self._window
        target[start:stop] = float(self.settings["action_values"][int(label)])
        return target

    def is_correct(self, output: np.ndarray, label: Hashable, samples_per_step: float = 1.0
                   ) -> bool:
        start, stop = self.window_samples(samples_per_step)
        mean = float(np.mean(np.asarray(output, dtype=float)[start:stop]))
        values = np.asarray(self.settings["action_values"], dtype=float)
        distance = {a: abs(mean - values[a]) for a in self._choices}
        return min(distance, key=distance.get) == int(label)
