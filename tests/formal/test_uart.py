# amaranth: UnusedElaboratable=no
"""The UART's two ends looped together (`lapicque prove --parts uart`): refuted when they disagree, and (slow: a
BMC over a frame, 20-85 s) proved with its cover reached."""

import json
from functools import partial
from pathlib import Path

import pytest

from lapicque.formal.properties import Property
from lapicque.formal.prove import counterexample, prove, reduced_spec
from lapicque.formal.sby import run_property, warm_up
from lapicque.formal.uart import UART_DEPTH, UARTLinkProperties
from lapicque.spec import ArraySpec


def test_a_receiver_at_another_baud_rate_fails_with_the_wrong_byte(tmp_path):
    """A receiver at 5 cycles a bit behind a transmitter at 4 samples the wrong bits: the first byte out is
    not the byte sent, and the counterexample's table says which."""
    warm_up()
    prop = Property(name="mismatched link", kind="bmc", depth=UART_DEPTH, spec=reduced_spec(ArraySpec(1)),
                    build=partial(UARTLinkProperties, receiver_divisor=5))
    outcome = run_property(prop.design(), "bmc", UART_DEPTH, Path(tmp_path))
    assert outcome.status == "fail" and outcome.witness is not None
    cex = counterexample(prop, outcome.witness, outcome.log)
    assert any("uart.py" in line and "Assert" in line for line in cex["assertions"]), cex["assertions"]


@pytest.mark.slow
def test_the_loopback_is_proved_and_its_cover_reached(tmp_path):
    s = prove(ArraySpec(8, 2), tmp_path, parts=("uart",))
    assert s["passed"] and s["counts"] == {"pass": 2, "fail": 0, "unknown": 0}
    bmc, cover = s["properties"]
    assert (bmc["kind"], cover["kind"]) == ("bmc", "cover") and bmc["depth"] >= 40
    written = json.loads((tmp_path / "summary.json").read_text())
    assert (tmp_path / written["properties"][1]["log"]).read_text().count("Reached cover statement") == 3
