"""Will an array fit a board? Decided before synthesis, from the memories' shapes and a logic model.

Memories are counted as the synthesis tools tile them, with the placement `memory_options` chooses
(SPRAM, bit-sliced EBR, LUT RAM): for each memory, the cheapest (depth x width) block
configuration of the device, rounded up per lane (each lane has its own ports). The weights of an
iCE40 UP5K array go to SPRAM (16384 x 16, nibble write enables, so 8-bit weights pack two to a
word). Logic is a linear model per lane fitted to real builds
(BENCHMARKS.md, `benchmarks/bench_boards.py`), with `LOGIC_MARGIN` headroom because placement
needs slack; multipliers are counted per 16x16 (iCE40) or 18x18 (ECP5) block.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from lapicque.errors import LapicqueError
from lapicque.hdl.layouts import param_layout, state_layout
from lapicque.spec import DECAY_SHIFT, ArraySpec, Widths

from .board import Board
from .top import memory_options

ICE40_BRAM = ((256, 16), (512, 8), (1024, 4), (2048, 2))
ECP5_BRAM = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))
SPRAM_WORDS, SPRAM_WIDTH = 16384, 16

#: logic per array: fixed part (bridge, UART, step control) + per lane (datapath, pipeline, queue),
#: in logic cells (iCE40, flip-flops included) or LUT4s (ECP5); fitted to the issue builds (256 x 1
#: on the UP5K: 4354 cells; 512 x 4 on the 85F: 11085 LUTs) at 16-bit widths, scaled by width
LOGIC_MODEL = {"ice40": (1100, 3250), "ecp5": (1500, 2400)}
LOGIC_MARGIN = 0.9  # use at most 90 % of the logic
MAX_NEURONS = 65536  # the spec's limit


@dataclass
class Estimate:
    needs: dict[str, int]
    capacity: dict[str, int]

    def shortfalls(self) -> list[str]:
        return [name for name, need in self.needs.items() if need > self.capacity.get(name, 0)]

    @property
    def fits(self) -> bool:
        return not self.shortfalls()


def bram_blocks(depth: int, width: int, configs) -> int:
    return min(ceil(depth / d) * ceil(width / w) for d, w in configs)


def spram_blocks(depth: int, width: int) -> int:
    nibble_width = 4 * ceil(width / 4)
    per_word = max(1, SPRAM_WIDTH // nibble_width) if nibble_width <= SPRAM_WIDTH else 1
    words_wide = ceil(nibble_width / SPRAM_WIDTH)
    return ceil(depth / (SPRAM_WORDS * per_word)) * words_wide


def estimate(board: Board, spec: ArraySpec) -> Estimate:
    """Resources the array on `board` needs, by the names of `board.capacity`."""
    return estimate_shape(board, spec.neurons, spec.lanes, spec.widths)


def estimate_shape(board: Board, neurons: int, lanes: int, widths: Widths) -> Estimate:
    """`estimate` from the shape alone (no weight matrix is made: sizes are searched over)."""
    depth, w = neurons // lanes, widths
    shape_only = ArraySpec(1, widths=widths)  # the layouts depend on the widths only
    acc_bits = w.w + max(1, (neurons - 1).bit_length()) + 1  # as ArraySpec.acc_bits
    configs = ICE40_BRAM if board.family == "ice40" else ECP5_BRAM
    options = memory_options(board, neurons, lanes)
    per_lane_bram = (bram_blocks(depth, state_layout(shape_only).size, configs)
                     + bram_blocks(depth, param_layout(shape_only).size, configs))
    if "acc_ram_style" not in options:
        # two banks, each read by the sweep and by propagation at once (the next step's sweep runs beside the
        # last spike's propagation): a block RAM has one read port to spare, so each bank is two copies
        per_lane_bram += 2 * 2 * bram_blocks(depth, acc_bits, configs)
    needs = {}
    weight_depth = neurons * depth
    if board.has_spram:
        needs["spram"] = lanes * spram_blocks(weight_depth, w.w)
    elif options.get("weight_bit_slices"):
        per_lane_bram += w.w * bram_blocks(weight_depth, 1, configs)
    else:
        per_lane_bram += bram_blocks(weight_depth, w.w, configs)
    needs["bram"] = lanes * per_lane_bram
    block = 16 if board.family == "ice40" else 18
    multipliers = [(w.i, DECAY_SHIFT + 2), (w.v, shape_only.leak_bits + 1)]
    needs["dsp"] = lanes * sum(ceil(a / block) * ceil(b / block) for a, b in multipliers)
    base, per_lane = LOGIC_MODEL[board.family]
    scale = (w.v + w.i) / 32
    logic = ceil((base + per_lane * lanes * scale) / LOGIC_MARGIN)
    needs["logic_cells" if board.family == "ice40" else "luts"] = logic
    return Estimate(needs, dict(board.capacity))


def largest_fit(board: Board, spec: ArraySpec) -> int:
    """The most neurons (a multiple of the lanes) that fit with `spec`'s lanes and widths; 0 if none."""
    lo, hi = 0, MAX_NEURONS // spec.lanes  # in units of lanes
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if estimate_shape(board, mid * spec.lanes, spec.lanes, spec.widths).fits:
            lo = mid
        else:
            hi = mid - 1
    return lo * spec.lanes


def check_fits(board: Board, spec: ArraySpec) -> Estimate:
    """The estimate, or a one-line error naming what runs out and the largest size that fits."""
    est = estimate(board, spec)
    short = est.shortfalls()
    if short:
        name = short[0]
        largest = largest_fit(board, spec)
        hint = (f"the largest that fits with {spec.lanes} lane(s) and {spec.widths.w}-bit weights is {largest} neurons"
                if largest else "nothing fits with these lanes and widths; try fewer lanes or narrower widths")
        raise LapicqueError(
            f"{spec.neurons} neurons x {spec.lanes} lane(s) does not fit {board.name}: {name} runs out "
            f"(needs {est.needs[name]}, has {est.capacity.get(name, 0)}); {hint}")
    return est
