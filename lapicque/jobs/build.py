"""Synthesise, place and route an array behind its UART host bridge for an FPGA board."""

from __future__ import annotations

from pathlib import Path

from lapicque.errors import LapicqueError
from lapicque.spec import ArraySpec

from .folders import owned, write_run_report

DEFAULT_WEIGHT_BITS = 8


def board_spec(board, neurons: int | None, lanes: int | None, weight_bits: int | None, no_watch: bool,
               spec: Path | str | ArraySpec | None = None, rounding: str | None = None) -> ArraySpec:
    """The array a board build or run uses: a spec's (file or object) or the board's default shape, with
    `lanes`, `weight_bits`, `rounding` and `no_watch` overriding it where given."""
    from dataclasses import replace

    from lapicque.spec import Widths, load_spec

    if spec is not None:
        if neurons is not None:
            raise LapicqueError("give either --spec or --neurons, not both")
        array = spec if isinstance(spec, ArraySpec) else load_spec(Path(spec))
        if lanes is not None:
            array = array.with_lanes(lanes)
        if weight_bits is not None and weight_bits != array.widths.w:
            raise LapicqueError(f"--weight-bits {weight_bits} differs from the spec's {array.widths.w}-bit weights; "
                                "drop --weight-bits or change the spec")
        array = replace(array, rounding=rounding) if rounding is not None else array
        return replace(array, monitor=False) if no_watch else array
    from types import SimpleNamespace

    from lapicque.boards.estimate import check_fits

    shape = SimpleNamespace(neurons=neurons or board.default_neurons, lanes=lanes or board.default_lanes,
                            widths=Widths(w=weight_bits or DEFAULT_WEIGHT_BITS))
    if shape.neurons % shape.lanes == 0:
        check_fits(board, shape)  # before the spec allocates its neurons x neurons weight matrix
    return ArraySpec(shape.neurons, lanes=shape.lanes, widths=shape.widths, monitor=not no_watch,
                     **({"rounding": rounding} if rounding is not None else {}))


def build(*, board: str, spec: Path | str | ArraySpec | None = None, neurons: int | None = None,
          lanes: int | None = None, weight_bits: int | None = None, rounding: str | None = None,
          no_watch: bool = False, network: str | None = None, scale: float | None = None,
          clock: float | None = None, baud: int | None = None, seed: int | None = None, out: Path | str | None = None,
          report: bool = False, console=None) -> dict:
    """Build the array for `board` (see lapicque.boards.board.all_boards) with the YoWASP tools.

    spec: a TOML file or an ArraySpec whose shape and widths to build (default: the board's default shape);
    neurons, lanes: default the board's (or the spec's lanes); weight_bits: weight width (default 8, or the
    spec's); rounding: the decays' rounding (default toward_zero, or the spec's); no_watch: leave out the
    state monitor;
    clock: MHz (default the board's); baud: the host bridge's UART (default `DEFAULT_BAUD`; arrays only); seed:
    nextpnr's placement seed; out: the build
    folder (default build/BOARD: report.json, the bitstream, work/; report.html with report=True);
    console: a rich Console for the tools' progress.
    network: instead of an array, the network core running `cuba` (procedural rows regenerated on the chip;
    `scale`: 4000 x scale neurons with the full in-degree) or a network file (.toml); lanes default to 8 on an
    ECP5 and 1 on an iCE40; a board with SPRAM (the iCEBreaker) gets the serial core, one lane
    (`boards.network.core_kind`); report.json then gives `realtime_factor` (docs/networks.md).

    Returns report.json's content (`fmax_mhz`, `timing_met`, `resources`, ...; docs/build.md). A request
    that cannot work (an unknown board, an array that does not fit, a clock the PLL cannot make) raises
    LapicqueError before any tool runs.
    """
    from lapicque.boards.board import get_board
    from lapicque.boards.flow import build as run_flow
    from lapicque.boards.flow import check_request

    if not board:
        raise LapicqueError("--board is required (see lapicque build --list-boards)")
    target = get_board(board)
    if network is not None:
        given = [name for name, value in (("--spec", spec), ("--neurons", neurons), ("--weight-bits", weight_bits),
                                          ("--rounding", rounding), ("--no-watch", no_watch or None))
                 if value is not None]
        if given:
            raise LapicqueError(f"{given[0]} is for arrays; a --network build takes its widths from the network")
        if baud is not None:
            raise LapicqueError("--baud is for an array's host bridge; a --network build has no UART (the network is "
                                "in the bitstream, its spikes toggle LED 1): leave --baud out")
        return build_network(target, network, scale, lanes, clock, seed, out, report, console)
    if scale is not None:
        raise LapicqueError("--scale is for --network cuba")
    from lapicque.boards.board import DEFAULT_BAUD

    baud = DEFAULT_BAUD if baud is None else baud
    array = board_spec(target, neurons, lanes, weight_bits, no_watch, spec, rounding)
    folder = Path(out) if out is not None else Path("build") / target.name
    check_request(target, array, clock, baud)  # before the folder is touched
    with owned(folder, "build"):
        result = run_flow(target, array, folder, clock_mhz=clock, baud=baud, seed=seed, console=console)
    if report:  # once the run is complete: the report refuses a folder whose run is not
        write_run_report(folder)
    return result.report


def build_network(target, network: str, scale: float | None, lanes: int | None, clock: float | None,
                  seed: int | None, out, report: bool, console) -> dict:
    """`build --network`: the network core for `target`, every input checked before the folder is touched."""
    from lapicque.boards.board import pll_for
    from lapicque.boards.flow import check_tools
    from lapicque.boards.network import build_network as run_flow
    from lapicque.boards.network import check_network_fits, core_kind, default_network_clock
    from lapicque.golden.network_model import hardware_rows
    from lapicque.sim.network import check_core

    from .net import cuba_scaled

    default_lanes = 8 if target.family == "ecp5" else 1
    if network.endswith(".toml"):
        from lapicque.network_spec import load_network

        if scale is not None:
            raise LapicqueError("--scale is for --network cuba; a network file gives its own sizes")
        net = load_network(network)
        net = net.with_lanes(lanes) if lanes is not None else net
        name = Path(network).stem
    elif network == "cuba":
        from lapicque.golden.network_codes import cuba_spec

        neurons, p = cuba_scaled(1.0 if scale is None else scale)
        net, _ = cuba_spec(neurons, p=p, lanes=1)
        wanted = lanes or default_lanes
        net = net.with_lanes(wanted if neurons % wanted == 0 else 1)
        name = "cuba" if scale is None else f"cuba x {scale:g}"
    else:
        raise LapicqueError(f"unknown network {network!r}; give cuba or a network file (.toml)")
    check_core(net, core_kind(target))
    rows = hardware_rows(net)
    check_network_fits(target, net, rows)
    pll_for(target, clock or default_network_clock(target))  # a clock the PLL cannot make is refused here
    check_tools(target)
    folder = Path(out) if out is not None else Path("build") / f"{target.name}-network"
    with owned(folder, "build"):
        result = run_flow(target, net, rows, folder, name=name, clock_mhz=clock, seed=seed, console=console)
    if report:
        write_run_report(folder)
    return result
