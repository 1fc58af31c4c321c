"""The h5py NIX writer and reader against Neo's own NixIO: same HDF5 tree, same Block read
back either way (real neo, nixio and h5py)."""

from __future__ import annotations

import re
from datetime import datetime

import h5py
import neo
import nixio
import numpy as np
import pytest
import quantities as pq
from spiking_helpers import tiny_model
from test_neo_export import known_result

from spikernn.bridges.neo import read_nix, read_nix_block, result_to_block, write_nix


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The same simulation block written by both writers."""
    folder = tmp_path_factory.mktemp("nix")
    result, model = known_result(), tiny_model(N=6, seed=3)
    return {writer: write_nix(result_to_block(result, model), folder / f"{writer}.nix",
                              writer=writer) for writer in ("neo", "h5py")}


def _normal(text: str) -> str:
    """A name without its generated parts (hex names, UUIDs, channel numbers)."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "U", text)
    return re.sub(r"\.\d+(/|$)", r".N\1", re.sub(r"[0-9a-f]{32}", "H", text))


def _tree(path) -> list[str]:
    """Every HDF5 object of a file (normalised path, kind, dtype, shape, attributes but the
    generated ones, link count), sorted; shared objects once per distinct path form."""
    lines = set()
    with h5py.File(path, "r") as h5:
        lines.add(f"/ {sorted(k for k in h5.attrs)} {h5.attrs['format']} "
                  f"{tuple(h5.attrs['version'])}")

        def visit(group, prefix):
            for key in group:
                obj = group[key]
                attrs = {k: _normal(str(v)) for k, v in obj.attrs.items()
                         if k not in ("created_at", "updated_at", "entity_id")}
                assert {"created_at", "updated_at", "entity_id"} <= set(obj.attrs) or \
                    not attrs.get("name"), f"{prefix}/{key} lacks its entity attributes"
                kind = ("group" if isinstance(obj, h5py.Group) else
                        f"{obj.dtype} {obj.shape} {obj.maxshape}")
                rc = h5py.h5o.get_info(obj.id).rc
                line = f"{_normal(prefix + '/' + key)} {kind} rc={rc} {sorted(attrs.items())}"
                if isinstance(obj, h5py.Group):
                    line += f" order={obj.id.get_create_plist().get_link_creation_order()}"
                    if line not in lines:
                        lines.add(line)
                        visit(obj, prefix + "/" + key)
                lines.add(line)

        visit(h5, "")
    return sorted(lines)


def test_h5py_writer_writes_the_tree_neo_writes(files):
    assert _tree(files["h5py"]) == _tree(files["neo"])


def _same_annotations(a: dict, b: dict, where: str) -> None:
    assert set(a) - {"nix_name"} == set(b) - {"nix_name"}, where
    for key in set(a) - {"nix_name"}:
        x, y = a[key], b[key]
        assert type(x) is type(y), f"{where}.{key}: {type(x)} vs {type(y)}"
        assert np.array_equal(np.asarray(x), np.asarray(y)), f"{where}.{key}"
        if isinstance(x, pq.Quantity):
            assert x.units == y.units, f"{where}.{key}"


def _same_object(x, y, where: str) -> None:
    assert (x.name, x.description) == (y.name, y.description), where
    _same_annotations(x.annotations, y.annotations, where)
    if hasattr(x, "array_annotations"):
        _same_annotations(dict(x.array_annotations), dict(y.array_annotations), where)


def assert_same_blocks(a: neo.Block, b: neo.Block) -> None:
    """Two blocks read by Neo's NixIO hold the same objects, values and annotations."""
    _same_object(a, b, "block")
    assert len(a.segments) == len(b.segments) and len(a.groups) == len(b.groups)
    for i, (s, t) in enumerate(zip(a.segments, b.segments, strict=True)):
        _same_object(s, t, f"segment {i}")
        for j, (u, v) in enumerate(zip(s.spiketrains, t.spiketrains, strict=True)):
            _same_object(u, v, f"segment {i} train {j}")
            assert np.array_equal(u.times.magnitude, v.times.magnitude)
            assert u.units == v.units and u.t_start == v.t_start and u.t_stop == v.t_stop
        for j, (u, v) in enumerate(zip(s.analogsignals, t.analogsignals, strict=True)):
            _same_object(u, v, f"segment {i} signal {j}")
            assert np.array_equal(u.magnitude, v.magnitude, equal_nan=True)
            assert u.dtype == v.dtype and u.units == v.units
            assert u.sampling_period == v.sampling_period and u.t_start == v.t_start
    trains_of_b = {id(t) for s in b.segments for t in s.spiketrains}
    for i, (g, h) in enumerate(zip(a.groups, b.groups, strict=True)):
        _same_object(g, h, f"group {i}")
        assert [t.name for t in g.spiketrains] == [t.name for t in h.spiketrains]
        assert all(np.array_equal(u.times, v.times)
                   for u, v in zip(g.spiketrains, h.spiketrains, strict=True))
        assert {id(t) for t in h.spiketrains} <= trains_of_b      # the segments' own trains


def test_neo_reads_the_same_block_from_both(files):
    assert_same_blocks(read_nix_block(files["neo"], reader="neo"),
                       read_nix_block(files["h5py"], reader="neo"))


@pytest.mark.parametrize("writer", ["neo", "h5py"])
def test_h5py_reader_gives_the_block_neo_reads(files, writer):
    neo_block = read_nix_block(files[writer], reader="neo")
    ours = read_nix_block(files[writer])
    assert_same_blocks(neo_block, ours)
    assert ours.rec_datetime == neo_block.rec_datetime
    assert [s.rec_datetime for s in ours.segments] == [
        s.rec_datetime for s in neo_block.segments]


def test_nixio_opens_it_and_validates_it_as_neos_own_file(files):
    def findings(path):
        nix_file = nixio.File.open(str(path), nixio.FileMode.ReadOnly)
        try:
            assert len(nix_file.blocks) == 1 and nix_file.sections["neo"]["version"]
            report = nix_file.validate()
            return {kind: sorted({str(m) for messages in report[kind].values()
                                  for m in messages}) for kind in ("errors", "warnings")}
        finally:
            nix_file.close()

    # Neo's own layout carries nixio's complaints about spike-time arrays without a
    # dimension; the h5py writer reproduces the layout, complaints included
    assert findings(files["h5py"]) == findings(files["neo"])


def test_read_nix_gives_the_same_simulation(files):
    old, new = read_nix(files["neo"], reader="neo"), read_nix(files["h5py"])
    result, expected = new.result, old.result
    for name in ("output", "spike_trial", "spike_unit", "spike_step", "scaling_factors", "exc",
                 "voltages", "currents", "rates"):
        assert np.array_equal(getattr(result, name), getattr(expected, name)), name
    assert (result.dt, result.n_steps, result.seed) == (expected.dt, expected.n_steps,
                                                        expected.seed)
    assert result.trials.trial_types == expected.trials.trial_types
    assert np.array_equal(result.trials.stimulus, expected.trials.stimulus)
    assert np.array_equal(new.model.w, old.model.w) and new.model.task == old.model.task
    assert np.array_equal(result.spike_step, known_result().spike_step)


def test_annotation_types_survive_as_with_neo(tmp_path):
    def block():
        train = neo.SpikeTrain([0.1, 0.2] * pq.s, t_stop=1 * pq.s, name="t",
                               description="a train", empty="", numbers=[1, 2, 3],
                               flag=True, count=np.int64(4), ratio=np.float32(0.5),
                               delays=np.array([1.0, 2.0]) * pq.ms, none_list=[],
                               when=datetime(2026, 1, 2, 3, 4, 5), words=["a", "b"],
                               array_annotations={"quality": np.array([1, 2])})
        signal = neo.AnalogSignal(np.arange(6.0).reshape(3, 2), units="mV",
                                  sampling_rate=1 * pq.kHz, t_start=2 * pq.ms, name=None,
                                  array_annotations={"channel": np.array(["x", "y"])})
        segment = neo.Segment(name="s", index=1)
        segment.spiketrains.append(train)
        segment.analogsignals.append(signal)
        out = neo.Block(name="b", description="d", file_datetime=datetime(2025, 5, 6))
        out.segments.append(segment)
        out.groups.append(neo.Group([train, signal], name="g", kind="both"))
        return out

    fast = block()
    write_nix(fast, tmp_path / "fast.nix")
    assert "nix_name" not in fast.annotations                  # the block is not modified
    write_nix(block(), tmp_path / "neo.nix", writer="neo")
    a = read_nix_block(tmp_path / "neo.nix", reader="neo")
    for b in (read_nix_block(tmp_path / "fast.nix", reader="neo"),
              read_nix_block(tmp_path / "fast.nix"), read_nix_block(tmp_path / "neo.nix")):
        assert_same_blocks(a, b)
        assert b.file_datetime == a.file_datetime
    assert b.groups[0].analogsignals[0] is b.segments[0].analogsignals[0]
    assert _tree(tmp_path / "fast.nix") == _tree(tmp_path / "neo.nix")


def test_unsupported_objects_are_named(tmp_path):
    segment = neo.Segment()
    segment.events.append(neo.Event([1.0] * pq.s))
    block = neo.Block()
    block.segments.append(segment)
    with pytest.raises(ValueError, match=r"segments\[0\]\.events.*writer='neo'"):
        write_nix(block, tmp_path / "x.nix")
    assert not (tmp_path / "x.nix").exists()
    with pytest.raises(ValueError, match="writer: expected 'h5py' or 'neo'"):
        write_nix(neo.Block(), tmp_path / "x.nix", writer="nixio")
    write_nix(block, tmp_path / "events.nix", writer="neo")
    with pytest.raises(ValueError, match="neo.event.*Neo's NixIO"):
        read_nix_block(tmp_path / "events.nix")
    assert len(read_nix_block(tmp_path / "events.nix", reader="neo").segments[0].events) == 1
