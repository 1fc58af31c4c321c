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


def _save_model(path):
    from spikernn.pretrained import load_pretrained

    return load_pretrained("go_nogo").save(path)


def test_killed_write_leaves_only_a_hidden_temporary_that_is_never_a_model(tmp_path):
    """SIGKILL in the middle of an atomic write: the temporary never matches ``*.mat`` and
    the folder still resolves to its one model."""
    import signal
    import subprocess
    import sys

    from spikernn.artifact import find_model_file

    model = _save_model(tmp_path / "m.mat")
    code = ("import sys, time\nfrom spikernn._io import atomic_path\n"
            f"with atomic_path({str(model)!r}) as tmp:\n"
            "    tmp.write_bytes(b'half')\n    print('ready', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m.mat"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.mat.")
    assert leftovers[0].endswith(".partial")
    assert [p.name for p in tmp_path.glob("*.mat")] == ["m.mat"]
    assert find_model_file(tmp_path) == model
    hidden = tmp_path / ".old.mat"  # a hidden file that does end in .mat is skipped as well
    hidden.write_bytes(b"x")
    assert find_model_file(tmp_path) == model


def test_rewrite_keeps_the_files_mode(tmp_path):
    path = _save_model(tmp_path / "m.mat")
    os.chmod(path, 0o640)
    _save_model(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_read_only_file_is_refused_before_writing(tmp_path):
    from spikernn._io import UnwritableError

    path = tmp_path / "m.json"
    path.write_text("old")
    os.chmod(path, 0o444)
    with pytest.raises(UnwritableError, match=r"expected a writable file, got .*m\.json.* "
                                              r"mode 0o444"):
        write_json(path, {"a": 1})
    assert path.read_text() == "old" and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_read_only_folder_is_refused(tmp_path):
    from spikernn._io import UnwritableError

    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(UnwritableError, match=r"expected a writable folder, got .*ro"):
            write_json(folder / "sub" / "a.json", {})
        assert list(folder.iterdir()) == []
    finally:
        os.chmod(folder, 0o755)


def test_symlink_is_written_through_to_its_target(tmp_path):
    target = tmp_path / "real" / "m.json"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(os.path.relpath(target, tmp_path))
    write_json(link, {"new": True})
    assert link.is_symlink() and json.loads(target.read_text()) == {"new": True}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.json"]


def test_hard_links_are_kept(tmp_path):
    first = tmp_path / "a.json"
    first.write_text("old")
    second = tmp_path / "b.json"
    os.link(first, second)
    write_json(second, {"new": 1})
    assert first.stat().st_ino == second.stat().st_ino and first.stat().st_nlink == 2
    assert json.loads(first.read_text()) == {"new": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_an_output_path_that_is_a_folder_or_below_a_file_is_refused(tmp_path):
    from spikernn._io import UnwritableError, check_output_folder

    (tmp_path / "f").write_text("x")
    with pytest.raises(UnwritableError, match=r"^--out: expected a folder, got the file"):
        check_output_folder(tmp_path / "f")
    with pytest.raises(UnwritableError, match=r"expected a folder at .*f'?, got a file"):
        write_json(tmp_path / "f" / "a.json", {})
    with pytest.raises(UnwritableError, match=r"expected a file path, got the folder"):
        write_json(tmp_path, {})
