"""`lapicque lca`: sparse approximation (LASSO) by the spiking LCA on the float, fixed or RTL backend."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from lapicque.jobs import lca as job
from lapicque.spec import MAX_WEIGHT_EXPONENT, ROUNDING_MODES

from .options import (
    EXIT_FAILED,
    EXIT_OK,
    add_rtl_run_options,
    positive,
    positive_real,
    print_where,
    run_with_status,
    seed,
    whole_in,
)

NAME = "lca"
HELP = "solve a LASSO problem by spiking LCA (float, fixed or RTL) and score it"
DESCRIPTION = ("Sparse approximation, min 0.5||y - Phi a||^2 + lam ||a||_1, by the spiking Locally Competitive "
               "Algorithm on the float model, the bit-exact model or the RTL array (verified bit-exact while it "
               "solves), scored against the optimum (FISTA).")
OUTPUTS = "OUT/summary.json, OUT/coefficients.npy, OUT/optimum.npy, OUT/curves.npz; --backend rtl adds OUT/rtl/ " \
          "(the verification run); with --report OUT/report.html"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--problem", default="random",
                   help="identity, zero, competition, excitation, bars, random (default) or patches")
    p.add_argument("--dictionary", type=Path, help="your own dictionary, dim x atoms, unit-norm columns (.npy)")
    p.add_argument("--signal", type=Path, help="your own signal, length dim (.npy); needs --dictionary")
    p.add_argument("--atoms", type=whole_in(1, 4096), default=128,
                   help="dictionary atoms (default 128); allowed 1 to 4096")
    p.add_argument("--dim", type=whole_in(1, 4096), default=64,
                   help="signal length of the random problem (default 64); allowed 1 to 4096")
    p.add_argument("--sparsity", type=whole_in(1, 4096), default=8,
                   help="planted nonzeros of the random problem (default 8); allowed 1 to 4096")
    p.add_argument("--lam", type=float, default=0.1, help="the L1 weight lambda (default 0.1)")
    p.add_argument("--nonnegative", action="store_true",
                   help="solve the nonnegative LASSO (one neuron per atom); default signed (a neuron pair per atom)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the problem (default 0)")
    p.add_argument("--backend", default="fixed", help="float, fixed (default) or rtl")
    p.add_argument("--steps", type=positive, default=2000, help="timesteps (default 2000)")
    p.add_argument("--weight-bits", type=positive, default=8, help="weight width in bits (default 8)")
    p.add_argument("--rate", type=float, default=0.25,
                   help="spikes per step of the strongest drive (default 0.25; at most 0.5)")
    p.add_argument("--target-gap", type=positive_real, default=0.01,
                   help="the relative objective gap the rounding may cost, predicted before the run (default "
                        "0.01, 1 %%); a problem that needs more weight bits is refused, naming them")
    p.add_argument("--weight-exponent", type=whole_in(0, MAX_WEIGHT_EXPONENT),
                   help="the input's shift in bits (default: chosen, the smallest whose predicted gap is a tenth "
                        "of --target-gap)")
    p.add_argument("--rounding", choices=ROUNDING_MODES,
                   help="the array's decay rounding (default toward_zero; the LCA's decays are exact, so it changes "
                        "the RTL's logic, not the results)")
    p.add_argument("--backpressure", type=float,
                   help="--backend rtl: probability per cycle that a back-pressure burst starts on each output stream "
                        "(default 0.02, which exercises the stalls; 0 counts the array's own cycles per step)")
    add_rtl_run_options(p, "lca")


def run(args: argparse.Namespace, console) -> int:
    summary = run_with_status(args, console, job)
    print_summary(summary, console)
    print_where(args, console)
    return EXIT_OK if summary.get("verified", True) else EXIT_FAILED


def print_summary(s: dict, console) -> None:
    verdict = ""
    if "verified" in s:
        verdict = ": [bold green]RTL VERIFIED[/]" if s["verified"] else ": [bold red]RTL MISMATCH[/]"
    table = Table(title=f"lca {s['problem']}: {s['atoms']} atoms, dim {s['dim']}, lam {s['lam']:g}, "
                        f"{s['timesteps']} steps on {s['neurons']} neurons{verdict}")
    table.add_column("run")
    for column in ("objective", "relative gap", "recon error", "support P/R", "steps to 1 % gap", "spikes"):
        table.add_column(column, justify="right")
    for name, r in s["runs"].items():
        steps = r["steps_to_1pct_gap"]
        support = f"{r['support_precision']:.2f}/{r['support_recall']:.2f}"
        table.add_row(name, f"{r['objective']:.6g}", f"{r['rel_gap']:.2e}", f"{r['rel_recon_error']:.3f}", support,
                      "never" if steps is None else str(steps), str(r.get("spikes", "")))
    table.add_row("optimum (FISTA)", f"{s['objective_opt']:.6g}", "0", "", "", "", "")
    console.print(table)
    q = s["quantisation"]
    console.print(f"{q['weight_bits']}-bit weights, weight exponent {q['weight_exponent']}: the rounding's predicted "
                  f"gap {q['predicted_gap']:.2e} (the limit the fixed model converges to; target "
                  f"{q['target_gap']})")
    if "verified" in s:
        console.print(f"RTL: {s['updates_checked']:,} updates checked, {s['bit_exact_mismatches']} bit-exact "
                      f"mismatches, spikes equal to the fixed model: {s['rtl_spikes_equal_fixed']}, "
                      f"{s['cycles']:,} cycles ({s['cycles_per_step']:.1f} per step, bound "
                      f"{s['cycles_per_step_bound']:.1f})")
    if s.get("rate_warning"):
        console.print(f"[yellow]warning[/]: {s['rate_warning']}")
