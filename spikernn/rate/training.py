"""Training a rate RNN on a task (Kim, Li & Sejnowski 2019, SI).

Protocol: Adam (lr 0.01) on ``w``, ``taus_gaus``, ``w_out`` and ``b_out``; loss L2 =
sqrt(sum_t (z[t] - o[t])^2) per trial (or L1); every ``eval_every`` training trials the model
runs 100 fresh trials and training stops once the mean evaluation loss is below 7 and the
task accuracy (the task's own :meth:`~spikernn.tasks.AbstractTask.score`) is at least 95%.

The original code trains one trial per update; here ``batch_size`` trials run as one batch
and the update uses their mean loss (``batch_size=1`` reproduces the original protocol).
Everything random comes from one seed: the network (``seed``), the training trials
(``[seed, 2]``), the training noise (``[seed, 3]``), the evaluation trials (``[seed, 4]``)
and the evaluation noise (``[seed, 5]``), so the same seed gives the same model, and
evaluating more or less often does not change the training trajectory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._io import atomic_path, to_plain
from .._validate import check_fits, check_seed
from ..artifact import ModelArtifact
from ..protocol import DEFAULT_PROTOCOL, get_protocol
from ..tasks import AbstractTask, TaskFactory, normalize_task_name
from .model import FR_RNN_dale, RNNConfig, torch_threads

LOSS_FUNCTIONS = ("l2", "l1")
#: Version of the checkpoint layout written by :meth:`Trainer.save_checkpoint`.
CHECKPOINT_FORMAT = 1


def loss_op(o, z, loss_fn: str | Mapping[str, Any] = "l2") -> torch.Tensor:
    """Per-trial loss between outputs ``o`` and targets ``z``.

    Parameters
    ----------
    o : tensor (B, T) or (T,), or a sequence of per-step tensors (the seed's list form)
        Network outputs.
    z : tensor or array, same shape as ``o``
        Targets. For the seed's list of the T-1 outputs of steps 1..T-1, a target of length
        T (our tasks') is aligned by dropping its step 0.
    loss_fn : str or mapping
        'l2' (the paper's default): ``sqrt(sum_t (z - o)^2)``; 'l1': ``sum_t |z - o|``.
        A mapping with key ``'loss_fn'`` (the seed's ``training_params``) is accepted.

    Returns
    -------
    torch.Tensor
        Shape (B,) for batched input, a scalar for a single trace.
    """
    if isinstance(loss_fn, Mapping):
        loss_fn = loss_fn.get("loss_fn", "l2")
    key = str(loss_fn).lower()
    if key not in LOSS_FUNCTIONS:
        raise ValueError(f"loss_fn: expected one of {LOSS_FUNCTIONS}, got {loss_fn!r}")
    seed_list = isinstance(o, Sequence) and not isinstance(o, torch.Tensor)
    if seed_list:
        o = torch.stack([torch.as_tensor(v).reshape(()) for v in o])
    z = torch.as_tensor(np.asarray(z) if not isinstance(z, torch.Tensor) else z,
                        dtype=o.dtype, device=o.device)
    if seed_list and z.numel() == o.numel() + 1:
        z = z.reshape(-1)[1:]  # a (T,) target for the seed's outputs of steps 1..T-1
    z = z.reshape(o.shape)
    diff = z - o
    if key == "l1":
        return diff.abs().sum(dim=-1)
    return torch.sqrt(diff.pow(2).sum(dim=-1))


@dataclass
class TrainingConfig:
    """Settings of a training run; ``protocol`` fills the settings left at None.

    Attributes
    ----------
    protocol : str
        'default' (this library's rules, chosen from how many trained models convert, see
        ``docs/convertibility.md``) or 'paper' (the original code's: one trial per update,
        stop at loss < 7 and accuracy > 95%, for Go/NoGo not before 1,500 trials). It fills
        ``batch_size``, ``min_trials``, ``loss_threshold`` and ``acc_threshold`` when they
        are None (:meth:`resolve`); :mod:`spikernn.protocol` lists its values.
    batch_size : int or None
        Trials per update (1 = the original protocol).
    lr : float
        Adam learning rate (0.01).
    loss_fn : str
        'l2' or 'l1'.
    max_trials : int
        Cap on training trials.
    min_trials : int or None
        Do not stop before this many trials even if the criteria are met.
    eval_every : int
        Training trials between evaluations (100).
    eval_trials : int
        Fresh trials per evaluation (100).
    loss_threshold : float or None
        Stop when the mean evaluation loss is below this (the paper: 7).
    acc_threshold : float or None
        ... and the evaluation accuracy is at least this (the paper: above 0.95).
    num_threads : int or None
        ``torch.set_num_threads`` during training on the CPU (1: the per-step matrices are
        small, and extra threads only contend, badly so on a busy machine); None leaves
        torch's setting.
    """

    batch_size: int | None = None
    lr: float = 0.01
    loss_fn: str = "l2"
    max_trials: int = 200_000
    min_trials: int | None = None
    eval_every: int = 100
    eval_trials: int = 100
    loss_threshold: float | None = None
    acc_threshold: float | None = None
    num_threads: int | None = 1
    protocol: str = DEFAULT_PROTOCOL

    def __post_init__(self) -> None:
        self.loss_fn = str(self.loss_fn).lower()
        self.protocol = get_protocol(self.protocol).name
        self.validate()

    def resolve(self, task: str) -> TrainingConfig:
        """A copy with every setting left at None set to the protocol's value for ``task``
        (a task name); the protocol's ``min_trials`` is capped at ``max_trials``."""
        values = get_protocol(self.protocol).training_settings(normalize_task_name(task))
        values["min_trials"] = min(values["min_trials"], self.max_trials)
        return dataclasses.replace(self, **{k: v for k, v in values.items()
                                            if getattr(self, k) is None})

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid setting (None: the protocol's)."""
        def positive_int(name: str) -> None:
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")

        for name in ("max_trials", "eval_every", "eval_trials"):
            positive_int(name)
        if self.batch_size is not None:
            positive_int("batch_size")
        if self.min_trials is not None and not (
                isinstance(self.min_trials, int) and 0 <= self.min_trials <= self.max_trials):
            raise ValueError(f"min_trials: expected an integer in [0, max_trials="
                             f"{self.max_trials}], got {self.min_trials!r}")
        if self.num_threads is not None:
            positive_int("num_threads")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr: expected a positive number, got {self.lr!r}")
        if self.loss_fn not in LOSS_FUNCTIONS:
            raise ValueError(f"loss_fn: expected one of {LOSS_FUNCTIONS}, got {self.loss_fn!r}")
        if self.loss_threshold is not None and not (
                np.isfinite(self.loss_threshold) and self.loss_threshold > 0):
            raise ValueError(f"loss_threshold: expected a positive number, "
                             f"got {self.loss_threshold!r}")
        if self.acc_threshold is not None and not 0 <= self.acc_threshold <= 1:
            raise ValueError(f"acc_threshold: expected a number in [0, 1], "
                             f"got {self.acc_threshold!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-serialisable dict."""
        return dataclasses.asdict(self)


@dataclass
class TrainingHistory:
    """One entry per evaluation: training trials so far, mean eval loss, eval accuracy,
    mean training loss since the previous evaluation, and elapsed training time (s);
    ``checks``: one dict per extra-criterion check of an ``on_evaluation`` hook (its
    ``trials`` and the values the hook recorded; absent from :meth:`to_dict` when empty)."""

    trials: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    elapsed_s: list[float] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def append(self, trials: int, loss: float, accuracy: float, train_loss: float,
               elapsed_s: float) -> None:
        """Record one evaluation."""
        self.trials.append(int(trials))
        self.loss.append(float(loss))
        self.accuracy.append(float(accuracy))
        self.train_loss.append(float(train_loss))
        self.elapsed_s.append(float(elapsed_s))

    def to_dict(self) -> dict[str, list]:
        """The history as a dict of lists (``checks`` only when there are some)."""
        out = dataclasses.asdict(self)
        if not out["checks"]:
            del out["checks"]
        return out


@dataclass(frozen=True)
class CriterionCheck:
    """What an ``on_evaluation`` hook of :meth:`Trainer.train` returns: the outcome of an
    extra stopping criterion, checked after an evaluation that met the rate criteria.

    Attributes
    ----------
    met : bool
        The extra criterion is met: training stops (converged).
    values : mapping
        JSON-serialisable values recorded in ``history.checks`` (with the trials so far).
    stop : bool
        Stop training although the criterion is not met (the hook's own bound was
        reached); the run ends not converged.
    """

    met: bool
    values: Mapping[str, Any] = field(default_factory=dict)
    stop: bool = False


#: ``on_evaluation(trainer)``: None (not checked at this evaluation; training goes on) or a
#: :class:`CriterionCheck`.
EvaluationHook = Callable[["Trainer"], "CriterionCheck | None"]


@dataclass
class TrainingResult:
    """Outcome of :meth:`Trainer.train`.

    Attributes
    ----------
    model : FR_RNN_dale
        The trained network.
    artifact : ModelArtifact
        The trained network as a model record (training settings and history in
        ``artifact.training``).
    history : TrainingHistory
        Evaluations during training.
    converged : bool
        Whether the termination criteria (and an ``on_evaluation`` hook's criterion) were
        met before ``max_trials``.
    trials : int
        Training trials run in total.
    elapsed_s : float
        Training wall time in seconds (over all resumed sessions).
    """

    model: FR_RNN_dale
    artifact: ModelArtifact
    history: TrainingHistory
    converged: bool
    trials: int
    elapsed_s: float


def resolve_seed(seed: int | None) -> int:
    """``seed``, or a fresh non-negative seed drawn from the OS when None (so it is recorded)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31))
    return check_seed(seed)


def training_bytes(N: int, n_inputs: int, T: int, batch_size: int, eval_trials: int) -> float:
    """Estimated peak memory of training, bytes.

    Per recurrent weight 14 values of 4 bytes (the N x N weights, their gradient, Adam's two
    moments, the masks and the effective matrix, and the float64 temporaries of the
    initialisation); per trial, step and unit 8 float32 values of the autograd record during
    an update (3 during an evaluation), plus the trials' inputs and targets.
    """
    per_step = max(batch_size * 8, eval_trials * 3) * N + max(batch_size, eval_trials) * (
        n_inputs + 1)
    return 4.0 * (14 * N * N + per_step * T)


class Trainer:
    """Train an :class:`FR_RNN_dale` on a task, with evaluation, termination and checkpoints.

    Parameters
    ----------
    task : AbstractTask or str
        A task instance or a registered task name (created with ``task_settings``).
    model_config : RNNConfig, optional
        Network settings; ``n_inputs`` is taken from the task. A missing seed is drawn and
        recorded.
    config : TrainingConfig, optional
        Training settings.
    task_settings : mapping, optional
        Settings for a task given by name.

    Examples
    --------
    >>> from spikernn.rate import Trainer, create_default_config
    >>> trainer = Trainer("go_nogo", create_default_config(N=200, seed=0))
    >>> result = trainer.train(progress=False)          # doctest: +SKIP
    >>> result.converged, result.history.accuracy[-1]   # doctest: +SKIP
    (True, 0.98)
    """

    def __init__(self, task: AbstractTask | str, model_config: RNNConfig | None = None,
                 config: TrainingConfig | None = None, *,
                 task_settings: Mapping[str, Any] | None = None):
        if isinstance(task, str):
            task = TaskFactory.create_task(task, task_settings)
        if not isinstance(task, AbstractTask):
            raise TypeError(f"task: expected an AbstractTask or a task name, got {task!r}")
        self.task = task
        self.config = (config or TrainingConfig()).resolve(task.name)
        self.config.validate()
        mc = dataclasses.replace(model_config or RNNConfig(), n_inputs=int(task.n_inputs))
        mc.seed = resolve_seed(mc.seed)
        T = task.settings.get("T", 0)
        check_fits(training_bytes(mc.N, mc.n_inputs, T if isinstance(T, int) else 0,
                                  self.config.batch_size, self.config.eval_trials),
                   f"training (N={mc.N}, T={T}, batch_size={self.config.batch_size}); use a "
                   "smaller N, T or batch size")
        self.model = FR_RNN_dale.from_config(mc)
        self.optimizer = torch.optim.Adam(
            [p for p in self.model.parameters() if p.requires_grad], lr=self.config.lr)
        seed = mc.seed
        device = self.model.device
        self._train_rng = np.random.default_rng([seed, 2])
        self._train_noise = torch.Generator(device=device).manual_seed(_child_seed(seed, 3))
        self._eval_rng = np.random.default_rng([seed, 4])
        self._eval_noise = torch.Generator(device=device).manual_seed(_child_seed(seed, 5))
        self.history = TrainingHistory()
        self.trials = 0
        self.updates = 0
        self.converged = False
        #: An ``on_evaluation`` hook stopped the run at its bound (not converged).
        self.stopped_by_hook = False
        self.elapsed_s = 0.0
        self._since_eval: list[float] = []
        #: torch CPU threads of the latest :meth:`train` call (None before the first).
        self.threads_used: int | None = None

    def __repr__(self) -> str:
        return (f"Trainer(task={self.task.name!r}, model={self.model!r}, "
                f"config={self.config!r}, trials={self.trials})")

    @property
    def seed(self) -> int:
        """The run's seed."""
        return int(self.model.config.seed)

    # -- one update and one evaluation ----------------------------------------------------
    def step(self) -> float:
        """One Adam update on ``batch_size`` fresh trials; returns their mean loss."""
        batch = self.task.sample_batch(self.config.batch_size, rng=self._train_rng)
        outputs, _, _ = self.model(batch.stimulus, generator=self._train_noise)
        target = torch.as_tensor(batch.target, device=self.model.device)
        loss = loss_op(outputs, target, self.config.loss_fn).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.trials += self.config.batch_size
        self.updates += 1
        return float(loss.detach())

    @torch.no_grad()
    def evaluate(self, n_trials: int | None = None) -> tuple[float, float]:
        """Mean loss and accuracy (task score) on ``n_trials`` fresh trials (eval_trials)."""
        n = int(n_trials or self.config.eval_trials)
        batch = self.task.sample_batch(n, rng=self._eval_rng)
        outputs, _, _ = self.model(batch.stimulus, generator=self._eval_noise)
        target = torch.as_tensor(batch.target, device=self.model.device)
        loss = float(loss_op(outputs, target, self.config.loss_fn).mean())
        accuracy = float(np.mean(self.task.score(outputs.cpu().numpy(), batch.labels)))
        return loss, accuracy

    def criteria_met(self, loss: float, accuracy: float) -> bool:
        """The paper's termination rule: loss below the threshold and accuracy high enough."""
        return loss < self.config.loss_threshold and accuracy >= self.config.acc_threshold

    # -- the loop ----------------------------------------------------------------------
    def train(self, progress: bool = True, checkpoint: str | os.PathLike | None = None,
              max_trials: int | None = None,
              on_evaluation: EvaluationHook | None = None) -> TrainingResult:
        """Train until the criteria are met or ``max_trials`` trials have run.

        Evaluations happen only on the ``eval_every`` schedule (none extra at the cap), so
        a run stopped and resumed has the same history as an uninterrupted one.

        Parameters
        ----------
        progress : bool
            Show a tqdm progress bar (trials) with the latest evaluation.
        checkpoint : path-like, optional
            Write a checkpoint here after every evaluation and at the end (atomically), so
            that :meth:`from_checkpoint` can resume the run.
        max_trials : int, optional
            Override ``config.max_trials`` (e.g. to extend a resumed run).
        on_evaluation : callable, optional
            An extra stopping criterion: called as ``on_evaluation(trainer)`` after each
            evaluation that meets the rate criteria (and ``min_trials``); training stops
            only when it returns a :class:`CriterionCheck` with ``met``, or with ``stop``
            (its bound; not converged). Its values go into ``history.checks``, its time into
            ``elapsed_s``. It must not draw from the trainer's random streams; None (the
            default) trains exactly as without it.

        Returns
        -------
        TrainingResult
        """
        from tqdm.auto import tqdm

        if max_trials is not None:
            self.config = dataclasses.replace(self.config, max_trials=int(max_trials))
        self.config = self.config.resolve(self.task.name)
        cap = self.config.max_trials
        with torch_threads(self.config.num_threads, self.model.device), tqdm(
                total=cap, initial=min(self.trials, cap), disable=not progress,
                unit="trial", desc=f"train {self.task.name}", leave=False) as bar:
            self.threads_used = torch.get_num_threads()
            while not (self.converged or self.stopped_by_hook) and self.trials < cap:
                start = time.perf_counter()
                before = self.trials
                self._since_eval.append(self.step())
                if self.trials // self.config.eval_every > before // self.config.eval_every:
                    self._evaluate_and_record(start, bar, on_evaluation)
                    if checkpoint is not None:
                        self.save_checkpoint(checkpoint)
                else:
                    self.elapsed_s += time.perf_counter() - start
                bar.update(min(self.trials, cap) - min(before, cap))
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return self.result()

    def _evaluate_and_record(self, start: float, bar,
                             on_evaluation: EvaluationHook | None = None) -> None:
        loss, accuracy = self.evaluate()
        self.elapsed_s += time.perf_counter() - start
        train_loss = float(np.mean(self._since_eval)) if self._since_eval else float("nan")
        self._since_eval = []
        self.history.append(self.trials, loss, accuracy, train_loss, self.elapsed_s)
        self.converged = (self.criteria_met(loss, accuracy)
                          and self.trials >= self.config.min_trials)
        bar.set_postfix(loss=f"{loss:.2f}", acc=f"{accuracy:.2f}")
        if self.converged and on_evaluation is not None:
            hook_start = time.perf_counter()
            check = on_evaluation(self)
            self.elapsed_s += time.perf_counter() - hook_start
            self.converged = check is not None and bool(check.met)
            if check is not None:
                self.history.checks.append({"trials": self.trials, **to_plain(check.values)})
                self.stopped_by_hook = not check.met and bool(check.stop)

    def result(self) -> TrainingResult:
        """The current state as a :class:`TrainingResult`."""
        return TrainingResult(model=self.model, artifact=self.to_artifact(),
                              history=self.history, converged=self.converged,
                              trials=self.trials, elapsed_s=self.elapsed_s)

    def training_record(self) -> dict[str, Any]:
        """Training settings, outcome and history as stored in the artifact
        (``stopped_by_hook`` only when an ``on_evaluation`` hook ran)."""
        record = {"protocol": self.config.protocol, "settings": self.config.to_dict(),
                  "model_config": self.model.config.to_dict(),
                  "history": self.history.to_dict(), "converged": self.converged,
                  "trials": self.trials, "updates": self.updates,
                  "elapsed_s": self.elapsed_s, "optimizer": "adam",
                  "torch_threads": self.threads_used}
        if self.history.checks:
            record["stopped_by_hook"] = self.stopped_by_hook
        return record

    def to_artifact(self, **training_extra: Any) -> ModelArtifact:
        """The model as a :class:`ModelArtifact` with task and training metadata."""
        record = self.training_record()
        record.update(training_extra)
        return self.model.to_artifact(task=self.task.name, task_settings=self.task.settings,
                                      training=record)

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write model, optimiser, random states and history to ``path`` (atomically).

        The file loads with ``torch.load(path, weights_only=True)``.
        """
        state = {
            "format": CHECKPOINT_FORMAT,
            "task": self.task.name,
            "task_settings": json.dumps(self.task.settings, default=to_plain),
            "model_config": json.dumps(self.model.config.to_dict()),
            "config": json.dumps(self.config.to_dict()),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "train_rng": json.dumps(self._train_rng.bit_generator.state),
            "eval_rng": json.dumps(self._eval_rng.bit_generator.state),
            "train_noise": self._train_noise.get_state(),
            "eval_noise": self._eval_noise.get_state(),
            "history": json.dumps(self.history.to_dict()),
            "since_eval": json.dumps(self._since_eval),
            "trials": self.trials,
            "updates": self.updates,
            "converged": self.converged,
            "stopped_by_hook": self.stopped_by_hook,
            "elapsed_s": self.elapsed_s,
        }
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
        return Path(path)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, task: AbstractTask | None = None,
                        device: str | None = None) -> Trainer:
        """Resume a run from a checkpoint written by :meth:`save_checkpoint`.

        Parameters
        ----------
        path : path-like
            The checkpoint file.
        task : AbstractTask, optional
            The task instance (needed for a custom task that is not registered); by default
            the registered task is created from the stored name and settings.
        device : str, optional
            Move the run to this device (default: the stored one).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint not found: {path}")
        try:
            state = torch.load(path, weights_only=True, map_location="cpu")
            fmt = state["format"]
        except Exception as exc:
            raise ValueError(f"checkpoint: {path} is not a spikernn training checkpoint "
                             f"({type(exc).__name__}: {exc})") from exc
        if fmt != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format: expected {CHECKPOINT_FORMAT}, got {fmt!r}")
        if task is None:
            task = TaskFactory.create_task(state["task"], json.loads(state["task_settings"]))
        mc = json.loads(state["model_config"])
        if device is not None:
            mc["device"] = device
        trainer = cls(task, RNNConfig(**mc), TrainingConfig(**json.loads(state["config"])))
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer._train_rng.bit_generator.state = json.loads(state["train_rng"])
        trainer._eval_rng.bit_generator.state = json.loads(state["eval_rng"])
        trainer._train_noise.set_state(state["train_noise"])
        trainer._eval_noise.set_state(state["eval_noise"])
        trainer.history = TrainingHistory(**json.loads(state["history"]))
        trainer._since_eval = json.loads(state["since_eval"])
        trainer.trials = int(state["trials"])
        trainer.updates = int(state["updates"])
        trainer.converged = bool(state["converged"])
        trainer.stopped_by_hook = bool(state.get("stopped_by_hook", False))
        trainer.elapsed_s = float(state["elapsed_s"])
        return trainer


def train(task: AbstractTask | str = "go_nogo", model_config: RNNConfig | None = None,
          config: TrainingConfig | None = None, *, task_settings: Mapping[str, Any] | None = None,
          progress: bool = True, checkpoint: str | os.PathLike | None = None) -> TrainingResult:
    """Train a rate RNN on ``task``; see :class:`Trainer`.

    Examples
    --------
    >>> from spikernn.rate import train, create_default_config
    >>> result = train("go_nogo", create_default_config(N=200, seed=0))  # doctest: +SKIP
    >>> result.artifact.save("go_nogo_N200_seed0.mat")                    # doctest: +SKIP
    """
    trainer = Trainer(task, model_config, config, task_settings=task_settings)
    return trainer.train(progress=progress, checkpoint=checkpoint)


@torch.no_grad()
def eval_rnn(net: FR_RNN_dale, settings: Mapping[str, Any] | None, u, device=None,
             training_params: Mapping[str, Any] | None = None, *, seed: int | None = None
             ) -> tuple[list[float], list[np.ndarray], list[np.ndarray]]:
    """Run one trial through a network (the seed project's interface).

    Parameters
    ----------
    net : FR_RNN_dale
        The network.
    settings : mapping or None
        Task settings (kept for compatibility; the trial length comes from ``u``).
    u : array-like, shape (n_inputs, T)
        Stimulus.
    device : torch.device, optional
        Ignored (the network's device is used); kept for compatibility.
    training_params : mapping, optional
        Ignored; kept for compatibility.
    seed : int, optional
        Seed of the initial state and the noise.

    Returns
    -------
    o : list of float
        Output at every step t = 0..T-1 (the seed returned t = 1..T-1).
    r : list of numpy.ndarray (N, 1)
        Rates per step.
    x : list of numpy.ndarray (N, 1)
        Synaptic currents per step.

    Notes
    -----
    The seed's version used ``taus[0]`` for every unit; this one uses the network's trained
    per-unit time constants.
    """
    generator = None
    if seed is not None:
        generator = torch.Generator(device=net.device).manual_seed(check_seed(seed))
    outputs, rates, states = net(np.asarray(u, dtype=np.float32), generator=generator)
    return ([float(v) for v in outputs[0].cpu()],
            [r.reshape(-1, 1) for r in rates[0].cpu().numpy()],
            [x.reshape(-1, 1) for x in states[0].cpu().numpy()])


def _child_seed(seed: int, stream: int) -> int:
    """A 63-bit torch seed for ``stream`` derived from ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(stream)]).generate_state(1, np.uint64)[0]
               >> np.uint64(1))
