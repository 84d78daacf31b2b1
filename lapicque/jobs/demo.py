"""The whole story in one run: a LASSO problem solved by float, fixed and RTL (verified while it solves), the
same array built for the iCEBreaker, and one report."""

from __future__ import annotations

from pathlib import Path

from lapicque.errors import LapicqueError

PROBLEM = {"atoms": 64, "dim": 32, "sparsity": 4, "lam": 0.1, "seed": 0}
STEPS = 1000
BOARD = "icebreaker"


def demo(*, out: Path | str = Path("runs/demo"), sim: str = "verilator", no_build: bool = False, status=None,
         console=None) -> dict:
    """Run the demo into `out` (lca/, lca/rtl/, build/, report.html). `no_build` leaves the board build out;
    `console` (rich) shows the build tools' progress.

    Returns {"lca": the lca summary, "build": the build's report.json or None, "report": the page's path,
    "passed": the RTL verified and timing met}.
    """
    import html

    from lapicque.sim.lca import compile_problem, make_problem, solve

    from .build import build

    if out is None:
        raise LapicqueError("the demo needs an output folder for its report: give out=")
    out = Path(out)
    problem = make_problem("random", **PROBLEM)
    summary = solve(problem, "rtl", STEPS, out / "lca", sim=sim, seed=PROBLEM["seed"], status=status)
    folders = [out / "lca", out / "lca" / "rtl"]
    build_report = None
    build_line = "The board build was skipped (--no-build)."
    if not no_build:
        spec = compile_problem(problem).spec
        build_report = build(board=BOARD, spec=spec, out=out / "build", console=console)
        folders.append(out / "build")
        r = build_report
        build_line = (f"The same array ({spec.neurons} neurons, {spec.widths.w}-bit weights) built for the "
                      f"{html.escape(r['board'])}: Fmax {r['fmax_mhz']} MHz at a {r['clock_mhz']} MHz clock, "
                      f"bitstream <code>{html.escape(str(r['bitstream']))}</code>.")
    p = PROBLEM
    story = (f"<p>A random LASSO problem ({p['dim']} samples, {p['atoms']} unit-norm atoms, a planted "
             f"{p['sparsity']}-sparse code, lambda {p['lam']}) compiled onto an array of {summary['neurons']} "
             f"integrate-and-fire neurons and solved for {STEPS} timesteps by the spiking LCA: in float, in "
             f"the bit-exact fixed-point model, and on the RTL, whose every state update was checked against the "
             f"fixed model while it solved. The answer is scored against FISTA's certified optimum. "
             f"{build_line}</p>")
    from lapicque.report import write_report

    page = write_report(folders, out / "report.html", story=story)
    timing_met = build_report is None or bool(build_report["timing_met"])
    return {"lca": summary, "build": build_report, "report": str(page),
            "passed": bool(summary["verified"]) and timing_met}
