"""The ``spikernn`` command line: ``spikernn <command> --help`` for each command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._version import __version__

#: Subcommand modules under ``spikernn.commands``, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("tasks", "train", "run", "search", "evaluate", "crosscheck",
                             "export", "analyze", "study")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="spikernn",
        description="Train rate RNNs and convert them into functional spiking RNNs "
                    "(Kim, Li & Sejnowski 2019).")
    parser.add_argument("--version", action="version", version=f"spikernn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"spikernn.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad arguments/input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"spikernn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
