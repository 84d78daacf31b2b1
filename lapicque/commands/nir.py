"""`lapicque nir`: NIR graphs in (import: a spec and the conformance figures) and out (export: a .nir file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.golden.nir_graph import DISCRETISATIONS
from lapicque.jobs import nir_export, nir_import

from .options import EXIT_FAILED, EXIT_OK, job_arguments, output_folder, positive, positive_real, run_with_status, seed

NAME = "nir"
HELP = "NIR interchange: import a graph onto the array (spec + conformance), export an array as a graph"
DESCRIPTION = ("import: map a NIR graph (snnTorch, Norse, ...) onto the array: OUT/spec.toml for verify and "
               "build, every parameter's NIR value, realised value and error, every semantic difference; with "
               "--input, run float, fixed and RTL and compare their output spikes. export: write a spec as a NIR "
               "graph that NIR's own reader loads (docs/nir.md).")
OUTPUTS = "OUT/spec.toml, OUT/summary.json, OUT/outputs.npz (import); the .nir file (export)"
#: the job each action calls
JOBS = {"import": nir_import, "export": nir_export}
job = nir_import


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    imp = actions.add_parser("import", help="map a NIR graph onto the array")
    imp.add_argument("graph", type=Path, help="the .nir file")
    imp.add_argument("--dt", type=positive_real, help="time step in seconds the graph runs at (snnTorch's exporter: "
                                                      "1e-4; default: the one a lapicque export records)")
    imp.add_argument("--discretisation", choices=DISCRETISATIONS,
                     help="euler: forward Euler, current before membrane (snnTorch, Norse; the default); exact: "
                          "exact propagators")
    imp.add_argument("--input", type=Path, help="spike trains or currents, .npy, steps x inputs: run the models")
    imp.add_argument("--backend", choices=("float", "fixed", "rtl"), default="fixed",
                     help="with --input: fixed (float and fixed models, the default) or rtl (also the RTL, checked "
                          "update by update)")
    imp.add_argument("--v-bits", type=positive, default=16, help="membrane and current width (default 16)")
    imp.add_argument("--w-bits", type=positive, default=8, help="weight width (default 8)")
    imp.add_argument("--refractory", action="append", metavar="[NODE=]STEPS",
                     help="steps the membrane holds after a spike (NIR has none): for every node, or NODE=STEPS "
                          "(repeatable); snnTorch's Synaptic and RLeaky with reset 'zero' are 1")
    imp.add_argument("--lanes", type=positive, help="parallel lanes of the array (default 1, or the export's)")
    imp.add_argument("--sim", default="verilator", help="simulator for --backend rtl (default verilator)")
    imp.add_argument("--seed", type=seed, default=0, help="seed of the RTL run's back-pressure (default 0)")
    imp.add_argument("--out", type=output_folder, default=Path("runs/nir"), help="results folder (default runs/nir)")
    exp = actions.add_parser("export", help="write an array as a NIR graph")
    exp.add_argument("spec", type=Path, help="the array (TOML), or a `nir import` run's folder: its graph back, "
                                             "re-stated by the folder's spec.toml")
    exp.add_argument("--dt", type=positive_real, default=1e-3, help="time step in seconds (default 1e-3)")
    exp.add_argument("--out", type=Path, required=True, help="the .nir file to write")


def arguments(args: argparse.Namespace) -> dict:
    return job_arguments(args, JOBS[args.action])


def run(args: argparse.Namespace, console) -> int:
    summary = run_with_status(args, console, JOBS[args.action])
    if args.action == "export":
        if "replaced" in summary:
            what = f"the imported graph's nodes re-stated by its spec: {', '.join(summary['replaced'])}"
        else:
            used = ", ".join(f"{k} ({n})" for k, n in summary["extensions_used"].items()) or "none"
            what = f"lapicque extensions in metadata (other NIR tools ignore them): {used}"
        console.print(f"{summary['neurons']} neurons at dt = {summary['dt']:g} s written to {args.out}; {what}")
        return EXIT_OK
    table = Table("node", "type", "parameter", "NIR", "realised", "relative error")
    for row in summary["parameters"]:
        table.add_row(row["node"], row["type"], row["parameter"], f"{row['nir']:.6g}", f"{row['realised']:.6g}",
                      f"{row['relative_error']:.2e}")
    console.print(table)
    for note in summary["differences"]:
        console.print(f"- {note}")
    console.print(f"{summary['neurons']} neurons in {len(summary['populations'])} population(s), weight exponent "
                  f"{summary['weight_exponent']}; spec: {args.out / 'spec.toml'}")
    if "agreement" in summary:
        for pair, figures in summary["agreement"].items():
            console.print(f"{pair.replace('_', ' ')}: {figures['coincident_all']:.2%} of output spikes within one "
                          f"step")
        console.print(f"results: {args.out / 'summary.json'}, {args.out / 'outputs.npz'}")
    if "passed" in summary:
        rtl = summary["rtl"]
        console.print(f"RTL: {rtl['updates_checked']:,} updates checked, {rtl['bit_exact_mismatches']} bit-exact "
                      f"mismatches, spikes identical to the fixed model: {rtl['spikes_identical_to_fixed']}")
        return EXIT_OK if summary["passed"] else EXIT_FAILED
    return EXIT_OK
