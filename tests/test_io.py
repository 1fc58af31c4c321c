"""Atomic writes: complete files with the usual mode, nothing left behind on failure."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from spikernn._io import atomic_path, write_json


def test_atomic_write_gives_the_umask_mode(tmp_path):
    mask = os.umask(0o022)
    try:
        path = write_json(tmp_path / "sub" / "a.json", {"x": np.float32(1.5), "y": np.arange(2)})
    finally:
        os.umask(mask)
    assert json.loads(path.read_text()) == {"x": 1.5, "y": [0, 1]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.mat"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.mat"]
