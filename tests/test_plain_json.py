"""The one JSON converter (spikernn._io.to_plain) and the writers that use it."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

from spikernn._io import to_plain, write_json


def test_to_plain_converts_numpy_paths_mappings_and_tuples():
    value = {"a": np.arange(3, dtype=np.int64), 2: (np.float32(0.5), Path("x/y")),
             "m": types.MappingProxyType({"k": np.bool_(True)}), "n": None}
    plain = to_plain(value)
    assert plain == {"a": [0, 1, 2], "2": [0.5, "x/y"], "m": {"k": True}, "n": None}
    assert type(plain["a"][0]) is int and type(plain["m"]["k"]) is bool
    assert json.loads(json.dumps(plain)) == plain


def test_to_plain_nan_policy_and_fallback():
    assert np.isnan(to_plain([np.nan])[0])
    assert to_plain([np.nan, np.inf, 1.0], nan_to_none=True) == [None, None, 1.0]
    with pytest.raises(TypeError, match="complex"):
        to_plain({"z": 1j})
    assert to_plain({"z": 1j}, fallback=str) == {"z": "1j"}


def test_write_json_and_the_analysis_summary_use_it(tmp_path):
    from spikernn.analysis import to_jsonable

    path = write_json(tmp_path / "x.json", {"a": np.array([1.5]), "p": tmp_path})
    assert json.loads(path.read_text()) == {"a": [1.5], "p": str(tmp_path)}
    assert to_jsonable({"a": np.array([1.0, np.nan]), "b": np.int64(2)}) == {"a": [1.0, None],
                                                                              "b": 2}
