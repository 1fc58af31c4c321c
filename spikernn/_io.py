"""Safe file writing: nothing half-written, file locations kept, writers serialised.

Every artifact spikernn saves (model files, search results, metrics, figures, exports) goes
through :func:`atomic_path`:

* the caller writes to a hidden temporary file ``.<name>.<random>.partial`` in the
  destination's folder, which is moved over the destination only once the write succeeded;
  the temporary never ends in the destination's suffix, so a killed write never looks like
  a model (``*.mat``), and :func:`is_temporary` tells loaders to skip it;
* the destination keeps its permission bits (a new file gets the usual ``0666 & ~umask``);
* a symbolic link is written through: its target gets the new content, the link stays;
* a file with several hard links is rewritten in place (the new content is complete in the
  temporary first, then copied into the existing file), so every link sees it; this copy is
  the one step that is not atomic;
* a read-only destination (no write bit in its mode) or read-only folder is refused before
  anything is written, with :class:`UnwritableError`, also for root (whom the kernel would
  let through): a read-only file means "do not change me".

:func:`locked` serialises read-modify-write cycles of one file across processes (a lock on
a hidden ``.<name>.lock`` file next to it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

#: Marker in the names of temporary files (``.<name>.<random>.partial[suffix]``).
TEMP_MARK = ".partial"
#: Seconds :func:`locked` waits for another process before giving up.
LOCK_TIMEOUT_S = 600.0


class UnwritableError(PermissionError):
    """A destination spikernn must not (or cannot) write: read-only, or not a file."""


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a hidden file: a temporary of :func:`atomic_path`, a lock file
    of :func:`locked` or any other dot-file (loaders skip them all)."""
    return Path(path).name.startswith(".")


def target_of(path: str | os.PathLike) -> Path:
    """Where a write to ``path`` lands: the final target of a symbolic link, else ``path``."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_writable(path: str | os.PathLike, field: str = "path") -> Path:
    """Refuse a destination that :func:`atomic_path` must not write; return its target.

    Parameters
    ----------
    path : path-like
        The destination file (it may not exist yet).
    field : str
        Name of the setting the path came from, for the message (e.g. ``"--out"``).

    Raises
    ------
    UnwritableError
        ``path`` (or its link target) is a folder, or its mode has no write bit, or the
        nearest existing folder above it is not a folder, has no write bit, or is not
        writable for this user.
    """
    target = target_of(path)
    if target.exists():
        if not target.is_file():
            raise UnwritableError(f"{field}: expected a file path, got the folder {str(path)!r}")
        mode = stat.S_IMODE(target.stat().st_mode)
        if not mode & 0o222:
            raise UnwritableError(
                f"{field}: expected a writable file, got {str(path)!r} with mode {mode:#o} "
                "(read-only; make it writable with chmod u+w, or do not write it)")
    folder = _nearest_existing(target.parent)
    if not folder.is_dir():
        raise UnwritableError(f"{field}: expected a folder at {str(folder)!r}, got a file")
    mode = stat.S_IMODE(folder.stat().st_mode)
    if not mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        raise UnwritableError(f"{field}: expected a writable folder, got {str(folder)!r} "
                              f"with mode {mode:#o} (read-only)")
    return target


def check_output_folder(path: str | os.PathLike, field: str = "--out") -> Path:
    """Refuse an output folder that is a file or cannot be written; return it as a Path."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UnwritableError(f"{field}: expected a folder, got the file {str(path)!r}")
    check_writable(folder / "probe", field)
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``'s target; move it onto the target on success.

    Parameters
    ----------
    path : path-like
        Final destination. Its parent folder is created if needed. See the module notes for
        links, permissions and read-only destinations.
    suffix : str, optional
        Extra suffix after ``.partial`` for writers that choose the format from the name.

    Yields
    ------
    pathlib.Path
        Where the caller must write. If the ``with`` block raises, the temporary file is
        removed and ``path`` is left untouched.

    Raises
    ------
    UnwritableError
        Before anything is written, as :func:`check_writable` says.
    """
    final = check_writable(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_MARK + (suffix or ""),
                                    dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        if final.exists() and final.stat().st_nlink > 1:
            _copy_in_place(tmp, final)
        else:
            mode = (stat.S_IMODE(final.stat().st_mode) if final.exists()
                    else 0o666 & ~_umask())  # mkstemp creates 0600
            os.chmod(tmp, mode)
            os.replace(tmp, final)
            _fsync_folder(final.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def _copy_in_place(src: Path, dst: Path) -> None:
    """Overwrite ``dst``'s content with ``src``'s, keeping ``dst``'s inode (its hard links)."""
    with open(src, "rb") as fin, open(dst, "r+b") as fout:
        shutil.copyfileobj(fin, fout)
        fout.truncate()
        fout.flush()
        os.fsync(fout.fileno())


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem allows it
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    """The process's file-creation mask (read without changing it for longer than a call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive inter-process lock for ``path`` (its link target) in the block.

    The lock is an OS lock on the hidden file ``.<name>.lock`` next to the target (released
    by the OS when the holder dies; the empty lock file stays). Use it around a
    read-modify-write of ``path``; a single :func:`atomic_path` write needs none.

    Raises
    ------
    TimeoutError
        Another process held the lock for ``timeout`` seconds.
    """
    from filelock import FileLock, Timeout

    target = target_of(path)
    lock_path = target.parent / f".{target.name}.lock"
    try:
        with FileLock(lock_path, timeout=timeout):
            yield
    except Timeout:
        held = "holds" if timeout == 0 else f"has held for {timeout:g} s"
        raise TimeoutError(f"{path}: another process {held} the lock {lock_path}; wait for it "
                           "to finish") from None


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=to_plain) + "\n")
    return Path(path)


def to_plain(obj: Any, *, nan_to_none: bool = False,
             fallback: Callable[[Any], Any] | None = None) -> Any:
    """``obj`` as plain JSON values: the one converter every JSON writer uses.

    Mappings become dicts with ``str`` keys, lists, tuples and numpy arrays become lists,
    numpy scalars the Python numbers they hold, paths strings; ``None``, ``bool``, ``int``,
    ``float`` and ``str`` stay as they are.

    Parameters
    ----------
    obj : Any
        The value to convert (nested containers are converted recursively).
    nan_to_none : bool
        Also turn NaN and infinities into ``None`` (strict JSON); by default they stay floats
        (``json.dumps`` writes them as ``NaN``/``Infinity``).
    fallback : callable, optional
        Converts anything else (e.g. ``str``); without it, anything else is a ``TypeError``.

    Examples
    --------
    >>> to_plain({"a": np.array([1.0, np.nan]), 2: (np.int64(3), Path("x"))}, nan_to_none=True)
    {'a': [1.0, None], '2': [3, 'x']}
    """
    import numpy as np

    def plain(x: Any) -> Any:
        if isinstance(x, Mapping):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, np.ndarray):
            x = x.tolist()
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        if isinstance(x, np.generic):
            x = x.item()
        if isinstance(x, os.PathLike):
            return os.fspath(x)
        if isinstance(x, float):
            return None if nan_to_none and not math.isfinite(x) else x
        if x is None or isinstance(x, bool | int | str):
            return x
        if fallback is not None:
            return fallback(x)
        raise TypeError(f"object of type {type(x).__name__} is not JSON serialisable")

    return plain(obj)
