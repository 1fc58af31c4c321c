"""Shapes of the variables in a MATLAB v5 ``.mat`` file, read from their headers only.

:func:`variable_shapes` lets a loader check shapes before it reads any data: a compressed
variable is inflated only as far as its header (a few hundred bytes), so a hostile file
holding an 8000 x 8000 matrix of zeros in a few hundred kB costs nothing to inspect.
(``scipy.io.whosmat`` inflates compressed data in 128 kB blocks, hundreds of MB for zeros.)
Layout: MathWorks, "MAT-File Format" (R2024a), chapter 1.
"""

from __future__ import annotations

import os
import struct
import zlib

_HEADER_BYTES = 128
_MI_INT8, _MI_INT32, _MI_UINT32, _MI_MATRIX, _MI_COMPRESSED = 1, 5, 6, 14, 15
#: Inflated bytes that always cover a matrix header (tags, flags, up to 32 dims, a name).
_MATRIX_HEADER_BYTES = 8 + 16 + 8 + 32 * 4 + 8 + 64


def variable_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]] | None:
    """``{name: shape}`` of every variable of a v5 ``.mat`` file, or None for another format
    (v4, v7.3/HDF5) or a header this reader does not understand (the caller then relies on
    ``scipy.io.loadmat`` alone)."""
    with open(path, "rb") as f:
        header = f.read(_HEADER_BYTES)
        if len(header) < _HEADER_BYTES or header[126:128] not in (b"IM", b"MI"):
            return None
        if header[124:126] not in (b"\x00\x01", b"\x01\x00"):
            return None
        order = "<" if header[126:128] == b"IM" else ">"
        shapes: dict[str, tuple[int, ...]] = {}
        while True:
            tag = f.read(8)
            if len(tag) < 8:
                return shapes
            mdtype, nbytes = struct.unpack(order + "II", tag)
            start = f.tell()
            if mdtype == _MI_COMPRESSED:
                head = _inflate_prefix(f, nbytes, _MATRIX_HEADER_BYTES)
                if head is None or len(head) < 8:
                    return None
                mdtype, _ = struct.unpack(order + "II", head[:8])
                head = head[8:]
            else:
                head = f.read(min(nbytes, _MATRIX_HEADER_BYTES - 8))
            if mdtype == _MI_MATRIX:
                parsed = _matrix_name_and_shape(head, order)
                if parsed is None:
                    return None
                shapes[parsed[0]] = parsed[1]
            f.seek(start + nbytes)


def _inflate_prefix(f, nbytes: int, want: int) -> bytes | None:
    """The first ``want`` inflated bytes of the next ``nbytes`` compressed bytes of ``f``."""
    inflater = zlib.decompressobj()
    out = b""
    left = nbytes
    try:
        while len(out) < want and left > 0:
            chunk = f.read(min(4096, left))
            if not chunk:
                break
            left -= len(chunk)
            out += inflater.decompress(chunk, want - len(out))
            while inflater.unconsumed_tail and len(out) < want:
                out += inflater.decompress(inflater.unconsumed_tail, want - len(out))
    except zlib.error:
        return None
    return out


def _subelement(buf: bytes, pos: int, order: str) -> tuple[int, bytes, int] | None:
    """``(type, data, next position)`` of the sub-element at ``pos`` (small format too)."""
    if pos + 8 > len(buf):
        return None
    first, second = struct.unpack(order + "II", buf[pos:pos + 8])
    if first >> 16:  # small data element: size in the upper half, data in the next 4 bytes
        size = first >> 16
        return first & 0xFFFF, buf[pos + 4:pos + 4 + size], pos + 8
    data = buf[pos + 8:pos + 8 + second]
    return first, data, pos + 8 + second + (-second % 8)


def _matrix_name_and_shape(buf: bytes, order: str) -> tuple[str, tuple[int, ...]] | None:
    flags = _subelement(buf, 0, order)
    if flags is None or flags[0] != _MI_UINT32:
        return None
    dims = _subelement(buf, flags[2], order)
    if dims is None or dims[0] != _MI_INT32 or len(dims[1]) % 4:
        return None
    shape = struct.unpack(order + "i" * (len(dims[1]) // 4), dims[1])
    name = _subelement(buf, dims[2], order)
    if name is None or name[0] != _MI_INT8:
        return None
    return name[1].decode("latin-1"), tuple(shape)
