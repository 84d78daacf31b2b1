"""A network core on a board (boards/network.py): the fit estimate counts every memory kind and refuses in one
line, the speed comes from the core's cycle replay, the build job checks everything before any tool runs."""

import pytest

from lapicque import jobs
from lapicque.boards.board import get_board
from lapicque.boards.network import BOARD_GENERATOR_WIDTH, NetworkBoardTop, estimate_network, realtime
from lapicque.errors import LapicqueError
from lapicque.golden.network_codes import cuba_spec
from lapicque.golden.network_model import NetworkModel, hardware_rows
from lapicque.hdl.network import lane_lengths, step_cycles


def test_full_cuba_fits_the_ulx3s_85f_and_the_icebreakers_serial_core():
    net, _ = cuba_spec(4000, lanes=8)
    rows = hardware_rows(net)
    est = estimate_network(get_board("ulx3s-85f"), net, rows)
    assert not est.shortfalls()
    # CUBA's rows are regenerated: no row memory, a 32-bit key per source of each projection
    assert est.memories["entries"] == 0 and est.memories["keys"] > 0
    # 8 lanes x 2 channels x 2 banks of 500 x 25-bit accumulators: one 512 x 36 block each
    # DSPs: per lane two channels and the 20-bit membrane's leak in two halves; the generator's hash 6 for each
    # of the numbers it draws a cycle on a board (BOARD_GENERATOR_WIDTH)
    assert est.memories["acc"] == 32 and est.memories["tables"] == 1
    assert est.needs["dsp"] == 8 * 4 + BOARD_GENERATOR_WIDTH * 6
    # a build asking for a generator as wide as the lanes is estimated with its 8 hashes
    assert estimate_network(get_board("ulx3s-85f"), net, rows, generator_width=8).needs["dsp"] == 8 * 4 + 8 * 6
    # the iCEBreaker's serial core: state, accumulators and history in the four SPRAMs (64-bit words, 4000 +
    # 4000 + 8192 of 16384), the initial membranes a 4000 x 20-bit ROM in block RAM, no DSP block
    small = estimate_network(get_board("icebreaker"), cuba_spec(4000, lanes=1)[0], hardware_rows(cuba_spec(4000)[0]))
    assert not small.shortfalls() and small.needs["spram"] == 4 and small.needs["dsp"] == 0
    assert small.memories["initial"] == 20 and "keys" not in small.memories  # keys are hashed, not stored
    # twice as many neurons: the store needs twice the SPRAMs, the initial membranes 40 block RAMs
    big = cuba_spec(8000, p=0.01, lanes=1)[0]
    assert estimate_network(get_board("icebreaker"), big, hardware_rows(big)).shortfalls() == ["bram", "spram"]


def test_the_build_job_refuses_in_one_line_before_any_tool(tmp_path):
    for options, message in (
        ({"board": "icebreaker", "network": "cuba", "scale": 2.0}, "the network does not fit icebreaker: it needs 47 "
                                                                    "bram, the device has 30 (the most: initial, 40"),
        ({"board": "icebreaker", "network": "cuba", "lanes": 2, "scale": 0.5}, "lanes = 2: the serial core"),
        ({"board": "ulx3s-85f", "network": "brunel"}, "unknown network 'brunel'; give cuba or a network file"),
        ({"board": "ulx3s-85f", "network": "cuba", "neurons": 100}, "--neurons is for arrays"),
        ({"board": "ulx3s-85f", "network": "cuba", "baud": 9600}, "--baud is for an array's host bridge; a --network"),
        ({"board": "ulx3s-85f", "network": "cuba", "scale": 9.0}, "--scale 9.0 is out of range"),
        ({"board": "ulx3s-85f", "network": "cuba", "lanes": 6, "scale": 0.3},
         "lanes = 6: the core regenerates Bernoulli rows with lanes a power of two"),
        ({"board": "ulx3s-85f", "scale": 0.5}, "--scale is for --network cuba"),
    ):
        with pytest.raises(LapicqueError) as error:
            jobs.build(**options, out=tmp_path / "o")
        assert message in str(error.value) and "\n" not in str(error.value), options
        assert not (tmp_path / "o").exists()


def test_realtime_is_the_cycle_replay_at_the_clock():
    net, _ = cuba_spec(200, p=0.4, lanes=4)
    rows = hardware_rows(net)
    speed = realtime(net, rows, latency=7, clock_mhz=50.0, dt_ms=0.1, steps=300)
    model, spikes, cycles = NetworkModel(net, compiled=rows), [], 0
    lengths = lane_lengths(rows, 4)
    for t in range(300):
        spikes.append(model.step().spike.nonzero()[0].tolist())
        cycles += step_cycles(net, rows, spikes, t, 7, lengths)
    assert speed["cycles_per_step"] == pytest.approx(cycles / 300, abs=0.01)
    assert speed["realtime_factor"] == pytest.approx(50e6 / (cycles / 300) * 1e-4, rel=1e-3)
    assert speed["cycles_per_step"] >= 50 + 7 + 3  # at least the sweep: D + the datapath + its reads


def test_the_board_top_elaborates_with_the_core_inside():
    board = get_board("ulx3s-85f")
    net, _ = cuba_spec(64, p=0.3, lanes=2)
    top = NetworkBoardTop(board, net, hardware_rows(net), 90.0)
    text = board.platform().prepare(top, name="top").files["top.il"]
    # the PLL, the core with its row generator (CUBA's rows are regenerated), the LEDs
    assert "EHXPLLL" in text and "core.rows0" in text and "led_0" in text


def test_the_icebreakers_top_has_the_serial_core_and_its_speed_is_the_serial_replay():
    from lapicque.hdl.serial_network import serial_step_cycles

    board = get_board("icebreaker")
    net, _ = cuba_spec(64, p=0.3, lanes=1)
    rows = hardware_rows(net)
    top = NetworkBoardTop(board, net, rows, 24.0)
    assert top.kind == "serial"
    text = board.platform().prepare(top, name="top").files["top.il"]
    # the PLL, the store for the SPRAMs, the key's serial hash and a row generator, the LEDs
    assert "SB_PLL40" in text and '"huge"' in text and "top.core.key_hash" in text and "top.core.rows0" in text
    assert "led_0" in text
    speed = realtime(net, rows, latency=7, clock_mhz=24.0, dt_ms=0.1, steps=200, kind="serial")
    model, spikes, cycles = NetworkModel(net, compiled=rows), [], 0
    for t in range(200):
        spikes.append(model.step().spike.nonzero()[0].tolist())
        cycles += serial_step_cycles(net, rows, spikes, t, 7)
    assert speed["cycles_per_step"] == pytest.approx(cycles / 200, abs=0.01) and cycles / 200 >= 2 * 64
