"""The `lapicque` command line.

Exit status: 0 when every check passed, 1 when a verification failed (the first mismatch is
printed), 2 for bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .errors import LapicqueError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage plus message
        raise LapicqueError(f"{message}; see '{self.prog} --help'")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lapicque", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    verify = sub.add_parser("verify", help="prove the RTL array equal to the fixed and float models",
                            description="Build the RTL of a neuron array, simulate it with cocotb and check "
                                        "every state update against the bit-exact and float models.")
    _verify_options(verify)

    build = sub.add_parser("build", help="synthesise the array for an FPGA board (bitstream and report.json)",
                           description="Build the array with its UART host bridge for a board, with the YoWASP "
                                       "tools from PyPI; writes OUT/report.json (resources, Fmax, throughput) and "
                                       "the bitstream. Exit 1 when timing fails, 2 when the array cannot fit.")
    build.add_argument("--list-boards", action="store_true", help="list the boards and exit")
    build.add_argument("--board", help="board name (see --list-boards)")
    _shape_options(build)
    build.add_argument("--clock", type=float, help="clock in MHz (default: the board's)")
    build.add_argument("--baud", type=_positive, default=115200, help="UART baud rate (default 115200)")
    build.add_argument("--seed", type=_positive, help="nextpnr's placement seed (default: nextpnr's own); Fmax "
                                                      "moves a few per cent with it")
    build.add_argument("--out", type=Path, help="output folder (default build/BOARD)")
    _report_option(build)

    run = sub.add_parser("run", help="load an array onto a programmed board, run it, check it against the model",
                         description="Speak the UART protocol (docs/protocol.md) to a board programmed by "
                                     "lapicque build: load parameters, state and weights, run, and compare the "
                                     "spikes and watched states with the bit-exact model.")
    run.add_argument("--board", required=True, help="board name (see lapicque build --list-boards)")
    run.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    run.add_argument("--spec", type=Path, help="array description (TOML); default: a random array")
    _shape_options(run)
    run.add_argument("--seed", type=int, default=0, help="seed of the random array and initial state (default 0)")
    run.add_argument("--steps", type=_positive, default=100, help="timesteps to run (default 100)")
    run.add_argument("--watch", default="", help="neurons whose states stream back, e.g. 0,5,9")
    run.add_argument("--baud", type=_positive, default=115200, help="UART baud rate (default 115200)")
    run.add_argument("--out", type=Path, default=Path("runs/board"), help="results folder (default runs/board)")

    lca = sub.add_parser("lca", help="solve a LASSO problem by spiking LCA (float, fixed or RTL) and score it",
                         description="Sparse approximation, min 0.5||y - Phi a||^2 + lam ||a||_1, by the spiking "
                                     "Locally Competitive Algorithm on the float model, the bit-exact model or the "
                                     "RTL array (verified bit-exact while it solves), scored against the optimum "
                                     "(FISTA). Writes OUT/summary.json, coefficients.npy, optimum.npy, curves.npz.")
    lca.add_argument("--problem", default="random",
                     help="identity, zero, competition, excitation, bars, random (default) or patches")
    lca.add_argument("--dictionary", type=Path, help="your own dictionary, dim x atoms, unit-norm columns (.npy)")
    lca.add_argument("--signal", type=Path, help="your own signal, length dim (.npy); needs --dictionary")
    lca.add_argument("--atoms", type=_positive, default=128, help="dictionary atoms (default 128)")
    lca.add_argument("--dim", type=_positive, default=64, help="signal length of the random problem (default 64)")
    lca.add_argument("--sparsity", type=_positive, default=8, help="planted nonzeros of the random problem (default 8)")
    lca.add_argument("--lam", type=float, default=0.1, help="the L1 weight lambda (default 0.1)")
    lca.add_argument("--nonnegative", action="store_true",
                     help="solve the nonnegative LASSO (one neuron per atom); default signed (a neuron pair per atom)")
    lca.add_argument("--seed", type=int, default=0, help="seed of the problem (default 0)")
    lca.add_argument("--backend", default="fixed", help="float, fixed (default) or rtl")
    lca.add_argument("--steps", type=_positive, default=2000, help="timesteps (default 2000)")
    lca.add_argument("--weight-bits", type=_positive, default=8, help="weight width in bits (default 8)")
    lca.add_argument("--rate", type=float, default=0.25,
                     help="spikes per step of the strongest drive (default 0.25; at most 0.5)")
    _rtl_run_options(lca, "lca")

    report = sub.add_parser("report", help="one HTML page of one run, or of several runs side by side",
                            description="Write the verification report (self-contained HTML) of run folders "
                                        "written by verify, lca, tem or build; several runs of one kind go side by "
                                        "side with their differences called out.")
    report.add_argument("runs", nargs="+", type=Path, help="run folders")
    report.add_argument("--out", type=Path, help="the HTML file (default RUN/report.html for one run, "
                                                 "else report.html)")

    fi = sub.add_parser("fi", help="f-I curve of a neuron model (JSON and PNG)",
                        description="Steady firing rate against constant input current for one of the "
                                    "integrate-and-fire family (lapicque.golden.models), with the closed form "
                                    "where one exists (lif, qif). Writes OUT/summary.json and OUT/fi.png.")
    fi.add_argument("--model", default="lif", help="perfect-if, lif (default), qif, qif-adapt, eif, adex, izhikevich, "
                                                   "fitzhugh-nagumo, hodgkin-huxley")
    fi.add_argument("--currents", help="LOW:HIGH:COUNT in the model's current unit (default: the model's range)")
    fi.add_argument("--duration", type=float, default=1000.0, help="simulated ms per current (default 1000)")
    fi.add_argument("--dt", type=float, default=0.05, help="time step in ms (default 0.05)")
    fi.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override a model parameter (repeatable), e.g. --param tau_m=20")
    fi.add_argument("--sigma", type=float, help="lif only: add white noise of this amplitude (mV, Brunel's "
                                                "convention); the summary and noise.png add the Siegert rate, "
                                                "the simulated noisy rates and the linear response")
    fi.add_argument("--out", type=Path, default=Path("runs/fi"), help="results folder (default runs/fi)")

    net = sub.add_parser("net", help="simulate a benchmark network (cuba): JSON summary and raster PNG",
                         description="Simulate a network of LIF neurons with exponential current synapses, "
                                     "integrated exactly (lapicque.golden.network). Writes OUT/summary.json and "
                                     "OUT/raster.png.")
    net.add_argument("network", help="cuba (Brette et al. 2007, benchmark 2: 4000 LIF, p = 0.02), brunel "
                                     "(Brunel 2000, delta synapses, see --regime) or lattice (a 2-D sheet with "
                                     "local excitation: a wave from a central patch)")
    net.add_argument("--regime", default="AI", help="brunel: SR, AI (default), SI-fast or SI-slow")
    net.add_argument("--duration", type=float, default=1.0, help="biological time in s (default 1)")
    net.add_argument("--neurons", type=_positive, help="cuba: neurons (default 4000); brunel: excitatory neurons "
                                                       "(default 10000, C_E = 1000); lattice: about side^2 "
                                                       "(default 1024)")
    net.add_argument("--seed", type=int, default=1, help="seed of the connectivity and initial state (default 1)")
    net.add_argument("--dt", type=float, default=0.1, help="time step in ms (default 0.1)")
    net.add_argument("--out", type=Path, default=Path("runs/net"), help="results folder (default runs/net)")

    explore = sub.add_parser("explore", help="a neuron model under sliders (matplotlib window)",
                             description="Open a window with a model's membrane trace under a current step and a "
                                         "slider for every parameter and the current; --save renders it to a PNG "
                                         "instead (headless machines).")
    explore.add_argument("--model", default="adex", help="a model of lapicque fi --help (default adex)")
    explore.add_argument("--current", type=float, help="the current step (default: the model's)")
    explore.add_argument("--duration", type=float, default=500.0, help="window in ms (default 500)")
    explore.add_argument("--save", type=Path, help="write the figure to this PNG instead of opening a window")

    tem = sub.add_parser("tem", help="time encoding: encode a band-limited signal with IAF neurons and decode it",
                         description="Encode a band-limited signal with integrate-and-fire time encoders (ideal or "
                                     "leaky, one or a population) on a backend, check the recovery condition, "
                                     "decode the spikes and score the SNR (lapicque.golden.tem, docs/tem.md). "
                                     "Writes OUT/summary.json, OUT/signal.npz and OUT/tem.png.")
    tem.add_argument("--signal", default="multitone", help="multitone (default, seeded) or a .wav / .npy file")
    tem.add_argument("--bandwidth", type=float, default=100.0, help="bandwidth in Hz (default 100)")
    tem.add_argument("--duration", type=float, help="seconds (default 0.2 for multitone, a file's length)")
    tem.add_argument("--tones", type=_positive, default=10, help="multitone: tones (default 10)")
    tem.add_argument("--peak", type=float, default=1.0, help="peak |u| of the signal (default 1; files are scaled)")
    tem.add_argument("--seed", type=int, default=0, help="multitone: seed (default 0)")
    tem.add_argument("--rate", type=float, help=".npy signals: their sample rate in Hz")
    tem.add_argument("--lowpass", action="store_true", help="files: filter out energy above the band instead of "
                                                            "refusing a signal that is not band-limited")
    tem.add_argument("--neuron", default="ideal", help="ideal (default) or leaky")
    tem.add_argument("--bias", type=float, default=3.5, help="bias b (default 3.5)")
    tem.add_argument("--delta", type=float, default=0.7, help="threshold delta (default 0.7)")
    tem.add_argument("--kappa", type=float, default=0.01, help="integration constant kappa, the capacitance C of "
                                                               "a leaky neuron (default 0.01)")
    tem.add_argument("--resistance", type=float, default=10.0, help="leaky: resistance R (default 10)")
    tem.add_argument("--encoders", type=_positive, default=1, help="encoders in the population (default 1)")
    tem.add_argument("--spread", type=float, default=0.2, help="population: relative spread of the biases "
                                                               "(default 0.2)")
    tem.add_argument("--decoder", default="spline", help="spline (default), sinc or vandermonde")
    tem.add_argument("--block", type=float, help="decode in windows of this many seconds (default: one block "
                                                 "for short runs; vandermonde: 24 intervals)")
    tem.add_argument("--overlap", type=float, help="overlap of the windows at each side, s (default block / 5)")
    tem.add_argument("--backend", default="float", help="float (default), fixed or rtl")
    tem.add_argument("--grid-us", type=float, default=1.0, help="float: encoder grid in us (default 1)")
    tem.add_argument("--step-us", type=float, default=10.0, help="fixed and rtl: array timestep in us (default 10)")
    _rtl_run_options(tem, "tem")

    density = sub.add_parser("density", help="Fokker-Planck density of a noisy LIF population (JSON and PNG)",
                             description="Solve the membrane-potential density of a population of noisy LIF "
                                         "neurons with network feedback (the NNLIF model) by conservative finite "
                                         "volumes (lapicque.golden.density): the rate over time, the stationary "
                                         "state against Siegert's rate, and a blow-up when excitation wins. "
                                         "Voltages in units of theta - v_reset (theta 1, reset 0). Writes "
                                         "OUT/summary.json and OUT/density.png.")
    density.add_argument("--mu", type=float, default=1.2, help="mean input (default 1.2; 1 is threshold)")
    density.add_argument("--sigma", type=float, default=0.5, help="noise amplitude (default 0.5)")
    density.add_argument("--coupling", type=float, default=0.0,
                         help="network coupling J: the drift gains J tau_m nu (default 0; > 0 excitatory)")
    density.add_argument("--tau-m", type=float, default=20.0, help="membrane time constant in ms (default 20)")
    density.add_argument("--t-ref", type=float, default=0.0, help="refractory period in ms, a whole number of "
                                                                 "steps (default 0)")
    density.add_argument("--duration", type=float, default=0.5, help="seconds (default 0.5)")
    density.add_argument("--dt", type=float, default=0.02, help="time step in ms (default 0.02)")
    density.add_argument("--cells", type=_positive, default=200,
                         help="cells between reset and threshold (default 200)")
    density.add_argument("--init", default="gaussian", help="initial density: gaussian (default) or reset")
    density.add_argument("--init-mean", type=float, help="gaussian: its mean (default: the reset)")
    density.add_argument("--init-std", type=float, default=0.1, help="gaussian: its width (default 0.1)")
    density.add_argument("--monte-carlo", type=int, default=0, metavar="N",
                         help="also simulate N neurons directly and compare the rates (e.g. 10000)")
    density.add_argument("--seed", type=int, default=0, help="seed of the Monte-Carlo run (default 0)")
    density.add_argument("--out", type=Path, default=Path("runs/density"), help="results folder (default runs/density)")

    fit = sub.add_parser("fit", help="fit a GIF (or LIF) neuron to a recording of current and voltage",
                         description="Fit the generalized integrate-and-fire model (Pozzorini et al. 2015) to a "
                                     "current-clamp recording: reset from the spike-triggered average, subthreshold "
                                     "parameters and the spike-triggered current by linear regression, the escape "
                                     "threshold and its movement by maximum likelihood (lapicque.golden.gif). The "
                                     "last --holdout of the recording scores spike prediction. Writes "
                                     "OUT/summary.json and OUT/fit.png, with the neuron exported to the array's "
                                     "codes.")
    fit.add_argument("--current", type=Path, help="injected current, pA (.npy, 1-D), or a .npz with current, "
                                                  "voltage and dt")
    fit.add_argument("--voltage", type=Path, help="recorded membrane potential, mV (.npy, 1-D)")
    fit.add_argument("--dt", type=float, help="sample interval in ms (needed for .npy files)")
    fit.add_argument("--synthetic", type=float, metavar="SECONDS",
                     help="instead of files: simulate lapicque's own GIF neuron under noisy current for this long "
                          "and fit it (the report shows the true parameters beside the fitted ones)")
    fit.add_argument("--model", default="gif", help="gif (default: spike-triggered current and threshold) or lif")
    fit.add_argument("--t-ref", type=float, default=4.0, help="refractory period in ms (default 4)")
    fit.add_argument("--bins", type=_positive, default=6, help="gif: rectangular bins per kernel (default 6)")
    fit.add_argument("--kernel-ms", type=float, default=300.0, help="gif: kernel length in ms (default 300)")
    fit.add_argument("--spike-threshold", type=float, default=0.0, help="mV that marks a spike (default 0)")
    fit.add_argument("--holdout", type=float, default=0.2, help="fraction held out for scoring (default 0.2)")
    fit.add_argument("--repeats", type=_positive, default=10, help="simulated trials per score (default 10)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the simulations (default 0)")
    fit.add_argument("--out", type=Path, default=Path("runs/fit"), help="results folder (default runs/fit)")

    demo = sub.add_parser("demo", help="the whole story in one run: LCA on float, fixed and RTL (verified), an "
                                       "iCEBreaker build, one report (runs/demo/report.html)")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"), help="results folder (default runs/demo)")
    demo.add_argument("--sim", default="verilator", help="simulator: verilator (default) or icarus")
    demo.add_argument("--no-build", action="store_true", help="leave out the iCEBreaker build")
    return parser


def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", type=Path, help="array description (TOML); default: a random array")
    p.add_argument("--neurons", type=_positive, help="neurons of the random array (default 64)")
    p.add_argument("--lanes", type=_positive, help="parallel lanes (default 2, or the spec's)")
    p.add_argument("--steps", type=_positive, default=500, help="timesteps to simulate (default 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random array and stimulus (default 0)")
    p.add_argument("--sim", default="verilator", help="simulator: verilator (default) or icarus")
    p.add_argument("--waves", action="store_true", help="write a waveform file next to the summary")
    p.add_argument("--backpressure", type=float, default=None,
                   help="probability per cycle that a back-pressure burst starts on each stream (default 0.02)")
    p.add_argument("--out", type=Path, default=Path("runs/verify"), help="results folder (default runs/verify)")
    _report_option(p)
    # test-only: build a deliberately wrong datapath to show that the harness catches it
    p.add_argument("--inject-bug", help=argparse.SUPPRESS)


def _rtl_run_options(p: argparse.ArgumentParser, name: str) -> None:
    """What a workload with an RTL backend shares: its lanes and simulator, the results folder, --report."""
    p.add_argument("--lanes", type=_positive, default=1, help="parallel lanes of the RTL array (default 1)")
    p.add_argument("--sim", default="verilator", help="simulator for --backend rtl: verilator (default) or icarus")
    p.add_argument("--out", type=Path, default=Path(f"runs/{name}"), help=f"results folder (default runs/{name})")
    _report_option(p)


def _report_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", action="store_true", help="also write OUT/report.html (see lapicque report)")


def _write_report(folders, out: Path, console: Console) -> Path:
    from .report import write_report

    with console.status(f"writing the report {out}"):
        path = write_report(folders, out)
    console.print(f"report: {path}")
    return path


def run_report(args, console: Console) -> int:
    from .report import load_run

    out = args.out or (args.runs[0] / "report.html" if len(args.runs) == 1 else Path("report.html"))
    _write_report(args.runs, out, console)
    return EXIT_OK if all(_run_passed(load_run(f)) for f in args.runs) else EXIT_FAILED


def _run_passed(run) -> bool:
    from .report import SECTIONS

    return SECTIONS[run.kind](run).passed


def _shape_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--neurons", type=_positive, help="neurons (default: the board's)")
    p.add_argument("--lanes", type=_positive, help="parallel lanes (default: the board's)")
    p.add_argument("--weight-bits", type=_positive, default=8, help="weight width in bits (default 8)")
    p.add_argument("--no-watch", action="store_true",
                   help="leave out the state monitor (saves logic; the board then streams spikes only)")


def _board_spec(args, board):
    from .spec import ArraySpec, Widths

    return ArraySpec(args.neurons or board.default_neurons, lanes=args.lanes or board.default_lanes,
                     widths=Widths(w=args.weight_bits), monitor=not args.no_watch)


def list_boards(console: Console) -> int:
    from lapicque.boards.board import all_boards

    table = Table(title="boards (lapicque build --board NAME)")
    for column in ("board", "device", "default array", "default clock", "notes"):
        table.add_column(column)
    for b in all_boards():
        table.add_row(b.name, b.device, f"{b.default_neurons} neurons x {b.default_lanes} lane(s)",
                      f"{b.default_clock_mhz:g} MHz", b.notes)
    console.print(table)
    return EXIT_OK


def run_build(args, console: Console) -> int:
    if args.list_boards:
        return list_boards(console)
    if not args.board:
        raise LapicqueError("--board is required (see lapicque build --list-boards)")
    from lapicque.boards.board import get_board
    from lapicque.boards.flow import build

    board = get_board(args.board)
    spec = _board_spec(args, board)
    out = args.out or Path("build") / board.name
    result = build(board, spec, out, clock_mhz=args.clock, baud=args.baud, seed=args.seed, console=console)
    print_build_report(result.report, console)
    console.print(f"report: {out / 'report.json'}  bitstream: {result.report['bitstream']}")
    if args.report:
        _write_report([out], out / "report.html", console)
    if not result.timing_met:
        r = result.report
        console.print(f"[red]timing failed[/]: {r['clock_mhz']:g} MHz not met, Fmax {r['fmax_mhz']:g} MHz "
                      f"(slack {r['slack_ns']:g} ns); try --clock {int(r['fmax_mhz'])} or another --seed")
        return EXIT_FAILED
    return EXIT_OK


def print_build_report(r: dict, console: Console) -> None:
    verdict = "[bold green]timing met[/]" if r["timing_met"] else "[bold red]timing FAILED[/]"
    table = Table(title=f"build: {r['board']} ({r['device']}), {r['neurons']} neurons x {r['lanes']} lane(s), "
                        f"{r['weight_bits']}-bit weights: {verdict}")
    table.add_column("resource")
    table.add_column("used", justify="right")
    table.add_column("available", justify="right")
    table.add_column("%", justify="right")
    for name, use in r["resources"].items():
        pct = 100 * use["used"] / use["available"] if use["available"] else 0
        table.add_row(name, f"{use['used']:,}", f"{use['available']:,}", f"{pct:.0f}")
    table.add_section()
    table.add_row("clock (MHz)", f"{r['clock_mhz']:g}", f"Fmax {r['fmax_mhz']:g}",
                  f"slack {r['slack_ns']:g} ns" if r["slack_ns"] is not None else "")
    table.add_row("neuron updates/s", f"{r['neuron_updates_per_s']:,}", "", "")
    table.add_row("synaptic events/s (peak)", f"{r['synaptic_events_per_s']:,}", "", "")
    console.print(table)
    console.print("memories: " + "; ".join(
        f"{kind}: " + ", ".join(f"{n} in {prim}" for prim, n in sorted(counts.items()))
        for kind, counts in memory_kinds(r["memories"]).items()))


def memory_kinds(memories: dict[str, str]) -> dict[str, dict[str, int]]:
    """{"weight_mem0_bit3_t1": "EBR", ...} -> {"weight": {"EBR": n}, ...}: what each memory became."""
    import re

    kinds: dict[str, dict[str, int]] = {}
    for name, primitive in memories.items():
        match = re.match(r"(weight|state|param|acc)_mem", name)
        if match:
            counts = kinds.setdefault(match.group(1), {})
            counts[primitive] = counts.get(primitive, 0) + 1
    return kinds


def run_board(args, console: Console) -> int:
    from lapicque.boards.board import get_board
    from lapicque.boards.host import ArrayLink, compare_runs, model_run
    from lapicque.sim.stimulus import initial_state

    from .files import write_json, write_npy
    from .spec import load_spec, random_spec

    board = get_board(args.board)
    if args.spec is not None:
        spec = load_spec(args.spec)
    else:
        spec = random_spec(args.neurons or board.default_neurons, args.lanes or board.default_lanes, seed=args.seed)
    try:
        watch = [int(x) for x in args.watch.split(",") if x.strip()]
    except ValueError:
        raise LapicqueError(f"--watch takes neuron numbers separated by commas, not {args.watch!r}") from None
    bad = [n for n in watch if not 0 <= n < spec.neurons]
    if bad:
        raise LapicqueError(f"--watch neuron {bad[0]} is out of range; the array has {spec.neurons} neurons")
    state = initial_state(spec, args.seed)
    link = ArrayLink.open(args.port, spec, baud=args.baud)
    with console.status("loading parameters, state and weights"):
        link.load(state)
        link.watch(watch)
    with console.status(f"running {args.steps} timesteps"):
        got = link.run(args.steps)
    problems = compare_runs(got, model_run(spec, state, args.steps, watch))
    args.out.mkdir(parents=True, exist_ok=True)
    write_npy(args.out / "spikes.npy", got.spikes)
    write_json(args.out / "summary.json", {
        "board": board.name, "port": args.port, "neurons": spec.neurons, "steps": args.steps,
        "spikes": int(len(got.spikes)), "watched": watch, "matches_model": not problems, "problems": problems,
        "busy_cycles": got.busy_cycles})
    console.print(f"{len(got.spikes)} spikes; " + ("[green]bit-exact with the model[/]" if not problems
                                                   else "[red]differs from the model[/]: " + "; ".join(problems)))
    return EXIT_OK if not problems else EXIT_FAILED


def _spec_from_args(args):
    from .spec import load_spec, random_spec

    if args.spec is not None:
        if args.neurons is not None:
            raise LapicqueError("give either --spec or --neurons, not both")
        spec = load_spec(args.spec)
        if args.lanes is not None:
            spec = spec.with_lanes(args.lanes)
        return spec
    return random_spec(args.neurons or 64, args.lanes or 2, seed=args.seed)


def run_verify(args, console: Console) -> int:
    from lapicque.hdl.datapath import BUGS
    from lapicque.sim.verify import DEFAULT_BACKPRESSURE, verify

    if args.inject_bug is not None and args.inject_bug not in BUGS:
        raise LapicqueError(f"--inject-bug must be one of {', '.join(BUGS)}")
    spec = _spec_from_args(args)
    backpressure = DEFAULT_BACKPRESSURE if args.backpressure is None else args.backpressure
    with console.status("starting") as status:
        summary = verify(spec, args.steps, args.out, seed=args.seed, sim=args.sim, waves=args.waves,
                         backpressure=backpressure, inject_bug=args.inject_bug,
                         status=lambda text: status.update(text))
    print_summary(summary, console)
    console.print(f"results: {args.out / 'summary.json'}")
    if args.report:
        _write_report([args.out], args.out / "report.html", console)
    return EXIT_OK if summary["passed"] else EXIT_FAILED


def print_summary(s: dict, console: Console) -> None:
    verdict = "[bold green]PASSED[/]" if s["passed"] else "[bold red]FAILED[/]"
    table = Table(title=f"verify: {s['neurons']} neurons x {s['lanes']} lanes, {s['steps']} steps, "
                        f"{s['simulator']}: {verdict}")
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_column("bound", justify="right")
    table.add_row("updates checked", f"{s['updates_checked']:,}", f"{s['neurons'] * s['steps']:,}")
    table.add_row("bit-exact mismatches", str(s["bit_exact_mismatches"]), "0")
    table.add_row("float bound violations", str(s["float_bound_violations"]), "0")
    table.add_row("max float error (LSB)", f"{s['max_float_error_lsb']:.3f}", f"< {s['float_bound_lsb']}")
    hit = sum(1 for v in s["coverage"].values() if v)
    table.add_row("coverage bins hit", f"{hit}/{len(s['coverage'])}",
                  "missed: " + (", ".join(s["coverage_missed"]) or "none"))
    table.add_row("cycles per step (mean)", f"{s['cycles_per_step']:.1f}",
                  f"lower bound {s['cycles_per_step_bound']:.1f}")
    table.add_row("checked updates per s", f"{s['checked_updates_per_s']:,.0f}", "")
    table.add_row("wall time (s)", f"{s['wall_s']:.1f}", "build cached" if s["build_cached"] else "built")
    console.print(table)
    for key, label in (("first_mismatch", "first bit-exact mismatch"),
                       ("first_float_violation", "first float bound violation")):
        m = s.get(key)
        if m:
            console.print(f"[red]{label}[/]: step {m['step']}, neuron {m['neuron']}, field {m['field']}: "
                          f"expected {m['expected']}, got {m['got']}")
    if s.get("timed_out"):
        console.print("[red]the RTL stopped making progress: the run timed out[/]")
    if s.get("waves"):
        console.print(f"waveform: {s['waves']}")


def run_lca(args, console: Console) -> int:
    from lapicque.sim.lca import make_problem, solve

    problem = make_problem(args.problem, atoms=args.atoms, dim=args.dim, sparsity=args.sparsity, lam=args.lam,
                           seed=args.seed, nonnegative=args.nonnegative, dictionary=args.dictionary,
                           signal=args.signal)
    with console.status("starting") as status:
        summary = solve(problem, args.backend, args.steps, args.out, weight_bits=args.weight_bits, rate=args.rate,
                        lanes=args.lanes, sim=args.sim, seed=args.seed, status=lambda text: status.update(text))
    print_lca_summary(summary, console)
    console.print(f"results: {args.out / 'summary.json'}")
    if args.report:
        _write_report([args.out], args.out / "report.html", console)
    return EXIT_OK if summary.get("verified", True) else EXIT_FAILED


def print_lca_summary(s: dict, console: Console) -> None:
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
    if "verified" in s:
        console.print(f"RTL: {s['updates_checked']:,} updates checked, {s['bit_exact_mismatches']} bit-exact "
                      f"mismatches, spikes equal to the fixed model: {s['rtl_spikes_equal_fixed']}, "
                      f"{s['cycles']:,} cycles ({s['cycles_per_step']:.1f} per step, bound "
                      f"{s['cycles_per_step_bound']:.1f})")
    if s.get("rate_warning"):
        console.print(f"[yellow]warning[/]: {s['rate_warning']}")


DEMO_PROBLEM = {"atoms": 64, "dim": 32, "sparsity": 4, "lam": 0.1, "seed": 0}
DEMO_STEPS = 1000
DEMO_BOARD = "icebreaker"


FI_RANGES = {"izhikevich": (0.0, 20.0), "fitzhugh-nagumo": (0.0, 1.5), "hodgkin-huxley": (0.0, 50.0)}


def _parse_currents(text: str | None, model: str):
    import numpy as np

    if text is None:
        low, high = FI_RANGES.get(model, (0.0, 1000.0))
        return np.linspace(low, high, 26)
    try:
        low, high, count = text.split(":")
        low, high, count = float(low), float(high), int(count)
    except ValueError:
        raise LapicqueError(f"--currents {text!r} must be LOW:HIGH:COUNT, e.g. 0:1000:26") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high and 2 <= count <= 10_000):
        raise LapicqueError(f"--currents {text!r}: need finite LOW < HIGH and 2 <= COUNT <= 10000")
    return np.linspace(low, high, count)


def _parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise LapicqueError(f"--param {item!r} must be NAME=NUMBER, e.g. tau_m=20")
    return params


def _noisy_fi(p: dict, currents, sigma: float, dt: float, duration: float, neurons: int = 200) -> dict:
    """The LIF of `p` under white noise: Siegert rates and simulated ones for each current, and the
    linear response at the middle current (Brunel's convention, voltages relative to E_L)."""
    import numpy as np

    from lapicque.golden.analysis import lif_linear_response, noisy_lif, siegert_rate

    cell = {"tau_m": p["tau_m"], "theta": p["v_th"] - p["e_l"], "v_reset": p["v_reset"] - p["e_l"], "t_ref": p["t_ref"]}
    mus = p["tau_m"] / p["c_m"] * np.asarray(currents)
    siegert = [siegert_rate(mu, sigma, **cell) for mu in mus]
    simulated = [noisy_lif(mu, sigma, dt=dt, duration=duration, neurons=neurons, seed=k, **cell)[0].mean()
                 / duration * 1000.0 for k, mu in enumerate(mus)]
    mid = float(mus[len(mus) // 2])
    freqs = np.geomspace(1.0, 500.0, 25)
    chi = [lif_linear_response(f, mid, sigma, **cell) for f in freqs]
    return {"sigma_mv": sigma, "mu_mv": mus.tolist(), "siegert_rates_hz": siegert, "simulated_rates_hz": simulated,
            "simulated_neurons": neurons, "response_mu_mv": mid, "response_frequencies_hz": freqs.tolist(),
            "response_gain_hz_per_mv": [abs(c) for c in chi], "response_phase_rad": [float(np.angle(c)) for c in chi]}


def run_fi(args, console: Console) -> int:
    import time

    import numpy as np

    from lapicque.golden.models import fi_curve, get_model, lif_rate, qif_rate, rheobase

    from .files import write_atomic, write_json
    from .plots import fi_png, noise_png

    model = get_model(args.model, **_parse_params(args.param))
    currents = _parse_currents(args.currents, model.name)
    if args.duration <= 200.0:
        raise LapicqueError(f"--duration {args.duration} ms must exceed the 200 ms transient that is not counted")
    wall0 = time.perf_counter()
    with console.status(f"simulating {len(currents)} currents for {args.duration:g} ms of {model.name}"):
        rates = fi_curve(model, currents, duration=args.duration, dt=args.dt)
    if args.sigma is not None and (model.name != "lif" or not (np.isfinite(args.sigma) and args.sigma > 0)):
        raise LapicqueError("--sigma needs --model lif and a positive noise amplitude in mV")
    closed = {"lif": lif_rate, "qif": qif_rate}.get(model.name)
    summary = {
        "model": model.name,
        "equations": model.equations,
        "method": model.method,
        "params": model.p,
        "dt_ms": args.dt,
        "duration_ms": args.duration,
        "currents": currents.tolist(),
        "rates_hz": rates.tolist(),
        "rheobase": rheobase(rates, currents),
        "closed_form_rates_hz": closed(currents, **model.p).tolist() if closed else None,
        "wall_s": time.perf_counter() - wall0,
    }
    if args.sigma is not None:
        with console.status(f"noisy LIFs at sigma {args.sigma:g} mV: Siegert, simulation, linear response"):
            summary["noise"] = _noisy_fi(model.p, currents, args.sigma, args.dt, args.duration)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "fi.png", fi_png(summary))
    if args.sigma is not None:
        write_atomic(args.out / "noise.png", noise_png(summary))
    write_json(args.out / "summary.json", summary)
    table = Table(title=f"f-I curve: {model.name} ({model.method}, dt {args.dt:g} ms)")
    table.add_column("current", justify="right")
    table.add_column("rate (Hz)", justify="right")
    if closed:
        table.add_column("closed form (Hz)", justify="right")
    for k in range(0, len(currents), max(1, len(currents) // 8)):
        row = [f"{currents[k]:g}", f"{rates[k]:.3f}"]
        if closed:
            row.append(f"{summary['closed_form_rates_hz'][k]:.3f}")
        table.add_row(*row)
    console.print(table)
    console.print(f"rheobase: {summary['rheobase']}; results: {args.out / 'summary.json'}, plot: {args.out / 'fi.png'}")
    return EXIT_OK


NETWORKS = ("cuba", "brunel", "lattice")


def run_net(args, console: Console) -> int:
    import time

    import numpy as np
    from rich.progress import Progress

    from lapicque.golden.network import brunel, cuba, lattice, run, synchrony

    from .files import write_atomic, write_json
    from .plots import raster_png

    if args.network not in NETWORKS:
        raise LapicqueError(f"unknown network {args.network!r}; choose one of {', '.join(NETWORKS)}")
    if not (np.isfinite(args.duration) and 0 < args.duration <= 3600):
        raise LapicqueError(f"--duration {args.duration} s is out of range; allowed 0 < duration <= 3600")
    build0 = time.perf_counter()
    if args.network == "cuba":
        net = cuba(args.neurons or 4000, seed=args.seed)
    elif args.network == "lattice":
        side = int(round(np.sqrt(args.neurons or 1024)))
        net = lattice(side)
        y, x = np.divmod(np.arange(net.neurons), side)
        net.v0[(abs(y - side // 2) <= 1) & (abs(x - side // 2) <= 1)] = -40.0  # a patch that starts the wave
    else:
        excitatory = args.neurons or 10_000
        net = brunel(args.regime, excitatory=excitatory, epsilon=min(1.0, 1000 / excitatory), seed=args.seed)
    build_s = time.perf_counter() - build0
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{net.name}: {net.neurons} neurons", total=None)
        result = run(net, args.duration * 1000.0, args.dt,
                     progress=lambda k, steps: bar.update(task, completed=k, total=steps))
    rates, cvs = result.rates_hz(), result.cvs()
    summary = {
        "network": net.name,
        "neurons": net.neurons,
        "synapses": net.synapses,
        "duration_s": args.duration,
        "dt_ms": args.dt,
        "seed": args.seed,
        "spikes": int(result.spike_times.size),
        "mean_rate_hz": float(rates.mean()),
        "mean_cv": float(np.mean(cvs)) if cvs.size else None,
        "neurons_with_cv": int(cvs.size),
        "synchrony": synchrony(result) if result.duration > 100.0 else None,
        "wall_s": result.wall_s,
        "build_s": build_s,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "raster.png", raster_png(result, title=f"{net.name}, {net.neurons} neurons"))
    write_json(args.out / "summary.json", summary)
    console.print(f"{net.name}: {summary['neurons']} neurons, {summary['synapses']:,} synapses, "
                  f"{summary['duration_s']:g} s: {summary['spikes']:,} spikes, mean rate "
                  f"{summary['mean_rate_hz']:.2f} Hz, mean CV {summary['mean_cv'] or float('nan'):.2f}, "
                  f"simulated in {summary['wall_s']:.2f} s")
    console.print(f"results: {args.out / 'summary.json'}, raster: {args.out / 'raster.png'}")
    return EXIT_OK


def run_explore(args, console: Console) -> int:
    from .explore import build, has_display
    from .files import write_atomic
    from .plots import png_bytes

    if args.save is None and not has_display():
        raise LapicqueError("no display for the explorer's window here; use --save explorer.png to render it "
                            "to a file")
    with console.status(f"simulating {args.model}"):
        explorer = build(args.model, duration=args.duration, current=args.current, window=args.save is None)
    if args.save is not None:
        write_atomic(args.save, png_bytes(explorer.figure))
        console.print(f"explorer figure: {args.save}")
        return EXIT_OK
    import matplotlib.pyplot as plt

    plt.show()
    return EXIT_OK


def run_demo(args, console: Console) -> int:
    """The whole story: a LASSO problem solved by float, fixed and RTL (verified while it solves),
    the same array built for the iCEBreaker, and one report."""
    import html

    from lapicque.sim.lca import make_problem, solve

    from .report import write_report

    out = args.out
    p = DEMO_PROBLEM
    console.print(f"lapicque demo: sparse approximation of a {p['dim']}-sample signal on {p['atoms']} atoms "
                  f"(spiking LCA, {2 * p['atoms']} neurons), solved by the float, fixed-point and RTL models with "
                  f"the RTL verified update by update while it solves, then the same array built for the "
                  f"iCEBreaker, all in one report")
    problem = make_problem("random", **p)
    with console.status("starting") as status:
        summary = solve(problem, "rtl", DEMO_STEPS, out / "lca", sim=args.sim, seed=p["seed"],
                        status=lambda text: status.update(text))
    print_lca_summary(summary, console)
    folders = [out / "lca", out / "lca" / "rtl"]
    build_line = "The board build was skipped (--no-build)."
    timing_met = True
    if not args.no_build:
        from lapicque.boards.board import get_board
        from lapicque.boards.flow import build
        from lapicque.sim.lca import compile_problem

        board = get_board(DEMO_BOARD)
        spec = compile_problem(problem).spec
        result = build(board, spec, out / "build", console=console)
        print_build_report(result.report, console)
        timing_met = result.timing_met
        folders.append(out / "build")
        r = result.report
        build_line = (f"The same array ({spec.neurons} neurons, {spec.widths.w}-bit weights) built for the "
                      f"{html.escape(board.name)}: Fmax {r['fmax_mhz']} MHz at a {r['clock_mhz']} MHz clock, "
                      f"bitstream <code>{html.escape(str(r['bitstream']))}</code>.")
    story = (f"<p>A random LASSO problem ({p['dim']} samples, {p['atoms']} unit-norm atoms, a planted "
             f"{p['sparsity']}-sparse code, lambda {p['lam']}) compiled onto an array of {summary['neurons']} "
             f"integrate-and-fire neurons and solved for {DEMO_STEPS} timesteps by the spiking LCA: in float, in "
             f"the bit-exact fixed-point model, and on the RTL, whose every state update was checked against the "
             f"fixed model while it solved. The answer is scored against FISTA's certified optimum. "
             f"{build_line}</p>")
    report = write_report(folders, out / "report.html", story=story)
    console.print(f"results: {out / 'lca' / 'summary.json'}")
    console.print(f"[bold]report: {report.resolve()}[/] (open it in a browser)")
    return EXIT_OK if summary["verified"] and timing_met else EXIT_FAILED


def run_tem(args, console: Console) -> int:
    import math

    from lapicque.golden import tem
    from lapicque.sim.tem import make_signal, run

    signal, duration, description = make_signal(args.signal, args.bandwidth, args.duration, tones=args.tones,
                                                peak=args.peak, seed=args.seed, rate=args.rate,
                                                lowpass=args.lowpass)
    if args.neuron not in ("ideal", "leaky"):
        raise LapicqueError(f"unknown --neuron {args.neuron!r}; choose ideal or leaky")
    resistance = args.resistance if args.neuron == "leaky" else math.inf
    encoders = tem.population(tem.Encoder(args.bias, args.delta, args.kappa, resistance), args.encoders,
                              args.spread)
    block = None
    if args.block is not None:
        block = (args.block, args.overlap if args.overlap is not None else args.block / 5)
    with console.status("starting") as status:
        s = run(signal, duration, encoders, args.backend, args.decoder, args.out, description=description,
                grid=args.grid_us * 1e-6, step=args.step_us * 1e-6, block=block, lanes=args.lanes, sim=args.sim,
                seed=args.seed, status=lambda text: status.update(text))
    cond = s["recoverable"]
    table = Table(title=f"tem: {s['signal'].get('kind')} {s['bandwidth_hz']:g} Hz, {s['duration_s']:g} s, "
                        f"{s['encoders']} {args.neuron} encoder(s), {args.backend}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("spikes", str(s["spikes"]))
    table.add_row("recovery condition", f"{cond['value']:.3f} < {cond['bound']:.3f}: "
                                        f"{'met' if cond['satisfied'] else 'NOT met'}")
    table.add_row(f"SNR ({args.decoder}, {s['snr_window_s'][0]:g}-{s['snr_window_s'][1]:g} s)",
                  f"{s['snr_db']:.1f} dB")
    if "fixed_snr_db" in s:
        table.add_row("SNR of the fixed model's spikes", f"{s['fixed_snr_db']:.1f} dB")
    table.add_row("decode time", f"{s['decode_s']:.2f} s")
    console.print(table)
    if s["recovery_warning"]:
        console.print(f"[yellow]warning: {s['recovery_warning']}[/]")
    if "verified" in s:
        console.print(f"RTL: {s['updates_checked']:,} updates checked, {s['bit_exact_mismatches']} bit-exact "
                      f"mismatches, spikes equal to the fixed model: {s['rtl_spikes_equal_fixed']}")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'tem.png'}")
    if args.report:
        _write_report([args.out], args.out / "report.html", console)
    return EXIT_OK if s.get("verified", True) else EXIT_FAILED


def run_density(args, console: Console) -> int:
    import time

    import numpy as np

    from lapicque.golden import density as fp

    from .files import write_atomic, write_json
    from .plots import density_png

    pop = fp.Population(args.mu, args.sigma, args.coupling, args.tau_m, t_ref=args.t_ref)
    pop.check()
    if args.monte_carlo < 0:
        raise LapicqueError(f"--monte-carlo = {args.monte_carlo} must be 0 (off) or a number of neurons")
    grid = fp.make_grid(pop, args.cells)
    initial = fp.initial_density(grid, args.init, args.init_mean, args.init_std)
    wall0 = time.perf_counter()
    with console.status("solving the density") as status:
        run = fp.evolve(pop, args.duration * 1000.0, args.dt, grid, initial,
                        progress=lambda k, n: status.update(f"solving the density: step {k:,}/{n:,}"))
        status.update("stationary state")
        stationary_hz = fp.self_consistent_rate(pop, grid)
    summary = {
        "mu": pop.mu, "sigma": pop.sigma, "coupling": pop.coupling, "tau_m_ms": pop.tau_m, "t_ref_ms": pop.t_ref,
        "theta": pop.theta, "v_reset": pop.v_reset, "duration_s": args.duration, "dt_ms": args.dt,
        "cells": len(grid.centres),
        "v_min": float(grid.edges[0]), "scheme": "finite volumes, Scharfetter-Gummel fluxes, backward Euler",
        "final_rate_hz": float(run.rate_hz[-1]),
        "max_mass_error_per_step": float(np.max(np.abs(np.diff(np.concatenate([[1.0], run.mass]))))),
        "blow_up": run.blow_up,
        "stationary_rate_hz": stationary_hz,
    }
    if stationary_hz is not None:
        mu_eff = pop.mu + pop.coupling * pop.tau_m * stationary_hz / 1000.0
        summary["stationary_mu_eff"] = mu_eff
        summary["siegert_rate_hz"] = pop.siegert_hz(mu_eff)
        summary["stationary_vs_siegert"] = stationary_hz / summary["siegert_rate_hz"] - 1
    mc = None
    if args.monte_carlo and run.blow_up is None:
        with console.status(f"Monte-Carlo: {args.monte_carlo:,} neurons"):
            counts, _ = fp.monte_carlo(pop, args.duration * 1000.0, args.dt, args.monte_carlo, args.seed, initial, grid)
        mc = fp.compare_rates(run.rate_hz, counts, args.dt, args.monte_carlo)
        summary["monte_carlo"] = mc
    summary["wall_s"] = time.perf_counter() - wall0
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "density.png", density_png(run, summary))
    write_json(args.out / "summary.json", summary)
    table = Table(title=f"density: mu {pop.mu:g}, sigma {pop.sigma:g}, J {pop.coupling:g}, {args.duration:g} s")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("final rate", f"{summary['final_rate_hz']:.3f} Hz")
    table.add_row("stationary rate (self-consistent)", "none" if stationary_hz is None else f"{stationary_hz:.3f} Hz")
    if "siegert_rate_hz" in summary:
        table.add_row("Siegert at the same drift", f"{summary['siegert_rate_hz']:.3f} Hz "
                                                   f"({summary['stationary_vs_siegert']:+.1e})")
    table.add_row("largest mass change per step", f"{summary['max_mass_error_per_step']:.1e}")
    if mc:
        table.add_row(f"Monte-Carlo ({args.monte_carlo:,} neurons)", f"chi2/dof {mc['chi2_per_bin']:.2f}, "
                                                                     f"max |z| {mc['max_abs_z']:.2f}")
    console.print(table)
    if run.blow_up:
        console.print(f"[yellow]blow-up at {run.blow_up['time_ms']:.2f} ms (rate {run.blow_up['rate_hz']:.0f} Hz): "
                      f"{run.blow_up['reason']}[/]")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'density.png'}")
    return EXIT_OK


def run_fit(args, console: Console) -> int:
    from .fitting import fit_recording, load_recording, synthetic_recording

    if args.synthetic is not None:
        if args.current is not None or args.voltage is not None:
            raise LapicqueError("give either --synthetic SECONDS or --current and --voltage, not both")
        recording = synthetic_recording(args.synthetic, args.dt or 0.1, args.seed)
    else:
        recording = load_recording(args.current, args.voltage, args.dt)
    with console.status(f"fitting a {args.model} to {len(recording.current) * recording.dt / 1000:g} s"):
        s = fit_recording(recording, args.model, args.out, t_ref=args.t_ref, bins=args.bins,
                          kernel_ms=args.kernel_ms, spike_threshold=args.spike_threshold, holdout=args.holdout,
                          repeats=args.repeats, seed=args.seed)
    table = Table(title=f"fit {args.model}: {s['spikes_fitted']} spikes fitted, {s['duration_s']:g} s")
    table.add_column("parameter")
    table.add_column("fitted", justify="right")
    table.add_column("+- std. error", justify="right")
    if s.get("true"):
        table.add_column("true", justify="right")
    for name, value in s["params"].items():
        if isinstance(value, dict):
            continue
        row = [name, f"{value:.4g}", f"{s['stderr'][name]:.2g}" if name in s["stderr"] else ""]
        if s.get("true"):
            row.append(f"{s['true'][name]:.4g}" if name in s["true"] else "")
        table.add_row(*row)
    console.print(table)
    console.print(f"variance explained: dV/dt {s['variance_explained_dvdt']:.4f}, V {s['variance_explained_v']:.4f}; "
                  f"held-out coincidence factor {s['coincidence_factor']:.3f}"
                  + (f" (the true model's own: {s['intrinsic_coincidence_factor']:.3f})"
                     if s.get("intrinsic_coincidence_factor") is not None else ""))
    worst, error = s["export"]["worst_error"]
    console.print(f"on the array: {len(s['export']['codes'])} codes, worst quantisation error {error:+.2%} ({worst})")
    console.print(f"results: {args.out / 'summary.json'}, {args.out / 'fit.png'}")
    return EXIT_OK


COMMANDS = {"verify": run_verify, "demo": run_demo, "build": run_build, "run": run_board, "lca": run_lca,
            "tem": run_tem, "density": run_density, "fit": run_fit, "report": run_report, "fi": run_fi,
            "net": run_net, "explore": run_explore}


def main(argv: list[str] | None = None) -> int:
    console = Console(stderr=False)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, console)
    except LapicqueError as exc:
        print(f"lapicque: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lapicque: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
