# amaranth: UnusedElaboratable=no
"""Board descriptions, PLL settings, the fit estimate and the board top's checks (no tools run)."""

import pytest

from lapicque.boards.board import all_boards, ecp5_pll, get_board, ice40_pll
from lapicque.boards.estimate import bram_blocks, check_fits, estimate, largest_fit, spram_blocks
from lapicque.boards.top import BoardTop, uart_divisor
from lapicque.errors import LapicqueError
from lapicque.spec import ArraySpec, Widths


def test_every_board_has_a_uart_leds_and_its_clock():
    boards = all_boards()
    assert {"icebreaker", "ulx3s-85f"} <= {b.name for b in boards} and len(boards) >= 3
    for board in boards:
        platform = board.platform()
        platform.lookup("uart", 0)
        platform.lookup(board.clock_resource, 0)
        assert platform.lookup(board.clock_resource, 0).clock.frequency == board.input_clock_mhz * 1e6
        assert board.device == platform.device


def test_unknown_board_names_the_choices():
    with pytest.raises(LapicqueError, match=r"unknown board 'icebraker'; choose one of icebreaker, icesugar"):
        get_board("icebraker")


@pytest.mark.parametrize("want", [16, 24, 32, 48, 60, 100, 133])
def test_ice40_pll_meets_its_equations_and_the_request(want):
    setting = ice40_pll(12.0, want)
    p = setting.params
    pfd = 12.0 / (p["p_DIVR"] + 1)
    vco = pfd * (p["p_DIVF"] + 1)
    assert 10 <= pfd <= 133 and 533 <= vco <= 1066 and 1 <= p["p_DIVQ"] <= 6
    assert setting.output_mhz == pytest.approx(vco / 2 ** p["p_DIVQ"])
    assert want <= setting.output_mhz < want * 1.02  # never below the request, close above it


def test_ice40_pll_known_setting():
    # icepll -i 12 -o 48: DIVR 0, DIVF 63, DIVQ 4, FILTER_RANGE 1
    assert ice40_pll(12.0, 48).params == {"p_FEEDBACK_PATH": "SIMPLE", "p_DIVR": 0, "p_DIVF": 63, "p_DIVQ": 4,
                                          "p_FILTER_RANGE": 1}


@pytest.mark.parametrize("want", [25, 50, 65, 100, 125])
def test_ecp5_pll_meets_its_equations(want):
    setting = ecp5_pll(25.0, want)
    p = setting.params
    out = 25.0 * p["p_CLKFB_DIV"] / p["p_CLKI_DIV"]
    assert out == pytest.approx(setting.output_mhz)
    assert 400 <= out * p["p_CLKOP_DIV"] <= 800
    assert want <= setting.output_mhz < want * 1.02


def test_impossible_clock_is_refused_before_any_tool():
    with pytest.raises(LapicqueError, match=r"--clock 500 MHz is impossible on icebreaker: its PLL makes 16 to 275"):
        BoardTop(get_board("icebreaker"), ArraySpec(16), 500)


def test_uart_divisor_and_its_errors():
    assert uart_divisor(32.25e6, 115200) == 280
    with pytest.raises(LapicqueError, match="too fast"):
        uart_divisor(12e6, 3_000_000 * 2)
    with pytest.raises(LapicqueError, match=r"baud 1900000 is 5.3 % off at 10 MHz"):
        uart_divisor(10e6, 1_900_000)


def test_block_counts_by_hand():
    # 256 x 37-bit state on iCE40 (256x16 blocks): 3 blocks; 64K x 8 on ECP5 (2048x9): 32
    assert bram_blocks(256, 37, ((256, 16), (512, 8), (1024, 4), (2048, 2))) == 3
    assert bram_blocks(65536, 8, ((512, 36), (1024, 18), (2048, 9))) == 32
    # 8-bit weights pack two per 16-bit SPRAM word: 65536 of them in 2 SPRAMs; 12-bit take one word
    assert spram_blocks(65536, 8) == 2
    assert spram_blocks(16384, 12) == 1 and spram_blocks(16385, 12) == 2


def test_issue_sizes_fit_their_boards():
    ice = estimate(get_board("icebreaker"), ArraySpec(256, lanes=1))
    assert ice.fits and ice.needs["spram"] == 2
    ulx = estimate(get_board("ulx3s-85f"), ArraySpec(512, lanes=4))
    assert ulx.fits and ulx.needs["bram"] <= 208


def test_oversized_array_names_the_resource_and_the_largest_fit():
    board = get_board("icebreaker")
    largest = largest_fit(board, ArraySpec(16, lanes=1))
    assert estimate(board, ArraySpec(largest, lanes=1)).fits
    assert not estimate(board, ArraySpec(largest + 1, lanes=1)).fits
    with pytest.raises(LapicqueError, match=rf"^1024 neurons x 1 lane\(s\) does not fit icebreaker: spram runs out "
                                            rf"\(needs 32, has 4\); the largest that fits .* is {largest} neurons$"):
        check_fits(board, ArraySpec(1024, lanes=1))
    # each lane has its own weight port, so its own SPRAM: five lanes cannot fit four SPRAMs at any size
    with pytest.raises(LapicqueError, match=r"spram runs out \(needs 5, has 4\); nothing fits with these lanes"):
        check_fits(board, ArraySpec(10, lanes=5))


def test_narrow_weights_fit_more():
    board = get_board("icebreaker")
    wide = largest_fit(board, ArraySpec(16, widths=Widths(w=8)))
    narrow = largest_fit(board, ArraySpec(16, widths=Widths(w=4)))
    assert narrow > wide
