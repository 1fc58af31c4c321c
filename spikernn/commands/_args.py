"""Argument types of the command line, built from :mod:`spikernn._validate`.

A bad value stops ``argparse`` before any work, with one line such as
``spikernn search: error: argument --seed: expected an integer in [0, 2**63 - 1], got -1``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .. import _validate


def _argument_type(parse: Callable[[str], Any], check: Callable[[Any, str], Any],
                   expected: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return check(value, "")
        except ValueError as exc:  # "<name>: expected ..."; argparse names the option
            raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None
    convert.__name__ = expected  # argparse's fallback message names the type
    return convert


def _positive_int(value: int, name: str) -> int:
    return _validate.check_int(value, name, 1)


def _non_negative_int(value: int, name: str) -> int:
    return _validate.check_int(value, name, 0)


seed = _argument_type(int, _validate.check_seed, "an integer in [0, 2**63 - 1]")
n_trials = _argument_type(int, _validate.check_n_trials, "a positive integer")
positive_int = _argument_type(int, _positive_int, "a positive integer")
non_negative_int = _argument_type(int, _non_negative_int, "a non-negative integer")
positive_float = _argument_type(float, _validate.check_positive, "a finite positive number")
scaling_factor = _argument_type(float, _validate.check_scaling_factor, "a number in [1e-6, 1e6]")


def _device_name(value: str, name: str) -> str:
    _validate.check_device(value, name)
    return value  # the name as given (it is recorded in model files and metrics)


device = _argument_type(str, _device_name, "a torch device such as 'cpu' or 'cuda:0'")
