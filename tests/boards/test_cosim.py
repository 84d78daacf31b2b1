"""The board's UART round trip in co-simulation: the host driver's bytes, bit by bit on the simulated
line, drive the bridged array; the records that come back match the bit-exact model, and the
scoreboard checks every update inside while the bytes flow."""

import pytest

from lapicque.sim.board import cosimulate
from lapicque.spec import random_spec

MEMORY = {
    "word-weights (iCE40)": {"weight_ram_style": "huge"},
    # the ECP5 arrangement, with tiles small enough that 16 neurons span two of them
    "bit-sliced-tiled-weights (ECP5)": {"weight_bit_slices": True, "weight_tile_depth": 64,
                                        "acc_ram_style": "distributed"},
}


@pytest.mark.parametrize("memory", MEMORY.values(), ids=MEMORY.keys())
def test_round_trip_matches_the_models(out, memory):
    spec = random_spec(16, 2, seed=4)
    summary = cosimulate(spec, 40, out, seed=4, watch=[1, 6, 15], memory=memory)
    assert summary["problems"] == []
    assert summary["passed"]
    assert summary["spikes"] == summary["spikes_expected"] > 0
    assert summary["states_received"] == 3 * 40
    assert summary["updates_checked"] == 16 * 40 and summary["bit_exact_mismatches"] == 0
    assert (out / "summary.json").exists()


def test_one_neuron_per_lane_with_tiny_tiles(out):
    # D = 1: every spike's row is one weight per lane, so back-to-back spikes read-modify-write the
    # same accumulator in consecutive cycles; tiles of 2 words put the 4 weights per lane in 2 tiles
    spec = random_spec(4, 4, seed=3)
    memory = {"weight_bit_slices": True, "weight_tile_depth": 2, "acc_ram_style": "distributed"}
    summary = cosimulate(spec, 40, out, seed=3, watch=[0, 3], memory=memory)
    assert summary["passed"], summary["problems"]
    assert summary["spikes"] > 0


def test_one_lane_round_trip_without_watching(out):
    spec = random_spec(8, 1, seed=5)
    summary = cosimulate(spec, 30, out, seed=5)
    assert summary["passed"], summary["problems"]
    assert summary["states_received"] == 0


@pytest.mark.parametrize("bug", ["refractory_off_by_one"])
def test_a_wrong_array_behind_the_bridge_is_caught(out, bug):
    spec = random_spec(16, 2, seed=4)
    summary = cosimulate(spec, 40, out, seed=4, watch=[1, 6], inject_bug=bug)
    assert not summary["passed"]
    assert summary["bit_exact_mismatches"] > 0
    assert any("bit-exact mismatches inside the array" in p for p in summary["problems"])
