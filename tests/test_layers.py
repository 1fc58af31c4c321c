"""The package's layers, checked on the real imports of the source tree (parsed with ast).

ground (``_io``, ``_validate``, ``_matheader``, ``_version``, ``_seeding``, ``clock``,
``tasks``, ``artifact``, ``pretrained``) <- ``rate``, ``spiking`` (neither imports the other)
<- ``bridges``, ``analysis`` <- ``pipeline`` <- ``study`` <- the command line (``commands``,
``cli``, the seed's ``spiking.eval_tasks`` entry point) <- the ``spikernn`` package itself
(its lazy seed names).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folders and the package each one is installed as.
SOURCES = {"spikernn": "spikernn", "bridges": "spikernn.bridges",
           "analysis": "spikernn.analysis"}

#: (layer name, rank) by module prefix; the longest matching prefix wins.
LAYERS = {
    "spikernn._io": ("ground", 0), "spikernn._validate": ("ground", 0),
    "spikernn._matheader": ("ground", 0),
    "spikernn._version": ("ground", 0), "spikernn._seeding": ("ground", 0),
    "spikernn.clock": ("ground", 0), "spikernn.protocol": ("ground", 0),
    "spikernn.tasks": ("ground", 0), "spikernn.artifact": ("ground", 0),
    "spikernn.pretrained": ("ground", 0),
    "spikernn.rate": ("rate", 1), "spikernn.spiking": ("spiking", 1),
    "spikernn.bridges": ("bridges", 2), "spikernn.analysis": ("analysis", 2),
    "spikernn.pipeline": ("pipeline", 3),
    "spikernn.study": ("study", 4),
    "spikernn.commands": ("cli", 5), "spikernn.cli": ("cli", 5), "spikernn.__main__": ("cli", 5),
    "spikernn.spiking.eval_tasks": ("cli", 5),
    "spikernn": ("package", 6),
}

#: Imports across layers that are allowed, and why. Only imports inside a function (loaded
#: on first use) may be listed here.
ALLOWED_LAZY = {
    ("spikernn.spiking", "spikernn.spiking.eval_tasks"):
        "the seed name spikernn.spiking.evaluate_task, loaded on first use",
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    parts[0] = SOURCES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> tuple[str, int]:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        parts = parts if is_package else parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if node.module is None:  # from . import x: x may be a submodule
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """``(imported module, at module level)`` for every spikernn import of a source file."""
    module = module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                continue
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                           | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                found.extend((m, top) for m in _resolve(child, module,
                                                        path.name == "__init__.py"))
            visit(child, inner)

    visit(tree, True)
    return [(m, top) for m, top in found if m == "spikernn" or m.startswith("spikernn.")]


def all_imports() -> dict[str, list[tuple[str, bool]]]:
    graph = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            graph[module_name(path)] = imports_of(path)
    return graph


GRAPH = all_imports()


def test_the_graph_is_read_from_the_source_tree():
    assert {"spikernn.spiking.engine", "spikernn.pipeline", "spikernn.bridges.neo",
            "spikernn.commands.run"} <= set(GRAPH)
    assert ("spikernn.spiking.result", True) in GRAPH["spikernn.spiking.engine"]


def _violations() -> list[str]:
    bad = []
    for module, imports in GRAPH.items():
        name, rank = layer_of(module)
        for target, top in imports:
            t_name, t_rank = layer_of(target)
            allowed = not top and (module, target) in ALLOWED_LAZY
            if allowed:
                continue
            if t_rank > rank or {name, t_name} == {"rate", "spiking"}:
                bad.append(f"{module} ({name}) imports {target} ({t_name})")
            elif module.startswith("spikernn.tasks") and not (
                    target.startswith("spikernn.tasks") or target in (
                        "spikernn._validate", "spikernn._io", "spikernn.clock")):
                bad.append(f"{module} (tasks know no model) imports {target}")
    return bad


def test_every_import_points_down_the_layers():
    assert _violations() == []


def test_the_check_catches_an_upward_import(monkeypatch):
    monkeypatch.setitem(GRAPH, "spikernn.spiking.fake", [("spikernn.rate.model", True),
                                                         ("spikernn.pipeline", False)])
    assert len(_violations()) == 2


@pytest.mark.parametrize("module", ["spikernn.spiking.engine", "spikernn.spiking",
                                    "spikernn.tasks"])
def test_importing_the_core_loads_neither_rate_nor_matplotlib(module):
    code = (f"import sys, {module}; "
            "bad = [m for m in ('spikernn.rate', 'matplotlib', 'spikernn.pipeline') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_names_load_on_first_use():
    code = ("import sys, spikernn; assert 'spikernn.rate' not in sys.modules; "
            "names = [getattr(spikernn, n) for n in spikernn.__all__]; "
            "assert spikernn.spiking.LIF_network_fnc and spikernn.pipeline.evaluate; "
            "print(len(names))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
