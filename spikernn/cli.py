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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (with a pointer to ``--help``)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = _Parser(
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line argument error
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except INPUT_ERRORS as exc:
        print(f"spikernn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spikernn {args.command}: interrupted", file=sys.stderr)
        return 130


#: Errors that mean "bad input or an unusable location" (exit status 2, one line). A bad
#: value, a missing or malformed model file, an unwritable output, too little memory.
INPUT_ERRORS = (ValueError, OSError, MemoryError)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, PermissionError | TimeoutError) \
            and exc.filename is not None and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    if isinstance(exc, MemoryError):
        text = f"out of memory: {text}"
    return text


if __name__ == "__main__":
    sys.exit(main())
