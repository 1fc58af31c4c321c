"""Packaging: the namespace mapping of bridges/ and analysis/, shipped data, the numpy pin."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_brian2_imports_with_the_pinned_numpy():
    import brian2

    major, minor = (int(x) for x in np.__version__.split(".")[:2])
    assert (major, minor) < (2, 4), "brian2 2.9 needs numpy < 2.4 (ndarray.ptp)"
    assert brian2.ms / brian2.second == pytest.approx(1e-3)


def test_installed_namespace_packages_resolve_to_the_source_folders():
    import spikernn.analysis
    import spikernn.bridges

    assert Path(spikernn.bridges.__file__).parent.name == "bridges"
    assert Path(spikernn.analysis.__file__).parent.name == "analysis"
    assert callable(spikernn.bridges.write_nwb)
    assert callable(spikernn.analysis.analyze)


def test_core_does_not_import_the_bridges():
    code = ("import sys, spikernn, spikernn.cli; spikernn.cli.build_parser(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('brian2', 'neo', 'elephant', "
            "'pynwb') or m.startswith(('spikernn.bridges', 'spikernn.analysis'))]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_regular_wheel_maps_bridges_and_analysis_under_spikernn(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("spikernn-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("spikernn/bridges/__init__.py", "spikernn/bridges/brian2.py",
                     "spikernn/bridges/nwb.py", "spikernn/analysis/__init__.py",
                     "spikernn/analysis/summary.py", "spikernn/pretrained/index.json",
                     "spikernn/pretrained/go_nogo_N200_seed0.mat"):
        assert expected in names
    assert not any(n.startswith(("bridges/", "analysis/", "tests/")) for n in names)
