"""``spikernn train``: train a rate RNN on a task and write its model files.

Files (in ``--out``): ``<task>_N<N>_seed<seed>.mat`` (the original project's layout, what the
conversion reads), ``<task>_N<N>_seed<seed>.pth`` (the same record as tensors) and, during
training, the checkpoint ``<task>_N<N>_seed<seed>.ckpt.pth`` that ``--resume`` continues.
Exit status: 0 when the termination criteria were met, 1 when ``--max-trials`` ran out first
or, with ``--conversion-aware``, the spiking check did not pass within ``--max-checks``
(the files are written either way), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from .._validate import check_device
from ..pipeline.conversion_check import ConversionCheck, format_checks
from ..pipeline.train import train_model
from ..protocol import PROTOCOLS
from ..rate.compat import SEED_TRAIN_FLAGS, str2bool
from ..rate.model import RNNConfig, set_gpu
from ..rate.training import TrainingConfig, TrainingResult, resolve_seed
from ..tasks import normalize_task_name
from . import _args

_MODEL = RNNConfig()
_TRAIN = TrainingConfig()
_CHECK = ConversionCheck()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a rate RNN on a task and write .mat/.pth model files",
        description="Train a continuous rate RNN (Dale's principle, trained per-unit time "
                    "constants) until the protocol's criteria are met (mean evaluation loss "
                    "and accuracy on fresh trials), then write OUT/<task>_N<N>_seed<seed>.mat "
                    "and .pth.",
        epilog="Exit status: 0 when the criteria were met, 1 when --max-trials ran out first "
               "or the spiking check of --conversion-aware did not pass within --max-checks "
               "(the files are written either way), 2 for bad arguments. Interrupted runs "
               "continue with the same command plus --resume.")
    p.add_argument("--task", default="go_nogo", help="task name (see `spikernn tasks`)")
    p.add_argument("--task-settings", default=None, metavar="JSON",
                   help='task setting overrides as JSON, e.g. \'{"T": 250}\'')
    p.add_argument("--seed", type=_args.seed, default=None,
                   help="seed of everything random (default: drawn and recorded)")
    p.add_argument(*_flags("--out"), default="models", help="output folder (default: %(default)s)")
    p.add_argument("--device", type=_args.device, default=_MODEL.device,
                   help="torch device (default: %(default)s)")
    m = p.add_argument_group("model")
    m.add_argument("--N", type=int, default=_MODEL.N, help="number of units (%(default)s)")
    m.add_argument(*_flags("--P-inh"), type=float, default=_MODEL.P_inh,
                   help="probability a unit is inhibitory (%(default)s)")
    m.add_argument(*_flags("--P-rec"), type=float, default=_MODEL.P_rec,
                   help="recurrent connection probability (%(default)s)")
    m.add_argument(*_flags("--som-N"), type=int, default=_MODEL.som_N,
                   help="number of SOM inhibitory units (%(default)s)")
    m.add_argument("--w-dist", default=_MODEL.w_dist, choices=("gaus", "gamma"),
                   help="initial recurrent weight distribution (%(default)s)")
    m.add_argument("--gain", type=float, default=_MODEL.gain,
                   help="gain of the 'gaus' initialisation (%(default)s)")
    m.add_argument("--apply-dale", action=argparse.BooleanOptionalAction,
                   default=_MODEL.apply_dale, help="apply Dale's principle (default: yes)")
    m.add_argument(*_flags("--activation"), default=_MODEL.activation,
                   choices=("sigmoid", "relu", "clipped_relu", "softplus"),
                   help="rate function (%(default)s)")
    m.add_argument(*_flags("--decay-taus"), type=float, nargs="+", default=list(_MODEL.taus),
                   metavar="TAU", help="min and max synaptic decay constants in rate steps of "
                   "5 ms, or one value for a fixed constant (default: 4 20)")
    m.add_argument("--noise-std", type=float, default=_MODEL.noise_std,
                   help="state noise per step (%(default)s)")
    t = p.add_argument_group("training")
    t.add_argument("--protocol", default=_TRAIN.protocol, type=str.lower,
                   choices=sorted(PROTOCOLS),
                   help="'default': this library's rules, chosen so that trained models "
                        "convert (docs/convertibility.md); 'paper': the original code's (batch "
                        "1, stop at loss < 7 and accuracy > 95%%, Go/NoGo not before 1500 "
                        "trials; the search then uses the paper's grid only). It sets "
                        "--batch-size, --min-trials, --loss-threshold and --acc-threshold "
                        "unless they are given (default: %(default)s)")
    t.add_argument("--batch-size", type=_args.positive_int, default=None,
                   help="trials per update; 1 = the original protocol (default: the "
                        "protocol's)")
    t.add_argument("--lr", type=float, default=_TRAIN.lr, help="Adam learning rate (%(default)s)")
    t.add_argument(*_flags("--loss-fn"), default=_TRAIN.loss_fn, choices=("l2", "l1"),
                   type=str.lower,
                   help="loss function (%(default)s)")
    t.add_argument(*_flags("--max-trials"), type=_args.positive_int, default=_TRAIN.max_trials,
                   help="training trial cap (%(default)s)")
    t.add_argument("--min-trials", type=_args.non_negative_int, default=None,
                   help="never stop before this many trials (default: the protocol's)")
    t.add_argument("--eval-every", type=_args.positive_int, default=_TRAIN.eval_every,
                   help="training trials between evaluations (%(default)s)")
    t.add_argument("--eval-trials", type=_args.positive_int, default=_TRAIN.eval_trials,
                   help="fresh trials per evaluation (%(default)s)")
    t.add_argument("--loss-threshold", type=float, default=None,
                   help="stop when the mean evaluation loss is below this (default: the "
                        "protocol's)")
    t.add_argument("--acc-threshold", type=float, default=None,
                   help="... and the evaluation accuracy is at least this (default: the "
                        "protocol's)")
    t.add_argument("--threads", type=_args.positive_int, default=_TRAIN.num_threads,
                   help="torch CPU threads during training (%(default)s; fastest on small "
                        "networks; the numbers do not depend on it, see the README)")
    t.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in OUT written by an interrupted run "
                        "with the same task, N and seed")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    c = p.add_argument_group(
        "conversion-aware training", "once the rate criteria are met, keep training until a "
        "quick spiking check of the converted LIF network also reaches the task's criterion")
    c.add_argument("--conversion-aware", action="store_true",
                   help="run the spiking checks (off by default)")
    c.add_argument("--check-trials", type=_args.positive_int, default=_CHECK.n_trials,
                   help="trials per factor in a check (%(default)s)")
    c.add_argument("--check-factors", type=_scaling_factors, default=None, metavar="GRID",
                   help="the checks' coarse grid, 'start:stop:step' or a list (default: "
                        "every other factor of the paper's grid from two steps below it; "
                        "10:70:10 for sigmoid)")
    c.add_argument("--check-every", type=_args.positive_int, default=_CHECK.every_trials,
                   metavar="TRIALS", help="training trials at least between checks "
                   "(%(default)s)")
    c.add_argument("--max-checks", type=_args.positive_int, default=_CHECK.max_checks,
                   help="stop (exit 1) when this many checks failed (%(default)s)")
    seed = p.add_argument_group(
        "the seed project's rate/main.py options", "also accepted: --P_inh --P_rec --som_N "
        "--decay_taus --loss_fn --act --n_trials (= --max-trials) --output_dir (= --out)")
    seed.add_argument("--apply_dale", type=str2bool, dest="apply_dale", metavar="BOOL",
                      help="True/False: same as --apply-dale/--no-apply-dale")
    seed.add_argument("--gpu", default=None, metavar="INDEX",
                      help="CUDA device index: same as --device cuda:INDEX (CPU if none)")
    seed.add_argument("--gpu_frac", type=float, default=1.0, metavar="FRAC",
                      help="fraction of the GPU's memory to use with --gpu (%(default)s)")
    seed.add_argument("--mode", default="train", type=str.lower, choices=("train",),
                      help="only 'train' (evaluate with `spikernn evaluate`)")
    p.set_defaults(func=run)


def _scaling_factors(text: str):
    from .search import parse_scaling_factors

    return parse_scaling_factors(text)


def _flags(name: str) -> tuple[str, ...]:
    """An option's name and, if it has one, the seed's name for it (an alias)."""
    return (name, SEED_TRAIN_FLAGS[name]) if name in SEED_TRAIN_FLAGS else (name,)


def canonical_command(args: argparse.Namespace, seed: int, config: TrainingConfig) -> str:
    """The full ``spikernn train`` command line that reproduces this run (``config``: the
    training settings resolved for the task)."""
    parts = ["spikernn", "train", "--task", normalize_task_name(args.task), "--seed", str(seed),
             "--N", str(args.N), "--P-inh", str(args.P_inh), "--P-rec", str(args.P_rec),
             "--som-N", str(args.som_N), "--w-dist", args.w_dist, "--gain", str(args.gain),
             "--apply-dale" if args.apply_dale else "--no-apply-dale",
             "--activation", args.activation, "--decay-taus", *map(str, args.decay_taus),
             "--noise-std", str(args.noise_std), "--protocol", config.protocol,
             "--batch-size", str(config.batch_size),
             "--lr", str(args.lr), "--loss-fn", args.loss_fn,
             "--max-trials", str(args.max_trials), "--min-trials", str(config.min_trials),
             "--eval-every", str(args.eval_every),
             "--eval-trials", str(args.eval_trials),
             "--loss-threshold", str(config.loss_threshold),
             "--acc-threshold", str(config.acc_threshold), "--threads", str(args.threads),
             "--device", args.device]
    if args.task_settings:
        parts += ["--task-settings", args.task_settings]
    if args.conversion_aware:
        parts += ["--conversion-aware", "--check-trials", str(args.check_trials),
                  "--check-every", str(args.check_every), "--max-checks", str(args.max_checks)]
        if args.check_factors is not None:
            parts += ["--check-factors", ",".join(f"{f:g}" for f in args.check_factors)]
    return shlex.join(parts)


def _task_settings(text: str | None) -> dict:
    if not text:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--task-settings: expected a JSON object, got {text!r} ({exc})"
                         ) from None
    if not isinstance(settings, dict):
        raise ValueError(f"--task-settings: expected a JSON object, got {text!r}")
    return settings


def run(args: argparse.Namespace) -> int:
    """Train, print a summary and write the model files; see the module docstring."""
    if len(args.decay_taus) not in (1, 2):
        raise ValueError(f"--decay-taus: expected one or two values, got {args.decay_taus}")
    if args.gpu is not None:
        args.device = str(set_gpu(args.gpu, args.gpu_frac))
    check_device(args.device, "--device")
    if args.resume and args.seed is None:
        raise ValueError("--resume: expected --seed (it names the checkpoint to continue)")
    seed = resolve_seed(args.seed)
    model_config = RNNConfig(N=args.N, P_inh=args.P_inh, P_rec=args.P_rec, som_N=args.som_N,
                             w_dist=args.w_dist, gain=args.gain, apply_dale=args.apply_dale,
                             activation=args.activation, taus=tuple(args.decay_taus),
                             noise_std=args.noise_std, seed=seed, device=args.device)
    config = TrainingConfig(batch_size=args.batch_size, lr=args.lr, loss_fn=args.loss_fn,
                            max_trials=args.max_trials, min_trials=args.min_trials,
                            eval_every=args.eval_every,
                            eval_trials=args.eval_trials, loss_threshold=args.loss_threshold,
                            acc_threshold=args.acc_threshold, num_threads=args.threads,
                            protocol=args.protocol).resolve(args.task)

    check = None
    if args.conversion_aware:
        check = ConversionCheck(
            n_trials=args.check_trials, every_trials=args.check_every,
            max_checks=args.max_checks,
            scaling_factors=None if args.check_factors is None
            else tuple(float(f) for f in args.check_factors))

    def announce(trainer) -> None:
        c = trainer.config
        print(f"spikernn train: {trainer.task.name}, {trainer.model!r}, protocol "
              f"{c.protocol!r} (batch size {c.batch_size}, min trials {c.min_trials}, stop at "
              f"loss < {c.loss_threshold:g} and accuracy >= {c.acc_threshold:g}), seed {seed}",
              file=sys.stderr)

    trained = train_model(args.task, model_config, config, args.out,
                          task_settings=_task_settings(args.task_settings),
                          resume=args.resume, progress=not args.quiet,
                          command=canonical_command(args, seed, config), device=args.device,
                          on_start=announce, conversion_check=check)
    _print_summary(trained.result, list(trained.paths))
    if check is not None:
        print(format_checks(trained.result.history.checks, check))
    return 0 if trained.result.converged else 1


def _print_summary(result: TrainingResult, paths: list[Path]) -> None:
    h = result.history
    status = "met the criteria" if result.converged else "did NOT meet the criteria"
    last = (f"evaluation at {h.trials[-1]} trials: loss {h.loss[-1]:.3f}, accuracy "
            f"{100 * h.accuracy[-1]:.1f}%" if h.trials else "no evaluation")
    print(f"{status} after {result.trials} trials in {result.elapsed_s:.1f} s; last {last}")
    taus = result.artifact.tau_d_ms
    print(f"decay constants {taus.min():.1f}..{taus.max():.1f} ms "
          f"(mean {taus.mean():.1f} ms); wrote {', '.join(str(p) for p in paths)}")
