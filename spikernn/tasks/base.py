"""The task interface shared by rate training, the scaling-factor search and spiking evaluation.

A task is defined once on the rate model's time base (one step = ``dt_ms`` = 5 ms) and says:
its settings, how to draw a stimulus and a target for a trial, its trial types, the response
window, and whether an output trace solved a trial. Spiking code reuses the same definition
through ``samples_per_step`` (how many samples of an output trace cover one rate step).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._validate import check_seed

SeedLike = int | np.random.Generator | None


@dataclass(frozen=True)
class TrialBatch:
    """A batch of independent trials of one task.

    Attributes
    ----------
    stimulus : numpy.ndarray
        Inputs, shape (batch, n_inputs, T), float32, one column per rate step (5 ms).
    target : numpy.ndarray
        Desired readout, shape (batch, T), float32.
    labels : tuple
        The task's label of each trial (e.g. 1/0 for Go/NoGo, 'same'/'diff' for XOR).
    trial_types : tuple of str
        The trial type of each trial (e.g. 'go', 'nogo').
    """

    stimulus: np.ndarray
    target: np.ndarray
    labels: tuple
    trial_types: tuple[str, ...]

    def __len__(self) -> int:
        return self.stimulus.shape[0]


@dataclass(frozen=True)
class TrialInfo:
    """What a simulation's trials were: the typed trial record of a result.

    A :class:`~spikernn.spiking.result.SimulationResult` carries one as ``result.trials``;
    the exporters (Neo, NIX, NWB) and the analysis read the task name, labels, trial types
    and stimulus from it.

    Attributes
    ----------
    task : str or None
        Task name (the registry name for registered tasks).
    labels : tuple or None
        The task's label of each trial, as plain Python values.
    trial_types : tuple of str or None
        The trial type of each trial.
    stimulus : numpy.ndarray or None
        Inputs, shape (n_trials, n_inputs, T), on the rate time base (one column per rate
        step of the result's ``stimulus_dt_ms``).

    Raises
    ------
    ValueError
        Naming the field, if labels, trial types and stimulus disagree on the number of
        trials, or the stimulus is not 3-D.
    """

    task: str | None = None
    labels: tuple | None = None
    trial_types: tuple[str, ...] | None = None
    stimulus: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.task is not None:
            object.__setattr__(self, "task", str(self.task))
        if self.labels is not None:
            if isinstance(self.labels, str):
                raise ValueError(f"labels: expected one label per trial, got {self.labels!r}")
            object.__setattr__(self, "labels", tuple(
                x.item() if isinstance(x, np.generic) else x for x in self.labels))
        if self.trial_types is not None:
            if isinstance(self.trial_types, str):
                raise ValueError(f"trial_types: expected one name per trial, "
                                 f"got {self.trial_types!r}")
            object.__setattr__(self, "trial_types", tuple(map(str, self.trial_types)))
        if self.stimulus is not None:
            stimulus = np.asarray(self.stimulus)
            if stimulus.ndim != 3:
                raise ValueError(f"stimulus: expected shape (n_trials, n_inputs, T), "
                                 f"got {stimulus.shape}")
            object.__setattr__(self, "stimulus", stimulus)
        counts = {name: n for name, n in (("labels", _len(self.labels)),
                                          ("trial_types", _len(self.trial_types)),
                                          ("stimulus", None if self.stimulus is None
                                           else self.stimulus.shape[0])) if n is not None}
        if len(set(counts.values())) > 1:
            first = next(iter(counts))
            other = next(k for k in counts if counts[k] != counts[first])
            raise ValueError(f"{other}: expected one entry per trial ({counts[first]}, as "
                             f"{first}), got {counts[other]}")

    @classmethod
    def from_batch(cls, batch: TrialBatch, task: str | None = None) -> TrialInfo:
        """The record of the trials of ``batch`` (of the task named ``task``)."""
        return cls(task, batch.labels, batch.trial_types, batch.stimulus)

    @property
    def n_trials(self) -> int | None:
        """Number of trials the record describes (None when it holds no per-trial field)."""
        for values in (self.labels, self.trial_types, self.stimulus):
            if values is not None:
                return len(values)
        return None

    def trial(self, index: int) -> dict[str, Any]:
        """Task, trial type and label of one trial (keys without a value are left out)."""
        info = {"task": self.task,
                "trial_type": None if self.trial_types is None else self.trial_types[index],
                "label": None if self.labels is None else self.labels[index]}
        return {k: v for k, v in info.items() if v is not None}


def _len(values) -> int | None:
    return None if values is None else len(values)


#: Seed of ``seed=True`` in the task methods: the same trial every call (the seed's 42).
FIXED_TRIAL_SEED = 42


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else a new Generator seeded with it.

    ``None`` seeds the new Generator from numpy's global generator, so that, as in the seed
    project, ``np.random.seed(x)`` makes unseeded initialisations and trials reproducible;
    ``True`` (the seed's ``generate_stimulus(seed=True)``) is the fixed
    :data:`FIXED_TRIAL_SEED`.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
    elif seed is True:
        seed = FIXED_TRIAL_SEED
    return np.random.default_rng(check_seed(seed))


@contextlib.contextmanager
def global_numpy_seeded(rng: np.random.Generator) -> Iterator[None]:
    """Seed numpy's legacy global RNG from ``rng`` for the block, then restore its state.

    Custom tasks written for the seed project draw from ``np.random`` directly; this keeps
    their batches reproducible without touching the caller's global random state.
    """
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(0, 2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(saved)


def score_traces(is_correct: Callable[[np.ndarray, Hashable, float], bool],
                 outputs: np.ndarray, labels: Sequence[Hashable],
                 samples_per_step: float) -> np.ndarray:
    """Apply a per-trial rule ``is_correct(output, label, samples_per_step)`` to a batch.

    Parameters
    ----------
    is_correct : callable
        The task's rule for one trace.
    outputs : array-like, shape (batch, samples)
        Readout traces.
    labels : sequence
        One label per trace.
    samples_per_step : float
        Samples of a trace per rate step.

    Returns
    -------
    numpy.ndarray of bool, shape (batch,)
    """
    outputs = np.asarray(outputs)
    if outputs.ndim != 2 or outputs.shape[0] != len(labels):
        raise ValueError(
            f"outputs: expected shape (batch={len(labels)}, samples), got {outputs.shape}")
    return np.array([is_correct(o, lab, samples_per_step)
                     for o, lab in zip(outputs, labels, strict=True)], dtype=bool)


class Configured:
    """Settings merged over defaults, validated, plus a seeded generator.

    The shared constructor of :class:`AbstractTask` and the spiking task adapters: subclasses
    provide ``get_default_settings()`` and ``validate_settings()``.
    """

    #: Refuse settings keys that :meth:`get_default_settings` does not name (the built-in
    #: tasks; a custom task may take any keys), except :attr:`seed_setting_keys`.
    strict_settings: ClassVar[bool] = False
    #: Keys the seed project's settings dicts carry for the model, not the task (its
    #: training loop reads ``settings['taus']``); accepted by strict tasks too.
    seed_setting_keys: ClassVar[frozenset[str]] = frozenset({"taus"})

    def __init__(self, settings: Mapping[str, Any] | None = None, seed: SeedLike = None):
        defaults = self.get_default_settings()
        if self.strict_settings:
            unknown = sorted(set(settings or {}) - set(defaults) - self.seed_setting_keys,
                             key=str)
            if unknown:
                raise ValueError(f"settings: expected keys from {sorted(defaults)}, got "
                                 f"unknown key(s) {unknown} for {type(self).__name__}")
        merged = dict(defaults)
        merged.update(settings or {})
        self.settings: dict[str, Any] = merged
        self._rng = None if seed is None else as_generator(seed)
        self.validate_settings()

    @property
    def rng(self) -> np.random.Generator:
        """The task's own generator; unseeded tasks draw a new one from numpy's global
        generator at each use (so ``np.random.seed(x)`` makes their trials reproducible)."""
        return self._rng if self._rng is not None else as_generator(None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(settings={self.settings!r})"


class AbstractTask(Configured, ABC):
    """Base class of every cognitive task.

    Subclasses implement :meth:`validate_settings`, :meth:`generate_stimulus` and
    :meth:`generate_target` (the seed project's interface); everything else (batches,
    forced trial types, scoring) has a working default. Built-in tasks also override
    :meth:`_draw_trial` (drawing from a given Generator) and :meth:`is_correct`.

    Parameters
    ----------
    settings : mapping, optional
        Overrides of :meth:`get_default_settings`. Times are in rate steps of ``dt_ms``.
    seed : int or numpy.random.Generator, optional
        Source of the task's own random draws (:meth:`simulate_trial`, batches without an
        explicit ``rng``).
    """

    #: Registry name; set by :class:`~spikernn.tasks.TaskFactory` for registered tasks.
    name: ClassVar[str] = "custom"
    #: Number of input channels (rows of the stimulus).
    n_inputs: ClassVar[int] = 1
    #: Names of the trial types a batch can be forced to; empty for custom tasks.
    trial_types: ClassVar[tuple[str, ...]] = ()
    #: The seed project's names of forced trials (e.g. XOR '++'), also accepted; a trial
    #: forced by one of them is recorded under its trial type in :attr:`trial_types`.
    seed_trial_types: ClassVar[tuple[str, ...]] = ()
    #: Duration of one rate-model step in ms (Kim et al. 2019: 5 ms).
    dt_ms: ClassVar[float] = 5.0

    # -- the seed project's interface ---------------------------------------------------
    @classmethod
    def get_default_settings(cls) -> dict[str, Any]:
        """Default settings of the task (rate steps); subclasses extend this."""
        return {}

    @abstractmethod
    def validate_settings(self) -> None:
        """Raise ``ValueError`` naming the setting if ``self.settings`` is invalid."""

    @abstractmethod
    def generate_stimulus(self, trial_type: str | None = None, seed: SeedLike | bool = False):
        """Draw one trial's stimulus, shape (n_inputs, T), and its label."""

    @abstractmethod
    def generate_target(self, label: Hashable, seed: SeedLike | bool = False) -> np.ndarray:
        """Return the target trace, shape (T,), for a trial with ``label``."""

    def simulate_trial(self, trial_type: str | None = None, seed: SeedLike | bool = False
                       ) -> tuple[np.ndarray, np.ndarray, Hashable]:
        """Draw one complete trial: ``(stimulus, target, label)``.

        Parameters
        ----------
        trial_type : str, optional
            Force the trial type (one of :attr:`trial_types` or :attr:`seed_trial_types`).
        seed : int, Generator or bool
            ``False``: the task's own generator; ``True``: a fixed trial (the same every
            call, as the seed project's ``seed=True``); an int or Generator: drawn from it.
        """
        stimulus, label = self.generate_stimulus(trial_type=trial_type, seed=seed)
        return stimulus, self.generate_target(label, seed=seed), label

    # -- what training and evaluation need ----------------------------------------------
    @property
    def T(self) -> int:
        """Trial length in rate steps."""
        return int(self.settings["T"])

    def trial_type_of(self, label: Hashable) -> str:
        """Name of the trial type a label belongs to (default: ``str(label)``)."""
        return str(label)

    def response_window(self) -> tuple[int, int]:
        """Rate steps ``[start, stop)`` over which an output is scored.

        Default: from the end of the stimulus (``stim_on + stim_dur``) to ``T``.
        """
        s = self.settings
        if "stim_on" in s and "stim_dur" in s:
            return int(s["stim_on"]) + int(s["stim_dur"]), self.T
        return 0, self.T

    def response_window_s(self) -> tuple[float, float] | None:
        """The scored window ``[start, stop)`` in seconds (:meth:`response_window`)."""
        start, stop = self.response_window()
        return start * self.dt_ms * 1e-3, stop * self.dt_ms * 1e-3

    def get_sample_trial_types(self) -> list[str]:
        """Trial types shown in figures (one raster and readout panel each)."""
        return list(self.trial_types)

    def is_correct(self, output: np.ndarray, label: Hashable, samples_per_step: float = 1.0
                   ) -> bool:
        """Whether one output trace solves a trial with ``label``.

        The default rule, for custom tasks: the mean absolute difference between output and
        target over the response window is below ``settings['score_tolerance']`` (0.3).
        Built-in tasks use the paper's threshold criteria instead.

        Parameters
        ----------
        output : numpy.ndarray
            Readout trace, shape (T * samples_per_step,).
        label : hashable
            The trial's label.
        samples_per_step : float
            Samples of ``output`` per rate step (1 for the rate model; 100 / downsample for
            a spiking readout at 0.05 ms).
        """
        start, stop = self.window_samples(samples_per_step)
        target = np.repeat(np.asarray(self.generate_target(label), dtype=float),
                           max(1, round(samples_per_step)))[: len(output)]
        err = np.mean(np.abs(np.asarray(output[start:stop]) - target[start:stop]))
        return bool(err < float(self.settings.get("score_tolerance", 0.3)))

    def window_samples(self, samples_per_step: float = 1.0) -> tuple[int, int]:
        """The response window in samples of a trace with ``samples_per_step``."""
        start, stop = self.response_window()
        return int(round(start * samples_per_step)), int(round(stop * samples_per_step))

    def score(self, outputs: np.ndarray, labels: Sequence[Hashable],
              samples_per_step: float = 1.0) -> np.ndarray:
        """Score a batch of output traces.

        Parameters
        ----------
        outputs : array-like
            Readout traces, shape (batch, samples).
        labels : sequence
            One label per trace.
        samples_per_step : float
            Samples per rate step (see :meth:`is_correct`).

        Returns
        -------
        numpy.ndarray of bool, shape (batch,)
        """
        return score_traces(self.is_correct, outputs, labels, samples_per_step)

    def sample_batch(self, batch_size: int, rng: SeedLike = None,
                     trial_types: str | Sequence[str] | None = None) -> TrialBatch:
        """Draw ``batch_size`` independent trials.

        Parameters
        ----------
        batch_size : int
            Number of trials.
        rng : int or numpy.random.Generator, optional
            Source of randomness; the task's own generator when omitted.
        trial_types : str or sequence of str, optional
            Force every trial (a str) or each trial (a sequence of ``batch_size`` names) to
            a trial type; random types when omitted.

        Returns
        -------
        TrialBatch
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
        rng = self.rng if rng is None else as_generator(rng)
        types = self._resolve_trial_types(int(batch_size), trial_types)
        stims, targets, labels, names = [], [], [], []
        for trial_type in types:
            stimulus, label, name = self._draw_trial(trial_type, rng)
            stimulus = np.asarray(stimulus, dtype=np.float32)
            stims.append(stimulus if stimulus.ndim == 2 else stimulus.reshape(self.n_inputs, -1))
            targets.append(self.target_for(label, stims[-1].shape[1]))
            labels.append(label)
            names.append(name)
        return TrialBatch(np.stack(stims), np.stack(targets), tuple(labels), tuple(names))

    def target_for(self, label: Hashable, n_steps: int) -> np.ndarray:
        """The target of a trial with ``label`` and ``n_steps`` rate steps, float32 (n_steps,).

        Default: :meth:`generate_target`; tasks without a target return NaN.
        """
        return np.asarray(self.generate_target(label), dtype=np.float32).ravel()

    def _resolve_trial_types(self, batch_size: int, trial_types) -> list[str | None]:
        if trial_types is None:
            return [None] * batch_size
        if isinstance(trial_types, str):
            trial_types = [trial_types] * batch_size
        trial_types = list(trial_types)
        if len(trial_types) != batch_size:
            raise ValueError(f"trial_types: expected {batch_size} names, got {len(trial_types)}")
        for t in trial_types:
            self.check_trial_type(t)
        return trial_types

    def check_trial_type(self, trial_type: str | None) -> None:
        """Raise ``ValueError`` if ``trial_type`` is not one of :attr:`trial_types`."""
        known = self.trial_types + self.seed_trial_types
        if trial_type is not None and self.trial_types and trial_type not in known:
            raise ValueError(f"trial_type: expected one of {list(known)}, got {trial_type!r}")

    def _draw_trial(self, trial_type: str | None, rng: np.random.Generator
                    ) -> tuple[np.ndarray, Hashable, str]:
        """Draw ``(stimulus, label, trial type)`` from ``rng``.

        The default wraps :meth:`generate_stimulus` for custom tasks; built-in tasks
        override it and draw from ``rng`` directly.
        """
        with global_numpy_seeded(rng):
            stimulus, label = self.generate_stimulus(trial_type=trial_type)
        return stimulus, label, trial_type or self.trial_type_of(label)

    # -- helpers for subclasses ----------------------------------------------------------
    def _require(self, key: str, check, expected: str) -> Any:
        """Fetch setting ``key`` and raise ``ValueError`` if ``check(value)`` is false."""
        if key not in self.settings:
            raise ValueError(f"settings['{key}']: missing (expected {expected})")
        value = self.settings[key]
        try:
            ok = bool(check(value))
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"settings['{key}']: expected {expected}, got {value!r}")
        return value
