"""Does the initial-voltage distribution decide conversion? (docs/convertibility.md)

Searches the scaling factor again for already trained models of finished study cells (no
training), once per initial-voltage rule of :class:`spikernn.spiking.LIFParams` (``paper``:
uniform in [v_reset, 30 mV], so about a quarter of the units start above the -40 mV threshold
and fire at once; ``below_threshold``: uniform in [v_reset, v_th); ``reset``: all at v_reset),
on the cell's own search seed, grid and edge extension, 100 trials per factor (the cell's
own rule is read from its record, not searched again). The model files are copied first;
the study folders are not changed. Prints, per study condition and rule, how many models
reach >= 95% at their best factor, and writes ``v_init.csv``.

Run (about 10 s of 2 cores per model and rule; run it on a quiet machine)::

    python examples/convertibility_v_init.py STUDY_DIR --conditions "loss below 7, batch 16" \\
        --out docs/convertibility
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
from pathlib import Path

from spikernn.pipeline import search_scaling_factor
from spikernn.spiking import LIFParams
from spikernn.spiking.diagnosis import CONVERSION_CRITERION
from spikernn.study.results import wilson_interval

RULES = ("paper", "below_threshold", "reset")


def search_again(record_path: Path, v_init: str, extend_edges: int) -> dict:
    """Best factor and accuracy of a cell's model searched with ``v_init``/``extend_edges``."""
    r = json.loads(record_path.read_text())
    s = r["settings"]
    if v_init == s["lif"]["v_init"] and extend_edges == s["search"].get("extend_edges", 4):
        return {"best_scaling_factor": r["best_scaling_factor"],
                "best_accuracy": r["search_best_accuracy"]}
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.mat"
        shutil.copy(record_path.parent / "model.mat", model)
        sidecar = record_path.parent / "model.search.json"
        if sidecar.is_file():
            shutil.copy(sidecar, Path(tmp) / sidecar.name)
        result = search_scaling_factor(
            model, n_trials=s["search"]["n_trials"],
            scaling_factors=s["search"]["scaling_factors"], seed=r["search_seed"],
            params=LIFParams(**{**s["lif"], "v_init": v_init}), extend_edges=extend_edges,
            progress=False)
    return {"best_scaling_factor": result.best_scaling_factor,
            "best_accuracy": result.best_accuracy}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("study", type=Path)
    p.add_argument("--conditions", nargs="+", default=None, help="conditions (default: all)")
    p.add_argument("--v-init", nargs="+", default=None, choices=RULES,
                   help="initial-voltage rules to search with (default: the cell's)")
    p.add_argument("--extend-edges", type=int, default=None,
                   help="edge extension to search with (default: the cell's)")
    p.add_argument("--out", type=Path, default=Path("docs/convertibility"))
    args = p.parse_args()
    rows = []
    for record_path in sorted(args.study.glob("cells/*/record.json")):
        r = json.loads(record_path.read_text())
        if r.get("status") != "ok" or (args.conditions and r["condition"] not in args.conditions):
            continue
        s = r["settings"]
        extend = (s["search"].get("extend_edges", 4) if args.extend_edges is None
                  else args.extend_edges)
        for rule in args.v_init or [s["lif"]["v_init"]]:
            rows.append({"study": args.study.name, "condition": r["condition"],
                         "replicate": r["replicate"], "v_init": rule, "extend_edges": extend,
                         **search_again(record_path, rule, extend)})
            print(rows[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "search_again.csv"
    old = list(csv.DictReader(out.open())) if out.is_file() else []
    keep = [o for o in old if (o["study"], o["condition"], o["v_init"], o["extend_edges"]) not in
            {(r["study"], r["condition"], r["v_init"], str(r["extend_edges"])) for r in rows}]
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(keep + rows)
    print("\n| condition | v_init | extend_edges | models | search best >= 95% | share (95% CI) |")
    print("|---|---|---|---|---|---|")
    for key in sorted({(r["condition"], r["v_init"], r["extend_edges"]) for r in rows}):
        g = [r for r in rows if (r["condition"], r["v_init"], r["extend_edges"]) == key]
        k = sum(r["best_accuracy"] >= CONVERSION_CRITERION for r in g)
        lo, hi = wilson_interval(k, len(g))
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(g)} | {k} | {100 * k / len(g):.0f}% "
              f"({100 * lo:.0f}–{100 * hi:.0f}%) |")


if __name__ == "__main__":
    main()
