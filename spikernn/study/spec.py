"""Study specifications: a TOML file naming the fixed settings, the grid axes and the seeds.

A study is a grid of cells; each cell trains a rate model, searches its scaling factor and
evaluates the spiking network at the best factor (:mod:`spikernn.study.cell`). The spec::

    [study]
    name = "activations"        # default: the file's stem
    seed = 2019                 # the study seed (default 0)
    replicates = 10             # n (ids 0..n-1) or a list of replicate ids
    paired = true               # replicate r has the same seed in every condition (default)
    device = "cpu"              # torch device of every cell (not part of a cell's identity)
    threads = 1                 # cores per cell (default: chosen by where the cells run)

    [settings]                  # every cell; omitted settings keep the library defaults
    task.name = "go_nogo"
    model.N = 250
    model.taus = [4, 10]        # rate steps of 5 ms: 20..50 ms

    [grid]                      # axes: every combination is one condition
    model.activation = ["sigmoid", "softplus", "relu"]

    [[conditions]]              # optional explicit conditions (crossed with the grid)
    name = "no refractory"
    lif.t_ref = 0.0

Settings live in sections, one per object they configure:

- ``task``: ``name`` and any of the task's settings (``T``, ``stim_on``, ...; rate steps);
- ``model``: :class:`~spikernn.rate.RNNConfig` (``N``, ``P_inh``, ``P_rec``, ``som_N``,
  ``w_dist``, ``gain``, ``apply_dale``, ``activation``, ``taus``, ``noise_std``);
- ``training``: :class:`~spikernn.rate.training.TrainingConfig` (``protocol``,
  ``batch_size``, ``lr``, ``loss_fn``, ``max_trials``, ``min_trials``, ``eval_every``,
  ``eval_trials``, ``loss_threshold``, ``acc_threshold``, ``num_threads``; the protocol
  fills the ones not given, for the cell's task);
- ``lif``: :class:`~spikernn.spiking.LIFParams` (``neuron``, ``tau_m``, ``t_ref``, ``tau_r``,
  ``synapse``, ``bias``, ``v_th``, ``v_reset``, ``v_peak``, ``dt``, ``noise_std``, ``v_init``,
  ``v_init_high``; seconds and millivolts);
- ``search``: ``n_trials`` (100), ``scaling_factors`` (a list, or ``{start, stop, step}``
  inclusive; default the paper's grid for the model's activation), ``downsample`` (1),
  ``dtype`` ('float32'), ``memory_budget_mb`` (512), ``extend_edges`` (factors added
  past a grid edge holding the best factor; 0 searches the grid as given; default the
  training protocol's: 4 for ``default``, 0 for ``paper``);
- ``evaluation``: ``n_trials`` (100), ``downsample`` (1), ``save_plots`` (false);
- ``conversion_check``: conversion-aware training,
  :class:`~spikernn.pipeline.conversion_check.ConversionCheck` (``enabled``, ``n_trials``,
  ``scaling_factors``, ``max_checks``, ``every_trials``, ``criterion``); off unless
  ``enabled = true`` (a cell without it has the settings, and the identity, it had before
  the section existed), e.g. the axis ``grid.conversion_check.enabled = [false, true]``.

Every error names the field (``grid.model.N[1]: expected an integer, got 2.5 (float)``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._seeding import child_seed
from .._validate import check_scaling_factors, check_seed
from .._version import __version__
from ..pipeline.conversion_check import ConversionCheck
from ..protocol import get_protocol
from ..rate.model import RNNConfig
from ..rate.training import TrainingConfig
from ..spiking.params import LIFParams
from ..spiking.search import default_scaling_factors
from ..tasks import TaskFactory, normalize_task_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover (Python 3.10)
    import tomli as tomllib


class SpecError(ValueError):
    """A study spec that is not valid; the message names the field."""


#: RNNConfig fields a cell sets itself (the seed from the study, inputs from the task).
_MODEL_EXCLUDED = ("n_inputs", "seed", "device")
#: Settings of the search and evaluation stages: name -> (type, default).
_SEARCH_FIELDS: dict[str, tuple[Any, Any]] = {
    "n_trials": (int, 100), "scaling_factors": ("grid", None), "downsample": (int, 1),
    "dtype": (str, "float32"), "memory_budget_mb": (float, 512.0),
    "extend_edges": (int, None),
}
_EVALUATION_FIELDS: dict[str, tuple[Any, Any]] = {
    "n_trials": (int, 100), "downsample": (int, 1), "save_plots": (bool, False),
}
_DTYPES = ("float32", "float64")
_STUDY_FIELDS = ("name", "seed", "replicates", "paired", "device", "threads")
_TOP_LEVEL = ("study", "settings", "grid", "conditions")


def _dataclass_types(cls, excluded: tuple[str, ...] = ()) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in excluded}


def _section_types() -> dict[str, dict[str, Any]]:
    return {
        "model": _dataclass_types(RNNConfig, _MODEL_EXCLUDED),
        "training": _dataclass_types(TrainingConfig),
        "lif": _dataclass_types(LIFParams),
        "search": {k: t for k, (t, _) in _SEARCH_FIELDS.items()},
        "evaluation": {k: t for k, (t, _) in _EVALUATION_FIELDS.items()},
        "conversion_check": {**_dataclass_types(ConversionCheck), "scaling_factors": "grid"},
    }


SECTIONS = ("task", "model", "training", "lif", "search", "evaluation", "conversion_check")


# --------------------------------------------------------------------------------------
# type checks
# --------------------------------------------------------------------------------------

def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """``value`` checked against the type ``kind`` (a type hint or 'grid'), converted."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _coerce(value, options[0], where)
    if kind is bool:
        if not isinstance(value, bool):
            raise SpecError(f"{where}: expected true or false, got {_describe(value)}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{where}: expected an integer, got {_describe(value)}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{where}: expected a number, got {_describe(value)}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise SpecError(f"{where}: expected a string, got {_describe(value)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise SpecError(f"{where}: expected a list of numbers, got {_describe(value)}")
        return [_coerce(v, float, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "grid":
        return _scaling_factors(value, where)
    raise SpecError(f"{where}: unsupported setting type {kind!r}")  # pragma: no cover


def _scaling_factors(value: Any, where: str) -> list[float]:
    """A list of factors, or ``{start, stop, step}`` (inclusive), as a validated list."""
    if isinstance(value, Mapping):
        keys = {"start", "stop", "step"}
        if set(value) != keys:
            raise SpecError(f"{where}: expected a table with keys {sorted(keys)}, got keys "
                            f"{sorted(value)}")
        start, stop, step = (_coerce(value[k], float, f"{where}.{k}")
                             for k in ("start", "stop", "step"))
        if step <= 0 or stop < start:
            raise SpecError(f"{where}: expected step > 0 and stop >= start, got {dict(value)}")
        value = np.arange(start, stop + step / 2, step).round(10).tolist()
    elif isinstance(value, list):
        value = [_coerce(v, float, f"{where}[{i}]") for i, v in enumerate(value)]
    else:
        raise SpecError(f"{where}: expected a list of numbers or {{start, stop, step}}, got "
                        f"{_describe(value)}")
    try:
        return check_scaling_factors(value, where, distinct=True).tolist()
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def _check_keys(table: Any, where: str, allowed) -> dict:
    if not isinstance(table, Mapping):
        raise SpecError(f"{where}: expected a table, got {_describe(table)}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")
    return dict(table)


# --------------------------------------------------------------------------------------
# the spec
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One condition of a study: a name and the settings it changes (``section.key``)."""

    name: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class StudySpec:
    """A validated study: fixed settings, conditions and replicates.

    Attributes
    ----------
    name : str
        Study name.
    seed : int
        Study seed; cell seeds derive from it and the cell's identity.
    replicates : tuple of int
        Replicate ids (the paper's "100 rate models per condition" is 100 replicates).
    paired : bool
        Replicate r gets the same seed in every condition (a paired design); else the
        condition's settings enter the seed too.
    device : str
        Torch device of the cells.
    threads : int or None
        Cores per cell (torch threads, the engine's threads and chunk processes); None:
        chosen where the cells run (all cores for cells run one at a time, the cores
        shared out in a local pool, 1 per cell on a Dask worker).
    settings : dict
        Fixed settings, ``{section: {key: value}}``, as given.
    conditions : tuple of Condition
        The grid's (and the explicit) conditions.
    source : str
        The spec's text (TOML), kept next to the results.
    """

    name: str
    seed: int
    replicates: tuple[int, ...]
    paired: bool
    device: str
    threads: int | None
    settings: dict[str, dict[str, Any]]
    conditions: tuple[Condition, ...]
    source: str = field(default="", repr=False)

    def cells(self) -> list:
        """Every cell (conditions x replicates, in that order) with resolved settings."""
        from .cell import Cell

        out = []
        for cond in self.conditions:
            resolved = resolve_settings(self.settings, cond.overrides, f"condition {cond.name!r}")
            for rep in self.replicates:
                seed = cell_seed(self.seed, rep, None if self.paired else resolved)
                key = settings_key(resolved, seed)
                out.append(Cell(condition=cond.name, replicate=rep, seed=seed,
                                settings=resolved, overrides=dict(cond.overrides), key=key,
                                folder=f"{_slug(cond.name)}__r{rep}", device=self.device,
                                threads=self.threads))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the source text)."""
        return {"name": self.name, "seed": self.seed, "replicates": list(self.replicates),
                "paired": self.paired, "device": self.device, "threads": self.threads,
                "settings": self.settings,
                "conditions": [{"name": c.name, "overrides": c.overrides}
                               for c in self.conditions]}


def load_spec(path: str | os.PathLike) -> StudySpec:
    """Read and validate a TOML study spec; :class:`SpecError` names a bad field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study spec not found: {path}")
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec {path}: not valid TOML ({exc})") from None
    return parse_spec(data, default_name=path.stem, source=text)


def parse_spec(data: Mapping[str, Any], default_name: str = "study",
               source: str = "") -> StudySpec:
    """Validate a spec given as a (TOML-shaped) dict; see the module docstring."""
    data = _check_keys(data, "spec", _TOP_LEVEL)
    study = _check_keys(data.get("study", {}), "study", _STUDY_FIELDS)
    name = _coerce(study.get("name", default_name), str, "study.name")
    if not name.strip():
        raise SpecError("study.name: expected a non-empty string, got ''")
    try:
        seed = check_seed(study.get("seed", 0), "study.seed")
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    replicates = _replicates(study.get("replicates", 1))
    paired = _coerce(study.get("paired", True), bool, "study.paired")
    device = _coerce(study.get("device", "cpu"), str, "study.device")
    threads = study.get("threads")
    if threads is not None and _coerce(threads, int, "study.threads") < 1:
        raise SpecError(f"study.threads: expected a positive integer, got {threads}")

    settings = _settings_table(data.get("settings", {}), "settings")
    grid = _grid(data.get("grid", {}), settings.get("task", {}).get("name", "go_nogo"))
    explicit = _explicit_conditions(data.get("conditions", []))
    conditions = _combine(grid, explicit)
    spec = StudySpec(name=name, seed=seed, replicates=replicates, paired=paired, device=device,
                     threads=threads, settings=settings, conditions=conditions, source=source)
    spec.cells()  # resolve every condition now: a bad value fails before anything runs
    return spec


def _replicates(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        reps = tuple(_coerce(v, int, f"study.replicates[{i}]") for i, v in enumerate(value))
        if not reps or any(r < 0 for r in reps) or len(set(reps)) != len(reps):
            raise SpecError(f"study.replicates: expected distinct non-negative integers, got "
                            f"{list(reps)}")
        return reps
    n = _coerce(value, int, "study.replicates")
    if n < 1:
        raise SpecError(f"study.replicates: expected a positive integer or a list of ids, "
                        f"got {n}")
    return tuple(range(n))


def _settings_table(table: Any, where: str) -> dict[str, dict[str, Any]]:
    """``{section: {key: value}}`` with every key known and every value of its type."""
    table = _check_keys(table, where, SECTIONS)
    out: dict[str, dict[str, Any]] = {}
    for section, values in table.items():
        values = _check_keys(values, f"{where}.{section}", _allowed(section, values))
        out[section] = {k: _check_value(section, k, v, f"{where}.{section}.{k}")
                        for k, v in values.items()}
    return out


def _allowed(section: str, values: Any) -> set[str]:
    """Keys allowed in ``section`` (for ``task``: ``name`` and the task's settings)."""
    if section == "task":
        name = values.get("name", "go_nogo") if isinstance(values, Mapping) else "go_nogo"
        return {"name", *_task_setting_names(name, "task.name")}
    return set(_section_types()[section])


def _task_setting_names(name: Any, where: str) -> list[str]:
    if not isinstance(name, str):
        raise SpecError(f"{where}: expected a task name, got {_describe(name)}")
    try:
        cls = TaskFactory.get_task_class(name)
    except ValueError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return list(cls.get_default_settings())


def _check_value(section: str, key: str, value: Any, where: str) -> Any:
    if section == "task":
        if key == "name":
            _task_setting_names(value, where)
            return normalize_task_name(value)
        if isinstance(value, Mapping | list):
            raise SpecError(f"{where}: expected a number, string or boolean, got "
                            f"{_describe(value)}")
        return value
    return _coerce(value, _section_types()[section][key], where)


def _grid(table: Any, task_name: str) -> list[tuple[str, list[Any]]]:
    """The grid's axes as ``[(section.key, [values...])]`` in the spec's order
    (``task_name``: the fixed settings' task, whose settings a task axis may vary)."""
    table = _check_keys(table, "grid", SECTIONS)
    axes = []
    for section, values in table.items():
        values = _check_keys(values, f"grid.{section}", _allowed(section, values)
                             if section != "task" else _task_axis_keys(values, task_name))
        for key, options in values.items():
            where = f"grid.{section}.{key}"
            if not isinstance(options, list) or not options:
                raise SpecError(f"{where}: expected a non-empty list of values (one per "
                                f"condition), got {_describe(options)}")
            checked = [_check_value(section, key, v, f"{where}[{i}]")
                       for i, v in enumerate(options)]
            if len({json.dumps(v, sort_keys=True) for v in checked}) != len(checked):
                raise SpecError(f"{where}: expected distinct values, got {options!r}")
            axes.append((f"{section}.{key}", checked))
    return axes


def _task_axis_keys(values: Any, task_name: str) -> set[str]:
    """Keys a ``grid.task`` table may name: ``name`` and the settings of the listed tasks."""
    names = values.get("name", [task_name]) if isinstance(values, Mapping) else [task_name]
    names = names if isinstance(names, list) else [names]
    allowed = {"name"}
    for i, n in enumerate(names):
        allowed.update(_task_setting_names(n, f"grid.task.name[{i}]"))
    return allowed


def _explicit_conditions(items: Any) -> list[Condition]:
    if not isinstance(items, list):
        raise SpecError(f"conditions: expected a list of tables ([[conditions]]), got "
                        f"{_describe(items)}")
    out = []
    for i, item in enumerate(items):
        where = f"conditions[{i}]"
        item = _check_keys(item, where, ("name", *SECTIONS))
        name = item.pop("name", None)
        if name is not None:
            name = _coerce(name, str, f"{where}.name")
        settings = _settings_table(item, where)
        overrides = {f"{s}.{k}": v for s, vals in settings.items() for k, v in vals.items()}
        out.append(Condition(name or _auto_name(overrides), overrides))
    return out


def _combine(grid: list[tuple[str, list[Any]]], explicit: list[Condition]
             ) -> tuple[Condition, ...]:
    """Explicit conditions (or one empty) crossed with every combination of the grid."""
    keys = [k for k, _ in grid]
    combos = [dict(zip(keys, values, strict=True))
              for values in itertools.product(*(v for _, v in grid))]
    bases = explicit or [Condition("", {})]
    out = []
    for base in bases:
        for combo in combos:
            overlap = sorted(set(combo) & set(base.overrides))
            if overlap:
                raise SpecError(f"conditions: {base.name!r} sets {overlap}, which the grid "
                                f"also varies; set each in one place")
            overrides = {**base.overrides, **combo}
            names = [n for n in (base.name, _auto_name(combo, keys)) if n]
            out.append(Condition(", ".join(names) or "default", overrides))
    seen: dict[str, int] = {}
    for c in out:
        seen[c.name] = seen.get(c.name, 0) + 1
    dupes = sorted(n for n, k in seen.items() if k > 1)
    if dupes:
        raise SpecError(f"conditions: expected distinct condition names, got {dupes} "
                        f"more than once")
    slugs = [_slug(c.name) for c in out]
    if len(set(slugs)) != len(slugs):
        raise SpecError(f"conditions: names {[c.name for c in out]} map to the same folder "
                        f"name; give the conditions distinct names")
    return tuple(out)


def _auto_name(overrides: Mapping[str, Any], keys: list[str] | None = None) -> str:
    """``activation=relu, N=250``: short keys unless two sections share one."""
    keys = list(overrides) if keys is None else keys
    short = [k.split(".", 1)[1] for k in keys]
    parts = []
    for k, s in zip(keys, short, strict=True):
        label = s if short.count(s) == 1 else k
        parts.append(f"{label}={_value_text(overrides[k])}")
    return ", ".join(parts)


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return "-".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _slug(name: str) -> str:
    """A folder name for a condition (letters, digits, ``._=-``; others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_") or "default"


# --------------------------------------------------------------------------------------
# resolution, identity and seeds
# --------------------------------------------------------------------------------------

def resolve_settings(fixed: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any],
                     where: str = "settings") -> dict[str, dict[str, Any]]:
    """Every setting of a cell (library defaults filled in), validated by the objects that
    use them; ``{section: {key: value}}``."""
    merged: dict[str, dict[str, Any]] = {s: dict(fixed.get(s, {})) for s in SECTIONS}
    for dotted, value in overrides.items():
        section, key = dotted.split(".", 1)
        merged[section][key] = value
    task_given = dict(merged["task"])
    task_name = task_given.pop("name", "go_nogo")
    try:
        task = TaskFactory.create_task(task_name, task_given)
        model = RNNConfig(**merged["model"], n_inputs=int(task.n_inputs))
        training = TrainingConfig(**merged["training"]).resolve(task.name)
        lif = LIFParams(**merged["lif"])
        check = ConversionCheck(**{"enabled": False, **merged["conversion_check"]})
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{where}: {exc}") from None
    search = {k: d for k, (_, d) in _SEARCH_FIELDS.items()} | merged["search"]
    evaluation = {k: d for k, (_, d) in _EVALUATION_FIELDS.items()} | merged["evaluation"]
    if search["scaling_factors"] is None:
        search["scaling_factors"] = default_scaling_factors(model.activation).tolist()
    if search["extend_edges"] is None:
        search["extend_edges"] = get_protocol(training.protocol).extend_edges
    for name, stage in (("search", search), ("evaluation", evaluation)):
        for k in ("n_trials", "downsample"):
            if stage[k] < 1:
                raise SpecError(f"{where}: {name}.{k}: expected a positive integer, got "
                                f"{stage[k]}")
    if search["extend_edges"] < 0:
        raise SpecError(f"{where}: search.extend_edges: expected a non-negative integer, got "
                        f"{search['extend_edges']}")
    if search["dtype"] not in _DTYPES:
        raise SpecError(f"{where}: search.dtype: expected one of {_DTYPES}, got "
                        f"{search['dtype']!r}")
    if not search["memory_budget_mb"] > 0:
        raise SpecError(f"{where}: search.memory_budget_mb: expected a positive number, got "
                        f"{search['memory_budget_mb']}")
    model_dict = {k: v for k, v in model.to_dict().items() if k not in _MODEL_EXCLUDED}
    resolved = {"task": {"name": task.name, **task.settings}, "model": model_dict,
                "training": training.to_dict(), "lif": lif.to_dict(), "search": search,
                "evaluation": evaluation}
    if check.enabled:  # absent when off: the cell's identity is the one of plain training
        resolved["conversion_check"] = check.to_dict()
    return json.loads(json.dumps(resolved, sort_keys=True))


def settings_key(settings: Mapping[str, Any], seed: int, version: str | None = None) -> str:
    """The identity of a cell's results: a hash of its resolved settings, its seed and the
    spikernn version that computes them (16 hex digits; ``version`` defaults to the
    installed one).

    The version is hashed so that a study resumed under another spikernn version reruns its
    cells rather than mixing numbers of two versions in one table (a version may change a
    default or an algorithm without any setting changing).
    """
    version = __version__ if version is None else version
    text = json.dumps({"settings": settings, "seed": int(seed), "spikernn": str(version)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cell_seed(study_seed: int, replicate: int,
              settings: Mapping[str, Any] | None = None) -> int:
    """A cell's seed from the study seed and the cell's identity (never its position).

    ``child_seed(study_seed, "replicate", replicate)`` (:mod:`spikernn._seeding`) for a
    paired design (``settings`` None); otherwise the first 64 bits of the settings' hash
    enter as a further key, so each condition draws its own seeds.
    """
    if settings is None:
        return child_seed(study_seed, "replicate", replicate)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).digest()
    return child_seed(study_seed, "replicate", replicate, "settings",
                      int.from_bytes(digest[:8], "little"))
