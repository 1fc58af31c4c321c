"""A regular (wheel) install works on its own: no source tree on the path.

The wheel is built from a clean copy of the source tree and installed with ``--no-deps`` into
a fresh virtual environment that reuses this environment's installed dependencies through a
``.pth`` path file, so no network is needed. In that environment, the ``spikernn`` console
script and every subcommand's ``--help`` run, ``spikernn tasks`` lists the tasks, and every
public module, discovered by walking the installed package, imports; the installed modules are
exactly those of the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> installed package name (setup.py maps bridges/ and analysis/).
SOURCE_PACKAGES = {"spikernn": "spikernn", "bridges": "spikernn.bridges",
                   "analysis": "spikernn.analysis"}
#: Written into the fresh environment and run there: walk the installed package.
WALK = """
import argparse, importlib, json, pkgutil, sys
import spikernn, spikernn.cli
parser = spikernn.cli.build_parser()
subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)][0]
names = sorted(m.name for m in pkgutil.walk_packages(spikernn.__path__, "spikernn."))
public = [n for n in names if not any(p.startswith("_") for p in n.split("."))]
for name in public:
    importlib.import_module(name)
print(json.dumps({"file": spikernn.__file__, "modules": ["spikernn"] + names,
                  "public": public, "commands": sorted(subs.choices)}))
"""


def _source_modules() -> set[str]:
    """Dotted names of every module and package in the source tree, as installed."""
    found = set()
    for folder, package in SOURCE_PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.add(".".join([package, *parts]))
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding only the built wheel (plus a path file to our dependencies)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        ".ruff_cache", "spikernn-run-*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist"), str(src)], check=True)
    wheel = next((tmp / "dist").glob("spikernn-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True)
    # site-packages folders only (an editable install's path files inside them are not read
    # from a path file, so the source tree stays off the path; the test checks that)
    deps = [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages")]
    (Path(site.stdout.strip()) / "_spikernn_test_deps.pth").write_text("\n".join(deps))
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["MPLBACKEND"] = "Agg"
    work = tmp / "work"
    work.mkdir()
    return {"python": python, "script": env_dir / "bin" / "spikernn", "env": env, "cwd": work,
            "site": Path(site.stdout.strip())}


def _run(installed, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          env=installed["env"], cwd=installed["cwd"], timeout=300)


def _walk(installed) -> dict:
    out = _run(installed, installed["python"], "-c", WALK)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_wheel_installs_every_module_and_each_public_one_imports(installed):
    walked = _walk(installed)
    assert Path(walked["file"]).is_relative_to(installed["site"])
    assert set(walked["modules"]) == _source_modules()
    assert {"spikernn.commands.run", "spikernn.bridges.nwb", "spikernn.analysis.summary",
            "spikernn.spiking.engine"} <= set(walked["public"])


@pytest.mark.slow
def test_installed_console_script_and_every_subcommand_help(installed):
    top = _run(installed, installed["script"], "--help")
    assert top.returncode == 0, top.stderr
    commands = _walk(installed)["commands"]
    assert {"tasks", "train", "run", "search", "evaluate"} <= set(commands)
    for name in commands:
        assert name in top.stdout
        out = _run(installed, installed["script"], name, "--help")
        assert out.returncode == 0, (name, out.stderr)
        assert out.stdout.startswith(f"usage: spikernn {name}"), (name, out.stdout[:200])


@pytest.mark.slow
def test_installed_spikernn_tasks_lists_the_tasks_and_reads_shipped_models(installed):
    out = _run(installed, installed["script"], "tasks")
    assert out.returncode == 0, out.stderr
    for task in ("go_nogo", "xor", "mante"):
        assert task in out.stdout
    code = ("import spikernn.pretrained as p; a = p.load_pretrained('go_nogo'); "
            "print(a.N, a.task)")
    loaded = _run(installed, installed["python"], "-c", code)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["200", "go_nogo"]
