"""Write (and read) a Neo Block as a NIX file directly with h5py, in Neo's ``NixIO`` layout.

Neo's :class:`neo.io.NixIO` goes through nixio's object layer (name checks, lookups and
one HDF5 round trip per attribute); a spike train is several NIX objects (a MultiTag, its
positions DataArray, a metadata Section and a Property per annotation), ~30 ms per spike
train on a quiet machine, ~10 minutes for 100 trials x 200 units (about an hour under
load). This module writes the same HDF5 tree in one pass, through h5py's low-level API:
what ``NixIO(path, mode="ow").write_block(block)`` writes for the same Block (NIX format
1.2.1, as nixio 1.5 writes it), so ``NixIO(path, mode="ro").read_block()`` and nixio read it
back unchanged. The cost that remains is HDF5's own: a spike train is ~15 HDF5 objects
and ~45 attributes in this layout (about 20 us per attribute and 60 us per chunked dataset),
so ~3 ms per spike train: about a minute for 100 trials x 200 units (Neo's ``NixIO``: ~30 ms
per spike train on the same machine). NWB, one table, writes the same data in about a
second.

The layout (``<b>`` the block's ``nix_name``; every entity group carries the attributes
``entity_id`` (a UUID), ``name``, ``type``, ``created_at`` and ``updated_at``; every group
tracks link creation order, which fixes the order Neo reads segments, signals and trains in):

- file attributes ``format = "nix"``, ``version = (1, 2, 1)``, ``id``, ``created_at``,
  ``updated_at``; ``/metadata/neo``: a Section ``neo.metadata`` whose Property ``version``
  is Neo's version;
- ``/data/<b>``: the Block (type ``neo.block``) with ``metadata`` (its Section
  ``neo.block.metadata``, also linked as ``/metadata/<b>``), ``groups``, ``data_arrays`` and
  ``multi_tags``;
- a Segment: a NIX Group ``neo.segment.<hex>`` (type ``neo.segment``) whose Section is a
  subsection of the block's; a Neo Group: a NIX Group ``neo.group.<hex>`` (``neo.group``)
  with its Section under the block's; groups link their data arrays and multi-tags under the
  linked object's ``entity_id``;
- an AnalogSignal of C channels: C DataArrays ``neo.analogsignal.<hex>.<c>`` (one channel
  each, a sampled time dimension with the sampling period and ``offset = t_start``) sharing
  one Section (subsection of the segment's) with ``t_start``, ``neo_name``, the annotations
  and the array annotations (Property ``type = "ARRAYANNOTATION"``);
- a SpikeTrain: a DataArray ``neo.spiketrain.<hex>.times`` (type ``neo.spiketrain.times``,
  with the time unit) and a MultiTag ``neo.spiketrain.<hex>`` whose ``positions`` link it and
  whose Section (subsection of the segment's) holds ``neo_name``, ``t_start``, ``t_stop``,
  the annotations and ``nix_name``;
- a Property: a dataset of shape (n,) (vlen UTF-8 strings, int64, float64 or bool) under the
  Section's ``properties``, with ``name`` and optionally ``unit``, ``definition`` and
  ``type``; annotation values are converted as Neo does (scalars, strings, 1-D arrays and
  lists, quantities with their unit, dates as ISO strings, empty lists).

:func:`read_block_nix` reads that layout back into the Block Neo's ``NixIO`` reads (about
4x faster: reading an HDF5 attribute, not nixio, is the main cost there).

Neo objects this writer does not handle (irregularly sampled signals, events, epochs, image
sequences, channel views, sub-groups, spike-train waveforms, multi-dimensional annotation
values) raise :class:`ValueError` naming the object; write those with ``writer="neo"`` of
:func:`spikernn.bridges.neo.write_nix`. Unlike ``NixIO``, the Block is not modified (Neo
annotates every written object with its generated ``nix_name``; here the names are written
to the file only).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import h5py
import neo
import numpy as np
import quantities as pq
from h5py import h5a, h5d, h5g, h5o, h5p, h5s, h5t

from spikernn._io import atomic_path

#: NIX file format version written (nixio 1.5 writes 1.2.1).
NIX_FORMAT_VERSION = (1, 2, 1)
#: HDF5 object formats (h5py ``libver``): those of HDF5 1.10 and later, which store the many
#: small chunked datasets of the layout in 2.4x less space than the earliest formats nixio
#: uses (readable by HDF5 >= 1.10, 2016; the NIX tree is the same).
HDF5_FORMAT = ("v110", "latest")
_STR = h5py.string_dtype("utf-8")
_ARRAYANNOTATION = "ARRAYANNOTATION"
_EMPTYANNOTATION = "EMPTYLIST"
_DATE_FORMATS = ((datetime, "%Y-%m-%dT%H:%M:%S.%f", "DATETIME"), (date, "%Y-%m-%d", "DATE"),
                 (time, "%H:%M:%S.%f", "TIME"))


def _nix_time(timestamp: float | None = None) -> str:
    """NIX's time stamp text ``YYYYMMDDTHHMMSS`` (UTC), of now or of a POSIX time."""
    moment = (datetime.now(timezone.utc) if timestamp is None
              else datetime.fromtimestamp(int(timestamp), timezone.utc))
    return moment.strftime("%Y%m%dT%H%M%S")


def _unit_text(units: pq.Quantity) -> str:
    """A quantity's unit as Neo's NixIO writes it (``units_to_string``)."""
    text = str(units.dimensionality)
    return text.strip("()") if text.startswith("(") and text.endswith(")") else text


def _property_values(value: Any) -> tuple[np.ndarray, str | None, str | None] | None:
    """(values (n,), unit, definition) of an annotation, as Neo's NixIO stores it; None for
    a value Neo's NixIO skips (a nested container)."""
    for kind, fmt, definition in _DATE_FORMATS:
        if isinstance(value, kind):
            return np.array([value.strftime(fmt)], dtype=object), None, definition
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return np.array([value] if value else [], dtype=object), None, None
    if isinstance(value, Iterable):
        unit = str(value.dimensionality) if isinstance(value, pq.Quantity) else None
        if np.ndim(value) == 0:
            return _typed([np.asarray(value).item()]), unit, None
        if len(value) == 0:
            return np.array([], dtype=object), None, _EMPTYANNOTATION
        items = []
        for item in value:
            if isinstance(item, pq.Quantity):
                unit = unit or str(item.dimensionality)
                item = item.magnitude.item()
            elif isinstance(item, Iterable) and not isinstance(item, str):
                return None
            items.append(item.item() if isinstance(item, np.generic) else item)
        return _typed(items), unit, None
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        raise ValueError("annotation value: expected a number, string, date or array, "
                         "got None (NIX cannot store it)")
    return _typed([value]), None, None


def _typed(items: list) -> np.ndarray:
    """``items`` as the dtype nixio gives a property (bool, int64, float64 or string)."""
    first = items[0]
    if isinstance(first, (bool, np.bool_)):
        return np.asarray(items, dtype=bool)
    if isinstance(first, (int, np.integer)):
        return np.asarray(items, dtype=np.int64)
    if isinstance(first, (float, np.floating)):
        return np.asarray(items, dtype=np.float64)
    if isinstance(first, str):
        return np.asarray(items, dtype=object)
    raise ValueError(f"annotation value: expected a number, string, date or array, "
                     f"got {type(first).__name__}")


class _Node:
    """An HDF5 group being written: its low-level id, entity id and sub-groups by name."""

    __slots__ = ("gid", "entity_id", "children")

    def __init__(self, gid: h5py.h5g.GroupID, entity_id: str | None = None) -> None:
        self.gid, self.entity_id = gid, entity_id
        self.children: dict[str, _Node] = {}


class _NixWriter:
    """Writes NIX entities into an open h5py file through h5py's low-level API (one time
    stamp for the whole file; the high-level API costs ~4x more per attribute)."""

    def __init__(self, h5: h5py.File) -> None:
        self.root = _Node(h5["/"].id)
        self.now = _nix_time()
        self._scalar = h5s.create(h5s.SCALAR)
        self._vlen = h5t.py_create(_STR, logical=True)
        self._gcpl = h5p.create(h5p.GROUP_CREATE)     # groups track link creation order
        self._gcpl.set_link_creation_order(h5p.CRT_ORDER_TRACKED | h5p.CRT_ORDER_INDEXED)
        self._dcpl: dict[tuple[int, ...], h5p.PropDCID] = {}

    def attr(self, obj: h5py.h5o.ObjectID, key: str, value: Any) -> None:
        """A scalar attribute: text as a variable-length UTF-8 string, else its dtype."""
        if isinstance(value, str):
            data, tid, space = np.array(value, dtype=_STR), self._vlen, self._scalar
        else:
            data = np.asarray(value)
            tid = h5t.py_create(data.dtype)
            space = h5s.create_simple(data.shape) if data.ndim else self._scalar
        h5a.create(obj, key.encode(), tid, space).write(data)

    def _stamp(self, obj: h5py.h5o.ObjectID, created_at: str | None = None) -> str:
        entity_id = str(uuid.uuid4())
        self.attr(obj, "created_at", created_at or self.now)
        self.attr(obj, "entity_id", entity_id)
        self.attr(obj, "updated_at", self.now)
        return entity_id

    def group(self, parent: _Node, link_name: str) -> _Node:
        node = _Node(h5g.create(parent.gid, link_name.encode(), gcpl=self._gcpl))
        parent.children[link_name] = node
        return node

    def entity(self, parent: _Node, name: str, type_: str, link_name: str | None = None,
               created_at: str | None = None, **attrs: Any) -> _Node:
        """A named, typed NIX entity group ``parent/<link_name or name>``."""
        node = self.group(parent, link_name or name)
        node.entity_id = self._stamp(node.gid, created_at)
        self.attr(node.gid, "name", name)
        self.attr(node.gid, "type", type_)
        for key, value in attrs.items():
            if value is not None:
                self.attr(node.gid, key, value)
        return node

    def container(self, parent: _Node, name: str) -> _Node:
        """A plain sub-group (``data_arrays``, ``properties``, ...), created once."""
        found = parent.children.get(name)
        return found if found is not None else self.group(parent, name)

    def section(self, parent_section: _Node | None, name: str, type_: str) -> _Node:
        """A metadata Section: under ``/metadata`` (no parent) or a parent's ``sections``."""
        parent = (self.container(self.root, "metadata") if parent_section is None
                  else self.container(parent_section, "sections"))
        section = self.entity(parent, name, type_)
        self.container(section, "properties")
        return section

    def dataset(self, parent: _Node, name: str, data: np.ndarray) -> h5py.h5d.DatasetID:
        """A chunked, extensible dataset holding ``data`` (as nixio creates them)."""
        chunks = tuple(max(n, 1) for n in data.shape) if data.size else (1024,) * data.ndim
        dcpl = self._dcpl.get(chunks)
        if dcpl is None:
            dcpl = self._dcpl[chunks] = h5p.create(h5p.DATASET_CREATE)
            dcpl.set_chunk(chunks)
        space = h5s.create_simple(data.shape, (h5s.UNLIMITED,) * data.ndim)
        tid = self._vlen if data.dtype == object else h5t.py_create(data.dtype)
        dataset = h5d.create(parent.gid, name.encode(), tid, space, dcpl=dcpl)
        if data.size:
            dataset.write(h5s.ALL, h5s.ALL, np.ascontiguousarray(
                data, dtype=_STR if data.dtype == object else data.dtype))
        return dataset

    def prop(self, section: _Node, name: str, values: np.ndarray, unit: str | None = None,
             definition: str | None = None, type_: str | None = None) -> None:
        """A Property: the values as a (n,) dataset under the section's ``properties``."""
        data = self.dataset(section.children["properties"], name, values)
        self._stamp(data)
        self.attr(data, "name", name)
        for key, value in (("unit", unit), ("definition", definition), ("type", type_)):
            if value is not None:
                self.attr(data, key, value)

    def annotation(self, section: _Node, name: str, value: Any,
                   type_: str | None = None) -> None:
        converted = _property_values(value)
        if converted is not None:
            values, unit, definition = converted
            self.prop(section, name, values, unit, definition, type_)

    def data_array(self, block: _Node, name: str, type_: str, data: np.ndarray,
                   unit: str | None = None, definition: str | None = None) -> _Node:
        """A DataArray in the block's ``data_arrays`` with its ``data`` dataset."""
        array = self.entity(self.container(block, "data_arrays"), name, type_,
                            definition=definition, unit=unit)
        self.dataset(array, "data", np.asarray(data))
        return array

    @staticmethod
    def hard_link(parent: _Node, link_name: str, obj: _Node) -> None:
        """``parent/link_name`` as a second name of ``obj`` (an HDF5 hard link)."""
        parent.gid.links.create_hard(link_name.encode(), obj.gid, b".")

    def link(self, container: _Node, obj: _Node) -> None:
        """Link ``obj`` into a group's container under its entity id (as nixio does)."""
        self.hard_link(container, obj.entity_id, obj)


def _nix_name(obj: Any, kind: str) -> str:
    return obj.annotations.get("nix_name") or f"neo.{kind}.{uuid.uuid4().hex}"


def _check_supported(block: neo.Block) -> None:
    """Raise if the block holds objects :func:`write_block_nix` does not write."""
    for i, segment in enumerate(block.segments):
        for field in ("irregularlysampledsignals", "events", "epochs", "imagesequences"):
            if getattr(segment, field):
                raise ValueError(f"block.segments[{i}].{field}: expected none (the fast NIX "
                                 "writer handles spike trains and analog signals), got "
                                 f"{len(getattr(segment, field))}; use writer='neo'")
        for j, train in enumerate(segment.spiketrains):
            if train.waveforms is not None:
                raise ValueError(f"block.segments[{i}].spiketrains[{j}].waveforms: expected "
                                 "None (the fast NIX writer writes no waveforms); use "
                                 "writer='neo'")
    for i, group in enumerate(block.groups):
        for field in ("groups", "channelviews", "events", "epochs",
                      "irregularlysampledsignals", "imagesequences"):
            if getattr(group, field):
                raise ValueError(f"block.groups[{i}].{field}: expected none (the fast NIX "
                                 "writer handles groups of spike trains and analog signals), "
                                 f"got {len(getattr(group, field))}; use writer='neo'")


def _write_container(writer: _NixWriter, parent: _Node, parent_section: _Node | None,
                     obj: Any, name: str, nix_type: str,
                     created_at: str | None = None) -> tuple[_Node, _Node]:
    """The entity of a Block, Segment or Group and its metadata Section (with its common
    properties), as Neo's NixIO writes them; returns ``(entity, section)``."""
    entity = writer.entity(parent, name, nix_type, created_at=created_at,
                           definition=obj.description)
    section = writer.section(parent_section, name, f"{nix_type}.metadata")
    writer.hard_link(entity, "metadata", section)
    _write_common(writer, section, obj, name)
    return entity, section


def _write_common(writer: _NixWriter, section: _Node, obj: Any, nix_name: str,
                  extra: dict[str, Any] | None = None) -> None:
    """``neo_name``, file_datetime, ``extra`` properties, annotations, array annotations and
    ``nix_name``, in the order Neo's NixIO writes them."""
    writer.prop(section, "neo_name", np.array([obj.name or ""], dtype=object))
    if getattr(obj, "file_datetime", None):
        writer.annotation(section, "file_datetime", obj.file_datetime)
    for key, value in (extra or {}).items():
        writer.annotation(section, key, value)
    for key, value in obj.annotations.items():
        if key != "nix_name":
            writer.annotation(section, key, value)
    for key, value in getattr(obj, "array_annotations", {}).items():
        writer.annotation(section, key, value, type_=_ARRAYANNOTATION)
    writer.prop(section, "nix_name", np.array([nix_name], dtype=object))


def _created_at(obj: Any) -> str | None:
    return None if obj.rec_datetime is None else _nix_time(obj.rec_datetime.timestamp())


def write_block_nix(block: neo.Block, path: str | os.PathLike) -> Path:
    """Write one Neo Block as a NIX file with h5py (Neo's ``NixIO`` layout), atomically.

    Parameters
    ----------
    block : neo.Block
        Segments of spike trains and analog signals, Groups of them (see the module
        docstring for what is supported).
    path : path-like
        Destination (conventionally ``*.nix``); replaced only once the write succeeded.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If the block holds an object this writer does not handle (named in the message).
    """
    _check_supported(block)
    with atomic_path(path, suffix=".nix") as tmp, \
            h5py.File(tmp, "w", libver=HDF5_FORMAT) as h5:
        _write_file(_NixWriter(h5), block)
    return Path(path)


def _write_file(writer: _NixWriter, block: neo.Block) -> None:
    root = writer.root
    for key, value in (("created_at", writer.now), ("format", "nix"),
                       ("id", str(uuid.uuid4())), ("updated_at", writer.now),
                       ("version", np.array(NIX_FORMAT_VERSION, dtype=np.int32))):
        writer.attr(root.gid, key, value)
    data = writer.container(root, "data")
    neo_section = writer.section(None, "neo", "neo.metadata")
    writer.prop(neo_section, "version", np.array([neo.__version__], dtype=object))

    block_name = _nix_name(block, "block")
    nix_block, block_section = _write_container(writer, data, None, block, block_name,
                                                "neo.block", _created_at(block))
    groups = writer.container(nix_block, "groups")
    arrays_of: dict[int, list[_Node]] = {}      # id(signal) -> its data arrays
    tag_of: dict[int, _Node] = {}               # id(spike train) -> its multi-tag
    for segment in block.segments:
        name = _nix_name(segment, "segment")
        group, section = _write_container(writer, groups, block_section, segment, name,
                                          "neo.segment", _created_at(segment))
        for signal in segment.analogsignals:
            arrays = arrays_of.get(id(signal)) or _write_signal(writer, nix_block, section,
                                                                signal)
            arrays_of[id(signal)] = arrays
            for array in arrays:
                writer.link(writer.container(group, "data_arrays"), array)
        for train in segment.spiketrains:
            tag = tag_of.get(id(train)) or _write_train(writer, nix_block, section, train)
            tag_of[id(train)] = tag
            writer.link(writer.container(group, "multi_tags"), tag)
    for neo_group in block.groups:
        name = _nix_name(neo_group, "group")
        group, section = _write_container(writer, groups, block_section, neo_group, name,
                                          "neo.group")
        for signal in neo_group.analogsignals:
            if id(signal) not in arrays_of:
                raise ValueError(f"group {neo_group.name!r}: signal {signal.name!r} belongs "
                                 "to no segment (NIX stores signals of segments only)")
            for array in arrays_of[id(signal)]:
                writer.link(writer.container(group, "data_arrays"), array)
        trains = writer.container(group, "multi_tags")
        for train in neo_group.spiketrains:
            if id(train) not in tag_of:
                raise ValueError(f"group {neo_group.name!r}: spike train {train.name!r} "
                                 "belongs to no segment (NIX stores trains of segments only)")
            writer.link(trains, tag_of[id(train)])


def _write_signal(writer: _NixWriter, nix_block: _Node, segment_section: _Node,
                  signal: neo.AnalogSignal) -> list[_Node]:
    """The DataArrays (one per channel) and Section of an AnalogSignal."""
    name = _nix_name(signal, "analogsignal")
    section = writer.section(segment_section, name, "neo.analogsignal.metadata")
    period = signal.sampling_period
    time_unit = _unit_text(period.units)
    offset = float(signal.t_start.rescale(period.units).magnitude)
    arrays = []
    for channel, row in enumerate(np.asarray(signal.magnitude).T):
        array = writer.data_array(nix_block, f"{name}.{channel}", "neo.analogsignal", row,
                                  unit=_unit_text(signal.units),
                                  definition=signal.description)
        writer.hard_link(array, "metadata", section)
        dimension = writer.group(writer.container(array, "dimensions"), "1")
        for key, value in (("dimension_type", "sample"), ("label", "time"),
                           ("offset", offset), ("sampling_interval", float(period.magnitude)),
                           ("unit", time_unit)):
            writer.attr(dimension.gid, key, np.float64(value) if isinstance(value, float)
                        else value)
        arrays.append(array)
    writer.prop(section, "t_start", np.array([float(signal.t_start.magnitude)]),
                unit=_unit_text(signal.t_start.units))
    _write_common(writer, section, signal, name)
    return arrays


def _write_train(writer: _NixWriter, nix_block: _Node, segment_section: _Node,
                 train: neo.SpikeTrain) -> _Node:
    """The times DataArray, MultiTag and Section of a SpikeTrain."""
    name = _nix_name(train, "spiketrain")
    times = writer.data_array(nix_block, f"{name}.times", "neo.spiketrain.times",
                              np.asarray(train.times.magnitude),
                              unit=_unit_text(train.times.units))
    tag = writer.entity(writer.container(nix_block, "multi_tags"), name, "neo.spiketrain",
                        definition=train.description)
    writer.hard_link(tag, "positions", times)
    section = writer.section(segment_section, name, "neo.spiketrain.metadata")
    writer.hard_link(tag, "metadata", section)
    _write_common(writer, section, train, name, {"t_start": train.t_start,
                                                 "t_stop": train.t_stop})
    return tag


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------

#: The attributes the reader uses (the entity ids and ``updated_at`` are skipped: reading
#: an HDF5 attribute is the reader's main cost).
_READ_ATTRIBUTES = frozenset({b"name", b"type", b"definition", b"unit", b"created_at",
                              b"format", b"offset", b"sampling_interval"})


def _attributes(oid: h5py.h5o.ObjectID) -> dict[str, Any]:
    """The attributes of an HDF5 object the reader uses (text decoded), low-level."""
    names: list[bytes] = []
    h5a.iterate(oid, names.append)
    values = {}
    for name in _READ_ATTRIBUTES.intersection(names):
        attribute = h5a.open(oid, name)
        buffer = np.empty(attribute.shape, dtype=attribute.dtype)
        attribute.read(buffer)
        value = buffer[()]
        values[name.decode()] = value.decode() if isinstance(value, bytes) else value
    return values


def _members(gid: h5py.h5g.GroupID, name: str) -> list[h5py.h5o.ObjectID]:
    """The objects in sub-group ``name`` of ``gid``, in link creation order when tracked
    (nixio tracks it), else by name; none when there is no such sub-group."""
    if not gid.links.exists(name.encode()):
        return []
    group = h5g.open(gid, name.encode())
    tracked = group.get_create_plist().get_link_creation_order()
    names: list[bytes] = []
    group.links.iterate(names.append, idx_type=h5py.h5.INDEX_CRT_ORDER if tracked
                        else h5py.h5.INDEX_NAME)
    return [h5o.open(group, link) for link in names]


def _values(dataset: h5py.h5d.DatasetID) -> np.ndarray:
    buffer = np.empty(dataset.shape, dtype=dataset.dtype)
    if buffer.size:
        dataset.read(h5s.ALL, h5s.ALL, buffer)
    return buffer


def _unit(text: str, cache: dict[str, pq.Quantity] = {}) -> pq.Quantity:  # noqa: B006
    """The quantity of a unit name (parsed once per name)."""
    if text not in cache:
        cache[text] = pq.Quantity(1.0, text).units
    return cache[text]


def _property_value(dataset: h5py.h5d.DatasetID, meta: dict[str, Any]) -> Any:
    """A Property's value as Neo's ``NixIO`` makes it: one value unwrapped, several as a
    list, a unit makes a quantity, dates parsed."""
    data = _values(dataset)
    values: Any = [v.decode() if isinstance(v, bytes) else v for v in data]
    definition = meta.get("definition")
    if not values:
        values = ([] if definition == _EMPTYANNOTATION
                  else "" if h5py.check_string_dtype(dataset.dtype) else values)
    elif len(values) == 1:
        values = values[0]
    if "unit" in meta:
        values = pq.Quantity(values, _unit(meta["unit"]))
    for kind, fmt, name in _DATE_FORMATS:
        if definition == name:
            moment = datetime.strptime(values, fmt)
            values = moment if kind is datetime else (
                moment.date() if kind is date else moment.time())
    return values


def _neo_attributes(entity: h5py.h5o.ObjectID, attrs: dict[str, Any]) -> dict[str, Any]:
    """Name, description and annotations of an entity (``attrs``: its HDF5 attributes), as
    Neo's ``NixIO`` reads them (``_nix_attr_to_neo``); array annotations apart."""
    neo_attrs: dict[str, Any] = {"nix_name": attrs["name"],
                                 "description": attrs.get("definition")}
    section = h5g.open(entity, b"metadata") if entity.links.exists(b"metadata") else None
    for dataset in ([] if section is None else _members(section, "properties")):
        meta = _attributes(dataset)
        value = _property_value(dataset, meta)
        if meta.get("type") == _ARRAYANNOTATION:
            neo_attrs.setdefault("array_annotations", {})[meta["name"]] = value
        else:
            neo_attrs[meta["name"]] = value
    neo_name = neo_attrs.pop("neo_name", None)
    neo_attrs["name"] = None if neo_name is None else str(neo_name)
    return neo_attrs


def _rec_datetime(attrs: dict[str, Any]) -> datetime:
    """An entity's ``created_at`` as Neo's ``NixIO`` reads it (local time of the stamp)."""
    stamp = datetime.strptime(attrs["created_at"], "%Y%m%dT%H%M%S")
    return datetime.fromtimestamp(int((stamp - datetime(1970, 1, 1)).total_seconds()))


def _read_signals(arrays: list[h5py.h5o.ObjectID]) -> list[neo.AnalogSignal]:
    by_signal: dict[str, list[tuple[h5py.h5o.ObjectID, dict[str, Any]]]] = {}
    for array in arrays:
        attrs = _attributes(array)
        if attrs["type"] == "neo.analogsignal":
            by_signal.setdefault(attrs["name"].rsplit(".", 1)[0], []).append((array, attrs))
    signals = []
    for channels in by_signal.values():
        first, first_attrs = channels[0]
        neo_attrs = _neo_attributes(first, first_attrs)
        neo_attrs["nix_name"] = _attributes(h5g.open(first, b"metadata"))["name"]
        dimension = _attributes(h5g.open(first, b"dimensions/1"))
        time_unit = _unit(dimension["unit"])
        t_start = neo_attrs.pop("t_start", None)
        if t_start is None:
            t_start = float(dimension["offset"]) * time_unit
        data = np.array([_values(h5d.open(array, b"data")) for array, _ in channels]).T
        signals.append(neo.AnalogSignal(
            pq.Quantity(data, _unit(first_attrs["unit"])),
            sampling_period=float(dimension["sampling_interval"]) * time_unit,
            t_start=t_start, **neo_attrs))
    return signals


def _read_train(tag: h5py.h5g.GroupID, attrs: dict[str, Any]) -> neo.SpikeTrain:
    positions = h5g.open(tag, b"positions")
    times = pq.Quantity(_values(h5d.open(positions, b"data")),
                        _unit(_attributes(positions)["unit"]))
    return neo.SpikeTrain(times=times, **_neo_attributes(tag, attrs))


def read_block_nix(path: str | os.PathLike) -> neo.Block:
    """Read the first block of a NIX file in Neo's layout with h5py, as Neo objects.

    The inverse of :func:`write_block_nix`: for files of the layout this module writes
    (Neo's, for segments of spike trains and analog signals and groups of them, whoever
    wrote them), the same Block as Neo's ``NixIO(path, mode="ro").read_block()`` (tested),
    read from the HDF5 tree directly.

    Parameters
    ----------
    path : path-like
        A ``.nix`` file.

    Returns
    -------
    neo.Block

    Raises
    ------
    ValueError
        If the file is not a NIX file with a block, or the block holds objects this reader
        does not handle (read those with Neo's ``NixIO``).
    """
    with h5py.File(path, "r") as h5:
        root = h5["/"].id
        blocks = _members(root, "data")
        if _attributes(root).get("format") != "nix" or not blocks:
            raise ValueError(f"path: expected a NIX file with a block, got {str(path)!r}")
        nix_block = blocks[0]
        block_attrs = _attributes(nix_block)
        block = neo.Block(**_neo_attributes(nix_block, block_attrs))
        block.rec_datetime = _rec_datetime(block_attrs)
        objects: dict[str, Any] = {}
        for group in _members(nix_block, "groups"):
            attrs = _attributes(group)
            if attrs["type"] == "neo.segment":
                block.segments.append(_read_segment(group, attrs, objects))
            elif attrs["type"] == "neo.group":
                block.groups.append(_read_group(group, attrs, objects))
            else:
                raise ValueError(f"path: group type {attrs['type']!r} is not read here; use "
                                 "Neo's NixIO")
        block.check_relationships()
        return block


def _read_segment(group: h5py.h5g.GroupID, attrs: dict[str, Any],
                  objects: dict[str, Any]) -> neo.Segment:
    """A Segment; its signals and trains are also entered into ``objects`` by NIX name."""
    segment = neo.Segment(**_neo_attributes(group, attrs))
    segment.rec_datetime = _rec_datetime(attrs)
    segment.analogsignals.extend(_read_signals(_members(group, "data_arrays")))
    trains = []
    for tag in _members(group, "multi_tags"):
        tag_attrs = _attributes(tag)
        if tag_attrs["type"] != "neo.spiketrain":
            raise ValueError(f"path: multi-tag type {tag_attrs['type']!r} is not read here; "
                             "use Neo's NixIO")
        trains.append(_read_train(tag, tag_attrs))
    segment.spiketrains.extend(trains)
    objects.update({obj.annotations["nix_name"]: obj
                    for obj in [*segment.analogsignals, *trains]})
    return segment


def _read_group(group: h5py.h5g.GroupID, attrs: dict[str, Any],
                objects: dict[str, Any]) -> neo.Group:
    """A Neo Group of objects already read (by their NIX names)."""
    neo_attrs = _neo_attributes(group, attrs)
    neo_attrs.pop("neo_parent", None)
    signal_names = dict.fromkeys(_attributes(array)["name"].rsplit(".", 1)[0]
                                 for array in _members(group, "data_arrays"))
    neo_group = neo.Group(**neo_attrs)
    for name in [*signal_names, *(_attributes(tag)["name"]
                                  for tag in _members(group, "multi_tags"))]:
        neo_group.add(objects[name])
    return neo_group
