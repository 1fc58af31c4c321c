"""``spikernn study``: run (or resume) a population study, or print a study's summary."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``study`` subcommand."""
    p = subparsers.add_parser(
        "study", help="run a grid of train -> search -> evaluate cells (locally or on Dask)",
        description="Run a population study from a TOML spec: every cell trains a rate "
                    "model, searches its scaling factor and evaluates the spiking network; "
                    "writes DIR/table.csv, table.parquet, summary.json, figures/ and one "
                    "folder per cell. A rerun skips finished cells.",
        epilog="Spec format: see docs/study.md and examples/study_smoke.toml.")
    p.add_argument("spec", nargs="?", help="study spec (TOML)")
    p.add_argument("--out", default=None, help="study folder (default ./study-<name>)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: all cores; 1 = in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the cells on a Dask cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--summary", default=None, metavar="DIR",
                   help="print the summary of the study in DIR and exit")
    p.add_argument("--max-cells", type=int, default=None, metavar="N",
                   help="run at most N unfinished cells, then stop (rerun to continue)")
    p.add_argument("--no-figures", action="store_true", help="do not write the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-cell lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the study (or print a summary); exit status 1 when a cell failed."""
    from ..study import run_study, study_summary_text
    from ..study.results import format_summary

    if args.summary is not None:
        if args.spec is not None:
            raise ValueError(f"--summary: expected no SPEC with --summary, got {args.spec!r}")
        print(study_summary_text(args.summary))
        return 0
    if args.spec is None:
        raise ValueError("SPEC: expected a study spec (TOML) or --summary DIR, got neither")
    result = run_study(args.spec, args.out, scheduler=args.scheduler, workers=args.workers,
                       progress=not args.quiet, figures=not args.no_figures,
                       max_cells=args.max_cells)
    print(format_summary(result.summary))
    left = result.n_cells - sum(r.get("status") == "ok" for r in result.records)
    print(f"spikernn study: {result.ran} cell(s) run, {result.skipped} already finished, "
          f"{left} not finished, {result.elapsed_s:.1f} s; results in {result.out_dir}")
    failed = sum(r.get("status") != "ok" for r in result.records)
    return 1 if failed else 0
