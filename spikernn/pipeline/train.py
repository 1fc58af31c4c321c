"""Train a rate RNN on a task and write its model files (what ``spikernn train`` runs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..rate.model import RNNConfig
from ..rate.training import Trainer, TrainingConfig, TrainingResult
from ..spiking.params import LIFParams
from ..tasks import TaskFactory, normalize_task_name
from .conversion_check import ConversionCheck, check_summary, conversion_hook

#: Suffixes of the model files :func:`train_model` writes (the original project's ``.mat``
#: layout, what the conversion reads, and the same record as tensors).
MODEL_SUFFIXES = (".mat", ".pth")


@dataclass(frozen=True)
class TrainedModel:
    """What :func:`train_model` produced.

    Attributes
    ----------
    result : TrainingResult
        The training run (``result.artifact`` is the model, ``result.converged`` whether
        the paper's termination criteria, and the spiking check when asked for, were met).
    paths : tuple of pathlib.Path
        The model files written (``.mat``, ``.pth``).
    checkpoint : pathlib.Path
        The checkpoint ``resume=True`` continues from.
    """

    result: TrainingResult
    paths: tuple[Path, ...]
    checkpoint: Path


def model_stem(task: str, N: int, seed: int) -> str:
    """File name stem of a trained model: ``<task>_N<N>_seed<seed>``."""
    return f"{normalize_task_name(task)}_N{N}_seed{seed}"


def train_model(task: str, model_config: RNNConfig, config: TrainingConfig,
                out_dir: str | os.PathLike, *, task_settings: Mapping[str, Any] | None = None,
                resume: bool = False, progress: bool = True, command: str | None = None,
                device: str | None = None,
                on_start: Callable[[Trainer], None] | None = None,
                conversion_check: ConversionCheck | None = None,
                lif_params: LIFParams | None = None) -> TrainedModel:
    """Train (or resume) a rate RNN and write ``<task>_N<N>_seed<seed>.mat`` and ``.pth``.

    Parameters
    ----------
    task : str
        Task name.
    model_config : RNNConfig
        The network (``model_config.seed`` names the files and seeds the run).
    config : TrainingConfig
        The training protocol.
    out_dir : path-like
        Where the model files and the checkpoint ``<stem>.ckpt.pth`` go.
    task_settings : mapping, optional
        Overrides of the task's settings.
    resume : bool
        Continue from the checkpoint (its configuration, with ``config.max_trials`` and
        ``config.num_threads``, which does not change the numbers).
    progress : bool
        Show a progress bar.
    command : str, optional
        The command line recorded in the model's training metadata.
    device : str, optional
        Device of a resumed run (default: the checkpoint's).
    on_start : callable, optional
        Called with the :class:`Trainer` before training starts (e.g. to print what runs).
    conversion_check : ConversionCheck, optional
        Conversion-aware training (:mod:`spikernn.pipeline.conversion_check`): once the
        rate criteria are met, keep training until a quick spiking check passes (bounded).
        Each check is in ``history["checks"]``, the settings and outcome in the model's
        ``training["conversion_check"]``. None or ``enabled=False``: plain training.
    lif_params : LIFParams, optional
        The LIF parameters of the spiking checks (default SI Table S1).

    Returns
    -------
    TrainedModel

    Raises
    ------
    FileNotFoundError
        ``resume`` without a checkpoint.
    """
    out = Path(out_dir)
    stem = model_stem(task, model_config.N, model_config.seed)
    checkpoint = out / f"{stem}.ckpt.pth"
    if resume:
        if not checkpoint.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {checkpoint}")
        trainer = Trainer.from_checkpoint(checkpoint, device=device)
        trainer.config = TrainingConfig(**{**trainer.config.to_dict(),
                                           "max_trials": config.max_trials,
                                           "num_threads": config.num_threads})
    else:
        trainer = Trainer(TaskFactory.create_task(task, dict(task_settings or {})),
                          model_config, config)
    if on_start is not None:
        on_start(trainer)
    extra: dict[str, Any] = {} if command is None else {"command": command}
    hook = None
    if conversion_check is not None and conversion_check.enabled:
        hook = conversion_hook(conversion_check, lif_params, str(trainer.model.device))
    result = trainer.train(progress=progress, checkpoint=checkpoint, on_evaluation=hook)
    if hook is not None:
        extra["conversion_check"] = check_summary(trainer.history.checks, conversion_check,
                                                  trainer.seed)
    artifact = trainer.to_artifact(**extra)
    paths = tuple(artifact.save(out / f"{stem}{suffix}") for suffix in MODEL_SUFFIXES)
    return TrainedModel(result, paths, checkpoint)
