"""What lapicque knows of a board: its amaranth-boards platform, device capacity and clocking.

One file per board (`icebreaker.py`, `ulx3s.py`, ...) declares a `Board`; `BOARDS` collects them.
Capacities are the device's (Lattice data sheets; the same figures nextpnr reports as available),
used to decide before synthesis whether an array fits (`lapicque.boards.estimate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lapicque.errors import LapicqueError

#: the host bridge's UART unless a build or run asks for another
DEFAULT_BAUD = 115200


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    platform: type  # an amaranth-boards platform class
    family: str  # "ice40" or "ecp5"
    clock_resource: str
    input_clock_mhz: float
    #: resource name -> available count (logic cells or LUTs, flip-flops, block RAMs, SPRAMs, DSPs)
    capacity: dict[str, int]
    default_neurons: int
    default_lanes: int
    default_clock_mhz: float
    leds: int = 2
    notes: str = ""
    synth_opts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def device(self) -> str:
        return self.platform.device

    @property
    def has_spram(self) -> bool:
        return self.capacity.get("spram", 0) > 0


BOARDS: dict[str, Board] = {}


def register(board: Board) -> Board:
    BOARDS[board.name] = board
    return board


def get_board(name: str) -> Board:
    _load_all()
    if name not in BOARDS:
        raise LapicqueError(f"unknown board {name!r}; choose one of {', '.join(sorted(BOARDS))} "
                            "(lapicque build --list-boards)")
    return BOARDS[name]


def all_boards() -> list[Board]:
    _load_all()
    return [BOARDS[name] for name in sorted(BOARDS)]


def _load_all() -> None:
    from . import icebreaker, icesugar, ulx3s  # noqa: F401  (each registers its boards)


# -- PLL settings ----------------------------------------------------------------------------------


ICE40_PLL_OUT = (16.0, 275.0)  # MHz, the SB_PLL40's output range
ECP5_PLL_OUT = (10.0, 400.0)  # MHz, the EHXPLLL's


def check_clock(board: Board, want_mhz: float) -> None:
    """Refuse a clock the board's PLL cannot make (one it makes but timing misses fails later)."""
    lo, hi = ICE40_PLL_OUT if board.family == "ice40" else ECP5_PLL_OUT
    if not lo <= want_mhz <= hi:
        raise LapicqueError(f"--clock {want_mhz:g} MHz is impossible on {board.name}: its PLL makes {lo:g} to "
                            f"{hi:g} MHz (default {board.default_clock_mhz:g})")


@dataclass(frozen=True)
class PLLSetting:
    output_mhz: float
    params: dict  # primitive parameters


def _better(out: float, best: float | None, want: float) -> bool:
    """The lowest frequency at or above `want` wins; below it, the highest (timing is judged at the
    PLL's real output, so a request is never silently undercut when it can be met)."""
    if best is None:
        return True
    if (out >= want) != (best >= want):
        return out >= want
    return out < best if out >= want else out > best


def ice40_pll(input_mhz: float, want_mhz: float) -> PLLSetting:
    """SB_PLL40 (SIMPLE feedback) dividers for the lowest frequency at or above `want_mhz`.

    F_PFD = F_IN / (DIVR + 1) in 10..133 MHz; F_VCO = F_PFD * (DIVF + 1) in 533..1066 MHz;
    F_OUT = F_VCO / 2**DIVQ, DIVQ 1..6.
    """
    best = None
    for divr in range(16):
        pfd = input_mhz / (divr + 1)
        if not 10 <= pfd <= 133:
            continue
        for divf in range(128):
            vco = pfd * (divf + 1)
            if not 533 <= vco <= 1066:
                continue
            for divq in range(1, 7):
                out = vco / (1 << divq)
                if not ICE40_PLL_OUT[0] <= out <= ICE40_PLL_OUT[1]:
                    continue
                if _better(out, best and best[0], want_mhz):
                    best = (out, divr, divf, divq, pfd)
    if best is None:
        raise LapicqueError(f"no iCE40 PLL setting reaches {want_mhz} MHz from {input_mhz} MHz")
    out, divr, divf, divq, pfd = best
    filter_range = next((k for k, top in enumerate((17, 26, 44, 66, 101), start=1) if pfd < top), 6)
    return PLLSetting(out, {"p_FEEDBACK_PATH": "SIMPLE", "p_DIVR": divr, "p_DIVF": divf, "p_DIVQ": divq,
                            "p_FILTER_RANGE": filter_range})


def ecp5_pll(input_mhz: float, want_mhz: float) -> PLLSetting:
    """EHXPLLL dividers (CLKOP feedback) for the lowest frequency at or above `want_mhz`.

    F_OUT = F_IN * CLKFB_DIV / CLKI_DIV; F_PFD = F_IN / CLKI_DIV in 3.125..400 MHz;
    F_VCO = F_OUT * CLKOP_DIV in 400..800 MHz.
    """
    best = None
    for refdiv in range(1, 129):
        pfd = input_mhz / refdiv
        if not 3.125 <= pfd <= 400:
            continue
        for fbdiv in range(1, 81):
            out = pfd * fbdiv
            if not ECP5_PLL_OUT[0] <= out <= ECP5_PLL_OUT[1]:
                continue
            for opdiv in range(1, 129):
                vco = out * opdiv
                if 400 <= vco <= 800:
                    if _better(out, best and best[0], want_mhz):
                        best = (out, refdiv, fbdiv, opdiv)
                    break
    if best is None:
        raise LapicqueError(f"no ECP5 PLL setting reaches {want_mhz} MHz from {input_mhz} MHz")
    out, refdiv, fbdiv, opdiv = best
    return PLLSetting(out, {
        "p_PLLRST_ENA": "DISABLED", "p_INTFB_WAKE": "DISABLED", "p_STDBY_ENABLE": "DISABLED",
        "p_DPHASE_SOURCE": "DISABLED", "p_OUTDIVIDER_MUXA": "DIVA", "p_CLKOP_ENABLE": "ENABLED",
        "p_CLKI_DIV": refdiv, "p_CLKFB_DIV": fbdiv, "p_CLKOP_DIV": opdiv, "p_CLKOP_CPHASE": opdiv // 2,
        "p_CLKOP_FPHASE": 0, "p_FEEDBK_PATH": "CLKOP",
        "a_ICP_CURRENT": "12", "a_LPF_RESISTOR": "8", "a_MFG_ENABLE_FILTEROPAMP": "1", "a_MFG_GMCREF_SEL": "2",
        "a_FREQUENCY_PIN_CLKI": f"{input_mhz:g}", "a_FREQUENCY_PIN_CLKOP": f"{out:g}",
    })


def pll_for(board: Board, want_mhz: float) -> PLLSetting:
    check_clock(board, want_mhz)
    return (ice40_pll if board.family == "ice40" else ecp5_pll)(board.input_clock_mhz, want_mhz)
